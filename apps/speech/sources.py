"""Where a speech run's clips come from: arrays in memory, or `prepare`'s TFRecord shards, behind one protocol.

Both sources describe the data the same way (`class_names`,
`sample_rate`, `clip_samples`, `source`, `split_by`, `speakers`, `counts`)
and serve it through the same methods (`adapt_sample`, `training_dataset`,
`evaluation_dataset`, `report`), so training and evaluation choose between
them once, in `open_source`, and never ask again.
"""

import numpy as np

#: Clips of the training shards that the feature statistics are adapted on.
ADAPT_SAMPLE = 4096
#: Clips per batch when scoring a split.
EVALUATION_BATCH = 256


def open_source(config, workers=1, clips=None, task="speech"):
    """The run's clips: `Shards` for a `tfrecord:DIR` source, else `InMemory` splits rebuilt from `config`.

    Args:
        config: the run's resolved configuration.
        workers: the cluster's worker count (each reads its own shards).
        clips: already loaded `Clips` of the source (the benchmark reuses them).
        task: the app whose shards are expected.
    """
    from seqcore.tfrecords import is_tfrecord_source

    if is_tfrecord_source(config["data"]["source"]):
        return Shards(config["data"]["source"], workers, task)
    return InMemory(load_splits(config, clips=clips))


def load_splits(config, source=None, clips=None):
    """The run's splits, rebuilt the same way every time from its configuration."""
    from apps.speech.audio_splits import load_splits as load_audio_splits

    data = config["data"]
    return load_audio_splits(
        source or data["source"],
        sample_rate=config["features"]["sample_rate"],
        clip_seconds=config["features"]["clip_seconds"],
        split_by=data["split_by"],
        test_speakers=data["test_speakers"],
        validation_speakers=data["validation_speakers"],
        keywords=data["keywords"],
        unknown=data["unknown"],
        silence=data["silence"],
        pattern=data["pattern"],
        clips=clips,
    )


def classification_report(model, audio, labels):
    """Classification metrics of `model` on waveforms `audio` with class indices `labels`."""
    from seqcore.metrics import classification_metrics

    probabilities = model.predict(audio, batch_size=EVALUATION_BATCH, verbose=0)
    return classification_metrics(labels, probabilities, model.class_names)


def _augmented(dataset, clip_samples, sample_rate, seed, augment):
    """`dataset` of (waveform, label) with the training augmentation (time shift, noise), where asked."""
    import tensorflow as tf

    from apps.speech.augment import augmenter

    if not augment:
        return dataset
    return dataset.map(augmenter(clip_samples, sample_rate, seed=seed, **augment),
                       num_parallel_calls=tf.data.AUTOTUNE)


class InMemory:
    """The splits of a source loaded into memory (`apps.speech.audio_splits.AudioSplits`).

    Args:
        splits: the `AudioSplits`.
    """

    def __init__(self, splits):
        self.splits = splits
        self.class_names, self.sample_rate = splits.class_names, splits.sample_rate
        self.clip_samples, self.source = splits.clip_samples, splits.source
        self.split_by, self.speakers = splits.split_by, splits.speakers

    @property
    def counts(self):
        """Clips per split."""
        return {name: len(self.labels(name)) for name in ("train", "validation", "test")}

    def audio(self, split):
        return getattr(self.splits, f"{split}_audio")

    def labels(self, split):
        return getattr(self.splits, f"{split}_labels")

    def adapt_sample(self):
        """The clips the feature statistics are adapted on: the whole training split."""
        return self.splits.train_audio

    def training_dataset(self, batch_size, seed, augment=None):
        """Shuffled, augmented batches of (waveform, label)."""
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices((self.splits.train_audio, self.splits.train_labels))
        dataset = dataset.shuffle(len(self.splits.train_labels), seed=seed, reshuffle_each_iteration=True)
        return _augmented(dataset, self.clip_samples, self.sample_rate, seed, augment).batch(batch_size)

    def evaluation_dataset(self, split, batch_size=EVALUATION_BATCH):
        import tensorflow as tf

        return tf.data.Dataset.from_tensor_slices((self.audio(split), self.labels(split))).batch(batch_size)

    def report(self, model, split):
        """Classification metrics on a split."""
        return classification_report(model, self.audio(split), self.labels(split))


class Shards:
    """A run's clips streamed from `prepare`'s TFRecord shards (`--data tfrecord:DIR`).

    The feature statistics are adapted on the first `ADAPT_SAMPLE`
    training clips, an explicit bounded sample.

    Args:
        source: the `tfrecord:DIR` source.
        workers: the cluster's worker count (each reads its own shards).
        task: the app whose shards are expected.
    """

    def __init__(self, source, workers=1, task="speech"):
        from seqcore.tfrecords import read_manifest

        manifest = read_manifest(source, task=task)
        self.source_dir, self.workers = source, workers
        meta = manifest["metadata"]
        self.class_names, self.sample_rate = meta["class_names"], int(meta["sample_rate"])
        self.clip_samples, self.split_by, self.speakers = int(meta["clip_samples"]), meta["split_by"], meta["speakers"]
        self.source = f"TFRecord shards in {manifest['directory']} ({meta['source']})"
        self.counts = {name: entry["count"] for name, entry in manifest["splits"].items()}

    def pairs(self, split, workers=1):
        import tensorflow as tf

        from seqcore.tfrecords import read_split

        return read_split(self.source_dir, split, workers=workers).map(
            lambda e: (e["audio"], tf.cast(e["label"], tf.int32)))

    def adapt_sample(self):
        return np.stack([audio for audio, _ in self.pairs("train").take(ADAPT_SAMPLE).as_numpy_iterator()])

    def training_dataset(self, batch_size, seed, augment=None, shuffle_buffer=10000):
        import tensorflow as tf

        dataset = self.pairs("train", self.workers).shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        dataset = _augmented(dataset, self.clip_samples, self.sample_rate, seed, augment)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation_dataset(self, split, batch_size=EVALUATION_BATCH):
        return self.pairs(split, self.workers).batch(batch_size)

    def report(self, model, split):
        """Classification metrics on a split, streamed."""
        from seqcore.metrics import classification_metrics

        batches = self.pairs(split).batch(EVALUATION_BATCH)
        labels = np.concatenate([label for _, label in batches.as_numpy_iterator()])
        probabilities = model.predict(batches.map(lambda audio, label: (audio,)), verbose=0)
        return classification_metrics(labels, probabilities, model.class_names)
