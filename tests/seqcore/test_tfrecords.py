import json

import numpy as np
import pytest
import tensorflow as tf

from seqcore.errors import SeqcoreError
from seqcore.tfrecords import is_tfrecord_source, read_manifest, read_split, source_dir, write_shards

FEATURES = {
    "text": {"dtype": "string", "shape": []},
    "label": {"dtype": "int64", "shape": []},
    "frames": {"dtype": "float32", "shape": [2, 3]},
}


def _examples(count):
    rng = np.random.default_rng(0)
    return [
        {"text": f"example {i} é", "label": i % 3, "frames": rng.normal(size=(2, 3)).astype("float32")}
        for i in range(count)
    ]


def test_shards_round_trip_every_example_in_written_order(tmp_path):
    examples = _examples(11)
    manifest = write_shards(tmp_path / "data", {"train": examples, "test": examples[:2]}, FEATURES,
                            shards=3, metadata={"task": "demo"})
    assert manifest["splits"]["train"]["count"] == 11
    assert len(manifest["splits"]["train"]["files"]) == 3
    assert len(manifest["splits"]["test"]["files"]) == 2  # never more shards than examples
    on_disk = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert on_disk["features"] == FEATURES and on_disk["metadata"] == {"task": "demo"}

    read = list(read_split(f"tfrecord:{tmp_path / 'data'}", "train").as_numpy_iterator())
    assert [r["text"].decode() for r in read] == [e["text"] for e in examples]
    assert [int(r["label"]) for r in read] == [e["label"] for e in examples]
    np.testing.assert_array_equal(np.stack([r["frames"] for r in read]),
                                  np.stack([e["frames"] for e in examples]))


def test_shard_policy_is_by_file_only_with_enough_files_for_the_workers(tmp_path):
    write_shards(tmp_path / "data", {"train": _examples(8)}, FEATURES, shards=4)
    policy = tf.data.experimental.AutoShardPolicy

    def chosen(workers):
        return read_split(tmp_path / "data", "train", workers=workers).options().experimental_distribute.auto_shard_policy

    assert chosen(2) == policy.FILE and chosen(4) == policy.FILE
    assert chosen(5) == policy.DATA and chosen(1) == policy.DATA


def test_an_interrupted_write_leaves_nothing(tmp_path):
    examples = _examples(5)
    del examples[3]["frames"]  # the writer fails on the fourth example
    with pytest.raises(KeyError):
        write_shards(tmp_path / "data", {"train": examples}, FEATURES, shards=2)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_unless_overwritten(tmp_path):
    write_shards(tmp_path / "data", {"train": _examples(2)}, FEATURES)
    with pytest.raises(SeqcoreError, match="output folder already exists"):
        write_shards(tmp_path / "data", {"train": _examples(3)}, FEATURES)
    write_shards(tmp_path / "data", {"train": _examples(3)}, FEATURES, overwrite=True)
    assert read_manifest(tmp_path / "data")["splits"]["train"]["count"] == 3


def test_bad_folders_fail_with_one_clear_message(tmp_path):
    with pytest.raises(SeqcoreError, match="not a TFRecord dataset: .*manifest.json"):
        read_manifest(tmp_path)
    manifest = write_shards(tmp_path / "data", {"train": _examples(4)}, FEATURES, shards=2,
                            metadata={"task": "forecast"})
    with pytest.raises(SeqcoreError, match="holds 'forecast' examples; expected shards written by `seqcore sentiment"):
        read_manifest(tmp_path / "data", task="sentiment")
    with pytest.raises(SeqcoreError, match="has no validation split"):
        read_split(tmp_path / "data", "validation")
    (tmp_path / "data" / manifest["splits"]["train"]["files"][1]).unlink()
    with pytest.raises(SeqcoreError, match="shard missing"):
        read_manifest(tmp_path / "data")
    with pytest.raises(SeqcoreError, match="--shards must be a positive"):
        write_shards(tmp_path / "other", {"train": _examples(1)}, FEATURES, shards=0)
    with pytest.raises(SeqcoreError, match="the train split is empty"):
        write_shards(tmp_path / "other", {"train": []}, FEATURES)
    assert not (tmp_path / "other").exists()


def test_source_syntax():
    assert is_tfrecord_source("tfrecord:shards") and not is_tfrecord_source("imdb")
    assert source_dir("tfrecord:shards").is_absolute()
