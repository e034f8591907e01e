import keras
import numpy as np
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
    raw = np.ones((4, 5, 2), "float32")
    history = task.fit(raw, np.array([0, 1, 0, 1]), validation_data=(raw, np.array([0, 1, 0, 1])),
                       batch_size=2, epochs=1, verbose=0)
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history.history)
    assert task.evaluate(raw, np.array([0, 1, 0, 1]), verbose=0, return_dict=True)["accuracy"] >= 0.0
