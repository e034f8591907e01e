"""Raw review text -> token ids, with a vocabulary learned on training text."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="seqcore")
def standardize_review(text):
    """Lower-cases, turns HTML tags into spaces, drops punctuation; keeps letters of any script.

    Example:

    >>> standardize_review(tf.constant(["Great!<br />Très bien."])).numpy()[0].decode()
    'great très bien'
    """
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"<\s*/?\s*[a-z][^<>]*>", " ")
    return tf.strings.regex_replace(text, r"[^\p{L}\p{N}\s']", "")


@keras.saving.register_keras_serializable(package="seqcore")
class TextPreprocessor(keras.layers.Layer):
    """Maps a batch of strings to right-padded token ids: the whole text, or its first `sequence_length`.

    Id 0 is padding and id 1 stands for out-of-vocabulary words, so the
    backbone's embedding masks padding. Adapt it on training text only.

    Args:
        max_tokens: vocabulary size, padding and out-of-vocabulary included.
        sequence_length: keep the first `sequence_length` tokens of a text;
            None keeps every token (whole documents, any length).

    Call arguments:
        inputs: string tensor `(batch,)`.

    Returns:
        int32 tensor `(batch, steps)`, steps <= `sequence_length` (when
        set), padded with zeros to the longest text of the batch.

    Example:

    >>> pre = TextPreprocessor(max_tokens=10, sequence_length=4)
    >>> pre.adapt(tf.data.Dataset.from_tensor_slices(["good film", "bad film"]))
    >>> pre(tf.constant(["good bad film", "film"])).shape
    TensorShape([2, 3])
    """

    def __init__(self, max_tokens=20000, sequence_length=256, **kwargs):
        super().__init__(**kwargs)
        self.max_tokens = int(max_tokens)
        self.sequence_length = None if sequence_length is None else int(sequence_length)
        self.vectorizer = keras.layers.TextVectorization(
            max_tokens=self.max_tokens,
            standardize=standardize_review,
            output_sequence_length=None,
            name="vectorizer",
        )

    def adapt(self, text_dataset, batch_size=256):
        """Learns the vocabulary from a dataset (or list) of strings."""
        if not isinstance(text_dataset, tf.data.Dataset):
            text_dataset = tf.data.Dataset.from_tensor_slices(list(text_dataset))
        self.vectorizer.adapt(text_dataset.batch(batch_size))

    def set_vocabulary(self, tokens):
        """Uses `tokens` (most frequent first, without padding and `[UNK]`) instead of adapting.

        For a vocabulary shared with another model, e.g. a word-level
        language model the backbone starts from (`seqcore.transfer`).
        """
        self.vectorizer.set_vocabulary(list(tokens))

    @property
    def vocabulary_size(self):
        return self.vectorizer.vocabulary_size()

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        token_ids = tf.cast(self.vectorizer(inputs), "int32")
        if self.sequence_length is not None:
            token_ids = token_ids[:, : self.sequence_length]
        # An all-empty batch would have zero steps; give it one padding step.
        missing = tf.maximum(1 - tf.shape(token_ids)[1], 0)
        return tf.pad(token_ids, [[0, 0], [0, missing]])

    def get_config(self):
        config = super().get_config()
        config.update(
            {"max_tokens": self.max_tokens, "sequence_length": self.sequence_length}
        )
        return config
