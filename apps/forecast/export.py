"""Exporting a forecast run: a SavedModel for TensorFlow Serving (and TensorFlow Lite models on request).

`export` is `seqcore forecast export RUN_DIR EXPORT_BASE`; the serving
functions themselves live in `apps.forecast.model`, the TFLite ones in
`apps.forecast.tflite`.
"""

import numpy as np

from apps.forecast.commands import load_run_model

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
