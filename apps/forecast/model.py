"""Builds the forecaster and its TensorFlow Serving function."""

import numpy as np
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.forecaster import Forecaster


def build_forecaster(config, train_rows):
    """Makes an untrained forecaster whose input scaling is fitted on `train_rows` only.

    Args:
        config: the run configuration (`columns`, `num_targets`, `window`,
            `backbone`, `head`).
        train_rows: raw training values `(steps, columns)`, every series' train part.

    Example:

    >>> config = {"columns": ["y", "x"], "num_targets": 1,
    ...           "window": {"lookback": 8, "horizon": 2, "season": 4},
    ...           "backbone": {"cell": "gru", "units": 4},
    ...           "head": {"kind": "direct", "quantiles": [0.1, 0.5, 0.9], "dropout": 0.0,
    ...                    "residual": True}}
    >>> model = build_forecaster(config, np.random.default_rng(0).normal(size=(40, 2)))
    >>> model.predict(np.zeros((1, 8, 2), "float32"), verbose=0).shape
    (1, 2, 1, 3)
    """
    from seqcore.forecast_calendar import calendar_width

    window, head = config["window"], config["head"]
    calendar_step = config.get("calendar_step")
    year = bool(config.get("calendar_year", True))
    backbone = RecurrentBackbone(
        num_features=len(config["columns"]) + (calendar_width(year) if calendar_step else 0), mask_value=None,
        **config["backbone"]
    )
    model = Forecaster(
        backbone,
        horizon=window["horizon"],
        num_targets=config["num_targets"],
        quantiles=head["quantiles"],
        head=head["kind"],
        residual_season=window["season"] if head["residual"] else None,
        highway=window["lookback"] if head.get("highway") and head["kind"] == "direct" else None,
        dropout=head["dropout"],
        future_features=config.get("num_future", 0),
        calendar_step=calendar_step,
        calibrated=bool(head.get("calibrate")) and len(head["quantiles"]) > 1,
        calendar_year=year,
        calibration_kind=head.get("calibration", "offset"),
        window_level=bool(head.get("window_level")) and head["kind"] == "direct",
        base_seasons=_base_seasons(head, window),
    )
    model.adapt(train_rows)
    return model


def _base_seasons(head, window):
    """The seasons the naive forecast averages: as asked, at most as many as the lookback holds.

    Example (a week of half-hours holds seven daily seasons; runs saved before the option had one):

    >>> week = {"lookback": 336, "season": 48}
    >>> [_base_seasons({"kind": "direct", "residual": True, **asked}, week)
    ...  for asked in ({"base_seasons": 8}, {"base_seasons": 2}, {})]
    [7, 2, 1]
    """
    if head["kind"] != "direct" or not head["residual"] or window["season"] < 2:
        return 1
    return max(1, min(int(head.get("base_seasons", 1)), window["lookback"] // window["season"]))


def input_names(model):
    """The serving inputs of a forecaster, in order: `history`, then `future` and `time` where it reads them."""
    names = ["history"]
    if getattr(model, "future_features", 0):
        names.append("future")
    if getattr(model, "calendar_step", None):
        names.append("time")
    return names


def input_signature(model):
    """`history` float32 [batch, steps, features]; `future` float32 [batch, horizon, future
    features]; `time` float64 [batch] (epoch seconds of the first forecast step)."""
    specs = {
        "history": tf.TensorSpec([None, None, model.num_features], tf.float32, name="history"),
        "future": tf.TensorSpec([None, model.horizon, getattr(model, "future_features", 0)], tf.float32,
                                name="future"),
        "time": tf.TensorSpec([None], tf.float64, name="time"),
    }
    return [specs[name] for name in input_names(model)]


def serving_function(model, lookback=None):
    """`serving_default`: `history` float32 [batch, steps, features] (raw units, the
    last `lookback` steps at least), with `future` float32 [batch, horizon, future
    features] (raw units) and `time` float64 [batch] (epoch seconds of the first
    forecast step) where the model reads them -> `forecast` (the median) [batch,
    horizon, targets], `quantiles` [batch, horizon, targets, levels], and `lower` /
    `upper` (the outermost levels). A history shorter than `lookback` is refused
    with an error naming the lookback, rather than padded."""
    names = input_names(model)
    lookback = int(lookback or model.highway or 0)

    def run(inputs):
        history = inputs["history"]
        if lookback:
            check = tf.debugging.assert_greater_equal(
                tf.shape(history)[1], lookback,
                message=f"history is shorter than the model's lookback; expected at least {lookback} steps")
            with tf.control_dependencies([check]):
                history = tf.identity(history)
            inputs = {**inputs, "history": history}
        return serving_outputs(model, model(inputs if len(names) > 1 else history, training=False))

    return with_named_arguments(names, run)


def serving_outputs(model, quantiles):
    """The served outputs of a forecast's `quantiles` [batch, horizon, targets, levels]."""
    return {
        "forecast": quantiles[..., model.median_index],
        "lower": quantiles[..., 0],
        "upper": quantiles[..., -1],
        "quantiles": quantiles,
    }


def with_named_arguments(names, run):
    """`run(inputs_dict)` as a function whose arguments are `names`.

    TensorFlow Serving and the TFLite converter name a signature's inputs
    after its function's arguments, so each input set gets its own function.
    """
    if names == ["history"]:
        return lambda history: run({"history": history})
    if names == ["history", "future"]:
        return lambda history, future: run({"history": history, "future": future})
    if names == ["history", "time"]:
        return lambda history, time: run({"history": history, "time": time})
    return lambda history, future, time: run({"history": history, "future": future, "time": time})


def sample_history(model, lookback, count=3, seed=0):
    """Raw-unit random histories around the training mean, for checking an export."""
    mean = np.asarray(model.normalizer.mean).reshape(-1)
    std = np.sqrt(np.asarray(model.normalizer.variance).reshape(-1))
    noise = np.random.default_rng(seed).normal(size=(count, lookback, model.num_features))
    return (mean + std * noise).astype("float32")


def sample_inputs(model, lookback, count=3, seed=0):
    """Random raw-unit inputs of the model (the history alone, or a dict with `future` / `time`)."""
    history = sample_history(model, lookback, count, seed)
    names = input_names(model)
    if len(names) == 1:
        return history
    inputs = {"history": history}
    if "future" in names:
        future = sample_history(model, model.horizon, count, seed + 1)
        inputs["future"] = future[..., model.num_features - model.future_features :]
    if "time" in names:
        inputs["time"] = 1.4e9 + 86400.0 * np.arange(count, dtype="float64") + 1800.0
    return inputs
