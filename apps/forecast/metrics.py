"""Naive baselines and forecast metrics in raw units (NumPy only).

Every evaluation scores the model and two baselines on the same windows:
`naive` repeats the last observed value, `seasonal_naive` repeats the last
season (the value `season` steps before each forecast step); `evaluate`
adds statsforecast's models (`apps.forecast.baselines`) on the same windows.
"""

import numpy as np

METRICS = ("mae", "rmse", "smape", "mase", "coverage")


def naive_forecast(history, horizon):
    """Repeats the last value: history `(n, steps, targets)` -> `(n, horizon, targets)`.

    Example:

    >>> naive_forecast(np.array([[[1.0], [2.0], [3.0]]]), 2)[0, :, 0].tolist()
    [3.0, 3.0]
    """
    return np.repeat(history[:, -1:, :], horizon, axis=1)


def seasonal_naive_forecast(history, horizon, season):
    """Repeats the last season: step `h` takes the value at `steps - season + h % season`.

    Example:

    >>> history = np.array([[[1.0], [2.0], [3.0], [4.0]]])
    >>> seasonal_naive_forecast(history, 3, season=2)[0, :, 0].tolist()
    [3.0, 4.0, 3.0]
    """
    steps = history.shape[1]
    index = steps - season + np.arange(horizon) % season
    return history[:, index, :]


def mase_scale(values, season):
    """In-sample MAE of the seasonal naive forecast on training values `(steps, targets)`.

    MASE divides a forecast's MAE by it (Hyndman & Koehler, 2006); with
    fewer than `season + 1` steps the lag-1 naive forecast is used.

    Example:

    >>> mase_scale(np.array([[1.0], [2.0], [4.0]]), season=1).tolist()
    [1.5]
    """
    values = np.asarray(values, dtype="float64")
    lag = season if len(values) > season else 1
    scale = np.mean(np.abs(values[lag:] - values[:-lag]), axis=0)
    return np.where(scale > 0, scale, 1.0)


def forecast_metrics(truth, forecast, scale, lower=None, upper=None):
    """MAE, RMSE, sMAPE (%), MASE and, with bounds, interval coverage, over all windows.

    Args:
        truth, forecast: `(n, horizon, targets)` in raw units.
        scale: MASE denominators `(n, targets)` (per window's series) or `(targets,)`.
        lower, upper: interval bounds like `forecast`, or None.

    Returns:
        A dict of floats (`coverage` is None without bounds).

    Example:

    >>> truth = np.array([[[1.0], [2.0]]])
    >>> m = forecast_metrics(truth, truth + 1, scale=np.array([2.0]))
    >>> m["mae"], m["rmse"], m["mase"]
    (1.0, 1.0, 0.5)
    """
    truth = np.asarray(truth, dtype="float64")
    forecast = np.asarray(forecast, dtype="float64")
    error = forecast - truth
    denominator = np.abs(truth) + np.abs(forecast)
    smape = np.divide(2 * np.abs(error), denominator, out=np.zeros_like(error), where=denominator > 0)
    scale = np.asarray(scale, dtype="float64")
    if scale.ndim == 2:
        scale = scale[:, None, :]
    metrics = {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "smape": float(100 * np.mean(smape)),
        "mase": float(np.mean(np.abs(error) / scale)),
        "coverage": None,
    }
    if lower is not None and upper is not None:
        inside = (truth >= lower) & (truth <= upper)
        metrics["coverage"] = float(np.mean(inside))
        metrics["coverage_by_step"] = [round(float(c), 4) for c in np.mean(inside, axis=(0, 2))]
    return metrics


def compare(truth, history, forecast, season, scale, lower=None, upper=None, nominal=None, others=None):
    """The model's and the baselines' metrics on the same windows, and the model's skill.

    `skill` is the relative MAE reduction against the best baseline:
    `1 - mae(model) / min(mae(baseline))` over the naive, seasonal naive
    and `others` (`{name: (mean, lower, upper)}`, e.g. statsforecast's).
    """
    horizon, targets = truth.shape[1], truth.shape[2]
    history = history[..., :targets]
    report = {
        "windows": int(len(truth)),
        "season": int(season),
        "model": forecast_metrics(truth, forecast, scale, lower, upper),
        "naive": forecast_metrics(truth, naive_forecast(history, horizon), scale),
        "seasonal_naive": forecast_metrics(
            truth, seasonal_naive_forecast(history, horizon, season), scale
        ),
        "coverage_nominal": nominal,
    }
    names = ["naive", "seasonal_naive"]
    for name, (mean, low, high) in (others or {}).items():
        report[name] = forecast_metrics(truth, mean, scale, low, high)
        names.append(name)
    if others is not None:
        report["statistical"] = list(others)
    best = min(names, key=lambda name: report[name]["mae"])
    best_mae = report[best]["mae"]
    report["skill"] = {
        "baseline": best,
        "mae": float(1 - report["model"]["mae"] / best_mae) if best_mae > 0 else 0.0,
    }
    return report


def format_report(report, title=None):
    """A plain-text table: one row per forecaster, one column per metric, and the skill line.

    Example:

    >>> truth = np.ones((2, 3, 1)); history = np.ones((2, 4, 1))
    >>> r = compare(truth, history, truth + 0.5, season=2, scale=np.array([1.0]))
    >>> print(format_report(r).splitlines()[1])
    model                  0.5000      0.5000    40.00    0.5000         -
    """
    lines = [] if title is None else [title]
    lines.append(f"{'forecaster':<18}{'MAE':>10}{'RMSE':>12}{'sMAPE%':>9}{'MASE':>10}{'coverage':>10}")
    from apps.forecast.baselines import LABELS

    for name in ("model", "naive", "seasonal_naive", *report.get("statistical", ())):
        m = report[name]
        coverage = "-" if m["coverage"] is None else f"{m['coverage']:.3f}"
        label = "seasonal naive" if name == "seasonal_naive" else LABELS.get(name, name)
        lines.append(
            f"{label:<18}{_number(m['mae']):>10}{_number(m['rmse']):>12}{m['smape']:>9.2f}"
            f"{m['mase']:>10.4f}{coverage:>10}"
        )
    skill = report["skill"]
    baseline = LABELS.get(skill["baseline"], skill["baseline"].replace("_", " "))
    which = "best" if report.get("statistical") else "better"
    lines.append(
        f"skill: {skill['mae']:+.1%} MAE vs the {which} baseline ({baseline}); "
        f"{report['windows']} windows, season {report['season']}"
        + (f", nominal coverage {report['coverage_nominal']:.0%}" if report.get("coverage_nominal") else "")
    )
    return "\n".join(lines)


def _number(value):
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.1f}"
