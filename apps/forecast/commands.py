"""The forecast app's commands as plain functions; `cli.py` is a thin layer over them."""

import csv
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from apps.forecast import data as forecast_data
from apps.forecast.settings import TRAINING
from apps.forecast.time_index import epoch_seconds, future_times, step_seconds
from seqcore.errors import SeqcoreError
from seqcore.registry import FORECAST_HEADS as HEADS
from seqcore.registry import preset_kwargs
from seqcore.runs import open_run, prepare_run

TASK = "forecast"
DEFAULT_BACKBONE = "lstm"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"pooling": "last", "dropout": 0.0}
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


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
    future_features=None,
    country=None,
    calendar=None,
    calibrate=True,
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
    epochs=TRAINING["epochs"],
    batch_size=TRAINING["batch_size"],
    seed=0,
    patience=TRAINING["patience"],
    ema=TRAINING["ema"],
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    With `data="tfrecord:DIR"` the shards fix the data and window options:
    pass None for `lookback` / `horizon` / `stride` to take the shards'
    (`train` refuses a value that differs from them).

    Example:

    >>> resolve_config(horizon=24)["window"]
    {'lookback': 336, 'horizon': 24, 'stride': 2, 'season': None}
    """
    from seqcore.tfrecords import is_tfrecord_source

    shards = is_tfrecord_source(data)
    for name, value in (("--lookback", lookback), ("--horizon", horizon), ("--stride", stride)):
        if (value is None and not shards) or (value is not None and int(value) < 1):
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
    if country:
        from apps.forecast.holidays import check_country

        check_country(country)
    if head == "autoregressive" and (calendar or country or forecast_data._as_list(future_features)):
        raise SeqcoreError(
            "known-future covariates and calendar features need the direct head; expected "
            "--head direct or no --future-features / --calendar; received: --head autoregressive"
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
            "future_features": forecast_data._as_list(future_features),
            "country": country or None,
        },
        "window": {"lookback": _steps(lookback), "horizon": _steps(horizon), "stride": _steps(stride),
                   "season": season},
        "preset": backbone,
        "backbone": backbone_kwargs,
        "head": {
            "kind": head,
            "quantiles": parse_quantiles(quantiles),
            "residual": bool(residual),
            "highway": bool(highway),
            "dropout": float(head_dropout),
            # None: calendar features wherever the series has a fixed time step (direct head).
            "calendar": calendar,
            "calibrate": bool(calibrate),
            # Conformal factors on the quantiles' distance from the median (apps/forecast/calibration.py).
            "calibration": "scale",
        },
        "training": {"epochs": epochs, "batch_size": batch_size, "seed": seed, "patience": patience,
                     "ema": float(ema)},
    }


def _steps(value):
    return None if value is None else int(value)


def load_data(data_config, source=None, future_rows=0, past_only=False):
    """Loads the run's source (or `source` with the same columns).

    A run written before known-future covariates existed has no
    `future_features` in its configuration: its covariates are all past
    ones, as they were then (the built-in elecdemand's included).
    """
    features, future = data_config["features"], data_config.get("future_features", "legacy")
    if future == "legacy" or (past_only and future is None):
        name = source or data_config["source"]
        if features is None and name in forecast_data.BUILTIN_NAMES:
            _, past, known = forecast_data.builtin_defaults(name)
            features = past + known
        future = ""
    return forecast_data.load_series(
        source or data_config["source"],
        time_column=data_config["time_column"],
        target=data_config["target"],
        features=features,
        id_column=data_config["id_column"],
        season=data_config["season"],
        future_features=future,
        future_rows=future_rows,
        country=data_config.get("country"),
    )


def calendar_step(config, series):
    """Seconds between steps when the model reads calendar features, else None.

    On by default (`calendar` None) for the direct head wherever the series
    has a fixed time step; `calendar` True refuses a series without one.
    """
    wanted = config["head"].get("calendar")
    if wanted is False or config["head"]["kind"] != "direct":
        return None
    seconds = step_seconds(series.step) if series.segments[0].times is not None else None
    if wanted and seconds is None:
        raise SeqcoreError(
            "--calendar needs a time index with a fixed step (minutes, hours, days); expected "
            f"--time-col naming the timestamps; received: step {series.step or 'none (no --time-col)'}"
        )
    return seconds


def _check_window(series, window):
    season = window["season"]
    if season > window["lookback"]:
        raise SeqcoreError(
            f"--lookback {window['lookback']} is shorter than the season of {season} steps; "
            "expected a lookback of at least one season (or a smaller --season)"
        )


#: The options a `tfrecord:DIR` source fixes: option, key of the run's configuration, key of the manifest.
SHARD_OPTIONS = (
    ("--time-col", ("data", "time_column"), "time_column"),
    ("--target", ("data", "target"), "targets"),
    ("--features", ("data", "features"), "features"),
    ("--id-col", ("data", "id_column"), "id_column"),
    ("--season", ("data", "season"), "season"),
    ("--lookback", ("window", "lookback"), "lookback"),
    ("--horizon", ("window", "horizon"), "horizon"),
    ("--stride", ("window", "stride"), "stride"),
)


class Shards:
    """A run's windows streamed from `prepare`'s TFRecord shards (`--data tfrecord:DIR`).

    The manifest holds everything training and evaluation need without the
    CSV: the columns, time step, season, window sizes, the per-series MASE
    scales and the training rows' per-column mean and variance. The input
    scaling is adapted on two rows built to have exactly that mean and
    variance, so a model trained from shards scales its inputs as one
    trained from the CSV would, with no pass over the training windows.

    Example:

    >>> # prepare(out, resolve_config(data="demand.csv", target="load", lookback=24, horizon=6))
    >>> # shards = Shards("tfrecord:" + str(out)); shards.window["lookback"]  -> 24
    """

    def __init__(self, source, workers=1):
        from seqcore.tfrecords import read_manifest

        manifest = read_manifest(source, task=TASK)
        meta = manifest["metadata"]
        self.source_dir, self.workers, self.meta = manifest["directory"], workers, meta
        self.window = {name: int(meta[name]) for name in ("lookback", "horizon", "stride", "season")}
        self.scales = np.asarray(meta["scales"], dtype="float64")
        self.counts = {name: entry["count"] for name, entry in manifest["splits"].items()}

    def run_config(self, config):
        """`config` with the shards' data and window settings; refuses options that contradict them."""
        from seqcore.tfrecords import PREFIX

        meta = self.meta
        fixed = {**meta, "targets": meta["columns"][: meta["num_targets"]],
                 "features": meta["columns"][meta["num_targets"]:]}
        for option, (section, key), name in SHARD_OPTIONS:
            given = config[section].get(key)
            if given is not None and given != fixed[name]:
                shown = lambda value: ",".join(value) if isinstance(value, list) else value  # noqa: E731
                raise SeqcoreError(
                    f"{option} conflicts with the shards in {self.source_dir}, which fix it; expected "
                    f"no {option} (or {shown(fixed[name]) or 'none'}), received: {shown(given) or 'none'}"
                )
        return {
            **config,
            "data": {**config["data"], "source": PREFIX + self.source_dir, "time_column": meta["time_column"],
                     "target": fixed["targets"], "features": fixed["features"],
                     "id_column": meta["id_column"], "season": meta["season"], "future_features": []},
            "window": dict(self.window),
            "columns": meta["columns"],
            "num_targets": meta["num_targets"],
            "step": meta["step"],
            "num_future": 0,
            "calendar_step": None,
            "source": f"TFRecord shards in {self.source_dir} ({meta['source']})",
        }

    def adapt_rows(self):
        """Two rows whose mean and (population) variance are the training rows' own."""
        mean = np.asarray(self.meta["mean"], dtype="float64")
        std = np.sqrt(np.asarray(self.meta["variance"], dtype="float64"))
        return np.stack([mean - std, mean + std])

    def pairs(self, split, workers=1):
        from seqcore.tfrecords import read_split

        return read_split(self.source_dir, split, workers=workers).map(lambda e: (e["history"], e["future"]))

    def training_dataset(self, batch_size, seed, shuffle_buffer=10000):
        import tensorflow as tf

        dataset = self.pairs("train", self.workers).shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation_dataset(self, split, batch_size=256):
        return self.pairs(split, self.workers).batch(batch_size)

    def arrays(self, split):
        """A split's `(history, future, segment)` as NumPy arrays, streamed in batches."""
        from seqcore.tfrecords import read_split

        batches = list(read_split(self.source_dir, split).batch(1024).as_numpy_iterator())
        return tuple(np.concatenate([b[name] for b in batches]) for name in ("history", "future", "segment"))

    def report(self, model, split):
        """Metrics of the model and the naive baselines on a split, with the stored MASE scales."""
        history, truth, segments = self.arrays(split)
        quantiles = _quantile_forecast(model, history)
        return _compare(model, self.scales, self.window, history, truth, segments, quantiles)


#: Seed of the order the training windows are written in.
SHARD_SEED = 1337


def _window_examples(part_list, lookback, horizon, num_targets, stride=1, seed=None):
    """The windows `window_arrays` cuts, as shard examples; in a seeded random order when `seed` is given.

    Each window is a view of its series' values, so listing them copies nothing.
    """
    from apps.forecast.windows import window_count

    index = [(p, i) for p in part_list for i in range(window_count(len(p.values), lookback, horizon, stride))]
    order = np.random.default_rng(seed).permutation(len(index)) if seed is not None else range(len(index))
    examples = []
    for k in order:
        p, i = index[k]
        window = p.values[i * stride : i * stride + lookback + horizon]
        examples.append({"history": window[:lookback], "future": window[lookback:, :num_targets],
                         "segment": p.segment})
    return examples


def prepare(out, config, shards=8, overwrite=False, echo=None):
    """Writes the windows `train` would cut from `config`'s source as TFRecord shards; returns the manifest.

    Train windows are `stride` apart and written in a seeded random order
    (a stream then mixes series and seasons from its first batch);
    validation and test windows take every origin, in time order. Each
    example is `history` float32 `[lookback, columns]`, `future` float32
    `[horizon, targets]` and `segment` int64 (the series' index). The
    manifest's metadata holds the columns, step, season, window sizes,
    per-series MASE scales and the training rows' mean and variance;
    train on the shards with `--data tfrecord:OUT`.

    Example:

    >>> # config = resolve_config(data="demand.csv", time_column="time", target="load",
    >>> #                         lookback=24, horizon=6)
    >>> # prepare("shards", config, shards=2)["splits"]["test"]["count"]
    """
    from apps.forecast.windows import parts
    from seqcore.tfrecords import is_tfrecord_source, write_shards

    if is_tfrecord_source(config["data"]["source"]):
        raise SeqcoreError(
            "prepare reads a CSV or built-in source; expected --data elecdemand, taylor, sunspots or a "
            f"file, received TFRecord shards: {config['data']['source']}"
        )
    if config["data"].get("future_features") or config["data"].get("country"):
        given = config["data"].get("future_features") or []
        raise SeqcoreError(
            "prepare writes windows of past covariates only; expected no --future-features or --country, "
            "received: " + ", ".join([*given, *([f"--country {config['data']['country']}"]
                                               if config["data"].get("country") else [])])
        )
    series = load_data(config["data"], past_only=True)
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    window = {**config["window"], "season": series.season}
    _check_window(series, window)
    lookback, horizon, stride = window["lookback"], window["horizon"], window["stride"]
    split = parts(series, lookback, horizon)
    rows = _train_rows(series, split).astype("float64")
    targets = series.num_targets
    features = {"history": {"dtype": "float32", "shape": [lookback, len(series.columns)]},
                "future": {"dtype": "float32", "shape": [horizon, targets]},
                "segment": {"dtype": "int64", "shape": []}}
    data = config["data"]
    metadata = {
        "task": TASK, "columns": series.columns, "num_targets": targets, "step": series.step,
        "season": series.season, "source": series.source, "lookback": lookback, "horizon": horizon,
        "stride": stride, "time_column": data["time_column"], "id_column": data["id_column"],
        "scales": _scales(series, split, series.season).tolist(),
        "mean": rows.mean(axis=0).tolist(), "variance": rows.var(axis=0).tolist(),
    }
    return write_shards(
        out,
        {
            "train": _window_examples(split["train"], lookback, horizon, targets, stride, seed=SHARD_SEED),
            "validation": _window_examples(split["validation"], lookback, horizon, targets),
            "test": _window_examples(split["test"], lookback, horizon, targets),
        },
        features,
        shards=shards,
        metadata=metadata,
        overwrite=overwrite,
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
    from apps.forecast.windows import parts, training_dataset
    from seqcore.tfrecords import is_tfrecord_source

    training = config["training"]
    global_batch = distribution.global_batch_size(training["batch_size"])
    if is_tfrecord_source(config["data"]["source"]):
        shards = Shards(config["data"]["source"], distribution.workers)
        config = shards.run_config(config)
        window = config["window"]
        train_rows = lambda: shards.adapt_rows()  # noqa: E731
        train_data = shards.training_dataset(global_batch, training["seed"])
        validation_data = shards.evaluation_dataset("validation")
    else:
        shards = None
        series = load_data(config["data"], past_only=config["head"]["kind"] != "direct")
        for warning in series.warnings:
            (echo or (lambda line: None))(warning)
        window = {**config["window"], "season": series.season}
        _check_window(series, window)
        split = parts(series, window["lookback"], window["horizon"])
        config = {
            **config,
            "window": window,
            "columns": series.columns,
            "num_targets": series.num_targets,
            "num_future": series.num_future,
            "calendar_step": calendar_step(config, series),
            "calendar_year": _spans_two_years(series, split),
            "step": series.step,
            "source": series.source,
        }
        lookback, horizon, targets = window["lookback"], window["horizon"], series.num_targets
        extra = {"num_future": series.num_future, "calendar": bool(config["calendar_step"])}
        train_rows = lambda: _train_rows(series, split)  # noqa: E731
        train_data = training_dataset(split["train"], lookback, horizon, targets, window["stride"],
                                      global_batch, seed=training["seed"], **extra)
        validation_data = training_dataset(split["validation"], lookback, horizon, targets, 1, 256, **extra)
    run.start(resume=resume, overwrite=overwrite)

    from apps.forecast.model import build_forecaster

    with discard_on_error(run, resume):
        started = time.time()
        model = run_training(
            run,
            config,
            lambda: build_forecaster(config, train_rows()),
            train_data,
            validation_data,
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
        if not shards and getattr(model, "calibrated", False):
            from apps.forecast.calibration import calibrate
            from seqcore.runs import save_model_atomically

            held_out = series_windows(series, split, "validation", window, config)
            calibrate(model, model_inputs(model, held_out), held_out.truth)
            save_model_atomically(model, run.work / "model.keras")
        if shards:
            reports = {part: shards.report(model, part) for part in ("test", "validation")}
        else:
            reports = {part: _report(model, series, split, part, window) for part in ("test", "validation")}
        metrics = {**reports, "train_seconds": train_seconds}
        return finish_run(run, metrics), metrics


def _spans_two_years(series, split):
    """Whether a training part spans two years: else part of the day of year is never seen in training."""
    for segment, part in zip(series.segments, split["train"]):
        if segment.times is not None and segment.times[part.end - 1] - segment.times[0] >= np.timedelta64(730, "D"):
            return True
    return False


def _train_rows(series, split):
    """Every series' rows up to the end of its train part: what the input scaling is fitted on."""
    return np.concatenate([s.values[: p.end] for s, p in zip(series.segments, split["train"])])


def _scales(series, split, season):
    """MASE denominators per series: the seasonal naive's in-sample MAE on its training part."""
    from apps.forecast.metrics import mase_scale

    return np.stack([
        mase_scale(segment.values[: p.end, : series.num_targets], season)
        for segment, p in zip(series.segments, split["train"])
    ])


def _quantile_forecast(model, inputs):
    return model.predict(inputs, batch_size=256, verbose=0)


def model_inputs(model, windows):
    """The inputs `model` reads from `Windows`: the history alone, or with future covariates and time."""
    return windows.inputs(getattr(model, "future_features", 0), bool(getattr(model, "calendar_step", None)))


def series_windows(series, split, part, window, config=None, stride=1, origins=None):
    """The `Windows` of one part (every origin, or `origins`), refusing a part with none."""
    from apps.forecast.windows import window_arrays

    windows = window_arrays(split[part], window["lookback"], window["horizon"], series.num_targets, stride,
                            origins=origins)
    if windows is None:
        raise SeqcoreError(f"the {part} part has no complete window; expected a longer series")
    return windows


def _report(model, series, split, part, window, stride=1):
    windows = series_windows(series, split, part, window, stride=stride)
    quantiles = _quantile_forecast(model, model_inputs(model, windows))
    return _compare(model, _scales(series, split, window["season"]), window, windows.history, windows.truth,
                    windows.segment, quantiles)


def _compare(model, scales, window, history, truth, segments, quantiles, others=None):
    """Metrics of the model and the naive baselines; `scales` are the per-series MASE denominators."""
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
    series = load_data(config["data"], source=data, past_only=config["head"]["kind"] != "direct")
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    if series.columns != config["columns"]:
        raise SeqcoreError(
            f"the columns of {data} ({', '.join(series.columns)}) differ from the model's; "
            f"expected: {', '.join(config['columns'])}"
        )
    return series


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
        return Shards(config["data"]["source"]).report(model, split)
    series = _series_like_run(config, data, echo)
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
    quantiles = _quantile_forecast(model, model_inputs(model, windows))
    others = None
    if baselines:
        from apps.forecast.baselines import missing_reason, statistical_forecasts

        reason = missing_reason()
        if reason:
            (echo or (lambda line: None))(reason)
        else:
            others = statistical_forecasts(
                [segment.values for segment in series.segments], windows, window["horizon"],
                series.num_targets, window["season"], step_seconds(series.step))
    scales = _scales(series, division, window["season"])
    report = _compare(model, scales, window, windows.history, windows.truth, windows.segment, quantiles,
                      others)
    report["origin_every"] = every
    if backtest:
        report["folds"] = []
        for fold, chosen in enumerate(np.array_split(np.arange(len(windows)), int(backtest))):
            part = {name: tuple(a[chosen] for a in arrays) for name, arrays in (others or {}).items()}
            fold_report = _compare(model, scales, window, windows.history[chosen], windows.truth[chosen],
                                   windows.segment[chosen], quantiles[chosen], part if others else None)
            fold_report["origin"] = _origin_label(series, windows, chosen[0])
            fold_report["last_origin"] = _origin_label(series, windows, chosen[-1])
            report["folds"].append(fold_report)
    if plot:
        last = len(windows) - 1
        segment = series.segments[windows.segment[last]]
        times = _window_times(segment, windows.origin[last], window, series.step)
        from apps.forecast.plot import plot_forecast

        plot_forecast(plot, windows.history[last][:, : series.num_targets], quantiles[last], model.quantiles,
                      series.targets, times=times, truth=windows.truth[last],
                      title=f"{config['source']}: last {split} window")
    return report


def _origin_label(series, windows, index):
    times = series.segments[windows.segment[index]].times
    origin = int(windows.origin[index])
    return str(times[origin].astype("datetime64[s]")) if times is not None else origin


def _window_times(segment, origin, window, step):
    if segment.times is None:
        return None
    lookback, horizon = window["lookback"], window["horizon"]
    return segment.times[origin - lookback : origin + horizon]


def format_evaluation(report):
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
        # Exports written before known-future covariates and calendars have neither.
        "num_future": int(raw["num_future"]) if "num_future" in raw else 0,
        "calendar_step": float(raw["calendar_step"]) if "calendar_step" in raw else 0.0,
        "country": text(raw["country"]) if "country" in raw else "",
    }
    serve = loaded.signatures["serving_default"]

    def forecast(inputs):
        if not isinstance(inputs, dict):
            inputs = {"history": inputs}
        tensors = {name: tf.constant(value, tf.float64 if name == "time" else tf.float32)
                   for name, value in inputs.items()}
        return serve(**tensors)["quantiles"].numpy()

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
    A model with known-future covariates reads them from the last
    `horizon` rows of each series, which follow the history (their target
    cells may be empty).
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
            "num_future": config.get("num_future", 0), "calendar_step": config.get("calendar_step") or 0.0,
            "country": config["data"].get("country") or "",
        }
        forecast = lambda inputs: _quantile_forecast(model, inputs)  # noqa: E731
    else:
        meta, forecast = _export_metadata(model_path)
    if time_column:
        meta["time_column"] = time_column
    targets = meta["columns"][: meta["num_targets"]]
    num_future = meta["num_future"]
    features = meta["columns"][meta["num_targets"] : len(meta["columns"]) - num_future]
    future_features = meta["columns"][len(meta["columns"]) - num_future :]
    if meta["country"]:
        future_features = future_features[:-1]  # the holiday column, computed from the times
    if meta["calendar_step"] and not meta["time_column"]:
        raise SeqcoreError(
            f"the model reads calendar features, so {input_path} needs timestamps; expected --time-col "
            "naming its time column; received none"
        )
    series = forecast_data.load_series(
        str(input_path), time_column=meta["time_column"], target=targets, features=features,
        id_column=meta["id_column"], season=meta["season"], future_features=future_features,
        future_rows=meta["horizon"] if num_future else 0, country=meta["country"] or None,
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
    inputs = history
    if num_future or meta["calendar_step"]:
        inputs = {"history": history}
        if num_future:
            inputs["future"] = np.stack([segment.future for segment in series.segments])
        if meta["calendar_step"]:
            inputs["time"] = np.array([
                epoch_seconds(future_times(s.times, series.step or meta["step"], 1))[0]
                for s in series.segments])
    quantiles = forecast(inputs)
    levels = meta["quantiles"]
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
    if plot:
        from apps.forecast.plot import plot_forecast

        segment = series.segments[0]
        times = None
        if segment.times is not None:
            future = future_times(segment.times, series.step or meta["step"], horizon)
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

def export(run_dir, export_base, version=None, format="saved_model", quantize=False):
    """Writes `export_base/<version>/` for TensorFlow Serving; returns its path.

    Signatures: `serving_default` (plain TensorFlow, which any TensorFlow
    Serving runs), `serving_xla` (the same function XLA-compiled: about
    2-3x faster at batch 1 on CPU; TensorFlow Serving needs
    `--xla_cpu_compilation_enabled=true` for it) and `metadata`.
    With `format="tflite"`, `<version>/tflite/` also holds `model.tflite`
    (and `model.int8.tflite` with `quantize`), checked, in the same atomic
    step (`apps.forecast.tflite`).
    """
    import tensorflow as tf

    from apps.forecast.model import input_names, input_signature, sample_inputs, serving_function
    from seqcore.export import export_saved_model

    model, config = load_run_model(run_dir)
    sample = sample_inputs(model, config["window"]["lookback"])
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
        "num_future": getattr(model, "future_features", 0),
        "future_features": config["columns"][len(config["columns"]) - model.future_features :]
        if model.future_features else [""],
        "calendar_step": float(model.calendar_step or 0.0),
        "country": data.get("country") or "",
        "inputs": ", ".join(name for name in input_names(model)),
    }
    scale = float(np.max(np.abs(quantiles))) or 1.0
    return export_saved_model(
        export_base,
        serving_function(model, config["window"]["lookback"]),
        input_signature(model),
        sample_inputs=sample if isinstance(sample, dict) else {"history": sample},
        expected_outputs=expected,
        track=[model],
        metadata=metadata,
        version=version,
        atol=1e-5 * max(scale, 1.0),
        endpoints={"serving_xla": (tf.function(serving_function(model, config["window"]["lookback"]), jit_compile=True),
                                   input_signature(model),
                                   sample if isinstance(sample, dict) else {"history": sample}, expected)},
        extra_writer=_tflite_writer(model, config["window"]["lookback"], format, quantize),
    )


def _tflite_writer(model, lookback, format, quantize):
    """The `export_saved_model` hook writing `<version>/tflite/` (None unless `format` is tflite)."""
    if format != "tflite":
        return None
    from apps.forecast.tflite import tflite_models
    from seqcore.tflite import extra_writer

    return extra_writer(lambda: tflite_models(model, lookback), quantize=quantize)
