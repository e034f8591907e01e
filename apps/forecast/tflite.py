"""Forecast as TensorFlow Lite: the same inputs and outputs as the SavedModel's `serving_default`.

`model.tflite` takes `history` float32 [batch, lookback, features] in raw
units (targets first, then covariates: exactly the last `lookback` steps),
with `future` float32 [batch, horizon, future features] and `time` int64
[batch] (whole epoch seconds of the first forecast step: TFLite has no
float64 arithmetic; the calendar features are computed exactly in integers)
where the model reads them, and returns `forecast` (the median) [batch, horizon, targets], `lower`
/ `upper` (the outermost quantiles) and `quantiles` [batch, horizon,
targets, levels], in raw units: normalization runs inside the model, as in
the SavedModel. No client preprocessing is needed.
"""

import numpy as np
import tensorflow as tf

from apps.forecast.model import input_names, input_signature, sample_inputs, serving_outputs, with_named_arguments
from seqcore.tflite import FLOAT_ATOL


def tflite_function(model, lookback):
    """`(fn, input_signature)` of the TFLite model: `history` has exactly `lookback` steps."""
    names = input_names(model)
    specs = input_signature(model)
    specs[0] = tf.TensorSpec([None, int(lookback), model.num_features], tf.float32, name="history")
    if "time" in names:  # whole epoch seconds: TFLite has no float64 arithmetic
        specs[-1] = tf.TensorSpec([None], tf.int64, name="time")

    def run(inputs):
        return serving_outputs(model, model(inputs if len(names) > 1 else inputs["history"], training=False))

    return with_named_arguments(names, run), specs


def tflite_models(model, lookback):
    """`seqcore.tflite.write_models` arguments: the model (raw units in and out) and no client files."""
    fn, signature = tflite_function(model, lookback)
    sample = sample_inputs(model, lookback)
    inputs = dict(sample) if isinstance(sample, dict) else {"history": sample}
    if "time" in inputs:
        inputs["time"] = np.floor(inputs["time"]).astype("int64")
        sample = {**sample, "time": inputs["time"].astype("float64")}
    quantiles = model.predict(sample, verbose=0)
    expected = {
        "forecast": quantiles[..., model.median_index],
        "lower": quantiles[..., 0],
        "upper": quantiles[..., -1],
        "quantiles": quantiles,
    }
    # Raw units: float32 rounding grows with the values (at 30,000 its spacing
    # alone is 0.002), so the float32 tolerance is FLOAT_ATOL per unit of the
    # largest output, and FLOAT_ATOL itself for outputs within +-1.
    scale = max(1.0, float(np.max(np.abs(quantiles))))
    return {"model": (fn, signature, inputs, expected, FLOAT_ATOL * scale)}, {}
