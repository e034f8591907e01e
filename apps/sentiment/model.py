"""Builds the sentiment classifier and its TensorFlow Serving function."""

import weakref

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


def build_classifier(config, train_texts, class_names, vocabulary=None):
    """Makes an untrained classifier whose vocabulary is adapted on `train_texts`, or is `vocabulary`.

    Args:
        config: the run configuration (`preprocessing`, `backbone`, `head`).
        train_texts: the training split only.
        class_names: label of each class index.
        vocabulary: tokens to use instead of adapting (most frequent first,
            without padding and `[UNK]`), e.g. a language model's; its size
            replaces `max_tokens`.

    Returns:
        A `SequenceClassifier` taking raw strings through its preprocessor
        (`apps.sentiment.wide_deep.combine` adds the n-gram path once trained).

    Example:

    >>> config = {"preprocessing": {"max_tokens": 100, "sequence_length": 16},
    ...           "backbone": {"cell": "gru", "units": 8}, "head": {"dropout": 0.0}}
    >>> model = build_classifier(config, ["good film", "bad film"], ["neg", "pos"])
    >>> model.predict(["good"], verbose=0).shape
    (1, 2)
    """
    if vocabulary is None:
        preprocessor = TextPreprocessor(**config["preprocessing"])
        preprocessor.adapt(train_texts)
    else:
        vocabulary = list(vocabulary)
        settings = {**config["preprocessing"], "max_tokens": len(vocabulary) + 2}
        preprocessor = TextPreprocessor(**settings)
        preprocessor.set_vocabulary(vocabulary)
    backbone = RecurrentBackbone(
        vocabulary_size=preprocessor.vocabulary_size, **config["backbone"]
    )
    return SequenceClassifier(
        backbone, class_names, preprocessor=preprocessor, **config["head"]
    )


#: Padded token steps (texts x longest text) one model call may read at once.
#: A batch whose padding would exceed it (one very long text among many) is
#: read one text at a time, so memory follows the longest text alone, not
#: batch size x longest text. 2**20 steps take about 1 GB in the LSTM 64 default.
MAX_BATCH_STEPS = 2**20


def serving_function(model, max_batch_steps=MAX_BATCH_STEPS):
    """`serving_default`: `text` string [batch] -> `label` and `probabilities`.

    Every text is read whole, whatever its length. A batch is read in one
    call unless its padded token ids exceed `max_batch_steps`; then one text
    at a time (each text's result is the same either way: padding is masked).

    Usage (a sketch; it needs a trained model, so it is not run as a test)::

        serve = serving_function(model); serve(tf.constant(["great film"]))["label"]
    """
    class_names = tf.constant(model.class_names)
    classes = len(model.class_names)

    def one_by_one(text):
        return tf.map_fn(
            lambda one: model(model.preprocessor(one[None]), training=False)[0],
            text,
            fn_output_signature=tf.TensorSpec([classes], tf.float32),
        )

    def serve(text):
        features = model.preprocessor(text)
        token_ids = features["token_ids"] if isinstance(features, dict) else features
        probabilities = tf.cond(
            tf.size(token_ids, out_type=tf.int64) > max_batch_steps,
            lambda: one_by_one(text),
            lambda: tf.cast(model(features, training=False), tf.float32),
        )
        label = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
        return {"label": label, "probabilities": probabilities}

    return serve


INPUT_SIGNATURE = [tf.TensorSpec([None], tf.string, name="text")]


#: Each model's traced serving function, kept while the model lives.
_SERVE = weakref.WeakKeyDictionary()


def predict_texts(model, texts, batch_size=256):
    """Class probabilities `(len(texts), classes)` of raw texts, each read whole.

    Texts are batched by length (little padding) through `serving_function`,
    so memory stays bounded whatever the lengths; results keep the input order.

    Usage (a sketch; it needs a trained model, so it is not run as a test)::

        predict_texts(model, ["great film", "dull"]).shape == (2, 2)
    """
    import numpy as np

    if model not in _SERVE:
        _SERVE[model] = tf.function(serving_function(model), input_signature=INPUT_SIGNATURE)
    serve = _SERVE[model]
    texts = list(texts)
    order = np.argsort([len(text) for text in texts], kind="stable")
    probabilities = np.zeros((len(texts), len(model.class_names)), dtype="float32")
    for start in range(0, len(texts), batch_size):
        chosen = order[start:start + batch_size]
        batch = tf.constant([texts[i] for i in chosen])
        probabilities[chosen] = serve(batch)["probabilities"].numpy()
    return probabilities
