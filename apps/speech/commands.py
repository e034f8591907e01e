"""The speech app's commands as plain functions; `cli.py` is a thin layer over them."""

import json
import sys
import time
from pathlib import Path

import numpy as np

from apps.speech import data as speech_data
from seqcore.errors import SeqcoreError
from seqcore.registry import preset_kwargs
from seqcore.runs import prepare_run

TASK = "speech"
DEFAULT_BACKBONE = "gru"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"pooling": "max"}
DEFAULT_CONV_FILTERS = (48, 96)
#: Recurrent settings of the default model (the `gru` preset widened: a 128-unit
#: bidirectional GRU), used when the default backbone is not given them.
DEFAULT_RECURRENT = {"units": 128, "bidirectional": True}
#: Momentum of the weights' moving average that the default model validates and keeps.
DEFAULT_EMA = 0.995


def resolve_config(
    *,
    data=None,
    pattern=speech_data.FSDD_PATTERN,
    split_by=None,
    test_speakers=None,
    validation_speakers=None,
    keywords=None,
    unknown=False,
    silence=False,
    synthetic="auto",
    sample_rate=None,
    clip_seconds=1.0,
    features="mfcc",
    frame_ms=30.0,
    hop_ms=10.0,
    num_mel_bins=40,
    num_mfccs=13,
    front_end="conv",
    conv_filters=DEFAULT_CONV_FILTERS,
    conv="2d",
    spec_augment=True,
    freq_warp=0.0,
    time_stretch=0.0,
    augment=True,
    speed=0.15,
    backbone=DEFAULT_BACKBONE,
    cell=None,
    units=None,
    layers=None,
    bidirectional=None,
    dropout=None,
    recurrent_dropout=None,
    pooling=None,
    head_dropout=0.2,
    epochs=40,
    batch_size=64,
    seed=0,
    patience=6,
    ema=DEFAULT_EMA,
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    `sample_rate=None` means the source's own rate, and `synthetic="auto"`
    adds text-to-speech voices where `speech_data.synthetic_voices_apply`
    says they fit the data; `train` writes the resolved values into the
    run's configuration.

    Example:

    >>> resolve_config(backbone="bigru", units=32)["backbone"]["bidirectional"]
    True
    """
    if backbone == DEFAULT_BACKBONE:
        units = DEFAULT_RECURRENT["units"] if units is None else units
        bidirectional = DEFAULT_RECURRENT["bidirectional"] if bidirectional is None else bidirectional
    from seqcore.tfrecords import is_tfrecord_source

    if synthetic != "auto" and synthetic not in (True, False):
        raise SeqcoreError(f"unknown synthetic setting {synthetic!r}; expected auto, True or False")
    synthetic = synthetic if synthetic == "auto" else bool(synthetic)
    builtin = (data or speech_data.DEFAULT_SOURCE) == speech_data.DEFAULT_SOURCE
    streamed = is_tfrecord_source(data)
    synthesized = not builtin and not streamed and (Path(data) / "synth.json").is_file()
    if synthetic == "auto" and (builtin or synthesized or streamed):
        synthetic = False  # synthetic already (built-in or `synth`'s folder), or streamed
    if synthetic is True and (builtin or synthesized):
        received = ("the built-in keywords, which are synthetic already" if builtin else
                    f"{data}, which `synth` wrote (its test voices would be heard in training)")
        raise SeqcoreError(f"--synthetic-voices adds voices to recorded data; expected --data with "
                           f"recordings, received {received}")
    if synthetic is True and streamed:
        raise SeqcoreError("--synthetic-voices adds voices while loading recordings; expected a folder "
                           "of recordings, received TFRecord shards")
    if front_end not in ("conv", "none"):
        raise SeqcoreError(f"unknown front end {front_end!r}; expected conv or none")
    if front_end == "conv":
        front = {
            "kind": "conv",
            "conv": conv,
            "conv_filters": [int(f) for f in conv_filters],
            "time_masks": 2 if spec_augment else 0,
            "time_mask_max": 10,
            "freq_masks": 2 if spec_augment else 0,
            "freq_mask_max": max(1, (num_mfccs if features == "mfcc" else num_mel_bins) // 8),
        }
        if freq_warp and spec_augment and features == "log-mel":
            front["freq_warp"] = float(freq_warp)
        if time_stretch and spec_augment:
            front["time_stretch"] = float(time_stretch)
    else:
        front = {"kind": "none"}
    return {
        "task": TASK,
        "data": {
            "source": data or speech_data.DEFAULT_SOURCE,
            "pattern": pattern,
            "split_by": split_by,
            "test_speakers": list(test_speakers) if test_speakers else None,
            "validation_speakers": list(validation_speakers) if validation_speakers else None,
            "keywords": list(keywords) if keywords else None,
            "unknown": bool(unknown),
            "silence": bool(silence),
            "synthetic": synthetic,
        },
        "features": {
            "sample_rate": sample_rate,
            "clip_seconds": clip_seconds,
            "features": features,
            "frame_ms": frame_ms,
            "hop_ms": hop_ms,
            "num_mel_bins": num_mel_bins,
            "num_mfccs": num_mfccs,
        },
        "front_end": front,
        "preset": backbone,
        "backbone": preset_kwargs(
            backbone,
            defaults=BACKBONE_DEFAULTS,
            cell=cell,
            units=units,
            num_layers=layers,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            pooling=pooling,
        ),
        "head": {"dropout": head_dropout},
        "augment": (
            {"speed": float(speed), "shift_ms": 100.0, "noise_probability": 0.8, "noise_volume": 0.1}
            if augment else None
        ),
        "training": {
            "epochs": epochs,
            "batch_size": batch_size,
            "seed": seed,
            "patience": patience,
            "ema": float(ema),
        },
    }


def load_splits(config, source=None, clips=None):
    """The run's splits, rebuilt the same way every time from its configuration."""
    data = config["data"]
    return speech_data.load_splits(
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


def training_dataset(audio, labels, batch_size, seed, augment=None, sample_rate=None):
    """Shuffled, augmented (time shift, background noise) batches of (waveform, label)."""
    import tensorflow as tf

    from apps.speech.augment import augmenter

    dataset = tf.data.Dataset.from_tensor_slices((audio, labels))
    dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    if augment:
        dataset = dataset.map(
            augmenter(audio.shape[1], sample_rate, seed=seed, **augment),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return dataset.batch(batch_size)


def evaluation_dataset(audio, labels, batch_size=256):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((audio, labels)).batch(batch_size)


#: Clips of the training shards that the feature statistics are adapted on.
ADAPT_SAMPLE = 4096


class Shards:
    """A run's clips streamed from `prepare`'s TFRecord shards (`--data tfrecord:DIR`).

    Has the `AudioSplits` attributes that describe the data (class names,
    rate, split) and streams the splits themselves; the feature statistics
    are adapted on the first `ADAPT_SAMPLE` training clips, an explicit
    bounded sample.
    """

    def __init__(self, source, workers=1):
        from seqcore.tfrecords import read_manifest

        manifest = read_manifest(source, task=TASK)
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

        from apps.speech.augment import augmenter

        dataset = self.pairs("train", self.workers).shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if augment:
            dataset = dataset.map(augmenter(self.clip_samples, self.sample_rate, seed=seed, **augment),
                                  num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation_dataset(self, split, batch_size=256):
        return self.pairs(split, self.workers).batch(batch_size)

    def report(self, model, split):
        """Classification metrics on a split, streamed."""
        from seqcore.metrics import classification_metrics

        batches = self.pairs(split).batch(256)
        labels = np.concatenate([label for _, label in batches.as_numpy_iterator()])
        probabilities = model.predict(batches.map(lambda audio, label: (audio,)), verbose=0)
        return classification_metrics(labels, probabilities, model.class_names)


def _shard_order(splits, split, seed=1337):
    """A split's (audio, label) pairs; train in a seeded random order.

    Clips load grouped by class, and a stream mixes only a window of them,
    so the training shards are written shuffled: every window of the stream
    (and the first clips, which set the feature statistics) holds every class.
    """
    audio, labels = getattr(splits, f"{split}_audio"), getattr(splits, f"{split}_labels")
    order = np.random.default_rng(seed).permutation(len(labels)) if split == "train" else range(len(labels))
    return ((audio[i], labels[i]) for i in order)


def prepare(out, config, shards=8, overwrite=False):
    """Writes the splits `train` would make of `config`'s source as TFRecord shards; returns the manifest.

    Each example is a fixed-length float32 waveform at the resolved sample
    rate and its class index; train on them with `--data tfrecord:OUT`.
    """
    from seqcore.tfrecords import write_shards

    splits = load_splits(config)
    features = {"audio": {"dtype": "float32", "shape": [splits.clip_samples]},
                "label": {"dtype": "int64", "shape": []}}
    return write_shards(
        out,
        {split: ({"audio": audio, "label": int(label)} for audio, label in _shard_order(splits, split))
         for split in ("train", "validation", "test")},
        features,
        shards=shards,
        metadata={"task": TASK, "class_names": splits.class_names, "sample_rate": splits.sample_rate,
                  "clip_samples": splits.clip_samples, "source": splits.source,
                  "split_by": splits.split_by, "speakers": splits.speakers},
        overwrite=overwrite,
    )


def train(config, out=None, resume=False, overwrite=False, verbose="auto", backup_every=50,
          clips=None, strategy="auto", mixed_precision=None):
    """Trains a keyword classifier and writes a finished run directory.

    Args:
        config: from `resolve_config`; ignored on `resume`, which reads the
            interrupted run's own configuration.
        out: the run directory (default `runs/speech-<timestamp>`).
        resume: finish the interrupted run in `<out>.partial`.
        overwrite: replace an existing run at `out`.
        clips: already loaded `Clips` of the source (the benchmark reuses them).
        strategy: `seqcore.distribute.STRATEGIES`; `--batch-size` is per replica.
        mixed_precision: None, `"float16"` or `"bfloat16"` (ignored on `resume`).

    Returns:
        `(run_path, metrics)`; a non-chief worker of a cluster writes
        nothing and returns `(path the chief writes, None)`.
    """
    from seqcore.distribute import resolve_strategy, with_mixed_precision
    from seqcore.training import discard_on_error, finish_run, run_training

    run, stored = prepare_run(out, TASK, resume=resume, overwrite=overwrite, strategy=strategy)
    distribution = resolve_strategy(strategy)  # before any other TensorFlow op
    import keras

    config = stored or with_mixed_precision(config, mixed_precision)
    from seqcore.tfrecords import PREFIX, is_tfrecord_source, source_dir

    shards = None
    if is_tfrecord_source(config["data"]["source"]):
        config["data"] = {**config["data"], "source": PREFIX + str(source_dir(config["data"]["source"]))}
        splits = shards = Shards(config["data"]["source"], distribution.workers)
        counts = shards.counts
        clip_seconds = shards.clip_samples / shards.sample_rate
    else:
        splits = load_splits(config, clips=clips)
        splits, synthetic = _with_synthetic_voices(splits, config["data"].get("synthetic", False), verbose)
        config = {**config, "data": {**config["data"], "synthetic": synthetic}}
        counts = {name: len(getattr(splits, f"{name}_labels")) for name in ("train", "validation", "test")}
        clip_seconds = config["features"]["clip_seconds"]
    config = {
        **config,
        "features": {**config["features"], "sample_rate": splits.sample_rate, "clip_seconds": clip_seconds},
        "class_names": splits.class_names,
        "source": splits.source,
        "split": {"by": splits.split_by, "speakers": splits.speakers, "clips": counts},
    }
    run.start(resume=resume, overwrite=overwrite)

    from apps.speech.model import build_classifier

    training = config["training"]
    with discard_on_error(run, resume):
        started = time.time()
        model = run_training(
            run,
            config,
            lambda: build_classifier(config, shards.adapt_sample() if shards else splits.train_audio,
                                     splits.class_names),
            shards.training_dataset(distribution.global_batch_size(training["batch_size"]),
                                    training["seed"], config["augment"]) if shards else
            training_dataset(splits.train_audio, splits.train_labels,
                             distribution.global_batch_size(training["batch_size"]),
                             training["seed"], config["augment"], splits.sample_rate),
            shards.evaluation_dataset("validation") if shards else
            evaluation_dataset(splits.validation_audio, splits.validation_labels),
            epochs=training["epochs"],
            resume=resume,
            patience=training["patience"],
            seed=training["seed"],
            verbose=verbose,
            backup_every=backup_every,
            extra_callbacks=[keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=max(1, training["patience"] // 3),
                min_lr=1e-5, verbose=0)],
            distribution=distribution,
            batch_size=training["batch_size"],
        )
        if not run.is_chief:
            return finish_run(run, None), None
        train_seconds = round(time.time() - started, 1)
        metrics = {
            "test": shards.report(model, "test") if shards else
            classification_report(model, splits.test_audio, splits.test_labels),
            "validation": shards.report(model, "validation") if shards else
            classification_report(model, splits.validation_audio, splits.validation_labels),
            "train_seconds": train_seconds,
        }
        return finish_run(run, metrics), metrics


def _with_synthetic_voices(splits, synthetic, verbose):
    """The splits with text-to-speech voices in training where `synthetic` (or "auto") asks.

    "auto" adds them where `speech_data.synthetic_voices_apply` says they
    fit, and carries on without them, saying why, where they do not or the
    engines fail; an explicit True fails loudly instead.

    Returns:
        `(splits, synthetic)`, with `synthetic` settled to True or False.
    """
    say = (lambda line: print(line, flush=True)) if verbose else (lambda line: None)
    if synthetic == "auto":
        reason = speech_data.synthetic_voices_apply(splits.class_names, explain=True)
        if reason:
            say(f"No text-to-speech voices added: {reason}")
            return splits, False
    elif not synthetic:
        return splits, False
    say("Adding every installed text-to-speech voice saying each class's word to the training "
        "split (synthesized on first use; --no-synthetic-voices: recordings only)")
    try:
        return speech_data.add_synthetic_voices(splits), True
    except SeqcoreError as error:
        if synthetic is True:
            raise
        say(f"No text-to-speech voices added: {error}")
        return splits, False


def classification_report(model, audio, labels):
    from seqcore.metrics import classification_metrics

    probabilities = model.predict(audio, batch_size=256, verbose=0)
    return classification_metrics(labels, probabilities, model.class_names)


def load_run_model(run_dir):
    """Loads a finished speech run's best model (another task's run is refused)."""
    from seqcore.saving import load_run

    return load_run(run_dir, TASK)[0]


def map_labels(clips, class_names):
    """Maps a source's labels onto a model's classes, or refuses an unknown label.

    Digits map to the digit words (`7` -> `seven`) when the model knows the
    words and not the digits; any other label maps to `_unknown_` when the
    model has that class.
    """
    known = set(class_names)
    digit_words = not known & set("0123456789") and set(speech_data.DIGIT_WORDS) & known
    mapped = []
    for label in clips.labels:
        if label not in known and digit_words and label.isdigit() and int(label) < 10:
            label = speech_data.DIGIT_WORDS[int(label)]
        if label not in known:
            if speech_data.UNKNOWN not in known:
                raise SeqcoreError(
                    f"label {label!r} of {clips.description} is not a class of the model; "
                    f"expected one of: {', '.join(class_names)}"
                )
            label = speech_data.UNKNOWN
        mapped.append(label)
    clips.labels = mapped
    return clips


def evaluate(run_dir, data=None, split=None):
    """Metrics of a run's model on a split of its own data, or on all of `data`.

    Args:
        run_dir: a finished run.
        data: another source (folder, `keywords`, `tfds:NAME`); its labels
            must be classes of the model (digits map to digit words).
        split: `test` (default for the run's data), `validation`, `train`
            or `all` (default for `data`).
    """
    from seqcore.saving import load_run

    model, config = load_run(run_dir, TASK)
    names = model.class_names
    rate, clip_samples = model.preprocessor.sample_rate, model.preprocessor.clip_samples
    if data is None:
        split = split or "test"
        if split == "all":
            raise SeqcoreError("--split all needs --data; expected test, validation or train")
        from seqcore.tfrecords import is_tfrecord_source

        if is_tfrecord_source(config["data"]["source"]):
            return Shards(config["data"]["source"]).report(model, split)
        splits = load_splits(config)
        if splits.class_names != names:
            raise SeqcoreError(f"the classes of {splits.source} ({', '.join(splits.class_names)}) "
                               f"differ from the model's; expected: {', '.join(names)}")
        audio, labels = getattr(splits, f"{split}_audio"), getattr(splits, f"{split}_labels")
        return classification_report(model, audio, labels)
    split = split or "all"
    clips = map_labels(speech_data.load_source(data, config["data"]["pattern"]), names)
    if split == "all":
        audio = speech_data.prepare(clips, rate, clip_samples)
        labels = np.array([names.index(label) for label in clips.labels], dtype=np.int32)
    else:
        splits = speech_data.load_splits(
            clips=clips, sample_rate=rate, clip_seconds=clip_samples / rate,
            pattern=config["data"]["pattern"])
        audio = getattr(splits, f"{split}_audio")
        labels = np.array([names.index(splits.class_names[i]) for i in getattr(splits, f"{split}_labels")],
                          dtype=np.int32)
    return classification_report(model, audio, labels)


def predict(model_path, inputs, allow_resample=True):
    """Labels and class probabilities of WAV files (or folders of them).

    MODEL is a run directory or an export. Clips are resampled to the
    model's rate (or refused when `allow_resample` is False), mixed down to
    mono and centred in the model's clip length.

    Returns:
        A list of dicts: `file`, `label`, `probabilities` (name -> float).
    """
    model_path = Path(model_path)
    if not model_path.exists():
        raise SeqcoreError(f"model not found: {model_path}; expected a run or export directory")
    paths = speech_data.gather_audio_paths(inputs)
    from seqcore.export import is_export

    if is_export(model_path):
        import tensorflow as tf

        from seqcore.export import open_export

        loaded, metadata = open_export(model_path)
        class_names = [name.decode("utf-8") for name in metadata["class_names"]]
        rate, clip_samples = int(metadata["sample_rate"]), int(metadata["clip_samples"])
        audio = _read_clips(paths, rate, clip_samples, allow_resample)
        outputs = loaded.signatures["serving_default"](audio=tf.constant(audio))
        probabilities = outputs["probabilities"].numpy()
        labels = [label.decode("utf-8") for label in outputs["label"].numpy()]
    else:
        model = load_run_model(model_path)
        class_names = model.class_names
        rate, clip_samples = model.preprocessor.sample_rate, model.preprocessor.clip_samples
        audio = _read_clips(paths, rate, clip_samples, allow_resample)
        probabilities = model.predict(audio, batch_size=256, verbose=0)
        labels = [class_names[i] for i in probabilities.argmax(axis=-1)]
    return [
        {"file": str(path), "label": label,
         "probabilities": {name: float(p) for name, p in zip(class_names, row)}}
        for path, label, row in zip(paths, labels, probabilities)
    ]


def _read_clips(paths, sample_rate, clip_samples, allow_resample):
    from seqcore.audio import fit_length

    return np.stack([fit_length(speech_data.read_wav(p, sample_rate, allow_resample), clip_samples)
                     for p in paths])


def export(run_dir, export_base, version=None):
    """Writes `export_base/<version>/` for TensorFlow Serving; returns its path.

    `serving_default` takes `audio` (float32 [batch, samples] at the model's
    rate); `serving_xla` is the same with the features and the model
    XLA-compiled (faster on CPU; TensorFlow Serving needs
    `--xla_cpu_compilation_enabled=true` for it); the `metadata` signature
    gives `class_names`, `sample_rate` and `clip_samples`.
    """
    from apps.speech.model import INPUT_SIGNATURE, sample_audio, serving_function
    from seqcore.export import export_saved_model

    model = load_run_model(run_dir)
    pre = model.preprocessor
    samples = sample_audio(pre.sample_rate, pre.clip_samples)
    probabilities = model.predict(samples, verbose=0)
    labels = [model.class_names[i] for i in probabilities.argmax(axis=-1)]
    return export_saved_model(
        export_base,
        serving_function(model),
        INPUT_SIGNATURE,
        sample_inputs={"audio": samples},
        expected_outputs={"probabilities": probabilities, "label": labels},
        track=[model, model.preprocessor],
        metadata={"class_names": model.class_names, "sample_rate": pre.sample_rate,
                  "clip_samples": pre.clip_samples},
        version=version,
        atol=1e-4,
        endpoints={"serving_xla": (serving_function(model, jit_compile=True), INPUT_SIGNATURE,
                                   {"audio": samples}, {"probabilities": probabilities, "label": labels})},
    )


def synth(words, out, overwrite=False, progress=None, **options):
    """Synthesizes a keyword set into `out` (see `apps.speech.synth.synthesize`); returns its manifest."""
    from apps.speech.synth import synthesize

    path = synthesize(words, out, overwrite=overwrite, progress=progress, **options)
    return path, json.loads((path / "synth.json").read_text(encoding="utf-8"))


def format_predictions(predictions, as_json=False):
    """One line per clip: label, its probability and the file."""
    if as_json:
        return "\n".join(json.dumps(p) for p in predictions)
    return "\n".join(
        f"{p['label']}\t{p['probabilities'][p['label']]:.3f}\t{p['file']}" for p in predictions
    )


def write_output(text, stream=sys.stdout):
    stream.write(text + "\n")
