"""Forecasting the steps after a CSV's history: the model's inputs from the file, the forecast as a table.

`predict` is `seqcore forecast predict MODEL HISTORY`: it reads HISTORY
with the model's columns, takes the last `lookback` rows of each series
(and the `horizon` rows after them where the model reads known-future
covariates), forecasts, and returns one row per future step;
`format_csv` and `write_text_atomically` print or save it.
"""

import csv
import io
from pathlib import Path

import numpy as np

from apps.forecast.time_index import epoch_seconds, future_times
from seqcore.atomic import atomic_file
from seqcore.errors import SeqcoreError


def predict(model_path, input_path, plot=None, echo=None, time_column=None):
    """Forecasts the steps after each series in the CSV `input_path`.

    MODEL is a run directory or an export; the CSV holds the same columns
    as the training data (time, targets, covariates, id), at least
    `lookback` rows per series, of which the last `lookback` are used.
    A model with known-future covariates reads them from the last
    `horizon` rows of each series, which follow the history (their target
    cells may be empty).
    `time_column` names its timestamp column when the model was trained
    without one (the built-in datasets), so the forecast gets timestamps.

    Returns:
        `(header, rows)` of the forecast table: id (if any), time (if any),
        step, then per target the median and each quantile.
    """
    from apps.forecast.model_source import open_forecaster

    meta, forecast = open_forecaster(model_path)
    if time_column:
        meta["time_column"] = time_column
    series = _read_history(input_path, meta, echo)
    history, inputs = _inputs(series, meta)
    quantiles = forecast(inputs)
    if plot:
        _plot(plot, series, history, quantiles, meta, f"forecast from {input_path}")
    return _table(series, quantiles, meta)


def _read_history(input_path, meta, echo):
    """The CSV's series with the model's columns, each with at least `lookback` rows of history."""
    from apps.forecast.data import load_series

    columns, num_targets, num_future = meta["columns"], meta["num_targets"], meta["num_future"]
    future_features = columns[len(columns) - num_future :]
    if meta["country"]:
        future_features = future_features[:-1]  # the holiday column, computed from the times
    if meta["calendar_step"] and not meta["time_column"]:
        raise SeqcoreError(
            f"the model reads calendar features, so {input_path} needs timestamps; expected --time-col "
            "naming its time column; received none"
        )
    series = load_series(
        str(input_path), time_column=meta["time_column"], target=columns[:num_targets],
        features=columns[num_targets : len(columns) - num_future], id_column=meta["id_column"],
        season=meta["season"], future_features=future_features,
        future_rows=meta["horizon"] if num_future else 0, country=meta["country"] or None,
    )
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    for segment in series.segments:
        if len(segment.values) < meta["lookback"]:
            where = f"series {segment.id!r} in {input_path}" if meta["id_column"] else str(input_path)
            raise SeqcoreError(
                f"{where} has {len(segment.values)} rows of history; expected at least the "
                f"model's lookback of {meta['lookback']} rows"
            )
    return series


def _inputs(series, meta):
    """`(history, inputs)`: the last `lookback` rows of each series, and with them what else the model reads."""
    history = np.stack([segment.values[-meta["lookback"]:] for segment in series.segments])
    if not (meta["num_future"] or meta["calendar_step"]):
        return history, history
    inputs = {"history": history}
    if meta["num_future"]:
        inputs["future"] = np.stack([segment.future for segment in series.segments])
    if meta["calendar_step"]:
        step = series.step or meta["step"]
        inputs["time"] = np.array([epoch_seconds(future_times(s.times, step, 1))[0] for s in series.segments])
    return history, inputs


def _table(series, quantiles, meta):
    """`(header, rows)`: per series and future step, the median and each other quantile of every target."""
    levels, horizon = meta["quantiles"], meta["horizon"]
    targets = meta["columns"][: meta["num_targets"]]
    median = levels.index(0.5)
    header = ([meta["id_column"]] if meta["id_column"] else []) + (
        [meta["time_column"]] if meta["time_column"] else []) + ["step"]
    for target in targets:
        header.append(target)
        header += [f"{target}_q{_level(q)}" for q in levels if q != 0.5]
    rows = []
    for index, segment in enumerate(series.segments):
        times = future_times(segment.times, series.step or meta["step"], horizon)
        for step in range(horizon):
            row = [segment.id] if meta["id_column"] else []
            if meta["time_column"]:
                row.append(_format_time(times[step]) if times is not None else "")
            row.append(step + 1)
            for t in range(len(targets)):
                row.append(_format_value(quantiles[index, step, t, median]))
                row += [_format_value(quantiles[index, step, t, q]) for q in range(len(levels)) if q != median]
            rows.append(row)
    return header, rows


def _plot(path, series, history, quantiles, meta, title):
    from apps.forecast.plot import plot_forecast

    segment, targets = series.segments[0], meta["columns"][: meta["num_targets"]]
    times = None
    if segment.times is not None:
        future = future_times(segment.times, series.step or meta["step"], meta["horizon"])
        times = np.concatenate([segment.times[-meta["lookback"]:], future])
    plot_forecast(path, history[0][:, : len(targets)], quantiles[0], meta["quantiles"], targets,
                  times=times, title=title)


def _level(q):
    return f"{q * 100:g}".replace(".", "_")


def _format_value(value):
    return f"{float(value):.6g}"


def _format_time(value):
    text = str(value.astype("datetime64[s]")).replace("T", " ")
    return text[:-3] if text.endswith(":00") else text


def format_csv(header, rows):
    """The forecast table as CSV text.

    Example:

    >>> print(format_csv(["step", "load"], [[1, "2.5"]]), end="")
    step,load
    1,2.5
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_text_atomically(path, text):
    """Writes `text` (UTF-8) to `path` whole or not at all; refuses a folder that does not exist."""
    path = Path(path)
    if not path.parent.is_dir():
        raise SeqcoreError(f"cannot write {path}: folder {path.parent} does not exist")
    with atomic_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="")
