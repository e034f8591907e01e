"""The forecast app's run configuration and training; `cli.py` is a thin layer over the app's modules.

`resolve_config` turns options into a run's configuration, `train` runs it
through the shared `seqcore.train_flow` with the data hooks of
`apps.forecast.training_data`, and `load_run_model` reopens a finished run.
The other commands live in modules named for them: `evaluation`,
`prediction`, `export` and `shards` (`prepare`).
"""

from pathlib import Path

from apps.forecast.data import BUILTIN_NAMES, DEFAULT_SOURCE, as_list
from apps.forecast.settings import BASE, QUANTILES, TRAINING, WINDOW
from seqcore.errors import SeqcoreError
from seqcore.registry import FORECAST_HEADS as HEADS
from seqcore.run_config import backbone_config, check_options, training_config

TASK = "forecast"
DEFAULT_BACKBONE = "lstm"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"pooling": "last", "dropout": 0.0}
#: The forecast options `resolve_config` takes by name (besides the shared backbone and training ones).
TASK_OPTIONS = ("data", "time_column", "target", "features", "id_column", "season", "future_features", "country",
                "calendar", "calibrate", "lookback", "horizon", "stride", "head", "quantiles", "residual",
                "highway", "window_level", "base_seasons", "head_dropout", "backbone")


def parse_quantiles(text):
    """`"0.1,0.5,0.9"` -> levels; `"none"` / `"0.5"` -> a point forecast.

    Example:

    >>> parse_quantiles("0.9, 0.1,0.5"), parse_quantiles("none")
    ([0.1, 0.5, 0.9], [0.5])
    """
    if text is None:
        return list(QUANTILES)
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
    lookback=WINDOW["lookback"],
    horizon=WINDOW["horizon"],
    stride=WINDOW["stride"],
    head="direct",
    quantiles=None,
    residual=True,
    highway=True,
    window_level=BASE["window_level"],
    base_seasons=BASE["base_seasons"],
    head_dropout=0.0,
    backbone=DEFAULT_BACKBONE,
    **options,
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    The forecast options are named here; the shared backbone and training
    options (`cell`, `units`, `layers`, ..., `epochs`, `batch_size`,
    `seed`, `patience`, `ema`) come as `**options` (`seqcore.run_config`).

    With `data="tfrecord:DIR"` the shards fix the data and window options:
    pass None for `lookback` / `horizon` / `stride` to take the shards'
    (`train` refuses a value that differs from them).

    Example:

    >>> resolve_config(horizon=24)["window"]
    {'lookback': 336, 'horizon': 24, 'stride': 2, 'season': None}
    """
    from seqcore.tfrecords import is_tfrecord_source

    check_options(options, TASK_OPTIONS)
    shards = is_tfrecord_source(data)
    for name, value in (("--lookback", lookback), ("--horizon", horizon), ("--stride", stride)):
        if (value is None and not shards) or (value is not None and int(value) < 1):
            raise SeqcoreError(f"{name} must be a positive number of steps; received: {value}")
    if season is not None and int(season) < 1:
        raise SeqcoreError(f"--season must be a positive number of steps; received: {season}")
    if head not in HEADS:
        raise SeqcoreError(f"unknown head {head!r}; expected one of: {', '.join(HEADS)}")
    source = data or DEFAULT_SOURCE
    if source not in BUILTIN_NAMES and Path(source).suffix:
        source = str(Path(source).resolve()) if Path(source).exists() else source
    backbone_kwargs = backbone_config(backbone, BACKBONE_DEFAULTS, options)
    if country:
        from apps.forecast.holidays import check_country

        check_country(country)
    if head == "autoregressive" and (calendar or country or as_list(future_features)):
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
            "target": as_list(target),
            "features": as_list(features),
            "id_column": id_column,
            "season": season,
            "future_features": as_list(future_features),
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
            "window_level": bool(window_level),
            "base_seasons": int(base_seasons),
            "dropout": float(head_dropout),
            # None: calendar features wherever the series has a fixed time step (direct head).
            "calendar": calendar,
            "calibrate": bool(calibrate),
            # Conformal factors on the quantiles' distance from the median (apps/forecast/calibration.py).
            "calibration": "scale",
        },
        "training": training_config(options, TRAINING),
    }


def _steps(value):
    return None if value is None else int(value)


def train(config, out=None, resume=False, overwrite=False, verbose="auto", backup_every=50,
          echo=None, strategy="auto", mixed_precision=None):
    """Trains a forecaster and writes a finished run directory (`seqcore.train_flow.train_task`).

    Arguments as `train_task`'s; `echo` is called with each data warning
    (interpolated gaps). A series in memory or TFRecord shards
    (`--data tfrecord:DIR`) are the two `TrainingData` of
    `apps.forecast.training_data`, chosen once from the run's source.

    Returns:
        `(run_path, metrics)`; a non-chief worker of a cluster writes
        nothing and returns `(path the chief writes, None)`.
    """
    from apps.forecast.training_data import open_training_data
    from seqcore.train_flow import train_task

    return train_task(TASK, lambda config, distribution: open_training_data(config, distribution, echo),
                      config, out, resume=resume, overwrite=overwrite, verbose=verbose,
                      backup_every=backup_every, strategy=strategy, mixed_precision=mixed_precision)


def load_run_model(run_dir):
    """Loads a finished forecast run's best model and its configuration (another task's run is refused)."""
    from seqcore.saving import load_run

    return load_run(run_dir, TASK)
