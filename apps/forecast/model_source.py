"""A forecaster to predict with, from a run directory (Keras) or an export (TensorFlow alone), seen the same way.

`open_forecaster` returns what `predict` needs from either: the metadata
(columns, window sizes, quantile levels, time step...) and a function from
the model's raw-unit inputs to its quantile forecasts.
"""

from pathlib import Path

from seqcore.errors import SeqcoreError


def open_forecaster(path):
    """`(metadata, forecast)` of a run directory or an export of a forecast run.

    Raises:
        SeqcoreError: `path` does not exist, or is neither a finished
            forecast run nor an export.
    """
    from seqcore.export import is_export

    path = Path(path)
    if not path.exists():
        raise SeqcoreError(f"model not found: {path}; expected a run or export directory")
    return _open_export(path) if is_export(path) else _open_run(path)


def _open_run(run_dir):
    from apps.forecast.commands import load_run_model
    from apps.forecast.evaluation import quantile_forecast

    model, config = load_run_model(run_dir)
    data = config["data"]
    metadata = {
        "columns": config["columns"], "num_targets": config["num_targets"],
        "quantiles": model.quantiles, "horizon": model.horizon,
        "lookback": config["window"]["lookback"], "step": config["step"],
        "time_column": data["time_column"], "id_column": data["id_column"],
        "season": config["window"]["season"],
        "num_future": config.get("num_future", 0), "calendar_step": config.get("calendar_step") or 0.0,
        "country": data.get("country") or "",
    }
    return metadata, lambda inputs: quantile_forecast(model, inputs)


def _open_export(path):
    import tensorflow as tf

    from seqcore.export import open_export

    loaded, raw = open_export(path)
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
