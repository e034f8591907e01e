"""`NgramLogCountRatio`: raw text -> which word n-grams it holds, each scaled by its naive-Bayes log-count ratio.

The features of NBSVM (Wang & Manning 2012, "Baselines and Bigrams: Simple,
Good Sentiment and Topic Classification"): a text is the set of its word
1..`ngrams` grams (presence, not counts), and n-gram *f* is scaled by

    r_f = log( (p_f / |p|_1) / (q_f / |q|_1) ),  p = alpha + sum of the positive texts' presences,
                                                 q = alpha + sum of the negative texts'

learned by `adapt` from labelled training text. A linear layer over these
features (logistic regression) is a strong bag-of-n-grams classifier, much
stronger on reviews than TF-IDF + the same layer; the sentiment app joins it
beside the recurrent model (`apps.sentiment.wide_deep`).

With more than two classes there is no single ratio; every n-gram then
weighs 1 (binary presence of 1..`ngrams` grams).
"""

import keras
import numpy as np
import tensorflow as tf

from apps.sentiment.ngrams import WeightedNgrams


@keras.saving.register_keras_serializable(package="seqcore")
class NgramLogCountRatio(WeightedNgrams):
    """Marks a text's word 1..`ngrams` grams (presence) and scales each by its log-count ratio.

    Sparse, like `NgramTfIdf`: a text of any length costs memory in
    proportion to its distinct n-grams.

    Args:
        alpha: smoothing count added to every n-gram of each class; the
            other arguments, the call and the output are as in
            `WeightedNgrams` (n-grams are marked, not counted).

    Example:

    >>> layer = NgramLogCountRatio(max_tokens=50, ngrams=2)
    >>> layer.adapt(["a good film", "a bad film", "good fun"], [1, 0, 1])
    >>> row = tf.sparse.to_dense(layer(tf.constant(["good"])))[0].numpy()
    >>> float(row.max()) > 0 > float(tf.sparse.to_dense(layer(tf.constant(["bad"])))[0].numpy().min())
    True
    """

    OUTPUT_MODE = "multi_hot"
    WEIGHT = "ratio"
    COUNTER_NAME = "ngram_marker"

    def __init__(self, max_tokens=200000, ngrams=3, alpha=1.0, vocabulary_size=None, **kwargs):
        super().__init__(max_tokens, ngrams, vocabulary_size, **kwargs)
        self.alpha = float(alpha)

    @property
    def ratio(self):
        """The naive-Bayes log-count ratio of each vocabulary entry."""
        return self.weight_vector

    def adapt(self, texts, labels, batch_size=256):
        """Learns the n-gram vocabulary and each n-gram's ratio from labelled training texts.

        Args:
            texts: the training texts (a list of strings).
            labels: their class indices; with two classes, 1 is the
                positive one.
            batch_size: texts per step while counting.
        """
        texts = list(texts)
        labels = np.asarray(labels)
        self.counter.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(batch_size))
        size = self.counter.vocabulary_size()
        if len(np.unique(labels)) != 2 or labels.max() != 1:
            self._set_weights(np.ones(size, dtype="float32"))
            return
        presence = np.full((2, size), self.alpha)  # (negative, positive) sums, smoothed
        for start in range(0, len(texts), batch_size):
            marks = self.counter(tf.constant(texts[start:start + batch_size]))
            rows = labels[start:start + batch_size][marks.indices[:, 0].numpy()]
            np.add.at(presence, (rows, marks.indices[:, 1].numpy()), marks.values.numpy())
        presence /= presence.sum(axis=1, keepdims=True)
        self._set_weights(np.log(presence[1] / presence[0]))

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


#: How the n-gram path reads text (1-3 grams, the 200,000 most frequent) and trains
#: (Adam's learning rate, passes over the training split; the best by validation accuracy is kept).
MAX_TOKENS = 200000
NGRAMS = 3
LEARNING_RATE = 3e-3
EPOCHS = 3
#: How reports name it.
DESCRIPTION = f"NBSVM: word 1-{NGRAMS} grams ({MAX_TOKENS} kept) scaled by naive-Bayes log-count ratios + linear layer"


def train_nbsvm(train_texts, train_labels, validation_texts, validation_labels, classes=2, seed=0):
    """Fits the NBSVM path (logistic-regression variant) on a training split.

    Returns:
        `(model, seconds spent)`: a Keras model from raw strings `(batch,)`
        to class probabilities, like `apps.sentiment.baseline.train_baseline`'s.

    Example:

    >>> texts = ["a great film", "a dull film", "great fun", "dull and bad"]
    >>> model, seconds = train_nbsvm(texts, [1, 0, 1, 0], texts, [1, 0, 1, 0])
    >>> model.predict(tf.constant(["great"]), verbose=0).shape
    (1, 2)
    """
    import time

    from apps.sentiment.baseline import train_baseline

    started = time.time()
    features = NgramLogCountRatio(max_tokens=MAX_TOKENS, ngrams=NGRAMS, name="ngram_nb_ratio")
    features.adapt(train_texts, train_labels)
    model, _ = train_baseline(train_texts, train_labels, validation_texts, validation_labels, classes=classes,
                              seed=seed, vectorizer=features, epochs=EPOCHS, learning_rate=LEARNING_RATE)
    return model, time.time() - started
