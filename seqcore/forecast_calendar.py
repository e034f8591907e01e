"""Calendar features of timestamps, computed inside a model so a served model needs no client code.

A forecaster with a calendar takes the epoch time (seconds, UTC or the
series' own wall clock) of its first forecast step and its step length,
and derives, for every history and future step, six features: the sine
and cosine of the time of day, of the day of the week and of the day of
the year. Cyclic encodings keep 23:30 next to 00:00 and December next to
January.
"""

import math

from keras import ops

#: Features per step: sin / cos of time of day, day of week, day of year.
CALENDAR_WIDTH = 6
#: Without the day of year (a series shorter than two years never sees part of it in training).
CALENDAR_WIDTH_NO_YEAR = 4
_DAY = 86400.0
_WEEK = 7 * _DAY
_YEAR = 365.2425 * _DAY
#: 1970-01-01 (epoch 0) was a Thursday: shift so that the week phase starts on Monday 00:00.
_MONDAY_OFFSET = 3 * _DAY


def calendar_width(year=True):
    """Features per step: 6 with the day of year, 4 without."""
    return CALENDAR_WIDTH if year else CALENDAR_WIDTH_NO_YEAR


def calendar_features(origin, step_seconds, first, count, year=True):
    """Calendar features of steps `first .. first + count - 1` relative to `origin`.

    Args:
        origin: float64 tensor `(batch,)`: epoch seconds of forecast step 1
            (position 0); history steps have negative positions. An int64
            origin (whole seconds) with a whole-second step is computed in
            integers, with no float64 arithmetic (TensorFlow Lite).
        step_seconds: seconds between steps.
        first: position of the first step (e.g. `-lookback`).
        count: number of steps (a Python int or a scalar tensor).
        year: include the day of year (the last two features).

    Returns:
        float32 `(batch, count, 6)` (4 without the year).

    Example:

    >>> import numpy as np
    >>> f = calendar_features(np.array([0.0]), 43200.0, 0, 2)
    >>> np.round(ops.convert_to_numpy(f)[0, :, 1], 3).tolist()  # cos(time of day): midnight, noon
    [1.0, -1.0]
    """
    periods = ((_DAY, 0.0), (_WEEK, _MONDAY_OFFSET), (_YEAR, 0.0))
    features = []
    if "int" in str(getattr(origin, "dtype", "")) and float(step_seconds).is_integer():
        # Whole seconds (TensorFlow Lite, which has no float64 arithmetic):
        # exact int64 times and remainders (every period is a whole number
        # of seconds), then float32 phases.
        positions = ops.cast(ops.arange(count), "int64") + ops.cast(first, "int64")
        times = ops.expand_dims(ops.cast(origin, "int64"), 1) + ops.expand_dims(positions, 0) * int(step_seconds)
        for period, offset in periods if year else periods[:2]:
            remainder = ops.cast(ops.mod(times + int(offset), int(period)), "float32")
            phase = remainder * (2.0 * math.pi / period)
            features += [ops.sin(phase), ops.cos(phase)]
        return ops.stack(features, axis=-1)
    origin = ops.cast(origin, "float64")
    positions = ops.cast(ops.arange(count), "float64") + ops.cast(first, "float64")
    times = origin[:, None] + positions[None, :] * float(step_seconds)
    for period, offset in periods if year else periods[:2]:
        phase = 2.0 * math.pi * ops.mod(times + offset, period) / period
        features += [ops.sin(phase), ops.cos(phase)]
    return ops.cast(ops.stack(features, axis=-1), "float32")
