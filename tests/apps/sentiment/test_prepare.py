"""`seqcore sentiment prepare` writes TFRecord shards; `train --data tfrecord:DIR` streams them."""

import csv
import json

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from apps.sentiment import commands
from apps.sentiment import export as sentiment_export
from apps.sentiment.cli import cli
from apps.sentiment.data import load_splits
from seqcore.tfrecords import read_split

WORDS = {"positive": ["great", "lovely", "superb", "fun"], "negative": ["awful", "dull", "boring", "bad"]}
TINY = ["--units", "4", "--sequence-length", "16", "--max-tokens", "50", "--epochs", "1",
        "--batch-size", "8"]


@pytest.fixture
def reviews(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for i in range(60):
            label = "positive" if i % 2 else "negative"
            writer.writerow([" ".join(rng.choice(WORDS[label], 5)) + f" film {i}", label])
    return path


def test_shards_hold_the_same_examples_as_the_in_memory_splits(tmp_path, reviews):
    result = CliRunner().invoke(cli, ["prepare", str(tmp_path / "shards"), "--data", str(reviews), "--shards", "3"])
    assert result.exit_code == 0, result.output
    assert "train 48 in 3 shards" in result.output and f"--data tfrecord:{tmp_path / 'shards'}" in result.output
    splits = load_splits(str(reviews))
    manifest = json.loads((tmp_path / "shards" / "manifest.json").read_text())
    assert manifest["metadata"]["class_names"] == splits.class_names == ["negative", "positive"]
    for split in ("train", "validation", "test"):
        examples = list(read_split(tmp_path / "shards", split).as_numpy_iterator())
        assert [e["text"].decode() for e in examples] == getattr(splits, f"{split}_texts")
        assert [int(e["label"]) for e in examples] == getattr(splits, f"{split}_labels").tolist()


def test_training_streams_the_shards_and_evaluates_them(tmp_path, reviews, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands.prepare(tmp_path / "shards", data=str(reviews), shards=2)
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--data", "tfrecord:shards", *TINY, "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert "strategy one-device: 1 replica; global batch size 8" in result.output
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["source"] == f"tfrecord:{tmp_path / 'shards'}"
    assert config["class_names"] == ["negative", "positive"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["examples"] == 6 and metrics["validation"]["examples"] == 6
    assert commands.evaluate(str(run))["examples"] == 6


def test_mixed_precision_trains_and_exports_float32_probabilities(tmp_path, reviews):
    run, exports = tmp_path / "run", tmp_path / "exports"
    result = CliRunner().invoke(cli, ["train", "--data", str(reviews), *TINY, "--out", str(run),
                                      "--mixed-precision", "bfloat16"])
    assert result.exit_code == 0, result.output
    assert json.loads((run / "config.json").read_text())["backbone"]["dtype"] == "mixed_bfloat16"
    model = commands.load_run_model(run)
    assert model.backbone.get_layer("mean_pooling").dtype_policy.name == "mixed_bfloat16"
    path = sentiment_export.export(str(run), str(exports))
    served = tf.saved_model.load(str(path)).signatures["serving_default"](text=tf.constant(["great fun"]))
    assert served["probabilities"].dtype == tf.float32
    assert abs(float(tf.reduce_sum(served["probabilities"])) - 1.0) < 1e-3


@pytest.mark.parametrize("arguments, message", [
    (["train", "--data", "tfrecord:missing"], "Error: not a TFRecord dataset:"),
    (["train", "--strategy", "multi-worker"], "Error: --strategy multi-worker needs the cluster in the TF_CONFIG"),
    (["prepare", "shards", "--shards", "0"], "Error: Invalid value for '--shards'"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = CliRunner().invoke(cli, [*arguments, "--out", "run"] if arguments[0] == "train" else arguments)
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[-1].startswith(message), result.output
    assert list(tmp_path.iterdir()) == []


def test_prepare_refuses_an_existing_folder(tmp_path, reviews):
    (tmp_path / "shards").mkdir()
    result = CliRunner().invoke(cli, ["prepare", str(tmp_path / "shards"), "--data", str(reviews)])
    assert result.exit_code == 1
    assert "Error: output folder already exists" in result.output
