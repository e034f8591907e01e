"""Known-future covariates, calendar features, holidays and the export with `future`: a tiny CSV end to end.

The series is hourly load that jumps by 30 on working blocks; which six-hour
blocks work is random, so only the known-future `workday` column tells the
model what the next block holds.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.apps.forecast.test_cli import fails, invoke, ok

import seqcore.forecaster  # noqa: F401  (registers the classes before any .keras is loaded)

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")

TINY = ["--lookback", "24", "--horizon", "6", "--units", "8", "--batch-size", "32"]
HEADER = ("time", "load", "temp", "workday")


def rows(n=1200, start="2024-01-01T00:00", seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    workday = np.repeat(rng.integers(0, 2, size=n // 6 + 1), 6)[:n]
    temp = 15 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)
    load = 100 + 30 * workday + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)
    times = np.datetime64(start) + t * np.timedelta64(1, "h")
    return [[str(when).replace("T", " "), f"{y:.3f}", f"{x:.3f}", str(int(w))]
            for when, y, x, w in zip(times, load, temp, workday)]


def write_csv(path, table, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(table)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("forecast_future")


@pytest.fixture(scope="module")
def data_file(work):
    return write_csv(work / "load.csv", rows())


@pytest.fixture(scope="module")
def run_dir(work, data_file):
    run = work / "run"
    ok(invoke("train", "--data", data_file, "--time-col", "time", "--target", "load", "--features", "temp",
              "--future-features", "workday", "--out", run, "--epochs", "6", "--patience", "6",
              "--ema", "0", *TINY))  # a test of the covariates, not of the weight average
    return run


def history_with_future(work, name, workday):
    """The same 30 hours of history, then 6 future rows whose workday flag is `workday` (load left empty)."""
    table = rows(36, start="2024-06-03T00:00", seed=1)[:30]
    stamps = np.datetime64("2024-06-04T06:00") + np.arange(6) * np.timedelta64(1, "h")
    table += [[str(when).replace("T", " "), "", "15.0", str(workday)] for when in stamps]
    return write_csv(work / name, table)


def forecast(result):
    return np.array([float(row["load"]) for row in csv.DictReader(result.output.splitlines())])


def test_config_keeps_future_features_and_calendar(run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["columns"] == ["load", "temp", "workday"] and config["num_future"] == 1
    assert config["calendar_step"] == 3600.0 and config["calendar_year"] is False
    assert config["head"]["calibrate"] is True


def test_a_workday_is_forecast_differently_from_a_holiday(run_dir, work):
    working = forecast(ok(invoke("predict", run_dir, history_with_future(work, "w1.csv", 1))))
    holiday = forecast(ok(invoke("predict", run_dir, history_with_future(work, "w0.csv", 0))))
    assert working.shape == holiday.shape == (6,)
    # The data's working blocks run 30 above the others; the model must read that from `future`.
    assert np.mean(working - holiday) > 10, (working, holiday)


TF_ONLY = r"""
import sys
sys.modules["seqcore"] = None  # this process cannot import seqcore (nor the apps, which need it)
sys.modules["apps"] = None
import numpy as np, tensorflow as tf
data = np.load(sys.argv[2])
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
out = serve(history=tf.constant(data["history"]), future=tf.constant(data["future"]),
            time=tf.constant(data["time"]))
np.save(sys.argv[3], out["quantiles"].numpy())
meta = {k: v.numpy() for k, v in model.signatures["metadata"]().items()}
print(int(meta["lookback"]), int(meta["num_future"]), [c.decode() for c in meta["future_features"]])
try:
    serve(history=tf.constant(data["history"][:, 1:]), future=tf.constant(data["future"]),
          time=tf.constant(data["time"]))
    print("short history accepted")
except tf.errors.InvalidArgumentError as error:
    print("refused:", "history is shorter than the model" in str(error) and "at least 24 steps" in str(error))
"""


def test_export_takes_history_future_and_time_and_equals_the_keras_model(run_dir, work):
    base = work / "export"
    ok(invoke("export", run_dir, base))
    from seqcore.saving import load_model

    model = load_model(run_dir / "model.keras", compile=False)
    rng = np.random.default_rng(3)
    inputs = {
        "history": rng.normal([120, 15, 0.5], [15, 5, 0.5], size=(4, 24, 3)).astype("float32"),
        "future": rng.integers(0, 2, size=(4, 6, 1)).astype("float32"),
        "time": 1.7e9 + 3600.0 * np.arange(4),
    }
    expected = model.predict(inputs, verbose=0)
    np.savez(work / "inputs.npz", **inputs)
    result = subprocess.run([sys.executable, "-c", TF_ONLY, str(base / "1"), str(work / "inputs.npz"),
                             str(work / "out.npy")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["24 1 ['workday']", "refused: True"]
    np.testing.assert_allclose(np.load(work / "out.npy"), expected, rtol=1e-5, atol=1e-3)
    # The future changes the served forecast too.
    flipped = model.predict({**inputs, "future": 1 - inputs["future"]}, verbose=0)
    assert np.abs(flipped - expected).max() > 1.0
    # predict reads the future rows of the CSV the same way from the export and from the run.
    history = history_with_future(work, "w1.csv", 1)
    np.testing.assert_allclose(forecast(ok(invoke("predict", base, history))),
                               forecast(ok(invoke("predict", run_dir, history))), rtol=1e-4)


def test_seqcore_serve_answers_history_future_and_time_as_the_keras_model(run_dir, work):
    from seqcore.saving import load_model
    from tests.seqcore.serving.serving_helpers import Client, start_server

    base = work / "served-export"
    ok(invoke("export", run_dir, base))
    rng = np.random.default_rng(4)
    inputs = {
        "history": rng.normal([120, 15, 0.5], [15, 5, 0.5], size=(2, 24, 3)).astype("float32"),
        "future": rng.integers(0, 2, size=(2, 6, 1)).astype("float32"),
        "time": 1.7e9 + 3600.0 * np.arange(2),
    }
    expected = load_model(run_dir / "model.keras", compile=False).predict(inputs, verbose=0)
    registry, server = start_server({"forecast": base})
    try:
        client = Client(server.url)
        columnar = {"inputs": {name: value.tolist() for name, value in inputs.items()}}
        status, body = client.request("/v1/models/forecast:predict", columnar)
        assert status == 200, body
        np.testing.assert_allclose(np.array(body["outputs"]["quantiles"]), expected, rtol=1e-4, atol=1e-3)
        instances = [{name: value[i].tolist() for name, value in inputs.items()} for i in range(2)]
        status, body = client.request("/v1/models/forecast:predict", {"instances": instances})
        assert status == 200, body
        served = np.array([row["quantiles"] for row in body["predictions"]])
        np.testing.assert_allclose(served, expected, rtol=1e-4, atol=1e-3)
        # A request without the known-future covariates is refused, not answered.
        status, body = client.request("/v1/models/forecast:predict",
                                      {"inputs": {"history": inputs["history"].tolist(),
                                                  "time": inputs["time"].tolist()}})
        assert status == 400 and "future" in json.dumps(body), body
    finally:
        registry.stop()
        server.stop()


def test_predict_refuses_gaps_in_the_future_rows(run_dir, work):
    table = list(csv.reader(open(history_with_future(work, "gap.csv", 1))))
    table[-2][3] = ""
    path = write_csv(work / "gap.csv", table[1:])
    fails(invoke("predict", run_dir, path),
          "known-future column 'workday' is missing at future step 5 of 6; expected a value for every step")


@pytest.mark.parametrize("case, args, match", [
    ("missing future column", ["--future-features", "promo"], "has no column 'promo'"),
    ("unparseable time", [], "column 'time' holds 'yesterday'; expected an ISO 8601"),
    ("unknown country", ["--country", "XX"], "unknown holiday country 'XX'"),
    ("future and past", ["--future-features", "temp"], "column 'temp' is named in --future-features and"),
])
def test_bad_input_is_one_line_and_leaves_nothing(work, tmp_path, case, args, match):
    table = rows(300)
    if case == "unparseable time":
        table[5][0] = "yesterday"
    data = write_csv(tmp_path / "bad.csv", table)
    out = tmp_path / "runs" / "bad"
    fails(invoke("train", "--data", data, "--time-col", "time", "--target", "load", "--features", "temp",
                 "--out", out, "--epochs", "1", *TINY, *args), match)
    assert not out.exists() and not Path(f"{out}.partial").exists()


def test_holiday_flags_become_a_known_future_column(tmp_path):
    from apps.forecast.data import load_series

    table = rows(24 * 4, start="2024-12-24T00:00")
    series = load_series(str(write_csv(tmp_path / "xmas.csv", table)), time_column="time", target="load",
                         features="temp", future_features="workday", country="GB")
    assert series.columns == ["load", "temp", "workday", "holiday"] and series.future_features == ["workday",
                                                                                                    "holiday"]
    flags = series.segments[0].values[:, -1].reshape(4, 24)[:, 0].tolist()
    assert flags == [0.0, 1.0, 1.0, 0.0]  # 25 and 26 December are bank holidays in England
