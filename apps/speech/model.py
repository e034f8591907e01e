"""Builds the keyword classifier (features inside the model) and its TensorFlow Serving function."""

import numpy as np
import tensorflow as tf

from apps.speech.preprocessing import SpeechPreprocessor
from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.crnn import ConvRecurrentBackbone

FRONT_ENDS = ("conv", "none")


def sample_audio(sample_rate, clip_samples, count=3, seed=7):
    """A few deterministic test waveforms (chirps in noise) used to check every export."""
    rng = np.random.default_rng(seed)
    t = np.arange(clip_samples) / sample_rate
    rows = []
    for i in range(count):
        f0, f1 = 200 + 150 * i, 900 + 300 * i
        chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / 2))
        envelope = np.exp(-((t - t.mean()) ** 2) / (2 * (0.15 + 0.05 * i) ** 2))
        rows.append(0.5 * chirp * envelope + 0.01 * rng.normal(size=clip_samples))
    return np.asarray(rows, dtype=np.float32)


def build_backbone(config, num_features):
    """The CRNN (`front_end: conv`) or plain recurrent backbone over feature frames."""
    front = config["front_end"]
    if front["kind"] == "conv":
        settings = {key: value for key, value in front.items() if key != "kind"}
        return ConvRecurrentBackbone(num_features=num_features, **settings, **config["backbone"])
    return RecurrentBackbone(num_features=num_features, mask_value=None, **config["backbone"])


def build_classifier(config, train_audio, class_names):
    """Makes an untrained classifier whose feature statistics are adapted on `train_audio`.

    Args:
        config: the run configuration (`features`, `front_end`, `backbone`, `head`).
        train_audio: `(n, samples)` training waveforms only.
        class_names: label of each class index.

    Returns:
        A `SequenceClassifier` taking raw waveforms through its preprocessor.

    Example:

    >>> config = {"features": {"sample_rate": 8000, "clip_seconds": 0.5},
    ...           "front_end": {"kind": "conv", "conv_filters": [4]},
    ...           "backbone": {"cell": "gru", "units": 8}, "head": {"dropout": 0.0}}
    >>> model = build_classifier(config, np.zeros((2, 4000), "float32"), ["no", "yes"])
    >>> model.predict(np.zeros((1, 4000), "float32"), verbose=0).shape
    (1, 2)
    """
    preprocessor = SpeechPreprocessor(**config["features"])
    preprocessor.adapt(train_audio)
    backbone = build_backbone(config, preprocessor.num_features)
    return SequenceClassifier(backbone, class_names, preprocessor=preprocessor, **config["head"])


def serving_function(model, jit_compile=False):
    """`serving_default`: `audio` float32 [batch, samples] -> `label` and `probabilities`.

    Args:
        model: the classifier, with its preprocessor.
        jit_compile: compile the features and the model with XLA (the
            `serving_xla` signature); the class-name lookup, a string op,
            stays outside.

    Usage (a sketch; it needs a trained model, so it is not run as a test)::

        serve = serving_function(model); serve(tf.zeros([1, 16000]))["label"]
    """
    class_names = tf.constant(model.class_names)

    def classify(audio):
        return model(model.preprocessor(audio), training=False)

    if jit_compile:
        classify = tf.function(classify, jit_compile=True)

    def serve(audio):
        probabilities = classify(audio)
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    return serve


INPUT_SIGNATURE = [tf.TensorSpec([None, None], tf.float32, name="audio")]
