"""The sentiment app's commands as plain functions; `cli.py` is a thin layer over them."""

from pathlib import Path

import numpy as np

from apps.sentiment import baseline
from apps.sentiment import data as sentiment_data
from apps.sentiment.settings import TRAINING
from seqcore.errors import SeqcoreError
from seqcore.run_config import backbone_config, check_options, training_config
from seqcore.train_flow import TrainingData

TASK = "sentiment"
DEFAULT_BACKBONE = "lstm"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"pooling": "mean", "dropout": 0.3, "embedding_dim": 64}


def resolve_config(
    *,
    data=None,
    text_column="text",
    label_column="label",
    limit=None,
    max_tokens=20000,
    sequence_length=None,
    wide=True,
    init_from=None,
    backbone=DEFAULT_BACKBONE,
    head_dropout=0.2,
    **options,
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    `options` are the shared backbone and training options
    (`seqcore.run_config`), by the names the command line gives them.

    Example:

    >>> resolve_config(backbone="bigru", units=32)["backbone"]["bidirectional"]
    True
    """
    check_options(options)
    return {
        "task": TASK,
        "data": {
            "source": _absolute_if_path(data or sentiment_data.DEFAULT_SOURCE),
            "text_column": text_column,
            "label_column": label_column,
            "limit": limit,
        },
        "preprocessing": {"max_tokens": max_tokens, "sequence_length": sequence_length},
        # The n-gram path (NBSVM, joined: apps.sentiment.wide_deep) is trained
        # on texts in memory: not for streamed TFRecord shards.
        "wide": bool(wide) and not _is_streamed(data),
        "preset": backbone,
        "backbone": backbone_config(backbone, BACKBONE_DEFAULTS, options),
        "head": {"dropout": head_dropout},
        "init_from": None if init_from is None else str(Path(init_from).resolve()),
        "training": training_config(options, TRAINING),
    }


def _is_streamed(source):
    from seqcore.tfrecords import is_tfrecord_source

    return source is not None and is_tfrecord_source(source)


def _absolute_if_path(source):
    """Stores file and folder sources absolutely, so `evaluate` works from anywhere."""
    from seqcore.tfrecords import PREFIX, is_tfrecord_source, source_dir

    if is_tfrecord_source(source):
        return PREFIX + str(source_dir(source))
    if sentiment_data.is_builtin(source) or not Path(source).exists():
        return source
    return str(Path(source).resolve())


def _load_splits(data_config):
    return sentiment_data.load_splits(
        data_config["source"],
        text_column=data_config["text_column"],
        label_column=data_config["label_column"],
        limit=data_config["limit"],
    )


BUCKET_BOUNDARIES = [64, 128, 192, 256, 384, 512, 768, 1024, 2048, 4096, 8192]
#: Words a training batch holds at most (batch size x its bucket's upper
#: bound): batches of longer texts are smaller, so whole documents train in
#: bounded memory; texts beyond the last bound train one per batch.
MAX_BATCH_WORDS = 64 * 1024


def bucket_batch_sizes(batch_size):
    """Batch size of each length bucket: `batch_size`, lowered where texts are long.

    Example:

    >>> bucket_batch_sizes(64)
    [64, 64, 64, 64, 64, 64, 64, 64, 32, 16, 8, 1]
    """
    return [max(1, min(batch_size, MAX_BATCH_WORDS // bound)) for bound in BUCKET_BOUNDARIES] + [1]


def _dataset(texts, labels, batch_size, shuffle_seed=None):
    """Batches (text, label) pairs bucketed by length; for training (a seed), shuffled.

    Texts of similar length share a batch, so little time goes into padding
    steps, and every text is read whole. The number of batches is computed
    up front (a partial batch per bucket at most), so Keras' progress bar
    knows it from the first epoch.
    """
    import tensorflow as tf

    texts = np.array(texts, dtype=object)
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels))

    def word_count(text):
        return tf.size(tf.strings.split(text))

    sizes = bucket_batch_sizes(batch_size)
    lengths = tf.strings.split(texts).row_lengths().numpy()
    per_bucket = np.bincount(np.digitize(lengths, BUCKET_BOUNDARIES), minlength=len(BUCKET_BOUNDARIES) + 1)
    batches = int(np.sum(-(-per_bucket // np.array(sizes))))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(texts), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.bucket_by_sequence_length(
        lambda text, label: word_count(text),
        bucket_boundaries=BUCKET_BOUNDARIES,
        bucket_batch_sizes=sizes,
    )
    return dataset.apply(tf.data.experimental.assert_cardinality(batches))


def _streamed_dataset(examples, batch_size, shuffle_seed=None, shuffle_buffer=10000):
    """Batches streamed (text, label) pairs; for training, shuffled (bounded buffer) and bucketed."""
    import tensorflow as tf

    pairs = examples.map(lambda e: (e["text"], tf.cast(e["label"], tf.int32)))
    if shuffle_seed is None:
        return pairs.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    pairs = pairs.shuffle(shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
    return pairs.bucket_by_sequence_length(
        lambda text, label: tf.size(tf.strings.split(text)),
        bucket_boundaries=BUCKET_BOUNDARIES,
        bucket_batch_sizes=bucket_batch_sizes(batch_size),
    ).prefetch(tf.data.AUTOTUNE)


class TextTraining(TrainingData):
    """A sentiment run's examples, in memory (`load_splits`) or streamed from `prepare`'s TFRecord shards.

    In memory, the report also trains the TF-IDF baseline and joins the
    NBSVM n-gram path (`config["wide"]`), so their time counts as training.
    """

    report_trains = True

    def __init__(self, config, workers=1):
        from seqcore.tfrecords import is_tfrecord_source, read_manifest

        data_config = config["data"]
        self.source = data_config["source"]
        self.workers = workers
        if is_tfrecord_source(self.source):
            manifest = read_manifest(self.source, task=TASK)
            self.splits = None
            self.class_names = manifest["metadata"]["class_names"]
            description = f"TFRecord shards in {manifest['directory']} ({manifest['metadata']['source']})"
        else:
            self.splits = _load_splits(data_config)
            self.class_names = self.splits.class_names
            description = self.splits.source
        super().__init__({**config, "class_names": self.class_names,
                          "data": {**data_config, "description": description}})

    def build_model(self):
        return _initialized(_new_classifier(self.config, self), self.config.get("init_from"))

    def _split(self, name, workers=1):
        from seqcore.tfrecords import read_split

        return read_split(self.source, name, workers=workers)

    def train_texts(self):
        """What the vocabulary is adapted on: a list, or the streamed training texts (one pass)."""
        if self.splits is not None:
            return self.splits.train_texts
        return self._split("train").map(lambda e: e["text"])

    def train_dataset(self, batch_size, seed):
        if self.splits is not None:
            return _dataset(self.splits.train_texts, self.splits.train_labels, batch_size, seed)
        return _streamed_dataset(self._split("train", self.workers), batch_size, seed)

    def validation_dataset(self):
        if self.splits is not None:
            return _dataset(self.splits.validation_texts, self.splits.validation_labels, 256)
        return _streamed_dataset(self._split("validation", self.workers), 256)

    def report(self, model, run):
        """Test and validation metrics; in memory also the baseline's and the joined n-gram path's."""
        seed = self.config["training"]["seed"]
        metrics = {"test": self.split_report(model, "test"), "validation": self.split_report(model, "validation")}
        if self.splits is not None:
            _, metrics["baseline"] = _baseline_metrics(self.splits, seed, run.work)
            if self.config.get("wide"):
                metrics = _join_wide_path(model, self, metrics, seed, run.work)
        return metrics

    def split_report(self, model, split):
        """Classification metrics of `model` on a split (streamed for TFRecord shards)."""
        if self.splits is not None:
            texts = getattr(self.splits, f"{split}_texts")
            return _classification_report(model, texts, getattr(self.splits, f"{split}_labels"))
        from seqcore.metrics import classification_metrics

        batches = _streamed_dataset(self._split(split), 256)
        labels = np.concatenate([label.numpy() for _, label in batches])
        probabilities = model.predict(batches.map(lambda text, label: (text,)), verbose=0)
        return classification_metrics(labels, probabilities, model.class_names)


def train(config, out=None, resume=False, overwrite=False, verbose="auto", backup_every=50, callbacks=(),
          strategy="auto", mixed_precision=None):
    """Trains a classifier and writes a finished run directory (`seqcore.train_flow.train_task`).

    Args:
        config: from `resolve_config`; ignored on `resume`, which reads the
            interrupted run's own configuration.
        out: the run directory (default `runs/sentiment-<timestamp>`).
        resume: finish the interrupted run in `<out>.partial`.
        overwrite: replace an existing run at `out`.
        verbose: Keras `fit` verbosity.
        backup_every: batches between resumable backups.
        callbacks: extra Keras callbacks for `fit`.
        strategy: `seqcore.distribute.STRATEGIES`; `--batch-size` is per replica.
        mixed_precision: None, `"float16"` or `"bfloat16"` (ignored on `resume`).

    Returns:
        `(run_path, metrics)`; a non-chief worker of a cluster writes
        nothing and returns `(path the chief writes, None)`.
    """
    from seqcore.train_flow import train_task

    return train_task(TASK, lambda config, distribution: TextTraining(config, distribution.workers), config, out,
                      resume=resume, overwrite=overwrite, verbose=verbose, backup_every=backup_every,
                      callbacks=callbacks, strategy=strategy, mixed_precision=mixed_precision)


def _new_classifier(config, examples):
    """The untrained classifier; started from a word-level language model, it adopts that model's vocabulary."""
    from apps.sentiment.model import build_classifier
    from seqcore.transfer import language_model_vocabulary

    vocabulary = language_model_vocabulary(config["init_from"]) if config.get("init_from") else None
    return build_classifier(config, examples.train_texts(), examples.class_names, vocabulary=vocabulary)


def _initialized(model, init_from):
    """The new classifier, its backbone started from run `init_from`'s when given (`seqcore.transfer`)."""
    if init_from:
        from seqcore.transfer import init_backbone

        init_backbone(model.backbone, init_from, model.preprocessor.vectorizer.get_vocabulary())
    return model


def prepare(out, data=None, text_column="text", label_column="label", limit=None, shards=8,
            overwrite=False):
    """Writes a source's train / validation / test splits as TFRecord shards for `--data tfrecord:OUT`.

    The splits are the ones `train --data SOURCE` would make; each example
    is the raw text and its class index, so the model's own preprocessing
    still runs. Returns the manifest.
    """
    from seqcore.tfrecords import write_shards

    source = _absolute_if_path(data or sentiment_data.DEFAULT_SOURCE)
    splits = _load_splits({"source": source, "text_column": text_column,
                           "label_column": label_column, "limit": limit})
    features = {"text": {"dtype": "string", "shape": []}, "label": {"dtype": "int64", "shape": []}}
    return write_shards(
        out,
        {
            split: [{"text": text, "label": int(label)}
                    for text, label in zip(getattr(splits, f"{split}_texts"), getattr(splits, f"{split}_labels"))]
            for split in ("train", "validation", "test")
        },
        features,
        shards=shards,
        metadata={"task": TASK, "class_names": splits.class_names, "source": splits.source},
        overwrite=overwrite,
    )


def _classification_report(model, texts, labels):
    from apps.sentiment.model import predict_texts
    from seqcore.metrics import classification_metrics

    return classification_metrics(labels, predict_texts(model, texts), model.class_names)


#: The in-product baseline of a run, saved beside its model.
BASELINE_FILE = "baseline.keras"


def _baseline_metrics(splits, seed, folder):
    """Trains the baseline on the run's training split and saves it in `folder`: `(model, metrics)`."""
    from seqcore.runs import save_model_atomically

    model, seconds = baseline.train_baseline(
        splits.train_texts, splits.train_labels, splits.validation_texts, splits.validation_labels,
        classes=len(splits.class_names), seed=seed,
    )
    save_model_atomically(model, Path(folder) / BASELINE_FILE)
    return model, {
        "description": baseline.DESCRIPTION,
        "test": baseline.baseline_report(model, splits.test_texts, splits.test_labels, splits.class_names),
        "validation": baseline.baseline_report(
            model, splits.validation_texts, splits.validation_labels, splits.class_names
        ),
        "train_seconds": round(seconds, 1),
    }


#: The run's n-gram path alone (NBSVM), saved beside its model for ablations.
NGRAM_PATH_FILE = "nbsvm.keras"


def _join_wide_path(model, examples, metrics, seed, folder):
    """Trains the NBSVM n-gram path and joins it to the trained recurrent model (`wide_deep.combine`).

    The wide logits' weight is the one most accurate on the validation
    split; the recurrent model's own metrics stay in `metrics["recurrent"]`,
    the n-gram path's in `metrics["ngram_path"]`.
    """
    from apps.sentiment.model import predict_texts
    from apps.sentiment.nbsvm import DESCRIPTION, train_nbsvm
    from apps.sentiment.wide_deep import best_weight, combine
    from seqcore.runs import save_model_atomically

    splits = examples.splits
    wide, seconds = train_nbsvm(splits.train_texts, splits.train_labels, splits.validation_texts,
                                splits.validation_labels, classes=len(splits.class_names), seed=seed)
    save_model_atomically(wide, Path(folder) / NGRAM_PATH_FILE)
    weight = best_weight(
        predict_texts(model, splits.validation_texts),
        baseline.predict_baseline(wide, splits.validation_texts),
        splits.validation_labels,
    )
    joined = combine(model, wide, weight)
    save_model_atomically(joined, Path(folder) / "model.keras")
    return {
        "test": examples.split_report(joined, "test"),
        "validation": examples.split_report(joined, "validation"),
        "wide_weight": weight,
        "recurrent": {"test": metrics["test"], "validation": metrics["validation"]},
        "ngram_path": {
            "description": DESCRIPTION,
            "test": baseline.baseline_report(wide, splits.test_texts, splits.test_labels, splits.class_names),
            "validation": baseline.baseline_report(
                wide, splits.validation_texts, splits.validation_labels, splits.class_names
            ),
            "train_seconds": round(seconds, 1),
        },
        "baseline": metrics["baseline"],
    }


def run_baseline(run_dir, config):
    """The run's baseline model: saved with the run, else trained now on the run's training split.

    Runs written before the baseline existed (or streamed from TFRecord
    shards) have none saved; for those it is trained from the run's data.
    """
    from seqcore.saving import load_model

    saved = Path(run_dir) / BASELINE_FILE
    if saved.is_file():
        return load_model(saved)
    from seqcore.tfrecords import is_tfrecord_source

    if is_tfrecord_source(config["data"]["source"]):
        return None
    splits = _load_splits(config["data"])
    model, _ = baseline.train_baseline(
        splits.train_texts, splits.train_labels, splits.validation_texts, splits.validation_labels,
        classes=len(splits.class_names), seed=config["training"]["seed"],
    )
    return model


def load_run_model(run_dir):
    """Loads a finished sentiment run's best model (another task's run is refused)."""
    from seqcore.saving import load_run

    return load_run(run_dir, TASK)[0]


def evaluate(run_dir, data=None, split="test", text_column=None, label_column=None, with_baseline=True):
    """Metrics of a run's model on a split of its own data, or on all of `data`.

    With `with_baseline`, `metrics["baseline"]` holds the in-product
    baseline's metrics on the same texts (`apps.sentiment.baseline`; None
    for a run streamed from TFRecord shards that saved none).

    Args:
        run_dir: a finished run directory.
        data: another labelled source; its own test split if it has one
            (TFDS, an aclImdb-style folder), otherwise every example.
        split: `"test"` or `"validation"` of the run's own data.
        text_column: column of `data` holding the text (default: the run's).
        label_column: column of `data` holding the label (default: the run's).
        with_baseline: also report the baseline on the same texts.
    """
    from seqcore.saving import load_run

    model, config = load_run(run_dir, TASK)
    texts = None  # stays None for streamed TFRecord shards: no baseline for those
    if data is None:
        examples = TextTraining(config)
        metrics = examples.split_report(model, split)
        if examples.splits is not None:
            texts, labels = getattr(examples.splits, f"{split}_texts"), getattr(examples.splits, f"{split}_labels")
    else:
        texts, names, description = sentiment_data.load_examples(
            data,
            text_column=text_column or config["data"]["text_column"],
            label_column=label_column or config["data"]["label_column"],
        )
        unknown = sorted(set(names) - set(model.class_names))
        if unknown:
            raise SeqcoreError(
                f"labels of {description} are not the model's classes; expected: "
                f"{', '.join(model.class_names)}; received: {', '.join(unknown)}"
            )
        index = {name: i for i, name in enumerate(model.class_names)}
        labels = np.array([index[name] for name in names])
        metrics = _classification_report(model, texts, labels)
    if with_baseline:
        reference = None if texts is None else run_baseline(run_dir, config)
        metrics["baseline"] = None if reference is None else {
            "description": baseline.DESCRIPTION,
            **baseline.baseline_report(reference, texts, labels, model.class_names),
        }
    return metrics
