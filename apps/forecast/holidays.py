"""Public-holiday flags from the time column (`--country`), a known-future covariate.

The flags come from the `holidays` package (a well-kept library of public
holidays by country and subdivision, in the `baselines` extra): 1.0 on a
public holiday of the country, 0.0 on other days. The column, named
`holiday`, is computed from the timestamps wherever the series is read
(training, evaluation and `predict`, for the future rows too), so a CSV
needs no holiday column; an exported model takes it as the last column
of `history` and `future`, as computed by this function.
"""

import numpy as np

from seqcore.errors import SeqcoreError

COLUMN = "holiday"


def _calendar(country, years):
    try:
        import holidays
    except ModuleNotFoundError:
        raise SeqcoreError(
            f"--country {country} needs the holidays package, which is not installed; run: "
            'pip install -e ".[baselines]"'
        ) from None
    code, _, subdivision = country.partition("-")
    try:
        return holidays.country_holidays(code.upper(), subdiv=subdivision.upper() or None, years=years)
    except NotImplementedError:
        raise SeqcoreError(
            f"unknown holiday country {country!r}; expected an ISO 3166 code the holidays package "
            "knows, optionally with a subdivision, e.g. US, GB, DE, AU-VIC"
        ) from None


def check_country(country):
    """Refuses an unknown country before any data is read or written."""
    if country:
        _calendar(country, [2000])


def holiday_flags(times, country):
    """`(steps,)` float32: 1.0 where the timestamp's date is a public holiday of `country`.

    Example:

    >>> times = np.array(["2014-12-24T12:00", "2014-12-25T00:30"], dtype="datetime64[m]")
    >>> holiday_flags(times, "AU-VIC").tolist()
    [0.0, 1.0]
    """
    if times is None:
        raise SeqcoreError(f"--country {country} reads holidays from the time column; expected --time-col")
    days = np.asarray(times).astype("datetime64[D]")
    years = sorted({int(str(day)[:4]) for day in (days.min(), days.max())})
    calendar = _calendar(country, list(range(years[0], years[-1] + 1)))
    dates = {np.datetime64(day, "D") for day in calendar}
    unique, inverse = np.unique(days, return_inverse=True)
    return np.array([1.0 if day in dates else 0.0 for day in unique], dtype="float32")[inverse]
