import keras
import numpy as np
import pytest
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier


class Doubler(keras.layers.Layer):
    """A stand-in preprocessor: raw features -> features * 2, recording its calls."""

    calls = 0

    def call(self, inputs):
        Doubler.calls += 1
        return inputs * 2.0


def _task():
    backbone = RecurrentBackbone(cell="gru", units=3, num_features=2, mask_value=None)
    return SequenceClassifier(backbone, ["a", "b"], preprocessor=Doubler())


def test_predict_runs_the_preprocessor_on_raw_arrays_and_datasets():
    task = _task()
    raw = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32")
    expected = task(raw * 2.0).numpy()
    np.testing.assert_allclose(task.predict(raw, verbose=0), expected, atol=1e-6)
    dataset = tf.data.Dataset.from_tensor_slices((raw,)).batch(2)
    np.testing.assert_allclose(task.predict(dataset, verbose=0), expected, atol=1e-6)


def test_fit_preprocesses_training_and_validation_data_once():
    task = _task()
    task.compile()
    raw = np.random.default_rng(1).normal(size=(4, 5, 2)).astype("float32")
    labels = np.array([0, 1, 0, 1])
    Doubler.calls = 0
    history = task.fit(raw, labels, validation_data=(raw, labels), batch_size=2, epochs=3, verbose=0)
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history.history)
    # traced once per dataset (training, validation), never inside the model's steps or per epoch
    assert Doubler.calls == 2
    Doubler.calls = 0
    scores = task.evaluate(raw, labels, verbose=0, return_dict=True)
    assert Doubler.calls == 1
    # the model was scored on the preprocessed (doubled) inputs, exactly once
    probabilities = task(raw * 2.0).numpy()
    expected = keras.losses.sparse_categorical_crossentropy(labels, probabilities).numpy().mean()
    assert scores["loss"] == pytest.approx(float(expected), rel=1e-5)
    assert scores["accuracy"] == pytest.approx(float(np.mean(probabilities.argmax(-1) == labels)))
