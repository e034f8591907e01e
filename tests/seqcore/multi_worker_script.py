"""One worker of a two-worker `multi-worker` training run, used by test_multi_worker.py.

Run with `TF_CONFIG` set: `python multi_worker_script.py OUT WITNESS`. It
trains a tiny classifier through `seqcore.training.run_training` exactly as
an app's `train --strategy multi-worker` does (`prepare_run`, the strategy
before any TensorFlow op, `finish_run`), on 48 examples whose second feature
is the example's id. The model prints the ids of every batch it trains on, so
`WITNESS` (JSON) tells which examples this worker trained on in each epoch,
and where it trained (`work`).
"""

import json
import sys

from seqcore.distribute import resolve_strategy
from seqcore.runs import prepare_run

EXAMPLES, EPOCHS, GLOBAL_BATCH = 48, 2, 8


def main(out, witness):
    run, _ = prepare_run(out, "test", strategy="multi-worker")
    distribution = resolve_strategy("multi-worker")  # before any other TensorFlow op
    import keras
    import numpy as np
    import tensorflow as tf

    from seqcore.backbone import RecurrentBackbone
    from seqcore.classifier import SequenceClassifier
    from seqcore.training import finish_run, run_training

    noted = f"{witness}.ids"  # one line per epoch, then one per batch trained


    @keras.saving.register_keras_serializable(package="multi_worker_test")
    class Witnessed(SequenceClassifier):
        """Notes the ids (feature 1 of the first step) of each batch it trains on."""

        def train_step(self, data):
            tf.print(tf.cast(tf.round(data[0][:, 0, 1]), tf.int32), summarize=-1, output_stream=f"file://{noted}")
            return super().train_step(data)

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            with open(noted, "a") as file:
                file.write(f"epoch {epoch}\n")

    rng = np.random.default_rng(0)
    features = rng.normal(size=(EXAMPLES, 5, 2)).astype("float32")
    features[:, :, 1] = np.arange(EXAMPLES)[:, None]
    labels = (features[:, 0, 0] > 0).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(GLOBAL_BATCH)

    def build():
        return Witnessed(RecurrentBackbone(cell="gru", units=4, num_features=2), class_names=["a", "b"])

    run.start()
    run_training(run, {"task": "test"}, build, data, data.take(1), epochs=EPOCHS, seed=0, verbose=0,
                 extra_callbacks=[Epochs()], distribution=distribution, batch_size=GLOBAL_BATCH // 2)
    finish_run(run, {"examples": EXAMPLES})
    epochs = []
    with open(noted) as file:
        for line in file:
            if line.startswith("epoch"):
                epochs.append([])
            else:
                epochs[-1] += [int(i) for i in line.strip(" []\n").split()]
    with open(witness, "w") as file:
        json.dump({"epochs": epochs, "work": str(run.work), "chief": run.is_chief}, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
