"""The baseline, the wide n-gram path and whole-document reading, at tiny scale."""

import numpy as np
import pytest
import tensorflow as tf

from apps.sentiment import baseline
from apps.sentiment.model import build_classifier, predict_texts, serving_function
from apps.sentiment.ngrams import NgramTfIdf
from apps.sentiment.preprocessing import TextPreprocessor, standardize_review
from apps.sentiment.wide_deep import WideDeepClassifier, best_weight, combine

POSITIVE = ["a great film i loved it", "wonderful acting and a lovely story", "brilliant and moving",
            "an excellent fun film", "superb cast and a great script", "loved every minute"]
NEGATIVE = ["a terrible film i hated it", "awful acting and a boring story", "dull slow and bad",
            "an awful boring film", "terrible cast and an awful script", "hated every minute"]
TEXTS = POSITIVE + NEGATIVE
LABELS = np.array([1] * len(POSITIVE) + [0] * len(NEGATIVE), dtype=np.int32)
CONFIG = {"preprocessing": {"max_tokens": 100, "sequence_length": None},
          "backbone": {"cell": "lstm", "units": 4, "pooling": "mean"}, "head": {"dropout": 0.0}}


@pytest.fixture(scope="module")
def joined():
    classifier = build_classifier(CONFIG, TEXTS, ["negative", "positive"])
    reference, _ = baseline.train_baseline(TEXTS, LABELS, TEXTS, LABELS, epochs=2)
    return combine(classifier, reference, 2.0), classifier, reference


def test_sparse_tf_idf_matches_keras_dense_tf_idf():
    import keras

    layer = NgramTfIdf(max_tokens=40)
    layer.adapt(TEXTS)
    dense = keras.layers.TextVectorization(max_tokens=40, standardize=standardize_review, ngrams=2,
                                           output_mode="tf_idf")
    dense.adapt(tf.data.Dataset.from_tensor_slices(TEXTS).batch(4))
    texts = tf.constant(["a great great film", "boring", "nothing known here"])
    np.testing.assert_allclose(tf.sparse.to_dense(layer(texts)).numpy(), dense(texts).numpy(), rtol=1e-6)


def test_whole_text_is_read_unless_a_length_is_set():
    text = tf.constant([" ".join(["great"] * 1000)])
    whole = TextPreprocessor(max_tokens=20, sequence_length=None)
    whole.adapt(["great film"])
    capped = TextPreprocessor(max_tokens=20, sequence_length=16)
    capped.adapt(["great film"])
    assert whole(text).shape == (1, 1000)
    assert capped(text).shape == (1, 16)


def test_joined_model_adds_the_weighted_baseline_logits(joined):
    model, classifier, reference = joined
    texts = ["a great film", "an awful film"]
    deep = predict_texts(classifier, texts)
    wide = baseline.predict_baseline(reference, texts)
    logits = np.log(deep) + 2.0 * np.log(wide)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(predict_texts(model, texts), expected, atol=1e-5)
    assert isinstance(model, WideDeepClassifier)


def test_joined_model_saves_and_loads(joined, tmp_path):
    from seqcore.saving import load_model

    model = joined[0]
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    texts = ["a great film", "boring"]
    np.testing.assert_allclose(predict_texts(loaded, texts), predict_texts(model, texts), atol=1e-6)


def test_a_review_longer_than_any_training_text_predicts_the_same_alone_and_in_a_batch(joined):
    model = joined[0]
    long_review = " ".join(TEXTS * 200)  # 2,000 times longer than a training text
    alone = predict_texts(model, [long_review])[0]
    batched = predict_texts(model, [*TEXTS, long_review])[-1]
    np.testing.assert_allclose(alone, batched, atol=1e-5)
    # Past the padded-step budget the batch is read one text at a time: same results.
    one_by_one = tf.function(serving_function(model, max_batch_steps=10))
    np.testing.assert_allclose(
        one_by_one(tf.constant([*TEXTS, long_review]))["probabilities"].numpy()[-1], alone, atol=1e-5
    )


def test_a_one_megabyte_review_is_predicted(joined):
    model = joined[0]
    review = ("a great film and a wonderful story. " * 30000)[: 1 << 20]
    probabilities = predict_texts(model, [review, "dull"])
    assert probabilities.shape == (2, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_best_weight_picks_the_most_accurate_mix():
    deep = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    wide = np.array([[0.6, 0.4], [0.3, 0.7], [0.4, 0.6]])
    labels = np.array([0, 1, 1])
    assert best_weight(deep, wide, labels, weights=(0.0, 1.0, 8.0)) == 8.0
    assert best_weight(deep, wide, np.array([0, 0, 1]), weights=(0.0, 8.0)) == 0.0
