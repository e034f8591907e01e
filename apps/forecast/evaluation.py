"""Scoring a forecaster: the model and the baselines on the same origins, per range of origins (backtest).

`evaluate` is `seqcore forecast evaluate`: it reads the run's series (or
another source with the same columns), cuts the windows of one part at
origins `origin_every` steps apart, and scores the model beside the naive,
seasonal naive and (with statsforecast) AutoETS, MSTL and Theta forecasts
of the same windows (each fitted every `baselines.refit_every` origins and
carried forward in between); `format_evaluation` prints what it returns.
"""

import numpy as np

from apps.forecast.commands import load_run_model
from apps.forecast.run_series import mase_scales, model_inputs, series_like_run, series_windows
from apps.forecast.time_index import step_seconds
from seqcore.errors import SeqcoreError


def quantile_forecast(model, inputs):
    """The model's quantile forecasts `(windows, horizon, targets, levels)` of `inputs`."""
    return model.predict(inputs, batch_size=256, verbose=0)


def compare_forecasts(model, scales, window, history, truth, segments, quantiles, others=None):
    """Metrics of the model and the baselines; `scales` are the per-series MASE denominators.

    `others` holds the statistical baselines' `(mean, lower, upper)` of the
    same windows by name (`apps.forecast.baselines`), or None.
    """
    from apps.forecast.metrics import compare

    scale = np.asarray(scales)[segments]
    levels = model.quantiles
    interval = len(levels) > 1
    return compare(
        truth,
        history,
        quantiles[..., model.median_index],
        window["season"],
        scale,
        lower=quantiles[..., 0] if interval else None,
        upper=quantiles[..., -1] if interval else None,
        nominal=round(levels[-1] - levels[0], 6) if interval else None,
        others=others,
    )


def part_report(model, series, split, part, window):
    """Metrics of the model and the naive baselines at every origin of one part (what `train` reports)."""
    windows = series_windows(series, split, part, window)
    quantiles = quantile_forecast(model, model_inputs(model, windows))
    return compare_forecasts(model, mase_scales(series, split, window["season"]), window, windows.history,
                             windows.truth, windows.segment, quantiles)


def evaluate(run_dir, data=None, split="test", backtest=None, plot=None, echo=None, origin_every=None,
             baselines=True):
    """Metrics of the model and the baselines on a part of the run's data (or `data`).

    The model, the naive and seasonal naive forecasts and (with
    statsforecast installed and `baselines`) AutoETS, MSTL and Theta are
    scored on the same windows: origins `origin_every` steps apart (default
    half the horizon; 1 takes every origin) over the part. With `backtest`
    N, the part's origins are cut into N consecutive ranges, each reported
    on its own, and all together.
    """
    from apps.forecast.windows import parts
    from seqcore.tfrecords import is_tfrecord_source

    model, config = load_run_model(run_dir)
    if data is None and is_tfrecord_source(config["data"]["source"]):
        if backtest or plot:
            option = "--backtest" if backtest else "--plot"
            raise SeqcoreError(
                f"{option} needs the whole series, and {run_dir} was trained on TFRecord windows; "
                f"expected --data with the CSV the shards were prepared from, received no --data"
            )
        from apps.forecast.shards import Shards

        return Shards(config["data"]["source"]).report(model, split)
    series = series_like_run(config, data, echo)
    window = config["window"]
    every = int(origin_every or max(1, window["horizon"] // 2))
    if every < 1:
        raise SeqcoreError(f"--origin-every must be a positive number of steps; received: {origin_every}")
    division = parts(series, window["lookback"], window["horizon"])
    windows = series_windows(series, division, split, window, stride=every)
    if backtest and int(backtest) > len(windows):
        raise SeqcoreError(
            f"--backtest {backtest} needs at least {backtest} origins; the {split} part has "
            f"{len(windows)} origins {every} steps apart; expected at most {len(windows)} (or a "
            "smaller --origin-every)"
        )
    quantiles = quantile_forecast(model, model_inputs(model, windows))
    others = _statistical_forecasts(series, windows, window, echo) if baselines else None
    scales = mase_scales(series, division, window["season"])
    report = compare_forecasts(model, scales, window, windows.history, windows.truth, windows.segment, quantiles,
                               others)
    report["origin_every"] = every
    if others is not None:
        from apps.forecast.baselines import refit_every

        report["statistical_refit_every"] = refit_every(len(windows))
    if backtest:
        report["folds"] = []
        for chosen in np.array_split(np.arange(len(windows)), int(backtest)):
            part = {name: tuple(a[chosen] for a in arrays) for name, arrays in (others or {}).items()}
            fold_report = compare_forecasts(model, scales, window, windows.history[chosen], windows.truth[chosen],
                                            windows.segment[chosen], quantiles[chosen], part if others else None)
            fold_report["origin"] = _origin_label(series, windows, chosen[0])
            fold_report["last_origin"] = _origin_label(series, windows, chosen[-1])
            report["folds"].append(fold_report)
    if plot:
        _plot_last_window(plot, model, series, windows, quantiles, window, f"{config['source']}: last {split} window")
    return report


def _statistical_forecasts(series, windows, window, echo):
    """statsforecast's forecasts of the windows, or None (saying why) without statsforecast."""
    from apps.forecast.baselines import missing_reason, statistical_forecasts

    reason = missing_reason()
    if reason:
        (echo or (lambda line: None))(reason)
        return None
    from apps.forecast.baselines import refit_every

    return statistical_forecasts([segment.values for segment in series.segments], windows, window["horizon"],
                                 series.num_targets, window["season"], step_seconds(series.step),
                                 refit=refit_every(len(windows)))


def _plot_last_window(plot, model, series, windows, quantiles, window, title):
    from apps.forecast.plot import plot_forecast

    last = len(windows) - 1
    times = series.segments[windows.segment[last]].times
    if times is not None:
        origin = int(windows.origin[last])
        times = times[origin - window["lookback"] : origin + window["horizon"]]
    plot_forecast(plot, windows.history[last][:, : series.num_targets], quantiles[last], model.quantiles,
                  series.targets, times=times, truth=windows.truth[last], title=title)


def _origin_label(series, windows, index):
    times = series.segments[windows.segment[index]].times
    origin = int(windows.origin[index])
    return str(times[origin].astype("datetime64[s]")) if times is not None else origin


def format_evaluation(report):
    """The text `evaluate` prints: one table of every metric per model, per range of origins with a backtest."""
    from apps.forecast.metrics import format_report

    lines = []
    if "folds" in report:
        lines.append(f"backtest over {len(report['folds'])} ranges of origins {report['origin_every']} steps apart:")
        for number, fold in enumerate(report["folds"], start=1):
            lines.append("")
            lines.append(format_report(fold, title=f"range {number}: origins {fold['origin']} to "
                                                   f"{fold['last_origin']}"))
        lines.append("")
        lines.append("all ranges:")
    lines.append(format_report(report))
    if report.get("statistical_refit_every"):
        every = report["statistical_refit_every"]
        lines.append(f"AutoETS and Theta fitted every {every} origin{'s' if every > 1 else ''} "
                     f"({every * report['origin_every']} steps) of a series and carried forward in between; "
                     "MSTL fitted at every origin")
    return "\n".join(lines)
