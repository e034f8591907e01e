import json

import keras
import numpy as np

from seqcore.callbacks import BestModelCheckpoint, NanGuard, ResumableBackup


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_nan_guard_records_where_the_loss_diverged():
    x = np.array([[1.0, 2.0], [np.nan, 1.0]] * 4, "float32")
    guard = NanGuard()
    _model().fit(x, np.ones(8), batch_size=2, epochs=3, callbacks=[guard], shuffle=False, verbose=0)
    assert guard.diverged_at[:2] == (1, 1)


def test_best_checkpoint_keeps_the_best_value_across_restarts(tmp_path):
    path = tmp_path / "model.keras"
    first = BestModelCheckpoint(path, monitor="val_loss")
    first.set_model(_model())
    first.on_epoch_end(0, {"val_loss": 0.5})
    first.on_epoch_end(1, {"val_loss": 0.7})  # worse: not saved
    assert json.loads((tmp_path / "model.keras.best.json").read_text()) == {"best": 0.5, "epoch": 1}
    resumed = BestModelCheckpoint(path, monitor="val_loss")  # a resumed run
    assert resumed.best == 0.5
    resumed.set_model(_model())
    resumed.on_epoch_end(2, {"val_loss": float("nan")})  # never saved
    assert json.loads((tmp_path / "model.keras.best.json").read_text())["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras", "model.keras.best.json"]


def test_backup_saves_at_every_epoch_end_and_is_kept(tmp_path):
    backup = ResumableBackup(str(tmp_path / "backup"), save_freq=1000)
    _model().fit(np.ones((4, 2)), np.ones(4), epochs=2, callbacks=[backup], verbose=0)
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 2
