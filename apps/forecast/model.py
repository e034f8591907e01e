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
    window, head = config["window"], config["head"]
    backbone = RecurrentBackbone(
        num_features=len(config["columns"]), mask_value=None, **config["backbone"]
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
    )
    model.adapt(train_rows)
    return model


def input_signature(model):
    return [tf.TensorSpec([None, None, model.num_features], tf.float32, name="history")]


def serving_function(model):
    """`serving_default`: `history` float32 [batch, steps, features] (raw units) ->
    `forecast` (the median) [batch, horizon, targets], `quantiles` [batch, horizon,
    targets, levels], and `lower` / `upper` (the outermost levels)."""

    def serve(history):
        quantiles = model(history, training=False)
        return {
            "forecast": quantiles[..., model.median_index],
            "lower": quantiles[..., 0],
            "upper": quantiles[..., -1],
            "quantiles": quantiles,
        }

    return serve


def sample_history(model, lookback, count=3, seed=0):
    """Raw-unit random histories around the training mean, for checking an export."""
    mean = np.asarray(model.normalizer.mean).reshape(-1)
    std = np.sqrt(np.asarray(model.normalizer.variance).reshape(-1))
    noise = np.random.default_rng(seed).normal(size=(count, lookback, model.num_features))
    return (mean + std * noise).astype("float32")
