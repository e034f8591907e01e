"""`seqcore speech prepare` writes TFRecord shards; `train --data tfrecord:DIR` streams them."""

import json

import numpy as np
from click.testing import CliRunner

from apps.speech import commands
from apps.speech.cli import cli
from seqcore.tfrecords import read_split

TINY = ["--front-end", "none", "--units", "4", "--epochs", "1", "--batch-size", "8", "--no-augment",
        "--mfccs", "8", "--mel-bins", "16"]


def test_shards_hold_the_splits_and_train_streams_them(tmp_path, fsdd_subset):
    shards, run = tmp_path / "shards", tmp_path / "run"
    result = CliRunner().invoke(cli, ["prepare", str(shards), "--data", str(fsdd_subset),
                                      "--sample-rate", "8000", "--clip-seconds", "0.5", "--shards", "2"])
    assert result.exit_code == 0, result.output
    config = commands.resolve_config(data=str(fsdd_subset), sample_rate=8000, clip_seconds=0.5)
    splits = commands.load_splits(config)
    for split in ("train", "validation", "test"):
        examples = list(read_split(shards, split).as_numpy_iterator())
        audio, labels = getattr(splits, f"{split}_audio"), getattr(splits, f"{split}_labels")
        if split == "train":  # written shuffled, so a stream's window holds every class
            order = [int(np.flatnonzero((audio == e["audio"]).all(axis=1))[0]) for e in examples]
            assert sorted(order) == list(range(len(labels))) and order != sorted(order)
            audio, labels = audio[order], labels[order]
        np.testing.assert_array_equal(np.stack([e["audio"] for e in examples]), audio)
        assert [int(e["label"]) for e in examples] == labels.tolist()

    result = CliRunner().invoke(cli, ["train", "--data", f"tfrecord:{shards}", *TINY, "--out", str(run)])
    assert result.exit_code == 0, result.output
    stored = json.loads((run / "config.json").read_text())
    assert stored["features"]["sample_rate"] == 8000 and stored["features"]["clip_seconds"] == 0.5
    assert stored["class_names"] == ["0", "1", "2"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["examples"] == len(splits.test_labels)
    assert commands.evaluate(str(run))["examples"] == len(splits.test_labels)
