"""`seqcore forecast prepare` writes TFRecord windows; `train --data tfrecord:DIR` streams them."""

import json

import numpy as np
import pytest

from apps.forecast import commands
from apps.forecast.evaluation import evaluate
from apps.forecast.run_series import load_data, mase_scales, train_rows
from apps.forecast.windows import parts, training_dataset, window_arrays
from seqcore.tfrecords import read_manifest, read_split, write_shards
from tests.apps.forecast.test_cli import fails, invoke, ok, series_rows, write_csv

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")

COLUMNS = ["--time-col", "time", "--target", "load", "--features", "temp"]
WINDOW = ["--lookback", "24", "--horizon", "6", "--stride", "3"]
TINY = ["--units", "4", "--epochs", "1", "--batch-size", "32"]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prepare")
    csv = write_csv(folder / "load.csv", series_rows())
    shards = folder / "shards"
    ok(invoke("prepare", shards, "--data", csv, *COLUMNS, *WINDOW, "--shards", "2"))
    return csv, shards


def _examples(shards, split):
    return list(read_split(shards, split).as_numpy_iterator())


def test_shards_hold_the_windows_train_would_cut(prepared):
    csv, shards = prepared
    config = commands.resolve_config(data=str(csv), time_column="time", target="load", features="temp",
                                     lookback=24, horizon=6, stride=3)
    series = load_data(config["data"])
    split = parts(series, 24, 6)
    for part, stride in (("validation", 1), ("test", 1)):  # every origin, in time order
        cut = window_arrays(split[part], 24, 6, 1, stride)
        history, future, segments = cut.history, cut.truth, cut.segment
        examples = _examples(shards, part)
        np.testing.assert_allclose(np.stack([e["history"] for e in examples]), history, rtol=1e-6)
        np.testing.assert_allclose(np.stack([e["future"] for e in examples]), future, rtol=1e-6)
        assert [int(e["segment"]) for e in examples] == segments.tolist()

    expected = [x for x, _ in training_dataset(split["train"], 24, 6, 1, 3, 1000).unbatch().as_numpy_iterator()]
    examples = _examples(shards, "train")
    key = lambda history: history.tobytes()  # noqa: E731
    assert sorted(key(e["history"]) for e in examples) == sorted(key(x.astype("float32")) for x in expected)
    first = [float(e["history"][0, 0]) for e in examples]
    assert first != sorted(first)  # written shuffled

    meta = read_manifest(shards, task="forecast")["metadata"]
    assert (meta["lookback"], meta["horizon"], meta["stride"], meta["season"]) == (24, 6, 3, 24)
    assert meta["columns"] == ["load", "temp"] and meta["num_targets"] == 1
    np.testing.assert_allclose(meta["scales"], mase_scales(series, split, 24))
    rows = train_rows(series, split)
    np.testing.assert_allclose(meta["mean"], rows.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(meta["variance"], rows.var(axis=0), rtol=1e-5)


def test_train_streams_the_shards_and_evaluate_reads_them(prepared, tmp_path):
    csv, shards = prepared
    run = tmp_path / "run"
    ok(invoke("train", "--data", f"tfrecord:{shards}", "--out", run, *TINY))
    config = json.loads((run / "config.json").read_text())
    assert config["window"] == {"lookback": 24, "horizon": 6, "stride": 3, "season": 24}
    assert config["data"]["target"] == ["load"] and config["columns"] == ["load", "temp"]
    metrics = json.loads((run / "metrics.json").read_text())
    for part in ("test", "validation"):
        assert np.isfinite(metrics[part]["model"]["mase"])

    model, _ = commands.load_run_model(run)
    mean = np.asarray(model.normalizer.mean).reshape(-1)
    meta = read_manifest(shards)["metadata"]
    np.testing.assert_allclose(mean, meta["mean"], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(model.normalizer.variance).reshape(-1), meta["variance"], rtol=1e-4)

    # Streamed metrics equal the CSV path's on the same model.
    from_shards = evaluate(str(run))
    from_csv = evaluate(str(run), data=str(csv), origin_every=1, baselines=False)
    assert from_shards["model"]["mae"] == pytest.approx(from_csv["model"]["mae"], rel=1e-5)
    assert from_shards["model"]["mase"] == pytest.approx(from_csv["model"]["mase"], rel=1e-5)
    assert from_shards["model"]["mae"] == pytest.approx(metrics["test"]["model"]["mae"], rel=1e-5)
    fails(invoke("evaluate", run, "--backtest", "2"), "--backtest needs the whole series")


def test_bad_shards_and_conflicting_options_give_one_line(prepared, tmp_path):
    csv, shards = prepared
    run = str(tmp_path / "run")
    fails(invoke("train", "--data", f"tfrecord:{shards}", "--lookback", "48", "--out", run, *TINY),
          "--lookback conflicts with the shards")
    fails(invoke("train", "--data", f"tfrecord:{shards}", "--target", "temp", "--out", run, *TINY),
          "--target conflicts with the shards")
    other = tmp_path / "other"
    write_shards(other, {"train": [{"text": "good", "label": 1}]},
                 {"text": {"dtype": "string", "shape": []}, "label": {"dtype": "int64", "shape": []}},
                 metadata={"task": "sentiment"})
    fails(invoke("train", "--data", f"tfrecord:{other}", "--out", run, *TINY),
          "expected shards written by `seqcore forecast prepare`")
    fails(invoke("prepare", tmp_path / "again", "--data", f"tfrecord:{shards}"), "prepare reads a CSV")
    fails(invoke("prepare", shards, "--data", csv, *COLUMNS, *WINDOW), "output folder already exists")
