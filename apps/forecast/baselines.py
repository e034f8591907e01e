"""Statistical baselines from statsforecast, fitted on the same origins as the model.

Every evaluation also scores the models a forecaster would compare
against: statsforecast's AutoETS, MSTL (seasons from the time step: daily
and, for sub-daily data with enough history, weekly) and the dynamic
optimized Theta, each on the history before every origin (at most eight of
its longest seasons). Fitting all three at every origin took about five
minutes on the built-in elecdemand, so:

* AutoETS and Theta are fitted every `refit` origins of a series
  (`refit_every`: about `FITS_PER_SERIES` fits) and carried forward in
  between: their parameters kept, their states run over the history from
  the fit's first row to the new origin (statsforecast's `forward`).
* MSTL is fitted at every origin (carried forward, its frozen seasons cost
  8-20 % MAE on elecdemand), with the loess jumps R's `stl` uses by default
  (a tenth of each smoothing window, `stl_jumps`) instead of statsmodels'
  exact 1: four times faster, forecasts within about 1 %.

`evaluate` says which cadence it used. statsforecast is an optional extra
(`pip install -e ".[baselines]"`); without it these rows are left out and
`missing_reason` says why.
"""

import importlib.util
import math

import numpy as np

#: Name -> label of each statistical baseline, in the order tables show them.
LABELS = {"auto_ets": "AutoETS", "mstl": "MSTL", "theta": "Theta (DOT)"}
#: History before an origin that the models are fitted on, in units of the longest season.
CONTEXT_SEASONS = 8
#: Nominal interval the statistical models report, to compare with the model's (80 %).
LEVEL = 80
#: Fits of AutoETS and Theta per series over the evaluated origins (at least one per origin on short runs).
FITS_PER_SERIES = 8
#: Models fitted at every origin whatever the cadence (carried forward, MSTL's frozen seasons cost accuracy).
EVERY_ORIGIN = ("mstl",)


def missing_reason():
    """One line saying statsforecast is missing, or None when it is installed."""
    if importlib.util.find_spec("statsforecast") is None:
        return ('statsforecast is not installed, so AutoETS, MSTL and Theta are left out; '
                'run: pip install -e ".[baselines]"')
    return None


def seasons(season, step_seconds, available):
    """The seasonal periods MSTL uses: the season, and the week for sub-daily data with the history for it.

    Example:

    >>> seasons(48, 1800.0, 5000), seasons(48, 1800.0, 600), seasons(12, None, 400)
    ([48, 336], [48], [12])
    """
    found = [int(season)] if season > 1 else []
    if step_seconds and season > 1 and season * step_seconds == 86400 and available >= 2 * 7 * season:
        found.append(7 * int(season))
    return found


def refit_every(origins):
    """Origins between fits of AutoETS and Theta, for `origins` evaluated origins.

    Example:

    >>> refit_every(108), refit_every(5)
    (14, 1)
    """
    return max(1, math.ceil(origins / FITS_PER_SERIES))


def stl_jumps(period):
    """R `stl`'s default loess jumps (a tenth of each window) for the season `period`, as statsmodels' STL arguments.

    MSTL passes the same arguments to the STL of every season; those of the
    shortest are the smallest jumps, so the longer seasons are smoothed at
    least as finely as R would.

    Example:

    >>> stl_jumps(48)
    {'seasonal_jump': 2, 'trend_jump': 9, 'low_pass_jump': 5}
    """
    seasonal = 11  # statsforecast's mstl: the first season's window, 7 + 4
    trend = math.ceil(1.5 * period / (1 - 1.5 / seasonal))
    trend += 1 - trend % 2  # the next odd number, as R's nextodd
    low_pass = period + 1 - period % 2
    return {"seasonal_jump": math.ceil(seasonal / 10), "trend_jump": math.ceil(trend / 10),
            "low_pass_jump": math.ceil(low_pass / 10)}


def _models(season, periods):
    from statsforecast.models import MSTL, AutoETS, DynamicOptimizedTheta

    models = {"auto_ets": lambda: AutoETS(season_length=max(int(season), 1))}
    if periods:
        models["mstl"] = lambda: MSTL(season_length=periods if len(periods) > 1 else periods[0],
                                      stl_kwargs=stl_jumps(min(periods)))
    models["theta"] = lambda: DynamicOptimizedTheta(season_length=max(int(season), 1))
    return models


def statistical_forecasts(segments, windows, horizon, num_targets, season, step_seconds=None, refit=None):
    """Forecasts of every statistical baseline at the origins of `windows`.

    Args:
        segments: the series' raw values `(steps, columns)`, by segment index.
        windows: the `Windows` (their `segment` and `origin` choose the fits).
        horizon: steps forecast.
        num_targets: leading columns forecast.
        season: the seasonal period in steps.
        step_seconds: seconds between steps (for the weekly season), or None.
        refit: fit AutoETS and Theta every this many origins of a series
            and carry them forward in between (default
            `refit_every(len(windows))`; 1 fits at every origin); MSTL is
            fitted at every origin.

    Returns:
        `{name: (mean, lower, upper)}`, each `(n, horizon, targets)`.
    """
    import warnings

    n = len(windows)
    refit = refit or refit_every(n)
    results, fitted = {}, {}
    for index in range(n):
        values = segments[windows.segment[index]]
        origin = int(windows.origin[index])
        periods = seasons(season, step_seconds, origin)
        context = CONTEXT_SEASONS * max(periods + [int(season), 1])
        start = max(0, origin - max(context, 2 * horizon))
        models = _models(season, periods)
        for name in models:
            results.setdefault(name, np.full((3, n, horizon, num_targets), np.nan))
        for target in range(num_targets):
            column = np.asarray(values[:, target], dtype="float64")
            for name, make in models.items():
                key = (name, int(windows.segment[index]), target, tuple(periods))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if key not in fitted or index % (1 if name in EVERY_ORIGIN else refit) == 0:
                        fitted[key] = _Fitted(make().fit(y=column[start:origin]), start, origin)
                    results[name][:, index, :, target] = fitted[key].forecast(column, origin, horizon)
    return {name: tuple(array) for name, array in results.items()}


class _Fitted:
    """One fitted model, and the rows `[start, origin)` of the series it was fitted on.

    Carried forward, it reads the series from the same `start` on (so a
    seasonal state stays in phase with its rows) up to the later origin.
    """

    def __init__(self, model, start, origin):
        self.model, self.start, self.origin = model, start, origin

    def forecast(self, column, origin, horizon):
        """`(mean, lower, upper)` of the `horizon` steps after `origin` of the series `column`."""
        if origin == self.origin:
            out = self.model.predict(h=horizon, level=[LEVEL])
        else:
            out = self.model.forward(y=column[self.start : origin], h=horizon, level=[LEVEL])
        return np.stack([out["mean"], out[f"lo-{LEVEL}"], out[f"hi-{LEVEL}"]])
