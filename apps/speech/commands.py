"""The speech app's commands as plain functions; `cli.py` is a thin layer over them."""

import json
from pathlib import Path

import numpy as np

from apps.speech.audio_files import gather_audio_paths, read_wav
from apps.speech.audio_splits import fit_clips, load_splits as load_audio_splits
from apps.speech.clips import DEFAULT_SOURCE, FSDD_PATTERN, load_source
from apps.speech.labels import map_labels
from apps.speech.settings import FEATURES, TRAINING
from apps.speech.sources import InMemory, classification_report, load_splits, open_source
from apps.speech.synthetic_voices import with_synthetic_voices
from seqcore.errors import SeqcoreError
from seqcore.run_config import backbone_config, check_options, training_config
from seqcore.train_flow import TrainingData

TASK = "speech"
DEFAULT_BACKBONE = "gru"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"pooling": "max"}
DEFAULT_CONV_FILTERS = (48, 96)
#: Recurrent settings of the default model (the `gru` preset widened: a 128-unit
#: bidirectional GRU), used when the default backbone is not given them.
DEFAULT_RECURRENT = {"units": 128, "bidirectional": True}


def resolve_config(
    *,
    data=None,
    pattern=FSDD_PATTERN,
    split_by=None,
    test_speakers=None,
    validation_speakers=None,
    keywords=None,
    unknown=False,
    silence=False,
    synthetic="auto",
    front_end="conv",
    conv_filters=DEFAULT_CONV_FILTERS,
    conv="2d",
    spec_augment=True,
    freq_warp=0.0,
    time_stretch=0.0,
    augment=True,
    speed=0.15,
    backbone=DEFAULT_BACKBONE,
    head_dropout=0.2,
    **options,
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    `sample_rate=None` means the source's own rate, and `synthetic="auto"`
    adds text-to-speech voices where `apps.speech.synthetic_voices.synthetic_voices_apply`
    says they fit the data; `train` writes the resolved values into the
    run's configuration. The feature settings (`settings.FEATURES`: their
    names and defaults) and the shared backbone and training options
    (`seqcore.run_config`) come as keyword `options`.

    Example:

    >>> resolve_config(backbone="bigru", units=32)["backbone"]["bidirectional"]
    True
    """
    check_options(options, tuple(FEATURES))
    features = {name: options.pop(name, default) for name, default in FEATURES.items()}
    if backbone == DEFAULT_BACKBONE:
        unset = {key: value for key, value in DEFAULT_RECURRENT.items() if options.get(key) is None}
        options = {**options, **unset}
    from seqcore.tfrecords import is_tfrecord_source

    if synthetic != "auto" and synthetic not in (True, False):
        raise SeqcoreError(f"unknown synthetic setting {synthetic!r}; expected auto, True or False")
    synthetic = synthetic if synthetic == "auto" else bool(synthetic)
    builtin = (data or DEFAULT_SOURCE) == DEFAULT_SOURCE
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
            "freq_mask_max": max(1, features["num_mfccs" if features["features"] == "mfcc" else "num_mel_bins"] // 8),
        }
        if freq_warp and spec_augment and features["features"] == "log-mel":
            front["freq_warp"] = float(freq_warp)
        if time_stretch and spec_augment:
            front["time_stretch"] = float(time_stretch)
    else:
        front = {"kind": "none"}
    return {
        "task": TASK,
        "data": {
            "source": data or DEFAULT_SOURCE,
            "pattern": pattern,
            "split_by": split_by,
            "test_speakers": list(test_speakers) if test_speakers else None,
            "validation_speakers": list(validation_speakers) if validation_speakers else None,
            "keywords": list(keywords) if keywords else None,
            "unknown": bool(unknown),
            "silence": bool(silence),
            "synthetic": synthetic,
        },
        "features": features,
        "front_end": front,
        "preset": backbone,
        "backbone": backbone_config(backbone, BACKBONE_DEFAULTS, options),
        "head": {"dropout": head_dropout},
        "augment": (
            {"speed": float(speed), "shift_ms": 100.0, "noise_probability": 0.8, "noise_volume": 0.1}
            if augment else None
        ),
        "training": training_config(options, TRAINING),
    }


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
    """Trains a keyword classifier and writes a finished run directory (`seqcore.train_flow.train_task`).

    Arguments as `train_task`'s; `clips` are already loaded `Clips` of the
    source (the benchmark reuses them).
    """
    from seqcore.train_flow import train_task

    return train_task(TASK, lambda config, distribution: ClipTraining(config, distribution, clips, verbose),
                      config, out, resume=resume, overwrite=overwrite, verbose=verbose,
                      backup_every=backup_every, strategy=strategy, mixed_precision=mixed_precision)


class ClipTraining(TrainingData):
    """A speech run's clips (in memory, with text-to-speech voices where asked, or TFRecord shards)."""

    def __init__(self, config, distribution, clips=None, verbose="auto"):
        self.clips = open_source(config, distribution.workers, clips=clips)
        if isinstance(self.clips, InMemory):  # shards hold what `prepare` wrote
            splits, synthetic = with_synthetic_voices(self.clips.splits, config["data"].get("synthetic", False),
                                                       verbose)
            self.clips = InMemory(splits)
            config = {**config, "data": {**config["data"], "synthetic": synthetic}}
        clips = self.clips
        super().__init__({
            **config,
            "features": {**config["features"], "sample_rate": clips.sample_rate,
                         "clip_seconds": clips.clip_samples / clips.sample_rate},
            "class_names": clips.class_names,
            "source": clips.source,
            "split": {"by": clips.split_by, "speakers": clips.speakers, "clips": clips.counts},
        })

    def build_model(self):
        from apps.speech.model import build_classifier

        return build_classifier(self.config, self.clips.adapt_sample(), self.clips.class_names)

    def train_dataset(self, global_batch_size, seed):
        return self.clips.training_dataset(global_batch_size, seed, self.config["augment"])

    def validation_dataset(self):
        return self.clips.evaluation_dataset("validation")

    def callbacks(self):
        import keras

        patience = self.config["training"]["patience"]
        return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(1, patience // 3),
                                                  min_lr=1e-5, verbose=0)]

    def report(self, model, run):
        return {split: self.clips.report(model, split) for split in ("test", "validation")}


def load_run_model(run_dir):
    """Loads a finished speech run's best model (another task's run is refused)."""
    from seqcore.saving import load_run

    return load_run(run_dir, TASK)[0]


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
        clips = open_source(config)
        if clips.class_names != names:
            raise SeqcoreError(f"the classes of {clips.source} ({', '.join(clips.class_names)}) "
                               f"differ from the model's; expected: {', '.join(names)}")
        return clips.report(model, split)
    split = split or "all"
    clips = map_labels(load_source(data, config["data"]["pattern"]), names)
    if split == "all":
        audio = fit_clips(clips, rate, clip_samples)
        labels = np.array([names.index(label) for label in clips.labels], dtype=np.int32)
    else:
        splits = load_audio_splits(
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
    paths = gather_audio_paths(inputs)
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

    return np.stack([fit_length(read_wav(p, sample_rate, allow_resample), clip_samples)
                     for p in paths])


def export(run_dir, export_base, version=None, format="saved_model", quantize=False):
    """Writes `export_base/<version>/` for TensorFlow Serving; returns its path.

    `serving_default` takes `audio` (float32 [batch, samples] at the model's
    rate); `serving_xla` is the same with the features and the model
    XLA-compiled (faster on CPU; TensorFlow Serving needs
    `--xla_cpu_compilation_enabled=true` for it); the `metadata` signature
    gives `class_names`, `sample_rate` and `clip_samples`. A streamable
    model (`train --streamable`) also gets the `stream` signature: one hop
    of audio and the explicit state in, `probabilities` and the next state
    out (`apps.speech.streaming`), and `stream_hop_samples` / `stream_state`
    in `metadata`; other models' `metadata` says why they have none. With
    `format="tflite"`, `<version>/tflite/` also holds `model.tflite` (and
    `model.int8.tflite` with `quantize`) and `labels.txt`, checked, in the
    same atomic step (`apps.speech.tflite`).
    """
    from apps.speech.model import INPUT_SIGNATURE, sample_audio, serving_function
    from apps.speech.streaming import stream_endpoint
    from seqcore.export import classifier_outputs, export_classifier

    model = load_run_model(run_dir)
    pre = model.preprocessor
    samples = {"audio": sample_audio(pre.sample_rate, pre.clip_samples)}
    stream, stream_metadata = stream_endpoint(model)  # the streaming step, where the model has one
    xla = (serving_function(model, jit_compile=True), INPUT_SIGNATURE, samples,
           classifier_outputs(model, samples["audio"]))
    return export_classifier(
        export_base,
        model,
        serving_function(model),
        INPUT_SIGNATURE,
        samples,
        metadata={"sample_rate": pre.sample_rate, "clip_samples": pre.clip_samples, **stream_metadata},
        version=version,
        atol=1e-4,
        endpoints={"serving_xla": xla, **({"stream": stream} if stream else {})},
        extra_writer=_tflite_writer(model, format, quantize),
    )


def _tflite_writer(model, format, quantize):
    """The `export_saved_model` hook writing `<version>/tflite/` (None unless `format` is tflite)."""
    if format != "tflite":
        return None
    from apps.speech.tflite import tflite_models
    from seqcore.tflite import extra_writer

    from apps.speech.streaming import with_stream_tflite

    return extra_writer(lambda: with_stream_tflite(model, *tflite_models(model)), quantize=quantize)


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
