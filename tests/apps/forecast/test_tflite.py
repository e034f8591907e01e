"""Forecast TFLite: raw units in and out, known-future covariates and calendar included; `export --format tflite`."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from tests.apps.forecast.test_cli import TINY, invoke, series_rows, write_csv

from apps.forecast.model import build_forecaster
from apps.forecast.tflite import tflite_models
from seqcore.tflite import FLOAT_ATOL, run, write_models

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning",
                                        "ignore:Skipping variable loading for optimizer")


def test_forecaster_with_future_covariates_and_calendar_matches_keras(tmp_path):
    keras.utils.set_random_seed(4)
    config = {"columns": ["y", "x"], "num_targets": 1, "num_future": 1, "calendar_step": 3600.0,
              "window": {"lookback": 12, "horizon": 3, "season": 4},
              "backbone": {"cell": "lstm", "units": 4},
              "head": {"kind": "direct", "quantiles": [0.1, 0.5, 0.9], "dropout": 0.0, "residual": True,
                       "base_seasons": 8, "window_level": True}}
    model = build_forecaster(config, 50 + 10 * np.random.default_rng(0).normal(size=(60, 2)))
    assert model.base_seasons == 3 and model.window_level  # as many seasons as the lookback holds
    model.base_logits.assign([[0.5], [-1.0], [0.2]])  # the seasons' weights and the level's smoothing count
    model.base_smoothing.assign([1.5])
    models, files = tflite_models(model, 12)
    (report,) = write_models(tmp_path, models, files=files)
    assert report.max_abs_difference <= FLOAT_ATOL
    assert {"FLOOR_MOD", "SIN", "COS", "WHILE"} <= set(report.ops)  # calendar and recurrence inside
    # A time that is not the sample's: the int64 calendar equals the model's float64 one.
    inputs = dict(models["model"][2])
    inputs["time"] = np.array([1_700_000_000, 1_700_003_600 * 2, 86_400 * 3], "int64")
    out = run(tmp_path / "model.tflite", inputs)
    expected = model.predict({**inputs, "time": inputs["time"].astype("float64")}, verbose=0)
    np.testing.assert_allclose(out["quantiles"], expected, atol=FLOAT_ATOL)


def test_export_format_tflite_writes_checked_models_beside_the_saved_model(tmp_path, monkeypatch):
    data = write_csv(tmp_path / "load.csv", series_rows())
    run_dir = tmp_path / "run"
    train = invoke("train", "--data", data, "--time-col", "time", "--target", "load", "--features", "temp",
                   "--out", run_dir, *TINY)
    assert train.exit_code == 0, train.output
    result = invoke("export", run_dir, tmp_path / "exports", "--format", "tflite", "--quantize")
    assert result.exit_code == 0, result.output
    version = tmp_path / "exports" / "1"
    assert (version / "saved_model.pb").is_file()
    assert sorted(p.name for p in (version / "tflite").iterdir()) == ["model.int8.tflite", "model.tflite",
                                                                      "report.json"]
    lines = [line for line in result.output.splitlines() if line.startswith("TFLite")]
    assert len(lines) == 2 and "float32" in lines[0] and "int8" in lines[1], result.output
    assert all("max abs difference against Keras on sample inputs" in line and "(tolerance " in line for line in lines)
    report = json.loads((version / "tflite" / "report.json").read_text())
    assert report["model.tflite"]["max_abs_difference"] <= 1e-4
    # --quantize alone is refused in one line, and nothing is written.
    refused = invoke("export", run_dir, tmp_path / "other", "--quantize")
    assert refused.exit_code == 2 and "--quantize" in refused.output and "needs --format tflite" in refused.output
    assert not (tmp_path / "other").exists()
    # A model with an op TFLite builtins lack: one line naming the layer and the op; no version is published.
    import apps.forecast.tflite as forecast_tflite

    working = forecast_tflite.tflite_function

    def with_unsupported_op(model, lookback):
        fn, signature = working(model, lookback)

        def broken(*args):
            outputs = fn(*args)
            with tf.name_scope("odd_layer"):
                square = tf.reshape(tf.range(16, dtype=tf.float32), (4, 4)) + outputs["forecast"][0, 0, 0]
                outputs["forecast"] = outputs["forecast"] + tf.linalg.det(square)
            return outputs

        return broken, signature

    monkeypatch.setattr(forecast_tflite, "tflite_function", with_unsupported_op)
    failed = invoke("export", run_dir, tmp_path / "exports", "--format", "tflite")
    assert failed.exit_code == 1, failed.output
    (line,) = failed.output.strip().splitlines()
    assert line.startswith("Error: TFLite conversion failed at layer '") and "odd_layer" in line, line
    assert "MatrixDeterminant" in line and "builtin" in line, line
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["1"]  # no version 2, no temporary left

