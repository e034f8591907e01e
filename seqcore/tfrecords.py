"""Training examples as TFRecord shards with a JSON manifest, written atomically, read streamed.

`seqcore <task> prepare OUT_DIR --shards N` writes an app's examples (raw
inputs and targets, so the model's own preprocessor still runs) into
`OUT_DIR/<split>-<i>-of-<n>.tfrecord` and `OUT_DIR/manifest.json` (the
features, the count and files of each split, and what the app needs to
rebuild its model, e.g. class names). `train --data tfrecord:OUT_DIR` reads
them back with `tf.data.TFRecordDataset`, interleaved, so the dataset never
has to fit in memory. Under `--strategy multi-worker` the shards are split
between workers by file when there are at least as many shards as workers,
else by example.

Example:

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "shards"
>>> features = {"text": {"dtype": "string", "shape": []}, "label": {"dtype": "int64", "shape": []}}
>>> examples = [{"text": "good", "label": 1}, {"text": "bad", "label": 0}]
>>> manifest = write_shards(out, {"train": examples}, features, shards=2)
>>> manifest["splits"]["train"]["count"]
2
>>> sorted(int(e["label"]) for e in read_split(out, "train").as_numpy_iterator())
[0, 1]
"""

import json
from pathlib import Path

import numpy as np

from seqcore.atomic import atomic_folder, check_output
from seqcore.errors import SeqcoreError

PREFIX = "tfrecord:"
MANIFEST = "manifest.json"
FORMAT = "seqcore-tfrecord"
DTYPES = ("string", "int64", "float32")


def is_tfrecord_source(source):
    """Whether a `--data` value names TFRecord shards (`tfrecord:DIR`).

    Example:

    >>> is_tfrecord_source("tfrecord:data/imdb"), is_tfrecord_source("imdb")
    (True, False)
    """
    return isinstance(source, str) and source.startswith(PREFIX)


def source_dir(source):
    """The folder of a `tfrecord:DIR` source, absolute."""
    return Path(source[len(PREFIX):]).expanduser().resolve()


def _feature(value, dtype):
    import tensorflow as tf

    flat = np.asarray(value).reshape(-1)
    if dtype == "string":
        data = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in flat]
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=data))
    if dtype == "int64":
        return tf.train.Feature(int64_list=tf.train.Int64List(value=flat.astype(np.int64)))
    return tf.train.Feature(float_list=tf.train.FloatList(value=flat.astype(np.float32)))


def _check_features(features):
    for name, spec in features.items():
        if spec.get("dtype") not in DTYPES:
            raise SeqcoreError(
                f"feature {name!r} has dtype {spec.get('dtype')!r}; expected one of: {', '.join(DTYPES)}"
            )


def write_shards(out, splits, features, shards=8, metadata=None, overwrite=False):
    """Writes each split's examples round-robin into at most `shards` TFRecord files.

    Everything goes to a hidden folder beside `out`, renamed into place
    only when every file and the manifest are written: an interrupted
    `prepare` leaves nothing half-written.

    Args:
        out: the folder to create.
        splits: dict split name -> iterable of examples, each a dict
            feature name -> value of that feature's fixed shape.
        features: dict name -> `{"dtype": "string"|"int64"|"float32", "shape": [...]}`.
        shards: files per split (fewer when a split has fewer examples).
        metadata: JSON-able dict stored in the manifest for the app.
        overwrite: replace an existing `out`.

    Returns:
        The manifest (a dict).
    """
    import tensorflow as tf

    out = Path(out)
    if int(shards) < 1:
        raise SeqcoreError(f"--shards must be a positive number of files; received: {shards}")
    check_output(out, overwrite)
    _check_features(features)
    manifest = {"format": FORMAT, "version": 1, "features": features, "splits": {},
                "metadata": metadata or {}}
    with atomic_folder(out, overwrite) as temporary:
        for split, examples in splits.items():
            examples = list(examples) if not hasattr(examples, "__len__") else examples
            count = len(examples)
            if count == 0:
                raise SeqcoreError(f"the {split} split is empty; expected at least one example")
            files = [f"{split}-{i:05d}-of-{min(shards, count):05d}.tfrecord" for i in range(min(shards, count))]
            writers = [tf.io.TFRecordWriter(str(temporary / name)) for name in files]
            try:
                for index, example in enumerate(examples):
                    record = tf.train.Example(features=tf.train.Features(feature={
                        name: _feature(example[name], spec["dtype"]) for name, spec in features.items()
                    }))
                    writers[index % len(writers)].write(record.SerializeToString())
            finally:
                for writer in writers:
                    writer.close()
            manifest["splits"][split] = {"count": count, "files": files}
        with open(temporary / MANIFEST, "w", encoding="utf-8") as file:
            json.dump(manifest, file, indent=2, sort_keys=True)
            file.write("\n")
    return manifest


def read_manifest(directory, task=None):
    """Reads and checks `directory/manifest.json`; every listed shard must exist.

    Args:
        directory: a folder written by `prepare`, or a `tfrecord:DIR` source.
        task: when given, the manifest must have been written by that app.

    Raises:
        SeqcoreError: when the folder, the manifest or a shard is missing or wrong.
    """
    directory = source_dir(directory) if is_tfrecord_source(directory) else Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise SeqcoreError(
            f"not a TFRecord dataset: {directory}; expected a folder with {MANIFEST} written by "
            "`seqcore <task> prepare`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise SeqcoreError(f"{path} is not valid JSON ({error}); expected a manifest written by prepare") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "splits" not in manifest:
        raise SeqcoreError(f"{path} is not a seqcore TFRecord manifest; expected \"format\": \"{FORMAT}\"")
    received = manifest.get("metadata", {}).get("task")
    if task is not None and received != task:
        raise SeqcoreError(
            f"{directory} holds {received!r} examples; expected shards written by `seqcore {task} prepare`"
        )
    _check_features(manifest["features"])
    for split, entry in manifest["splits"].items():
        missing = [name for name in entry["files"] if not (directory / name).is_file()]
        if missing:
            raise SeqcoreError(
                f"shard missing from {directory}: {missing[0]}; expected every file of the manifest's "
                f"{split} split"
            )
    manifest["directory"] = str(directory)
    return manifest


def read_split(directory, split, workers=1, parallel_files=4):
    """Streams one split's examples as dicts of tensors, shard files interleaved.

    The order is deterministic: shards are read round-robin,
    `parallel_files` at a time, which restores the written order when
    there are at most `parallel_files` shards. Under `workers` > 1 the dataset asks `tf.distribute`
    to shard it by file when there are at least as many files as workers,
    else by example.

    Args:
        directory: a `prepare` folder or `tfrecord:DIR`.
        split: `"train"`, `"validation"` or `"test"`.
        workers: workers of the cluster that will read it.
        parallel_files: files read at once.

    Returns:
        An unbatched `tf.data.Dataset` of dicts feature name -> tensor.
    """
    import tensorflow as tf

    manifest = read_manifest(directory)
    if split not in manifest["splits"]:
        raise SeqcoreError(
            f"{manifest['directory']} has no {split} split; expected one of: "
            f"{', '.join(manifest['splits'])}"
        )
    files = [str(Path(manifest["directory"]) / name) for name in manifest["splits"][split]["files"]]
    dtypes = {"string": tf.string, "int64": tf.int64, "float32": tf.float32}
    spec = {
        name: tf.io.FixedLenFeature(feature["shape"], dtypes[feature["dtype"]])
        for name, feature in manifest["features"].items()
    }
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TFRecordDataset,
        cycle_length=max(1, min(len(files), parallel_files)),
        block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    dataset = dataset.map(lambda record: tf.io.parse_single_example(record, spec),
                          num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy
    options.experimental_distribute.auto_shard_policy = (
        policy.FILE if len(files) >= max(workers, 2) and workers > 1 else policy.DATA
    )
    return dataset.with_options(options)


def split_count(directory, split):
    """How many examples a split holds (from the manifest)."""
    return int(read_manifest(directory)["splits"][split]["count"])
