"""Sentiment as TensorFlow Lite: token ids (and n-gram counts) in, class probabilities out.

The SavedModel reads raw strings; TFLite builtins have no string ops, so the
TFLite model starts after the text preprocessing, which the client runs
(`apps.sentiment.tflite_client`, with the vocabularies written beside the
model). Inputs: `token_ids` int32 [batch, steps] (0 = padding, masked, as in
the Keras model), and for a wide & deep model `ngram_ids` int32 [batch, n]
with `ngram_counts` float32 [batch, n] (each distinct n-gram id and its
count, or 1 for a presence model such as NBSVM; padding: count 0). The
n-grams' weights (IDF, or NBSVM's log-count ratios) are folded into the model,
which computes the wide logits as the weighted sum of the gathered rows of the
wide layer (the same value as the Keras sparse matmul).
Output: `probabilities` float32 [batch, classes].
"""

import json

import numpy as np
import tensorflow as tf

from apps.sentiment.tflite_client import TextClient
from seqcore.errors import SeqcoreError


def _ngram_scale(ngrams):
    """The per-n-gram weight of the wide path's features: IDF (`NgramTfIdf`) or log-count ratio (NBSVM)."""
    scale = getattr(ngrams, "idf", None)
    if scale is None:
        scale = getattr(ngrams, "ratio", None)
    if scale is None:
        raise SeqcoreError(
            "TFLite export of a wide & deep model needs an n-gram layer with per-n-gram weights "
            f"(NgramTfIdf's idf or NgramLogCountRatio's ratio); received: {type(ngrams).__name__}"
        )
    return scale


def _is_wide(model):
    return "ngrams" in getattr(model, "input_names", []) or isinstance(model.input, dict)


def client_files(model):
    """The files a client needs beside the model: vocabularies and `preprocessing.json`."""
    pre = model.preprocessor
    tokens = getattr(pre, "tokens", pre)
    files = {"vocabulary.txt": "".join(f"{token}\n" for token in tokens.vectorizer.get_vocabulary())}
    settings = {"sequence_length": tokens.sequence_length, "class_names": list(model.class_names)}
    if _is_wide(model):
        ngrams = getattr(pre, "ngrams", None)
        _ngram_scale(ngrams)
        files["ngrams.txt"] = "".join(f"{gram}\n" for gram in ngrams.counter.get_vocabulary())
        settings["ngrams"] = ngrams.ngrams
        # count: each n-gram's count (TF-IDF); presence: 1 per distinct n-gram (NBSVM)
        settings["ngram_values"] = "presence" if ngrams.counter.get_config()["output_mode"] == "multi_hot" else "count"
    files["preprocessing.json"] = json.dumps(settings, indent=2) + "\n"
    return files


def client_for(model):
    """A `TextClient` with `model`'s vocabularies (what a device builds from the shipped files)."""
    files = client_files(model)
    settings = json.loads(files["preprocessing.json"])
    ngrams = files["ngrams.txt"].split("\n")[:-1] if "ngrams.txt" in files else None
    return TextClient(files["vocabulary.txt"].split("\n")[:-1], ngrams, settings["sequence_length"],
                      settings.get("ngrams", 2), settings.get("ngram_values", "count"))


def tflite_function(model):
    """`(fn, input_signature)` of the TFLite model: features in, `probabilities` out."""
    token_spec = tf.TensorSpec([None, None], tf.int32, name="token_ids")
    if not _is_wide(model):
        return (lambda token_ids: {"probabilities": tf.cast(model(token_ids, training=False), tf.float32)},
                [token_spec])

    scale = tf.convert_to_tensor(_ngram_scale(model.preprocessor.ngrams))
    wide = model.get_layer("wide_logits")
    deep = model.get_layer("deep_logits")

    def run(token_ids, ngram_ids, ngram_counts):
        pooled = model.backbone(token_ids, training=False)["pooled_output"]
        weights = ngram_counts * tf.gather(scale, ngram_ids)  # feature value of each listed n-gram
        rows = tf.gather(tf.convert_to_tensor(wide.kernel), ngram_ids)  # (batch, n, classes)
        wide_logits = tf.reduce_sum(rows * tf.expand_dims(weights, -1), axis=1) + wide.bias
        logits = deep(pooled) + wide_logits
        return {"probabilities": tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)}

    return run, [token_spec, tf.TensorSpec([None, None], tf.int32, name="ngram_ids"),
                 tf.TensorSpec([None, None], tf.float32, name="ngram_counts")]


def tflite_models(model, texts):
    """`seqcore.tflite.write_models` arguments for `model`: the models and the client files.

    The sample inputs are `texts` run through the client recipe; the
    expected outputs are the Keras model's on the raw texts, so the check
    covers the recipe too.
    """
    fn, signature = tflite_function(model)
    features = client_for(model).features(texts)
    expected = {"probabilities": np.asarray(model.predict(np.array(texts, dtype=object), verbose=0))}
    return {"model": (fn, signature, features, expected)}, client_files(model)
