"""`NgramTfIdf`: raw text -> a sparse TF-IDF vector of word n-grams, for texts of any length."""

import keras
import numpy as np
import tensorflow as tf

from apps.sentiment.preprocessing import standardize_review


class WeightedNgrams(keras.layers.Layer):
    """Base of the sparse n-gram layers: a text's word 1..`ngrams` grams, each scaled by a learned weight.

    A subclass says how n-grams are counted (`OUTPUT_MODE`: counts or
    presence), names its weight vector (`WEIGHT`: one value per vocabulary
    entry) and learns the vocabulary and the weights in `adapt`, calling
    `_set_weights`. Counting is sparse, so a text of any length costs memory
    in proportion to its distinct n-grams, not to the vocabulary.

    Args:
        max_tokens: vocabulary size (the most frequent n-grams of the
            adapted text, out-of-vocabulary slot included).
        ngrams: longest n-gram counted.
        vocabulary_size: set from the adapted vocabulary; given only when a
            saved layer is rebuilt.

    Call arguments:
        inputs: string tensor `(batch,)`.

    Returns:
        A float32 `tf.SparseTensor` `(batch, vocabulary_size)`.
    """

    OUTPUT_MODE = "count"
    WEIGHT = "weight"
    COUNTER_NAME = "ngram_counter"

    def __init__(self, max_tokens, ngrams, vocabulary_size=None, **kwargs):
        super().__init__(**kwargs)
        self.max_tokens = int(max_tokens)
        self.ngrams = int(ngrams)
        self.vocabulary_size = None if vocabulary_size is None else int(vocabulary_size)
        self.counter = keras.layers.TextVectorization(
            max_tokens=self.max_tokens,
            standardize=standardize_review,
            ngrams=self.ngrams,
            output_mode=self.OUTPUT_MODE,
            sparse=True,
            name=self.COUNTER_NAME,
        )
        self.weight_vector = None
        if self.vocabulary_size is not None:
            self._make_weights(self.vocabulary_size)

    def _make_weights(self, size):
        self.weight_vector = self.add_weight(name=self.WEIGHT, shape=(size,), initializer="ones", trainable=False)

    def _set_weights(self, values):
        """Sets one weight per vocabulary entry (resizing the vector to the adapted vocabulary)."""
        if self.weight_vector is None or self.weight_vector.shape[0] != len(values):
            self.vocabulary_size = len(values)
            self._make_weights(self.vocabulary_size)
        self.weight_vector.assign(np.asarray(values, dtype="float32"))

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        counts = self.counter(inputs)
        weights = tf.gather(tf.convert_to_tensor(self.weight_vector), counts.indices[:, 1])
        return tf.SparseTensor(counts.indices, tf.cast(counts.values, "float32") * weights, counts.dense_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocabulary_size)

    def get_config(self):
        config = super().get_config()
        config.update({"max_tokens": self.max_tokens, "ngrams": self.ngrams,
                       "vocabulary_size": self.vocabulary_size})
        return config


@keras.saving.register_keras_serializable(package="seqcore")
class NgramTfIdf(WeightedNgrams):
    """Counts a text's word 1..`ngrams` grams and weights each count by its IDF.

    The same vector as `TextVectorization(output_mode="tf_idf", ngrams=...)`
    (count times inverse document frequency, learned by `adapt`), but
    sparse: a text of any length costs memory in proportion to its
    distinct n-grams, not to the vocabulary. (Keras' own `sparse=True`
    TF-IDF output fails in this Keras version; counting sparsely and
    weighting the counts here avoids it.)

    Arguments, call and output as in `WeightedNgrams`.

    Example:

    >>> layer = NgramTfIdf(max_tokens=20)
    >>> layer.adapt(["a good film", "a bad film", "good fun"])
    >>> tf.sparse.to_dense(layer(tf.constant(["good film"]))).shape
    TensorShape([1, 11])
    """

    WEIGHT = "idf"

    def __init__(self, max_tokens=50000, ngrams=2, vocabulary_size=None, **kwargs):
        super().__init__(max_tokens, ngrams, vocabulary_size, **kwargs)

    @property
    def idf(self):
        """The inverse document frequency of each vocabulary entry."""
        return self.weight_vector

    def adapt(self, texts, batch_size=256):
        """Learns the n-gram vocabulary and IDF weights from a list (or dataset) of strings."""
        if not isinstance(texts, tf.data.Dataset):
            texts = tf.data.Dataset.from_tensor_slices(list(texts))
        tfidf = keras.layers.TextVectorization(
            max_tokens=self.max_tokens, standardize=standardize_review, ngrams=self.ngrams,
            output_mode="tf_idf",
        )
        tfidf.adapt(texts.batch(batch_size))
        vocabulary = tfidf.get_vocabulary()
        weights = np.asarray(tfidf._lookup_layer.idf_weights, dtype="float32")
        self.counter.set_vocabulary(vocabulary)
        self._set_weights(weights)
