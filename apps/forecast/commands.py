"""The forecast app's commands as plain functions; `cli.py` is a thin layer over them."""

import csv
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from apps.forecast import data as forecast_data
from seqcore.errors import SeqcoreError
from seqcore.registry import preset_kwargs
from seqcore.runs import open_run, prepare_run

TASK = "forecast"
DEFAULT_BACKBONE = "lstm"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"pooling": "last", "dropout": 0.0}
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
HEADS = ("direct", "autoregressive")


def parse_quantiles(text):
    """`"0.1,0.5,0.9"` -> levels; `"none"` / `"0.5"` -> a point forecast.

    Example:

    >>> parse_quantiles("0.9, 0.1,0.5"), parse_quantiles("none")
    ([0.1, 0.5, 0.9], [0.5])
    """
    if text is None:
        return list(DEFAULT_QUANTILES)
    if isinstance(text, (list, tuple)):
        items = list(text)
    elif text.strip().lower() in ("none", "point", ""):
        return [0.5]
    else:
        items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        levels = sorted({float(item) for item in items} | {0.5})
    except ValueError:
        raise SeqcoreError(
            f"--quantiles must be numbers in (0, 1) such as 0.1,0.5,0.9; received: {text!r}"
        ) from None
    if any(not 0 < level < 1 for level in levels):
        raise SeqcoreError(f"--quantiles must lie strictly between 0 and 1; received: {text!r}")
    return levels


def resolve_config(
    *,
    data=None,
    time_column=None,
    target=None,
    features=None,
    id_column=None,
    season=None,
    lookback=336,
    horizon=48,
    stride=2,
    head="direct",
    quantiles=None,
    residual=True,
    highway=True,
    head_dropout=0.0,
    backbone=DEFAULT_BACKBONE,
    cell=None,
    units=None,
    layers=None,
    bidirectional=None,
    dropout=None,
    recurrent_dropout=None,
    pooling=None,
    epochs=10,
    batch_size=64,
    seed=0,
    patience=2,
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    Example:

    >>> resolve_config(horizon=24)["window"]
    {'lookback': 336, 'horizon': 24, 'stride': 2, 'season': None}
    """
    for name, value in (("--lookback", lookback), ("--horizon", horizon), ("--stride", stride)):
        if value is None or int(value) < 1:
            raise SeqcoreError(f"{name} must be a positive number of steps; received: {value}")
    if season is not None and int(season) < 1:
        raise SeqcoreError(f"--season must be a positive number of steps; received: {season}")
    if head not in HEADS:
        raise SeqcoreError(f"unknown head {head!r}; expected one of: {', '.join(HEADS)}")
    source = data or forecast_data.DEFAULT_SOURCE
    if source not in forecast_data.BUILTIN_NAMES and Path(source).suffix:
        source = str(Path(source).resolve()) if Path(source).exists() else source
    backbone_kwargs = preset_kwargs(
        backbone,
        defaults=BACKBONE_DEFAULTS,
        cell=cell,
        units=units,
        num_layers=layers,
        bidirectional=bidirectional,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
        pooling=pooling,
    )
    if head == "autoregressive" and (backbone_kwargs.get("bidirectional") or backbone_kwargs["pooling"] != "last"):
        raise SeqcoreError(
            "the autoregressive head steps the recurrent layers forward; expected a "
            "unidirectional backbone with last pooling; received: "
            f"preset {backbone}, bidirectional={bool(backbone_kwargs.get('bidirectional'))}, "
            f"pooling={backbone_kwargs['pooling']}"
        )
    return {
        "task": TASK,
        "data": {
            "source": source,
            "time_column": time_column,
            "target": forecast_data._as_list(target),
            "features": forecast_data._as_list(features),
            "id_column": id_column,
            "season": season,
        },
        "window": {"lookback": int(lookback), "horizon": int(horizon), "stride": int(stride),
                   "season": season},
        "preset": backbone,
        "backbone": backbone_kwargs,
        "head": {
            "kind": head,
            "quantiles": parse_quantiles(quantiles),
            "residual": bool(residual),
            "highway": bool(highway),
            "dropout": float(head_dropout),
        },
        "training": {"epochs": epochs, "batch_size": batch_size, "seed": seed, "patience": patience},
    }


def load_data(data_config, source=None):
    """Loads the run's source (or `source` with the same columns)."""
    return forecast_data.load_series(
        source or data_config["source"],
        time_column=data_config["time_column"],
        target=data_config["target"],
        features=data_config["features"],
        id_column=data_config["id_column"],
        season=data_config["season"],
    )


def _check_window(series, window):
    season = window["season"]
    if season > window["lookback"]:
        raise SeqcoreError(
            f"--lookback {window['lookback']} is shorter than the season of {season} steps; "
            "expected a lookback of at least one season (or a smaller --season)"
        )


def train(config, out=None, resume=False, overwrite=False, verbose="auto", backup_every=50,
          echo=None, strategy="auto", mixed_precision=None):
    """Trains a forecaster and writes a finished run directory.

    Args:
        config: from `resolve_config`; ignored on `resume`, which reads the
            interrupted run's own configuration.
        out: the run directory (default `runs/forecast-<timestamp>`).
        resume: finish the interrupted run in `<out>.partial`.
        overwrite: replace an existing run at `out`.
        echo: called with each data warning (interpolated gaps).
        strategy: `seqcore.distribute.STRATEGIES`; `--batch-size` is per replica.
        mixed_precision: None, `"float16"` or `"bfloat16"` (ignored on `resume`).

    Returns:
        `(run_path, metrics)`; a non-chief worker of a cluster writes
        nothing and returns `(path the chief writes, None)`.
    """
    from seqcore.distribute import resolve_strategy, with_mixed_precision
    from seqcore.training import discard_on_error, finish_run, run_training

    run, stored = prepare_run(out, TASK, resume=resume, overwrite=overwrite, strategy=strategy)
    distribution = resolve_strategy(strategy)  # before any other TensorFlow op
    config = stored or with_mixed_precision(config, mixed_precision)
    series = load_data(config["data"])
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    window = {**config["window"], "season": series.season}
    _check_window(series, window)
    from apps.forecast.windows import parts, training_dataset

    split = parts(series, window["lookback"], window["horizon"])
    config = {
        **config,
        "window": window,
        "columns": series.columns,
        "num_targets": series.num_targets,
        "step": series.step,
        "source": series.source,
    }
    run.start(resume=resume, overwrite=overwrite)

    from apps.forecast.model import build_forecaster

    training = config["training"]
    lookback, horizon, targets = window["lookback"], window["horizon"], series.num_targets
    train_rows = np.concatenate([s.values[: p.end] for s, p in zip(series.segments, split["train"])])
    with discard_on_error(run, resume):
        started = time.time()
        model = run_training(
            run,
            config,
            lambda: build_forecaster(config, train_rows),
            training_dataset(split["train"], lookback, horizon, targets, window["stride"],
                             distribution.global_batch_size(training["batch_size"]), seed=training["seed"]),
            training_dataset(split["validation"], lookback, horizon, targets, 1, 256),
            epochs=training["epochs"],
            resume=resume,
            patience=training["patience"],
            seed=training["seed"],
            verbose=verbose,
            backup_every=backup_every,
            distribution=distribution,
            batch_size=training["batch_size"],
        )
        if not run.is_chief:
            return finish_run(run, None), None
        train_seconds = round(time.time() - started, 1)
        metrics = {
            "test": _report(model, series, split, "test", window),
            "validation": _report(model, series, split, "validation", window),
            "train_seconds": train_seconds,
        }
        return finish_run(run, metrics), metrics


def _scales(series, split, season):
    """MASE denominators per series: the seasonal naive's in-sample MAE on its training part."""
    from apps.forecast.metrics import mase_scale

    return np.stack([
        mase_scale(segment.values[: p.end, : series.num_targets], season)
        for segment, p in zip(series.segments, split["train"])
    ])


def _quantile_forecast(model, history):
    return model.predict(history, batch_size=256, verbose=0)


def _report(model, series, split, part, window, stride=1):
    from apps.forecast.windows import window_arrays

    arrays = window_arrays(split[part], window["lookback"], window["horizon"], series.num_targets, stride)
    if arrays is None:
        raise SeqcoreError(f"the {part} part has no complete window; expected a longer series")
    history, truth, segments, _ = arrays
    quantiles = _quantile_forecast(model, history)
    return _compare(model, series, split, window, history, truth, segments, quantiles)


def _compare(model, series, split, window, history, truth, segments, quantiles):
    from apps.forecast.metrics import compare

    scale = _scales(series, split, window["season"])[segments]
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
    )


def load_run_model(run_dir):
    """Loads a finished run's best model and its configuration."""
    from seqcore.saving import load_model

    config = open_run(run_dir)
    if config.get("task") != TASK:
        raise SeqcoreError(
            f"{run_dir} is a {config.get('task')!r} run; expected a forecast run directory"
        )
    return load_model(Path(run_dir) / "model.keras", compile=False), config


def _series_like_run(config, data=None, echo=None):
    series = load_data(config["data"], source=data)
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    if series.columns != config["columns"]:
        raise SeqcoreError(
            f"the columns of {data} ({', '.join(series.columns)}) differ from the model's; "
            f"expected: {', '.join(config['columns'])}"
        )
    return series


def evaluate(run_dir, data=None, split="test", backtest=None, plot=None, echo=None):
    """Metrics of the model and both naive baselines on a part of the run's data (or `data`).

    With `backtest` N, forecasts from N rolling origins, `horizon` steps
    apart, covering the last N x horizon steps of each series' test part,
    and reports each fold and all folds together.
    """
    from apps.forecast.windows import parts, window_arrays

    model, config = load_run_model(run_dir)
    series = _series_like_run(config, data, echo)
    window = config["window"]
    division = parts(series, window["lookback"], window["horizon"])
    if backtest:
        report = _backtest(model, series, division, window, int(backtest))
    else:
        report = _report(model, series, division, split, window)
    if plot:
        arrays = window_arrays(division[split], window["lookback"], window["horizon"], series.num_targets)
        history, truth, segments, origins = arrays
        last = len(history) - 1
        quantiles = _quantile_forecast(model, history[last:])[0]
        segment = series.segments[segments[last]]
        times = _window_times(segment, origins[last], window, series.step)
        from apps.forecast.plot import plot_forecast

        plot_forecast(plot, history[last][:, : series.num_targets], quantiles, model.quantiles,
                      series.targets, times=times, truth=truth[last],
                      title=f"{config['source']}: last {split} window")
    return report


def _window_times(segment, origin, window, step):
    if segment.times is None:
        return None
    lookback, horizon = window["lookback"], window["horizon"]
    return segment.times[origin - lookback : origin + horizon]


def _backtest(model, series, division, window, folds):
    lookback, horizon = window["lookback"], window["horizon"]
    histories, truths, segments, fold_of = [], [], [], []
    for index, (segment, part) in enumerate(zip(series.segments, division["test"])):
        available = part.end - part.first_target
        if folds * horizon > available:
            raise SeqcoreError(
                f"--backtest {folds} needs {folds} x {horizon} = {folds * horizon} test steps; "
                f"the test part has {available}; expected at most {available // horizon} folds"
            )
        for fold in range(folds):
            origin = part.end - (folds - fold) * horizon
            histories.append(segment.values[origin - lookback : origin])
            truths.append(segment.values[origin : origin + horizon, : series.num_targets])
            segments.append(index)
            fold_of.append(fold)
    history, truth = np.stack(histories), np.stack(truths)
    segments, fold_of = np.array(segments), np.array(fold_of)
    quantiles = _quantile_forecast(model, history)
    report = _compare(model, series, division, window, history, truth, segments, quantiles)
    report["folds"] = []
    for fold in range(folds):
        chosen = fold_of == fold
        fold_report = _compare(model, series, division, window, history[chosen], truth[chosen],
                               segments[chosen], quantiles[chosen])
        origin = division["test"][0].end - (folds - fold) * horizon
        start = series.segments[0].times
        fold_report["origin"] = str(start[origin]) if start is not None else int(origin)
        report["folds"].append(fold_report)
    return report


def format_evaluation(report):
    from apps.forecast.metrics import format_report

    lines = []
    if "folds" in report:
        lines.append(f"backtest over {len(report['folds'])} rolling origins (MAE per fold):")
        lines.append(f"{'fold':<6}{'origin':<22}{'model':>10}{'naive':>10}{'seasonal':>10}")
        for number, fold in enumerate(report["folds"], start=1):
            lines.append(
                f"{number:<6}{str(fold['origin'])[:19]:<22}{fold['model']['mae']:>10.4f}"
                f"{fold['naive']['mae']:>10.4f}{fold['seasonal_naive']['mae']:>10.4f}"
            )
        lines.append("")
        lines.append("all folds:")
    lines.append(format_report(report))
    return "\n".join(lines)


# predict ---------------------------------------------------------------------------------------

def _export_metadata(export_dir):
    import tensorflow as tf

    from seqcore.export import resolve_version_dir

    loaded = tf.saved_model.load(str(resolve_version_dir(export_dir)))
    raw = {k: v.numpy() for k, v in loaded.signatures["metadata"]().items()}
    text = lambda value: value.decode("utf-8") if isinstance(value, bytes) else str(value)  # noqa: E731
    metadata = {
        "columns": [text(c) for c in raw["columns"]],
        "num_targets": int(raw["num_targets"]),
        "quantiles": [float(q) for q in raw["quantiles"]],
        "horizon": int(raw["horizon"]),
        "lookback": int(raw["lookback"]),
        "step": text(raw["step"]) or None,
        "time_column": text(raw["time_column"]) or None,
        "id_column": text(raw["id_column"]) or None,
        "season": int(raw["season"]),
    }
    serve = loaded.signatures["serving_default"]

    def forecast(history):
        return serve(history=tf.constant(history, tf.float32))["quantiles"].numpy()

    return metadata, forecast


def _is_export(path):
    return (path / "saved_model.pb").is_file() or any(
        (child / "saved_model.pb").is_file() for child in path.iterdir() if child.is_dir()
    )


def predict(model_path, input_path, plot=None, echo=None, time_column=None):
    """Forecasts the steps after each series in the CSV `input_path`.

    MODEL is a run directory or an export; the CSV holds the same columns
    as the training data (time, targets, covariates, id), at least
    `lookback` rows per series, of which the last `lookback` are used.
    `time_column` names its timestamp column when the model was trained
    without one (the built-in datasets), so the forecast gets timestamps.

    Returns:
        `(header, rows)` of the forecast table: id (if any), time (if any),
        step, then per target the median and each quantile.
    """
    model_path = Path(model_path)
    if not model_path.exists():
        raise SeqcoreError(f"model not found: {model_path}; expected a run or export directory")
    if (model_path / "model.keras").is_file() or not _is_export(model_path):
        model, config = load_run_model(model_path)
        meta = {
            "columns": config["columns"], "num_targets": config["num_targets"],
            "quantiles": model.quantiles, "horizon": model.horizon,
            "lookback": config["window"]["lookback"], "step": config["step"],
            "time_column": config["data"]["time_column"], "id_column": config["data"]["id_column"],
            "season": config["window"]["season"],
        }
        forecast = lambda history: _quantile_forecast(model, history)  # noqa: E731
    else:
        meta, forecast = _export_metadata(model_path)
    if time_column:
        meta["time_column"] = time_column
    targets = meta["columns"][: meta["num_targets"]]
    features = meta["columns"][meta["num_targets"] :]
    series = forecast_data.load_series(
        str(input_path), time_column=meta["time_column"], target=targets, features=features,
        id_column=meta["id_column"], season=meta["season"],
    )
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    lookback, horizon = meta["lookback"], meta["horizon"]
    for segment in series.segments:
        if len(segment.values) < lookback:
            where = f"series {segment.id!r} in {input_path}" if meta["id_column"] else str(input_path)
            raise SeqcoreError(
                f"{where} has {len(segment.values)} rows of history; expected at least the "
                f"model's lookback of {lookback} rows"
            )
    history = np.stack([segment.values[-lookback:] for segment in series.segments])
    quantiles = forecast(history)
    levels = meta["quantiles"]
    median = levels.index(0.5)
    header = ([meta["id_column"]] if meta["id_column"] else []) + (
        [meta["time_column"]] if meta["time_column"] else []) + ["step"]
    for target in targets:
        header.append(target)
        header += [f"{target}_q{_level(q)}" for q in levels if q != 0.5]
    rows = []
    for index, segment in enumerate(series.segments):
        times = _future_times(segment.times, series.step or meta["step"], horizon)
        for step in range(horizon):
            row = [segment.id] if meta["id_column"] else []
            if meta["time_column"]:
                row.append(_format_time(times[step]) if times is not None else "")
            row.append(step + 1)
            for t in range(len(targets)):
                row.append(_format_value(quantiles[index, step, t, median]))
                row += [_format_value(quantiles[index, step, t, q]) for q in range(len(levels)) if q != median]
            rows.append(row)
    if plot:
        from apps.forecast.plot import plot_forecast

        segment = series.segments[0]
        times = None
        if segment.times is not None:
            future = _future_times(segment.times, series.step or meta["step"], horizon)
            times = np.concatenate([segment.times[-lookback:], future])
        plot_forecast(plot, history[0][:, : len(targets)], quantiles[0], levels, targets,
                      times=times, title=f"forecast from {input_path}")
    return header, rows


def _level(q):
    return f"{q * 100:g}".replace(".", "_")


def _format_value(value):
    return f"{float(value):.6g}"


def _format_time(value):
    text = str(value.astype("datetime64[s]")).replace("T", " ")
    return text[:-3] if text.endswith(":00") else text


def _future_times(times, step, horizon):
    if times is None or step is None:
        return None
    last = times[-1]
    if step.endswith("M") or step.endswith("Y"):
        months = int(step[:-1]) * (12 if step.endswith("Y") else 1)
        start = last.astype("datetime64[M]")
        offset = last - start.astype(last.dtype)
        return (start + months * np.arange(1, horizon + 1)).astype(last.dtype) + offset
    number, unit = int("".join(c for c in step if c.isdigit())), step.lstrip("0123456789")
    seconds = number * {"D": 86400, "h": 3600, "min": 60, "s": 1}[unit]
    return last + np.arange(1, horizon + 1) * np.timedelta64(seconds, "s")


def format_csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_text_atomically(path, text):
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise SeqcoreError(f"cannot write {path}: folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


# export ----------------------------------------------------------------------------------------

def export(run_dir, export_base, version=None):
    """Writes `export_base/<version>/` for TensorFlow Serving; returns its path."""
    from apps.forecast.model import input_signature, sample_history, serving_function
    from seqcore.export import export_saved_model

    model, config = load_run_model(run_dir)
    sample = sample_history(model, config["window"]["lookback"])
    quantiles = model.predict(sample, verbose=0)
    expected = {
        "forecast": quantiles[..., model.median_index],
        "quantiles": quantiles,
        "lower": quantiles[..., 0],
        "upper": quantiles[..., -1],
    }
    data = config["data"]
    metadata = {
        "columns": config["columns"],
        "num_targets": config["num_targets"],
        "quantiles": np.array(model.quantiles, dtype="float32"),
        "horizon": model.horizon,
        "lookback": config["window"]["lookback"],
        "season": config["window"]["season"],
        "step": config["step"] or "",
        "time_column": data["time_column"] or "",
        "id_column": data["id_column"] or "",
    }
    scale = float(np.max(np.abs(quantiles))) or 1.0
    return export_saved_model(
        export_base,
        serving_function(model),
        input_signature(model),
        sample_inputs={"history": sample},
        expected_outputs=expected,
        track=[model],
        metadata=metadata,
        version=version,
        atol=1e-5 * max(scale, 1.0),
    )
