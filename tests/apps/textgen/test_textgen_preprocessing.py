"""The tokenizer: exact round trips at both levels, unknown tokens, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.textgen.preprocessing import TextTokenizer, split_tokens

TEXT = "ROMEO:\nBut soft, what light through yonder window breaks?\n  O'er the sea — Très bien!"


@pytest.mark.parametrize("level", ["char", "word"])
def test_vocabulary_round_trip(level):
    tokens = [t.decode() for t in split_tokens(tf.constant(TEXT), level).numpy()]
    assert "".join(tokens) == TEXT
    vocabulary = sorted(set(tokens))
    tokenizer = TextTokenizer(level, vocabulary=vocabulary)
    ids = tokenizer(tf.constant([TEXT, ""]))
    assert ids.shape[0] == 2 and int(tf.reduce_min(ids[0])) >= 2
    assert (ids.numpy()[1] == 0).all()
    assert tokenizer.detokenize(ids).numpy().tolist() == [TEXT.encode(), b""]


def test_word_tokens_keep_inner_apostrophes_and_single_punctuation():
    tokens = split_tokens(tf.constant(["O'er thee, 'tis...\n"]), "word").to_list()[0]
    assert [t.decode() for t in tokens] == ["O'er", " ", "thee", ",", " ", "'", "tis", ".", ".", ".", "\n"]


def test_unseen_tokens_map_to_the_unknown_id():
    tokenizer = TextTokenizer("char", vocabulary=list("abc"))
    assert tokenizer(tf.constant(["aΩc"])).numpy().tolist() == [[2, 1, 4]]
    assert tokenizer.detokenize(tf.constant([[2, 1, 4, 0]])).numpy()[0] == b"a[UNK]c"
    assert tokenizer.vocabulary_size == 5 and tokenizer.special_ids == (0, 1)


def test_tokenizer_round_trips_through_a_keras_file(tmp_path):
    tokenizer = TextTokenizer("word", vocabulary=["the", " ", "king", "\n"])
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, tokenizer(inputs))
    model.save(tmp_path / "tok.keras")
    loaded = keras.saving.load_model(tmp_path / "tok.keras")
    layer = [layer for layer in loaded.layers if isinstance(layer, TextTokenizer)][0]
    assert layer.vocabulary == tokenizer.vocabulary and layer.level == "word"
    texts = tf.constant(["the king\nthe queen"])
    np.testing.assert_array_equal(layer(texts), tokenizer(texts))
