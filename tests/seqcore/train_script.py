"""A tiny training run used by test_training.py; `resume` as argv[2] resumes it.

Each batch sleeps a little so the test can kill the process mid-epoch.
"""

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
        patience=10, backup_every=2, seed=0, verbose=0, extra_callbacks=[Slow()],
    )
    finish_run(run, {"accuracy": float(model.evaluate(data, verbose=0)[1])})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "fresh")
