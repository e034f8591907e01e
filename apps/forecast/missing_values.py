"""Missing values in a series: short gaps filled by linear interpolation, long or many gaps refused.

Example:

>>> values, warnings = np.arange(40.0)[:, None], []
>>> values[5] = np.nan
>>> interpolate(values, ["load"], "demo.csv", 2, warnings)[4:7, 0].tolist()
[4.0, 5.0, 6.0]
>>> warnings
["demo.csv: interpolated 1 missing values in column 'load' (first at row 6, longest gap 1 steps)"]
"""

import numpy as np

from seqcore.errors import SeqcoreError

#: Interpolate at most this share of a column's values, in gaps of at most `season` steps.
MAX_MISSING_FRACTION = 0.05


def interpolate(values, columns, where, max_gap, warnings):
    """Linearly fills NaN gaps; refuses more than `MAX_MISSING_FRACTION` missing or gaps over `max_gap`."""
    values = np.array(values, dtype="float64")
    for c, name in enumerate(columns):
        column = values[:, c]
        missing = np.isnan(column)
        count = int(missing.sum())
        if not count:
            continue
        if count == len(column):
            raise SeqcoreError(f"{where}: column {name!r} has no values; expected numbers")
        longest = _longest_run(missing)
        if count > MAX_MISSING_FRACTION * len(column) or longest > max_gap:
            raise SeqcoreError(
                f"{where}: column {name!r} has {count} missing values of {len(column)} "
                f"(longest gap {longest} steps); expected at most "
                f"{MAX_MISSING_FRACTION:.0%} missing in gaps of at most {max_gap} steps to "
                "interpolate; fill or drop them first"
            )
        steps = np.arange(len(column))
        column[missing] = np.interp(steps[missing], steps[~missing], column[~missing])
        first = int(np.flatnonzero(missing)[0])
        warnings.append(
            f"{where}: interpolated {count} missing values in column {name!r} "
            f"(first at row {first + 1}, longest gap {longest} steps)"
        )
    return values


def _longest_run(flags):
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest

