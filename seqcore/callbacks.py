"""Training callbacks that Keras does not ship in the form a run needs."""

import math
import os

import keras

from seqcore.runs import read_json, save_model_atomically, write_json


class NanGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN`, it remembers where that
    happened (`diverged_at`), so the caller can report it.

    Example:

    >>> guard = NanGuard()
    >>> guard.diverged_at is None
    True
    """

    def __init__(self):
        super().__init__()
        self.diverged_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch + 1, batch + 1, float(loss))
            self.model.stop_training = True


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves the whole model whenever `monitor` improves, atomically.

    The model is written to a temporary file and renamed, and the best value
    is kept in `<filepath>.best.json`, so a resumed run keeps comparing
    against the best epoch before the interruption.

    Args:
        filepath: where to save the best model (`.keras`).
        monitor: the logged metric to watch, e.g. `"val_loss"`.
        mode: `"min"` or `"max"`.

    Example:

    >>> checkpoint = BestModelCheckpoint("best.keras", monitor="val_loss")
    """

    def __init__(self, filepath, monitor="val_loss", mode="min"):
        super().__init__()
        self.filepath = str(filepath)
        self.monitor = monitor
        self.mode = mode
        self._state_path = self.filepath + ".best.json"
        self.best = None
        if os.path.exists(self._state_path):
            self.best = read_json(self._state_path)["best"]

    def _improved(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        if self._improved(float(value)):
            save_model_atomically(self.model, self.filepath)
            self.best = float(value)
            write_json(self._state_path, {"best": self.best, "epoch": epoch + 1})


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that also saves at every epoch end, and keeps its backup.

    Keras' version with an integer `save_freq` saves only every N batches,
    so a finished epoch could be lost; this one saves at the end of every
    epoch too. The backup is kept after training (`finish_run` removes it),
    so a run killed while its final metrics are computed does not retrain.
    A run resumed mid-epoch restarts that epoch from the weights saved
    mid-way through it (Keras restores the epoch, not the batch).

    Example:

    >>> backup = ResumableBackup("runs/demo.partial/backup", save_freq=50)
    """

    def __init__(self, backup_dir, save_freq=50):
        super().__init__(backup_dir, save_freq=save_freq, double_checkpoint=True, delete_checkpoint=False)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":
            self._save_model()
