"""Tests for apps.sentiment.preprocessing: `standardize_review` and `TextPreprocessor`."""

import doctest
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.sentiment import preprocessing
from apps.sentiment.model import build_classifier
from apps.sentiment.preprocessing import TextPreprocessor, standardize_review
from seqcore.saving import load_model

TRAIN_TEXTS = ["good film", "bad film", "good good acting", "bad plot"]


def standardize(*texts):
    """The standardized strings of `texts`, decoded."""
    return [t.decode("utf-8") for t in standardize_review(tf.constant(list(texts))).numpy()]


def tokens(text):
    return standardize(text)[0].split()


def make_preprocessor(max_tokens=20, sequence_length=8, texts=TRAIN_TEXTS):
    pre = TextPreprocessor(max_tokens=max_tokens, sequence_length=sequence_length)
    pre.adapt(texts)
    return pre


def ids(pre, *texts):
    """Token ids of a batch, as a NumPy array (checks dtype int32 and rank 2)."""
    out = pre(tf.constant(list(texts)))
    assert out.dtype == tf.int32 and out.shape.rank == 2
    return out.numpy()


def vocab_id(pre, word):
    return pre.vectorizer.get_vocabulary().index(word)


# standardize_review -----------------------------------------------------------------------------

def test_standardize_lower_cases():
    assert standardize("GREAT Film", "MiXeD") == ["great film", "mixed"]


def test_standardize_removes_br_and_html_tags():
    assert tokens("Great!<br />Loved it.") == ["great", "loved", "it"]
    # A tag between two words separates them instead of gluing them together.
    assert tokens("great<br/>film<br>again") == ["great", "film", "again"]
    assert tokens('<p class="x">A <b>bold</b> <i>move</i></p>') == ["a", "bold", "move"]
    for text in standardize("one<br /><br />two", "<BR />Upper tag"):
        assert "<" not in text and ">" not in text and "br" not in text.split()


def test_standardize_drops_punctuation_keeps_apostrophes_and_digits():
    assert tokens("Don't... stop! (It's 10/10, really?)") == [
        "don't", "stop", "it's", "1010", "really"]


def test_standardize_keeps_batch_shape_and_string_dtype():
    out = standardize_review(tf.constant([["A", "B"], ["C", "D"]]))
    assert out.dtype == tf.string and out.shape == (2, 2)
    assert standardize("", "!!!", "<br />") == ["", "", " "]


def test_standardize_is_registered_for_saving():
    assert keras.saving.get_registered_object("seqcore>standardize_review") is standardize_review
    assert keras.saving.get_registered_object("seqcore>TextPreprocessor") is TextPreprocessor


def test_standardize_keeps_non_ascii_letters():
    assert standardize("Café TRÈS bien!", "日本語 good") == ["café très bien", "日本語 good"]


def test_module_docstring_examples():
    result = doctest.testmod(preprocessing, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# TextPreprocessor -------------------------------------------------------------------------------

def test_adapt_builds_vocabulary_with_padding_and_oov_first():
    pre = make_preprocessor()
    vocabulary = pre.vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    assert set(vocabulary[2:]) == {"good", "film", "bad", "acting", "plot"}
    assert vocabulary[2] == "good"  # most frequent first
    assert pre.vocabulary_size == len(vocabulary) == 7


def test_adapt_accepts_a_dataset_and_applies_standardization():
    pre = TextPreprocessor(max_tokens=20, sequence_length=8)
    pre.adapt(tf.data.Dataset.from_tensor_slices(["GOOD<br />Film!", "good, film."]))
    assert sorted(pre.vectorizer.get_vocabulary()[2:]) == ["film", "good"]


def test_max_tokens_caps_the_vocabulary():
    pre = make_preprocessor(max_tokens=4, texts=["a a a b b c", "a b d"])
    assert pre.vocabulary_size == 4
    assert pre.vectorizer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    np.testing.assert_array_equal(ids(pre, "a b c d"), [[2, 3, 1, 1]])


def test_token_ids_and_out_of_vocabulary():
    pre = make_preprocessor()
    good, film, bad = (vocab_id(pre, w) for w in ("good", "film", "bad"))
    np.testing.assert_array_equal(ids(pre, "good film", "BAD <br />film!"),
                                  [[good, film], [bad, film]])
    np.testing.assert_array_equal(ids(pre, "unknown good zebra"), [[1, good, 1]])
    assert ids(pre, "never seen words").tolist() == [[1, 1, 1]]


def test_right_padding_to_longest_text_of_the_batch():
    pre = make_preprocessor(sequence_length=16)
    good, film, bad = (vocab_id(pre, w) for w in ("good", "film", "bad"))
    out = ids(pre, "good", "bad film good", "", "film bad")
    np.testing.assert_array_equal(out, [[good, 0, 0], [bad, film, good], [0, 0, 0],
                                        [film, bad, 0]])


def test_truncation_to_sequence_length():
    pre = make_preprocessor(sequence_length=3)
    good, film, bad = (vocab_id(pre, w) for w in ("good", "film", "bad"))
    out = ids(pre, "good film bad film good film", "bad")
    np.testing.assert_array_equal(out, [[good, film, bad], [bad, 0, 0]])
    assert ids(pre, *["good " * 50] * 3).shape == (3, 3)


@pytest.mark.parametrize("texts", [["", ""], ["!!!", "<br />"], [" "]])
def test_all_empty_batch_gives_one_padding_step(texts):
    pre = make_preprocessor()
    out = ids(pre, *texts)
    assert out.shape == (len(texts), 1)
    assert not out.any()


def test_works_in_tf_function_and_dataset_map():
    pre = make_preprocessor(sequence_length=4)
    eager = ids(pre, "good film", "bad")
    graph = tf.function(pre)(tf.constant(["good film", "bad"])).numpy()
    np.testing.assert_array_equal(graph, eager)
    dataset = tf.data.Dataset.from_tensor_slices(["good film", "bad"]).batch(2).map(pre)
    np.testing.assert_array_equal(next(iter(dataset)).numpy(), eager)
    empty = tf.function(pre)(tf.constant(["", "!"])).numpy()
    assert empty.shape == (2, 1) and not empty.any()


def test_get_config_round_trip():
    pre = TextPreprocessor(max_tokens=123, sequence_length=7, name="pre")
    config = pre.get_config()
    assert config["max_tokens"] == 123 and config["sequence_length"] == 7
    clone = TextPreprocessor.from_config(config)
    assert (clone.max_tokens, clone.sequence_length, clone.name) == (123, 7, "pre")


# .keras round trip ------------------------------------------------------------------------------

TINY_CONFIG = {
    "preprocessing": {"max_tokens": 50, "sequence_length": 6},
    "backbone": {"cell": "gru", "units": 4, "embedding_dim": 8},
    "head": {"dropout": 0.0},
}
PROBE = ["good film", "BAD plot<br />really bad", "zebra", "", "good " * 20]


@pytest.fixture(scope="module")
def saved_classifier(tmp_path_factory):
    model = build_classifier(TINY_CONFIG, TRAIN_TEXTS, ["neg", "pos"])
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    model.save(path)
    return model, path


def test_keras_round_trip_keeps_vocabulary_and_outputs(saved_classifier):
    model, path = saved_classifier
    loaded = load_model(path)
    assert isinstance(loaded.preprocessor, TextPreprocessor)
    assert loaded.preprocessor.max_tokens == 50 and loaded.preprocessor.sequence_length == 6
    assert loaded.preprocessor.vectorizer.get_vocabulary() == \
        model.preprocessor.vectorizer.get_vocabulary()
    assert loaded.preprocessor.vocabulary_size == 7
    np.testing.assert_array_equal(ids(loaded.preprocessor, *PROBE), ids(model.preprocessor, *PROBE))
    assert ids(loaded.preprocessor, *PROBE).shape == (len(PROBE), 6)
    assert loaded.class_names == ["neg", "pos"]
    texts = np.array(PROBE, dtype=object)
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), model.predict(texts, verbose=0),
                               atol=1e-6)


def test_keras_file_loads_in_a_fresh_process(saved_classifier):
    """`seqcore.saving.load_model` needs no `custom_objects` and no prior app import."""
    model, path = saved_classifier
    script = (
        "import sys\n"
        "from seqcore.saving import load_model\n"
        "m = load_model(sys.argv[1])\n"
        "print(type(m.preprocessor).__name__, m.preprocessor.vocabulary_size)\n"
        "print(m.preprocessor.vectorizer.get_vocabulary())\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = result.stdout.strip().splitlines()[-2:]
    assert first == "TextPreprocessor 7"
    assert second == str(model.preprocessor.vectorizer.get_vocabulary())
