"""The time index of a series: regular steps, their length, the season they imply, future timestamps.

Steps are labelled as pandas-style strings: `"30min"`, `"1h"`, `"1D"`
for fixed intervals, `"1M"`, `"3M"`, `"1Y"` for calendar months and years.

Example:

>>> times = np.array(["2020-01-01T00:00", "2020-01-01T01:00", "2020-01-01T03:00"], dtype="datetime64[s]")
>>> warnings = []
>>> values, full, step = regularize(np.ones((3, 1)), times, np.array([2, 3, 4]), "demo.csv", warnings)
>>> step, len(full), np.isnan(values[:, 0]).tolist()
('1h', 4, [False, False, True, False])
>>> str(future_times(full, step, 2)[-1])
'2020-01-01T05:00:00'
"""

import numpy as np

from seqcore.errors import SeqcoreError

#: Seconds in each fixed step unit.
UNIT_SECONDS = {"D": 86400, "h": 3600, "min": 60, "s": 1}


def _months(times):
    as_months = times.astype("datetime64[M]")
    same_day = times - as_months.astype(times.dtype)
    return as_months.astype(int), same_day


def regularize(values, times, lines, where, warnings):
    """Checks a time index is increasing and regular; inserts NaN rows for skipped steps."""
    if len(times) < 2:
        return values, times, None
    deltas = np.diff(times).astype("timedelta64[s]").astype(np.int64)
    bad = np.flatnonzero(deltas <= 0)
    if bad.size:
        i = bad[0]
        what = "repeats" if deltas[i] == 0 else "goes back"
        raise SeqcoreError(
            f"{where}: the time index {what} at line {lines[i + 1]} ({times[i + 1]} after "
            f"{times[i]}); expected strictly increasing timestamps"
        )
    months, offsets = _months(times)
    month_steps = np.diff(months)
    if np.all(offsets == offsets[0]) and np.all(month_steps >= 1) and deltas.min() >= 28 * 86400:
        unit = int(month_steps.min())
        if np.all(month_steps % unit == 0):
            label = {1: "1M", 3: "3M", 12: "1Y"}.get(unit, f"{unit}M")
            position = (months - months[0]) // unit
            return _fill(values, times, position, where, label, warnings), _month_times(times, unit, position), label
    unique, counts = np.unique(deltas, return_counts=True)
    step = int(unique[np.argmax(counts)])  # the most common interval
    if np.any(deltas % step):
        i = int(np.flatnonzero(deltas % step)[0])
        raise SeqcoreError(
            f"{where}: irregular time index at line {lines[i + 1]}: {_duration(deltas[i])} after "
            f"the previous row, expected a multiple of the {_duration(step)} step; resample the "
            "series to a regular interval"
        )
    position = ((times - times[0]).astype("timedelta64[s]").astype(np.int64)) // step
    full_times = times[0] + np.arange(position[-1] + 1) * np.timedelta64(step, "s")
    return _fill(values, times, position, where, _duration(step), warnings), full_times, _duration(step)


def _month_times(times, unit, position):
    start = times[0].astype("datetime64[M]")
    offset = times[0] - start.astype(times.dtype)
    months = start + np.arange(position[-1] + 1) * unit
    return months.astype(times.dtype) + offset


def _fill(values, times, position, where, label, warnings):
    length = int(position[-1]) + 1
    if length == len(values):
        return values
    full = np.full((length, values.shape[1]), np.nan)
    full[position] = values
    warnings.append(
        f"{where}: {length - len(values)} timestamps missing from the regular {label} index; "
        "treated as missing values"
    )
    return full


def _duration(seconds):
    seconds = int(seconds)
    for unit, size in (("D", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def step_seconds(step):
    """Seconds between steps for a fixed interval (`"30min"` -> 1800.0); None for months / years / unknown.

    Example:

    >>> step_seconds("30min"), step_seconds("1D"), step_seconds("1M"), step_seconds(None)
    (1800.0, 86400.0, None, None)
    """
    if step is None or step.endswith("M") or step.endswith("Y"):
        return None
    return float(_fixed_seconds(step))


def epoch_seconds(times):
    """Timestamps (`datetime64`) -> float64 seconds since 1970-01-01 (what a calendar model reads).

    Example:

    >>> epoch_seconds(np.array(["1970-01-02T00:30"], dtype="datetime64[m]")).tolist()
    [88200.0]
    """
    return np.asarray(times).astype("datetime64[s]").astype(np.int64).astype("float64")


def infer_season(step):
    """The seasonal period in steps for a sampling interval (1 when none applies).

    Sub-daily data repeats daily, daily data weekly, weekly data yearly,
    monthly and quarterly data yearly.

    Example:

    >>> infer_season("30min"), infer_season("1h"), infer_season("1D"), infer_season("1M")
    (48, 24, 7, 12)
    """
    if step is None:
        return 1
    fixed = {"1M": 12, "3M": 4, "1Y": 1}
    if step in fixed:
        return fixed[step]
    seconds = _fixed_seconds(step)
    if seconds < 86400 and 86400 % seconds == 0:
        return 86400 // seconds
    if seconds == 86400:
        return 7
    if seconds == 7 * 86400:
        return 52
    return 1


def _fixed_seconds(step):
    number, unit = int("".join(c for c in step if c.isdigit())), step.lstrip("0123456789")
    return number * UNIT_SECONDS[unit]


def future_times(times, step, horizon):
    """The `horizon` timestamps after `times[-1]`, `step` apart (None without times or step).

    Example:

    >>> last = np.array(["2020-01-15T06:00"], dtype="datetime64[s]")
    >>> [str(t) for t in future_times(last, "1M", 2)]
    ['2020-02-15T06:00:00', '2020-03-15T06:00:00']
    """
    if times is None or step is None:
        return None
    last = times[-1]
    if step.endswith("M") or step.endswith("Y"):
        months = int(step[:-1]) * (12 if step.endswith("Y") else 1)
        start = last.astype("datetime64[M]")
        offset = last - start.astype(last.dtype)
        return (start + months * np.arange(1, horizon + 1)).astype(last.dtype) + offset
    return last + np.arange(1, horizon + 1) * np.timedelta64(_fixed_seconds(step), "s")
