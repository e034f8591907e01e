"""Builds the sentiment classifier and its TensorFlow Serving function."""

import tensorflow as tf

from apps.sentiment.preprocessing import TextPreprocessor
from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier

#: A few reviews used to check every export against the Keras model.
SAMPLE_TEXTS = [
    "A moving, beautifully acted film. I loved every minute of it.",
    "Two hours of my life I will never get back. Dull and badly written.",
    "<br />It was fine, nothing special.",
]


def build_classifier(config, train_texts, class_names):
    """Makes an untrained classifier whose vocabulary is adapted on `train_texts`.

    Args:
        config: the run configuration (`preprocessing`, `backbone`, `head`).
        train_texts: the training split only.
        class_names: label of each class index.

    Returns:
        A `SequenceClassifier` taking raw strings through its preprocessor.

    Example:

    >>> config = {"preprocessing": {"max_tokens": 100, "sequence_length": 16},
    ...           "backbone": {"cell": "gru", "units": 8}, "head": {"dropout": 0.0}}
    >>> model = build_classifier(config, ["good film", "bad film"], ["neg", "pos"])
    >>> model.predict(["good"], verbose=0).shape
    (1, 2)
    """
    preprocessor = TextPreprocessor(**config["preprocessing"])
    preprocessor.adapt(train_texts)
    backbone = RecurrentBackbone(
        vocabulary_size=preprocessor.vocabulary_size, **config["backbone"]
    )
    return SequenceClassifier(
        backbone, class_names, preprocessor=preprocessor, **config["head"]
    )


def serving_function(model):
    """`serving_default`: `text` string [batch] -> `label` and `probabilities`.

    Example:

    >>> # serve = serving_function(model); serve(tf.constant(["great film"]))["label"]
    """
    class_names = tf.constant(model.class_names)

    def serve(text):
        probabilities = model(model.preprocessor(text), training=False)
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    return serve


INPUT_SIGNATURE = [tf.TensorSpec([None], tf.string, name="text")]
