"""The baseline a practitioner tries first: TF-IDF of word 1-2 grams and one linear layer.

Every sentiment run is reported beside this baseline, trained on the same
training split and measured on the same split, so a user sees whether the
recurrent model earns its cost on their data. It uses Keras only
(`TextVectorization(output_mode="tf_idf", ngrams=2)` and a `Dense` softmax),
with the review standardization of the recurrent model.

Example:

>>> texts = ["a great film", "a dull film", "great fun", "dull and bad"]
>>> model, seconds = train_baseline(texts, [1, 0, 1, 0], texts, [1, 0, 1, 0], epochs=2)
>>> predict_baseline(model, ["great"]).shape
(1, 2)
"""

import time

import numpy as np

#: How the baseline reads text: vocabulary size (1-2 grams kept by frequency) and n-gram order.
MAX_TOKENS = 50000
NGRAMS = 2
#: Training of the linear layer: passes over the training split (the best by
#: validation accuracy is kept), batch size and Adam's learning rate.
EPOCHS = 5
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
#: How reports name it.
DESCRIPTION = f"TF-IDF word 1-{NGRAMS} grams ({MAX_TOKENS} kept) + linear layer"


def ngram_vectorizer(train_texts, max_tokens=MAX_TOKENS, ngrams=NGRAMS):
    """An `NgramTfIdf` layer (sparse TF-IDF of word 1-`ngrams` grams) adapted on `train_texts`."""
    from apps.sentiment.ngrams import NgramTfIdf

    vectorizer = NgramTfIdf(max_tokens=max_tokens, ngrams=ngrams, name="ngram_tf_idf")
    vectorizer.adapt(train_texts)
    return vectorizer


def vectors(vectorizer, texts, labels=None, batch_size=256):
    """A batched dataset of sparse TF-IDF vectors of `texts` (with their labels when given)."""
    import tensorflow as tf

    texts = np.array(list(texts), dtype=object)
    tensors = texts if labels is None else (texts, np.asarray(labels, dtype=np.int32))
    dataset = tf.data.Dataset.from_tensor_slices(tensors).batch(batch_size)
    if labels is None:
        return dataset.map(lambda text: (vectorizer(text),))
    return dataset.map(lambda text, label: (vectorizer(text), label))


def train_baseline(train_texts, train_labels, validation_texts, validation_labels, classes=2,
                   seed=0, vectorizer=None, epochs=EPOCHS, learning_rate=LEARNING_RATE):
    """Fits the baseline on a training split, keeping the epoch best on validation.

    Args:
        train_texts, train_labels: the training split (labels: class indices).
        validation_texts, validation_labels: picks the best epoch.
        classes: number of classes.
        seed: seeds the initial weights and the shuffle.
        vectorizer: an already adapted sparse n-gram layer to reuse (not
            changed; `NgramTfIdf`, `apps.sentiment.nbsvm.NgramLogCountRatio`), or None.
        epochs: passes over the training split.
        learning_rate: Adam's.

    Returns:
        `(model, seconds spent)`: a Keras model from raw strings `(batch,)`
        to class probabilities, saved and loaded like any Keras model.
    """
    import keras

    started = time.time()
    keras.utils.set_random_seed(seed)
    vectorizer = vectorizer or ngram_vectorizer(train_texts)
    inputs = keras.Input((vectorizer.vocabulary_size,), sparse=True, name="tf_idf")
    linear = keras.layers.Dense(classes, activation="softmax", name="probabilities")
    head = keras.Model(inputs, linear(inputs), name="ngram_linear")
    head.compile(optimizer=keras.optimizers.Adam(learning_rate),
                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # Sparse vectors are small: compute them once, then shuffle the batches each epoch.
    train = vectors(vectorizer, train_texts, train_labels, batch_size=BATCH_SIZE).cache()
    train = train.shuffle(len(train_labels) // BATCH_SIZE + 1, seed=seed, reshuffle_each_iteration=True)
    validation = vectors(vectorizer, validation_texts, validation_labels).cache()
    best, best_weights = -1.0, None
    for _ in range(epochs):
        head.fit(train, epochs=1, verbose=0, shuffle=False)  # shuffled above
        accuracy = head.evaluate(validation, verbose=0, return_dict=True)["accuracy"]
        if accuracy > best:
            best, best_weights = accuracy, head.get_weights()
    head.set_weights(best_weights)
    text = keras.Input((), dtype="string", name="text")
    model = keras.Model(text, linear(vectorizer(text)), name="ngram_baseline")
    return model, time.time() - started


def predict_baseline(model, texts, batch_size=256):
    """Class probabilities `(len(texts), classes)` of a baseline model on raw texts."""
    import tensorflow as tf

    texts = tf.data.Dataset.from_tensor_slices(np.array(list(texts), dtype=object))
    return model.predict(texts.batch(batch_size), verbose=0)


def baseline_report(baseline, texts, labels, class_names):
    """Classification metrics of the baseline on labelled texts."""
    from seqcore.metrics import classification_metrics

    return classification_metrics(np.asarray(labels), predict_baseline(baseline, texts), class_names)
