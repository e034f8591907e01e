"""A tiny training run used by test_training.py; `resume` as argv[2] resumes it.

Each batch sleeps a little so the test can kill the process mid-epoch. A
resumed run writes, beside the run folder, the weights it started from
(`resumed_start.weights.h5`, after the backup was restored) and the epochs
and batches it trained (`resumed.json`).
"""

import json
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.runs import RunDir
from seqcore.training import finish_run, run_training


class Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.05)


class Record(keras.callbacks.Callback):
    """Runs after the backup is restored: saves the starting weights, counts what is trained."""

    def __init__(self, folder):
        super().__init__()
        self.folder, self.epochs, self.batches = folder, [], 0

    def on_train_begin(self, logs=None):
        self.model.save_weights(self.folder / "resumed_start.weights.h5")

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_train_end(self, logs=None):
        (self.folder / "resumed.json").write_text(json.dumps({"epochs": self.epochs, "batches": self.batches}))


def build():
    backbone = RecurrentBackbone(cell="gru", units=4, num_features=2)
    return SequenceClassifier(backbone, class_names=["a", "b"])


def main(out, mode):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(64, 5, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(4)
    run = RunDir(out)
    run.start(resume=mode == "resume")
    model = run_training(
        run, {"task": "test"}, build, data, data, epochs=4, resume=mode == "resume",
        patience=10, backup_every=2, seed=0, verbose=0,
        extra_callbacks=[Slow(), *([Record(run.path.parent)] if mode == "resume" else [])],
    )
    finish_run(run, {"accuracy": float(model.evaluate(data, verbose=0)[1])})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "fresh")
