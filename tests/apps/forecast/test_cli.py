"""End-to-end tests of `seqcore-forecast` (apps.forecast.cli) on a tiny CSV.

One tiny run is trained per module and shared by the evaluate / predict / export tests.
"""

import csv
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
from tests import cli_helpers
from tests.cli_helpers import ok
from tests.export_parity import serve_with_tensorflow_alone

import seqcore.forecaster  # noqa: F401  (registers the classes before any .keras is loaded)
from apps.forecast.cli import cli

TINY = ["--lookback", "24", "--horizon", "6", "--units", "4", "--epochs", "1", "--batch-size", "32"]
RUN_FILES = {"model.keras", "config.json", "metrics.json", "history.csv", "logs"}

#: `--plot` needs the `plot` extra (matplotlib); without it the plot checks are skipped.
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib (the plot extra) is not installed")

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def series_rows(n=300, start="2024-01-01T00:00", nan_at=()):
    t = np.arange(n)
    load = 100 + 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(size=n)
    temp = 20 + 5 * np.cos(2 * np.pi * t / 24)
    times = np.datetime64(start) + t * np.timedelta64(1, "h")
    rows = []
    for i, (when, y, x) in enumerate(zip(times, load, temp)):
        rows.append([str(when).replace("T", " "), "" if i in nan_at else f"{y:.3f}", f"{x:.3f}"])
    return rows


def write_csv(path, rows, header=("time", "load", "temp")):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def invoke(*args):
    return cli_helpers.invoke(*args, app=cli, prog_name="seqcore-forecast")


def fails(result, match):
    """A clean one-line `Error: ...` on stderr, exit status 1, no traceback, nothing on stdout."""
    line = cli_helpers.fails(result, match)
    assert result.stdout == ""
    return line


def train_args(data, out, *extra):
    return ["train", "--data", data, "--time-col", "time", "--target", "load", "--features", "temp",
            "--out", out, *TINY, *extra]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("forecast_cli")


@pytest.fixture(scope="module")
def data_file(work):
    return write_csv(work / "load.csv", series_rows())


@pytest.fixture(scope="module")
def trained(work, data_file):
    run = work / "runs" / "tiny"
    return run, ok(invoke(*train_args(data_file, run)))


@pytest.fixture(scope="module")
def run_dir(trained):
    return trained[0]


@pytest.fixture(scope="module")
def exported(work, run_dir):
    base = work / "exports" / "forecast"
    return base, ok(invoke("export", run_dir, base))


@pytest.fixture(scope="module")
def history_file(work):
    return write_csv(work / "history.csv", series_rows(30, start="2024-03-01T00:00"))


# train / evaluate -------------------------------------------------------------------------

def test_train_writes_a_finished_run(trained, data_file):
    run, result = trained
    assert set(p.name for p in run.iterdir()) == RUN_FILES
    assert sorted(p.name for p in run.parent.iterdir()) == ["tiny"]
    config = json.loads((run / "config.json").read_text())
    assert config["columns"] == ["load", "temp"] and config["num_targets"] == 1
    assert config["window"] == {"lookback": 24, "horizon": 6, "stride": 2, "season": 24}
    assert config["step"] == "1h" and config["head"]["quantiles"] == [0.1, 0.5, 0.9]
    assert config["backbone"]["units"] == 4 and config["backbone"]["pooling"] == "last"
    assert config["head"]["highway"] and config["head"]["residual"] and config["head"]["window_level"]
    assert config["head"]["base_seasons"] == 8  # the model averages as many as its lookback holds: one here
    metrics = json.loads((run / "metrics.json").read_text())
    for name in ("model", "naive", "seasonal_naive"):
        assert {"mae", "rmse", "smape", "mase", "coverage"} <= set(metrics["test"][name])
    assert metrics["test"]["windows"] == 45 - 6 + 1
    assert "seasonal naive" in result.output and result.output.strip().endswith(f"run written to {run}")


needs_statsforecast = pytest.mark.skipif(importlib.util.find_spec("statsforecast") is None,
                                         reason="statsforecast (the baselines extra) is not installed")


@needs_statsforecast
def test_evaluate_prints_model_and_statistical_baselines(run_dir):
    output = ok(invoke("evaluate", run_dir)).output
    lines = output.strip().splitlines()
    assert lines[0].split() == ["forecaster", "MAE", "RMSE", "sMAPE%", "MASE", "coverage"]
    assert [line.split()[0] for line in lines[1:7]] == ["model", "naive", "seasonal", "AutoETS", "MSTL", "Theta"]
    assert lines[-2].startswith("skill: ") and "best baseline" in lines[-2]
    # 14 origins, about eight fits per series: every second origin, 6 steps.
    assert lines[-1] == ("AutoETS and Theta fitted every 2 origins (6 steps) of a series and carried forward "
                         "in between; MSTL fitted at every origin")
    report = json.loads(ok(invoke("evaluate", run_dir, "--json")).output)
    # Origins every horizon / 2 = 3 steps over the 45 test steps: 14 windows, the same for every forecaster.
    assert report["windows"] == 14 and report["origin_every"] == 3 and report["statistical_refit_every"] == 2
    assert report["statistical"] == ["auto_ets", "mstl", "theta"]
    maes = {name: report[name]["mae"] for name in ("naive", "seasonal_naive", *report["statistical"])}
    best = min(maes, key=maes.get)
    assert report["skill"]["baseline"] == best
    assert report["skill"]["mae"] == pytest.approx(1 - report["model"]["mae"] / maes[best])
    for name in report["statistical"]:
        assert 0 <= report[name]["coverage"] <= 1 and report[name]["mae"] > 0
    # The seasonal-sine series: MSTL and Theta beat the last-value naive forecast by far.
    assert report["mstl"]["mae"] < 0.5 * report["naive"]["mae"]


def test_evaluate_every_origin_matches_training_and_says_what_is_missing(run_dir, monkeypatch):
    report = json.loads(ok(invoke("evaluate", run_dir, "--json", "--origin-every", "1", "--no-baselines")).output)
    saved = json.loads((run_dir / "metrics.json").read_text())["test"]
    assert report["model"]["mae"] == pytest.approx(saved["model"]["mae"], rel=1e-4)
    assert report["seasonal_naive"] == pytest.approx(saved["seasonal_naive"])
    assert report["coverage_nominal"] == pytest.approx(0.8)
    assert len(report["model"]["coverage_by_step"]) == 6
    from apps.forecast import baselines

    monkeypatch.setattr(baselines.importlib.util, "find_spec", lambda name: None)
    result = ok(invoke("evaluate", run_dir))
    assert result.stderr.strip() == (
        'Warning: statsforecast is not installed, so AutoETS, MSTL and Theta are left out; '
        'run: pip install -e ".[baselines]"')
    assert [line.split()[0] for line in result.stdout.strip().splitlines()[1:4]] == ["model", "naive", "seasonal"]
    assert "better baseline" in result.stdout


@needs_matplotlib
def test_evaluate_backtest_and_plot(run_dir, tmp_path):
    plot = tmp_path / "eval.png"
    report = json.loads(ok(invoke("evaluate", run_dir, "--backtest", "3", "--json", "--plot", plot,
                                  "--origin-every", "6", "--no-baselines")).output)
    assert len(report["folds"]) == 3 and report["windows"] == 7
    assert [f["origin"] for f in report["folds"]] == [
        "2024-01-11T15:00:00", "2024-01-12T09:00:00", "2024-01-12T21:00:00"]
    assert [f["windows"] for f in report["folds"]] == [3, 2, 2]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = ok(invoke("evaluate", run_dir, "--backtest", "2", "--origin-every", "6", "--no-baselines")).output
    assert text.count("forecaster") == 3 and "range 2: origins 2024-01-12T15:00:00 to 2024-01-13T03:00:00" in text
    fails(invoke("evaluate", run_dir, "--backtest", "9", "--origin-every", "6"),
          "--backtest 9 needs at least 9 origins; the test part has 7 origins 6 steps apart")


# predict / export -------------------------------------------------------------------------

def forecast_table(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_writes_a_forecast_csv_with_intervals(run_dir, history_file, tmp_path):
    rows = forecast_table(ok(invoke("predict", run_dir, history_file)).output)
    assert list(rows[0]) == ["time", "step", "load", "load_q10", "load_q90"]
    assert [r["time"] for r in rows[:2]] == ["2024-03-02 06:00", "2024-03-02 07:00"]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    for r in rows:
        assert float(r["load_q10"]) <= float(r["load"]) <= float(r["load_q90"])
    out = tmp_path / "forecast.csv"
    result = ok(invoke("predict", run_dir, history_file, "--output", out))
    assert forecast_table(out.read_text()) == rows and result.stdout == ""


@needs_matplotlib
def test_predict_plot(run_dir, history_file, tmp_path):
    plot = tmp_path / "forecast.png"
    ok(invoke("predict", run_dir, history_file, "--plot", plot))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fails(invoke("predict", run_dir, history_file, "--plot", tmp_path / "forecast.jpg"), "expected a .png path")


def test_export_on_raw_units_equals_the_keras_model(exported, run_dir, history_file):
    base, result = exported
    assert result.output.splitlines()[0] == f"exported to {base / '1'}"
    assert sorted(p.name for p in base.iterdir()) == ["1"]
    from seqcore.saving import load_model

    model = load_model(run_dir / "model.keras", compile=False)
    history = np.random.default_rng(1).normal(100, 10, size=(4, 24, 2)).astype("float32")
    time = 1.7e9 + 3600.0 * np.arange(4)
    expected = model.predict({"history": history, "time": time}, verbose=0)
    inputs = {"history": history, "time": time.astype("float64")}
    outputs, compiled, metadata = serve_with_tensorflow_alone(  # in a process that cannot import seqcore
        base / "1", ("serving_default", inputs), ("serving_xla", inputs), ("metadata", {}))
    assert np.ptp(expected) > 1.0  # trained weights: a forecast that varies
    np.testing.assert_allclose(outputs["quantiles"], expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(outputs["forecast"], expected[..., 1], rtol=1e-5, atol=1e-3)
    assert outputs["forecast"].shape == (4, 6, 1) and outputs["forecast"].dtype == np.float32
    assert np.all(outputs["lower"] <= outputs["forecast"])
    assert np.all(outputs["forecast"] <= outputs["upper"])
    np.testing.assert_allclose(compiled["quantiles"], expected, rtol=1e-5, atol=1e-3)
    assert metadata["columns"].tolist() == ["load", "temp"]
    # predict from the export equals predict from the run.
    from_export = forecast_table(ok(invoke("predict", base, history_file)).output)
    from_run = forecast_table(ok(invoke("predict", run_dir, history_file)).output)
    assert [r["time"] for r in from_export] == [r["time"] for r in from_run]
    for a, b in zip(from_export, from_run):
        assert float(a["load"]) == pytest.approx(float(b["load"]), rel=1e-4)


@pytest.mark.slow
def test_autoregressive_head_trains_and_exports(work, data_file):
    run = work / "runs" / "ar"
    ok(invoke(*train_args(data_file, run, "--head", "autoregressive", "--cell", "gru")))
    ok(invoke("export", run, work / "exports" / "ar"))


# bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("case, match", [
    ("missing column", "has no column 'nope'"),
    ("non-numeric", "column 'load' holds 'oops'; expected a number"),
    ("too many NaN", "expected at most 5% missing"),
    ("too short", "has 20 steps, shorter than --lookback + --horizon = 24 + 6"),
    ("horizon 0", "--horizon must be a positive number of steps; received: 0"),
    ("irregular", "irregular time index at line 4"),
    ("unknown source", "unknown data source 'nosuch'"),
])
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path, case, match):
    rows, args = series_rows(), []
    if case == "missing column":
        args = ["--target", "nope"]
    elif case == "non-numeric":
        rows[7][1] = "oops"
    elif case == "too many NaN":
        rows = series_rows(nan_at=range(0, 300, 10))
    elif case == "too short":
        rows = rows[:20]
    elif case == "horizon 0":
        args = ["--horizon", "0"]
    elif case == "irregular":
        rows[2][0] = rows[2][0].replace(":00", ":20")
    data = write_csv(tmp_path / "bad.csv", rows)
    if case == "unknown source":
        data = "nosuch"
    out = tmp_path / "runs" / "bad"
    fails(invoke(*train_args(data, out), *args), match)
    assert not out.exists() and not Path(f"{out}.partial").exists()




def test_predict_bad_input(run_dir, tmp_path):
    short = write_csv(tmp_path / "short.csv", series_rows(10))
    fails(invoke("predict", run_dir, short), "has 10 rows of history; expected at least the model's lookback of 24")
    gaps = write_csv(tmp_path / "gaps.csv", series_rows(30, nan_at=[5]))
    result = ok(invoke("predict", run_dir, gaps))
    assert "Warning: " in result.stderr and "interpolated 1 missing values" in result.stderr
    assert len(forecast_table(result.stdout)) == 6
    fails(invoke("predict", tmp_path / "nothing", short), "model not found")
    fails(invoke("evaluate", tmp_path), "not a run directory")
