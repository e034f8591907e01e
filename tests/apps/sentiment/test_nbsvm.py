"""NBSVM features: presence of word n-grams scaled by naive-Bayes log-count ratios."""

import keras
import numpy as np
import tensorflow as tf

from apps.sentiment.nbsvm import NgramLogCountRatio

TEXTS = ["a good film", "good acting, good fun", "a bad film", "bad and dull"]
LABELS = [1, 1, 0, 0]


def dense(layer, texts):
    return tf.sparse.to_dense(layer(tf.constant(texts))).numpy()


def adapted(labels=LABELS, **options):
    layer = NgramLogCountRatio(max_tokens=100, ngrams=2, **options)
    layer.adapt(TEXTS, labels)
    return layer


def test_ratios_have_the_sign_of_the_class_and_follow_the_smoothed_counts():
    layer = adapted()
    vocabulary = layer.counter.get_vocabulary()
    ratio = dict(zip(vocabulary, layer.ratio.numpy()))
    assert ratio["good"] > 0 > ratio["bad"] and abs(ratio["film"]) < ratio["good"]
    # "good" marks 2 positive texts (presence, not its 3 occurrences), 0 negative; alpha 1.
    positive = np.full(len(vocabulary), 1.0)
    negative = np.full(len(vocabulary), 1.0)
    for text, label in zip(TEXTS, LABELS):
        marks = dense(layer.counter, [text])[0] > 0
        (positive if label else negative)[marks] += 1
    expected = np.log((positive / positive.sum()) / (negative / negative.sum()))
    np.testing.assert_allclose(layer.ratio.numpy(), expected, rtol=1e-5)


def test_presence_not_counts_and_the_same_alone_or_in_a_batch():
    layer = adapted()
    thrice = dense(layer, ["good good good film"])[0]
    marked = thrice != 0
    assert marked.sum() >= 2  # "good", "film" (and the out-of-vocabulary bigrams' slot)
    np.testing.assert_allclose(thrice[marked], layer.ratio.numpy()[marked])
    alone = dense(layer, ["a bad film " * 500])[0]
    batched = dense(layer, ["a bad film " * 500, "good"])[0]
    np.testing.assert_allclose(alone, batched)


def test_more_than_two_classes_weigh_every_ngram_one():
    layer = adapted(labels=[0, 1, 2, 2])
    np.testing.assert_array_equal(layer.ratio.numpy(), np.ones(layer.vocabulary_size, dtype="float32"))


def test_saved_and_reloaded_it_reads_the_same(tmp_path):
    layer = adapted()
    text = keras.Input((), dtype="string")
    model = keras.Model(text, keras.layers.Dense(2)(layer(text)))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    batch = tf.constant(["a good film", "bad and dull fun"])
    np.testing.assert_allclose(model(batch).numpy(), again(batch).numpy(), rtol=1e-6)
