"""Sentiment TFLite: the client recipe equals the model's preprocessing; the model matches Keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.sentiment.nbsvm import NgramLogCountRatio
from apps.sentiment.ngrams import NgramTfIdf
from apps.sentiment.preprocessing import TextPreprocessor
from apps.sentiment.tflite import client_for, tflite_models
from apps.sentiment.tflite_client import TextClient
from apps.sentiment.wide_deep import WideDeepClassifier, WideDeepPreprocessor
from seqcore.backbone import RecurrentBackbone
from seqcore.tflite import FLOAT_ATOL, run, write_models

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TRAIN = ["a good film, really good", "a bad film. Really bad!", "Très bien, j'ai aimé", "dull <br />and long",
         "good acting, bad plot", "the best film of the year"]
PROBE = ["Good film!", "BAD plot<br />really bad", "zebra", "", "good " * 20, "Très  bien\tj'ai aimé ça",
         "a film: the best, the worst?"]


LABELS = [1, 0, 1, 0, 0, 1]


@pytest.fixture(scope="module", params=["tfidf", "nbsvm"])
def model(request):
    keras.utils.set_random_seed(1)
    tokens = TextPreprocessor(max_tokens=30, sequence_length=None)
    if request.param == "tfidf":
        pre = WideDeepPreprocessor(tokens, NgramTfIdf(max_tokens=40))
        pre.adapt(TRAIN)
    else:  # NBSVM: presence of word 1-3 grams scaled by log-count ratios
        pre = WideDeepPreprocessor(tokens, NgramLogCountRatio(max_tokens=60, ngrams=3))
        tokens.adapt(TRAIN)
        pre.ngrams.adapt(TRAIN, LABELS)
    backbone = RecurrentBackbone(cell="lstm", units=8, vocabulary_size=tokens.vocabulary_size)
    return WideDeepClassifier(backbone, ["negative", "positive"], ngram_features=pre.ngrams.vocabulary_size,
                              preprocessor=pre, dropout=0.0)


def test_client_recipe_equals_the_models_preprocessing(model):
    client = client_for(model)
    features = client.features(PROBE)
    keras_ids = model.preprocessor.tokens(tf.constant(PROBE)).numpy()
    np.testing.assert_array_equal(features["token_ids"], keras_ids)
    # The n-gram path: count (or presence) x the n-gram's weight per id, as the Keras sparse layer gives.
    dense = tf.sparse.to_dense(model.preprocessor.ngrams(tf.constant(PROBE))).numpy()
    ngrams = model.preprocessor.ngrams
    idf = (ngrams.idf if isinstance(ngrams, NgramTfIdf) else ngrams.ratio).numpy()
    rebuilt = np.zeros_like(dense)
    for row, (ids, counts) in enumerate(zip(features["ngram_ids"], features["ngram_counts"])):
        np.add.at(rebuilt[row], ids, counts * idf[ids])
    np.testing.assert_allclose(rebuilt, dense, rtol=1e-6)
    assert dense[PROBE.index("zebra"), 0] != 0  # the unknown n-gram slot is used, and matched


def test_tflite_model_matches_keras_on_raw_texts(model, tmp_path):
    models, files = tflite_models(model, PROBE)
    (report,) = write_models(tmp_path, models, files=files)
    assert report.max_abs_difference <= FLOAT_ATOL
    assert {"model.tflite", "vocabulary.txt", "ngrams.txt", "preprocessing.json", "report.json"} == {
        p.name for p in tmp_path.iterdir()}
    # A device's path: the shipped files, the plain-Python client, the TFLite model, one text at a time.
    client = TextClient.from_folder(tmp_path)
    expected = model.predict(np.array(PROBE, dtype=object), verbose=0)
    for text, probabilities in zip(PROBE, expected):
        out = run(tmp_path / "model.tflite", client.features([text]))["probabilities"]
        np.testing.assert_allclose(out[0], probabilities, atol=FLOAT_ATOL)
