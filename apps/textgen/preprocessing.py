"""Text <-> token ids for the language model, at character or word level.

Tokens cover the text exactly, so `detokenize(tokenize(text)) == text` for
any text made of known tokens:

* `char`: one token per Unicode character.
* `word`: runs of letters/digits (with inner apostrophes, `o'er`), and every
  other character on its own: a space, a newline, a punctuation mark.

Id 0 is padding and id 1 the unknown token `[UNK]`: a character (or word)
that the vocabulary has never seen maps to it, and generation never emits
it (nor padding).
"""

import keras
import tensorflow as tf

from apps.textgen.settings import LEVELS

UNKNOWN = "[UNK]"
#: A word token, or any single other character (RE2 syntax).
WORD_PATTERN = r"[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*|(?s:.)"
_SEPARATOR = "\x1f"


def split_tokens(text, level):
    """Splits a string tensor `(batch,)` (or a scalar) into a ragged tensor of string tokens.

    Example:

    >>> split_tokens(tf.constant(["o'er the\\nsea!"]), "word").to_list()
    [[b"o'er", b' ', b'the', b'\\n', b'sea', b'!']]
    """
    if level == "char":
        return tf.strings.unicode_split(text, "UTF-8", errors="replace")
    text = tf.strings.regex_replace(text, _SEPARATOR, " ")
    marked = tf.strings.regex_replace(text, "(" + WORD_PATTERN + ")", _SEPARATOR + r"\1")
    tokens = tf.strings.split(marked, _SEPARATOR)
    # Every token is preceded by the separator, so the first piece is empty.
    return tokens[..., 1:]


@keras.saving.register_keras_serializable(package="seqcore")
class TextTokenizer(keras.layers.Layer):
    """Maps strings to right-padded token ids and back, with a fixed vocabulary.

    Args:
        level: `"char"` or `"word"`.
        vocabulary: the known tokens, most frequent first, without padding
            or `[UNK]` (ids start at 2).

    Call arguments:
        inputs: string tensor `(batch,)`.

    Returns:
        int32 `(batch, steps)` ids, right-padded with 0 to the longest text.

    Example:

    >>> tokenizer = TextTokenizer("char", vocabulary=list("abc "))
    >>> tokenizer(tf.constant(["ab c", "z"])).numpy().tolist()
    [[2, 3, 5, 4], [1, 0, 0, 0]]
    >>> tokenizer.detokenize(tf.constant([[2, 3, 5, 4]])).numpy()[0]
    b'ab c'
    """

    def __init__(self, level="char", vocabulary=(), **kwargs):
        super().__init__(**kwargs)
        if level not in LEVELS:
            raise ValueError(f"Unknown level; expected one of {', '.join(LEVELS)}; received: {level!r}")
        self.level = level
        self.vocabulary = [str(token) for token in vocabulary]
        self.lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary or None,
            mask_token="",
            num_oov_indices=1,
            oov_token=UNKNOWN,
            name="lookup",
        )
        self.inverse = keras.layers.StringLookup(
            vocabulary=self.vocabulary or None,
            mask_token="",
            num_oov_indices=1,
            oov_token=UNKNOWN,
            invert=True,
            name="inverse_lookup",
        )
        # Ids of tokens that generation must not emit: padding and [UNK].
        self.special_ids = (0, 1)

    @property
    def vocabulary_size(self):
        """Number of ids, padding and `[UNK]` included."""
        return len(self.vocabulary) + 2

    def build(self, input_shape=None):
        self.built = True

    def split(self, text):
        return split_tokens(text, self.level)

    def token_ids(self, tokens):
        """String tokens (any shape, ragged too) -> int32 ids."""
        return tf.cast(self.lookup(tokens), tf.int32)

    def call(self, inputs):
        ids = self.token_ids(self.split(inputs))
        ids = ids.to_tensor(0) if isinstance(ids, tf.RaggedTensor) else ids
        missing = tf.maximum(1 - tf.shape(ids)[1], 0)  # all-empty batch: one padding step
        return tf.pad(ids, [[0, 0], [0, missing]])

    def tokens(self, ids):
        """int ids `(batch, steps)` -> string tokens; padding becomes the empty string."""
        tokens = self.inverse(tf.cast(ids, tf.int64))
        return tf.where(tf.equal(ids, 0), tf.constant(""), tokens)

    def detokenize(self, ids):
        """int ids `(batch, steps)` -> string `(batch,)`; padding is dropped."""
        return tf.strings.reduce_join(self.tokens(ids), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"level": self.level, "vocabulary": self.vocabulary})
        return config
