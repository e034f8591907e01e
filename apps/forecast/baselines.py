"""Statistical baselines from statsforecast, fitted on the same origins as the model.

Every evaluation also scores the models a forecaster would compare
against: statsforecast's AutoETS, MSTL (seasons from the time step: daily
and, for sub-daily data with enough history, weekly) and the dynamic
optimized Theta, each fitted on the history before every origin (at most
eight of its longest seasons). AutoETS is refitted every `refit` origins
and carried forward (its parameters kept, its states run over the new
data) in between; MSTL and Theta are refitted at every origin (MSTL's
carry-forward costs as much as a fit). statsforecast is an optional extra
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


def _models(season, periods):
    from statsforecast.models import MSTL, AutoETS, DynamicOptimizedTheta

    models = {"auto_ets": lambda: AutoETS(season_length=max(int(season), 1))}
    if periods:
        models["mstl"] = lambda: MSTL(season_length=periods if len(periods) > 1 else periods[0])
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
        refit: refit AutoETS every this many origins of a series (default:
            about eight fits per series).

    Returns:
        `{name: (mean, lower, upper)}`, each `(n, horizon, targets)`.
    """
    import warnings

    n = len(windows)
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
            y = np.asarray(values[start:origin, target], dtype="float64")
            for name, make in models.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = _fit_forecast(name, make, y, horizon, fitted, (windows.segment[index], target),
                                        index, refit or max(1, math.ceil(n / 8)))
                results[name][:, index, :, target] = out
    return {name: tuple(array) for name, array in results.items()}


def _fit_forecast(name, make, y, horizon, fitted, key, index, refit):
    """`(mean, lower, upper)` of one model at one origin; AutoETS carried forward between refits."""
    if name == "auto_ets":
        model = fitted.get((name, key))
        if model is None or index % refit == 0:
            model = make().fit(y=y)
            fitted[(name, key)] = model
        out = model.forward(y=y, h=horizon, level=[LEVEL])
    else:
        out = make().forecast(y=y, h=horizon, level=[LEVEL])
    return np.stack([out["mean"], out[f"lo-{LEVEL}"], out[f"hi-{LEVEL}"]])
