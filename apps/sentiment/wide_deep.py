"""Wide & deep sentiment: a linear n-gram path beside the recurrent one, in one model.

The recurrent backbone reads the words in order; the wide path is a linear
layer over sparse n-gram features of the text: NBSVM's naive-Bayes scaled
1-3 grams (`apps.sentiment.nbsvm`, the default) or the in-product
baseline's TF-IDF 1-2 grams (`NgramTfIdf`). The model's class probabilities
are the softmax of the sum of both paths' logits (a product of experts).

The two paths are trained apart and then joined (`combine`): the recurrent
classifier by the usual training run, the wide path on its own, and the
wide logits' weight picked on the validation split. Training both jointly
from the start was measured worse and unstable (IMDB test 0.866, 0.881,
then 0.785 after the third epoch): the linear path fits the training split
within an epoch and leaves the recurrent one little to learn.
"""

import keras

from apps.sentiment.nbsvm import NgramLogCountRatio  # noqa: F401 - registered before `.keras` files deserialize it
from apps.sentiment.ngrams import NgramTfIdf  # noqa: F401 - same
from apps.sentiment.preprocessing import TextPreprocessor  # noqa: F401 - same
from seqcore.task import Task


@keras.saving.register_keras_serializable(package="seqcore")
class WideDeepPreprocessor(keras.layers.Layer):
    """Raw text -> `{"token_ids": ids (batch, steps), "ngrams": sparse n-gram features (batch, vocabulary)}`.

    Args:
        tokens: a `TextPreprocessor` (the recurrent path's token ids).
        ngrams: an `NgramLogCountRatio` or `NgramTfIdf` (the wide path's features).

    Example:

    >>> pre = WideDeepPreprocessor(TextPreprocessor(50, None), NgramTfIdf(50))
    >>> pre.adapt(["a good film", "a bad film"])
    >>> sorted(pre(keras.ops.convert_to_tensor(["good film"])))
    ['ngrams', 'token_ids']
    """

    def __init__(self, tokens, ngrams, **kwargs):
        super().__init__(**kwargs)
        self.tokens = tokens
        self.ngrams = ngrams

    def adapt(self, texts):
        """Learns both vocabularies from the training texts (a list or a dataset of strings)."""
        self.tokens.adapt(texts)
        self.ngrams.adapt(texts)

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        return {"token_ids": self.tokens(inputs), "ngrams": self.ngrams(inputs)}

    def get_config(self):
        config = super().get_config()
        config.update({"tokens": keras.layers.serialize(self.tokens),
                       "ngrams": keras.layers.serialize(self.ngrams)})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["tokens"] = keras.layers.deserialize(config["tokens"])
        config["ngrams"] = keras.layers.deserialize(config["ngrams"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="seqcore")
class WideDeepClassifier(Task, keras.Model):
    """Class probabilities from the sum of a recurrent head's and a linear n-gram layer's logits.

    Usually made by `combine` from a trained `SequenceClassifier` and a
    trained baseline.

    Args:
        backbone: a `RecurrentBackbone` over token ids.
        class_names: the label of each class, in output order.
        ngram_features: width of the sparse n-gram input.
        preprocessor: a `WideDeepPreprocessor`, applied by `fit` / `predict`.
        dropout: dropout before the recurrent head's output layer.

    Call arguments:
        inputs: `{"token_ids": int (batch, steps), "ngrams": sparse float (batch, ngram_features)}`.

    Returns:
        Class probabilities `(batch, len(class_names))`, float32.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> from seqcore.backbone import RecurrentBackbone
    >>> backbone = RecurrentBackbone(cell="lstm", units=4, vocabulary_size=20)
    >>> model = WideDeepClassifier(backbone, ["neg", "pos"], ngram_features=10)
    >>> ngrams = tf.sparse.from_dense(np.eye(10, dtype="float32")[:1])
    >>> model({"token_ids": tf.constant([[3, 4, 0]]), "ngrams": ngrams}).shape
    TensorShape([1, 2])
    """

    def __init__(self, backbone, class_names, ngram_features, preprocessor=None, dropout=0.2, **kwargs):
        class_names = [str(name) for name in class_names]
        if len(class_names) < 2:
            raise ValueError(f"A classifier needs at least 2 classes; received: {class_names}")

        # === Layers ===
        head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        deep_logits = keras.layers.Dense(len(class_names), name="deep_logits")
        wide_logits = keras.layers.Dense(len(class_names), name="wide_logits")
        probabilities = keras.layers.Softmax(dtype="float32", name="probabilities")

        # === Functional Model ===
        token_ids = backbone.input
        ngrams = keras.Input((int(ngram_features),), sparse=True, name="ngrams")
        pooled = backbone(token_ids)["pooled_output"]
        logits = keras.layers.Add(name="logits")(
            [deep_logits(head_dropout(pooled)), wide_logits(ngrams)]
        )
        super().__init__(
            inputs={"token_ids": token_ids, "ngrams": ngrams}, outputs=probabilities(logits), **kwargs
        )

        # === Config ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.class_names = class_names
        self.ngram_features = int(ngram_features)
        self.dropout = float(dropout)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles with Adam (gradients clipped), cross-entropy and accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3, clipnorm=1.0)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy()
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                "class_names": self.class_names,
                "ngram_features": self.ngram_features,
                "dropout": self.dropout,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        if config.get("preprocessor") is not None:
            config["preprocessor"] = keras.layers.deserialize(config["preprocessor"])
        return cls(**config)


#: Weights of the wide path's logits tried by `best_weight` (0: the recurrent model alone).
WIDE_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)


def combine(classifier, baseline_model, weight):
    """Joins a trained recurrent classifier and a trained baseline into one `WideDeepClassifier`.

    Args:
        classifier: a `SequenceClassifier` whose preprocessor is a
            `TextPreprocessor` (its output layer gives the deep logits).
        baseline_model: a linear n-gram model from raw text
            (`apps.sentiment.nbsvm.train_nbsvm`, `apps.sentiment.baseline.train_baseline`).
        weight: multiplies the baseline's logits.

    Returns:
        A `WideDeepClassifier` whose probabilities are
        `softmax(deep logits + weight * baseline logits)`.
    """
    vectorizer = next(layer for layer in baseline_model.layers
                      if isinstance(layer, (NgramLogCountRatio, NgramTfIdf)))
    linear = baseline_model.get_layer("probabilities")
    preprocessor = WideDeepPreprocessor(classifier.preprocessor, vectorizer)
    model = WideDeepClassifier(classifier.backbone, classifier.class_names, vectorizer.vocabulary_size,
                               preprocessor=preprocessor, dropout=classifier.dropout)
    model.get_layer("deep_logits").set_weights(classifier.get_layer("probabilities").get_weights())
    model.get_layer("wide_logits").set_weights([w * weight for w in linear.get_weights()])
    return model


def best_weight(deep_probabilities, wide_probabilities, labels, weights=WIDE_WEIGHTS):
    """The weight of the wide logits whose joined predictions are most accurate (then: lowest log loss).

    Accuracy picks it, as log loss alone picked too small a weight on IMDB
    (the baseline's probabilities are soft, the recurrent model's confident).

    Args:
        deep_probabilities, wide_probabilities: `(examples, classes)` of each
            path alone on the same (validation) texts.
        labels: their class indices.

    Example:

    >>> import numpy as np
    >>> deep = np.array([[0.6, 0.4], [0.6, 0.4]]); wide = np.array([[0.1, 0.9], [0.9, 0.1]])
    >>> best_weight(deep, wide, np.array([1, 0]))
    16.0
    """
    import numpy as np

    labels = np.asarray(labels)
    log_deep = np.log(np.clip(deep_probabilities, 1e-7, 1.0))
    log_wide = np.log(np.clip(wide_probabilities, 1e-7, 1.0))

    def score(weight):
        logits = log_deep + weight * log_wide
        logits -= logits.max(axis=1, keepdims=True)
        log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        accuracy = np.mean(logits.argmax(axis=1) == labels)
        return accuracy, log_probabilities[np.arange(len(labels)), labels].mean()

    return float(max(weights, key=score))
