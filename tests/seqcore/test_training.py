import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.errors import SeqcoreError
from seqcore.runs import RunDir
from seqcore.training import _ema_momentum, discard_on_error, finish_run, run_training

SCRIPT = Path(__file__).with_name("train_script.py")


def _data(features, labels):
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(4)


def _build():
    return SequenceClassifier(RecurrentBackbone(cell="lstm", units=4, num_features=2), ["a", "b"])


def _history_epochs(path):
    with open(path, newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_run_writes_every_file_and_moves_into_place(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(16, 4, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    run = RunDir(tmp_path / "run")
    run.start()
    model = run_training(
        run, {"task": "test"}, _build, _data(features, labels), _data(features, labels),
        epochs=2, seed=0, verbose=0,
    )
    path = finish_run(run, {"accuracy": 1.0})
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json", "history.csv", "logs", "metrics.json", "model.keras",
    ]
    assert _history_epochs(path / "history.csv") == [0, 1]
    config = json.loads((path / "config.json").read_text())
    assert config["task"] == "test" and "tensorflow" in config["environment"]
    assert isinstance(model, SequenceClassifier)


def _train_small(path, training):
    rng = np.random.default_rng(1)
    features = rng.normal(size=(32, 4, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    run = RunDir(path)
    run.start()
    model = run_training(
        run, {"task": "test", "training": training}, _build, _data(features, labels),
        _data(features, labels), epochs=3, patience=5, seed=0, verbose=0,
    )
    with open(run.work / "history.csv", newline="") as file:
        best = min(csv.DictReader(file), key=lambda row: float(row["val_loss"]))
    loss = model.evaluate(features, labels, batch_size=4, verbose=0, return_dict=True)["loss"]
    return model, loss, float(best["val_loss"])


def test_weight_averaging_validates_and_saves_the_averaged_weights(tmp_path):
    plain, plain_loss, plain_logged = _train_small(tmp_path / "plain", {})
    averaged, loss, logged = _train_small(tmp_path / "ema", {"ema": 0.9})
    # Each saved model scores the val_loss logged for its epoch: the checkpoint
    # holds the weights that validation judged ...
    np.testing.assert_allclose([plain_loss, loss], [plain_logged, logged], rtol=1e-4)
    # ... and with `ema` those are the average, not the weights the steps reached.
    difference = max(np.max(np.abs(a - b)) for a, b in zip(plain.get_weights(), averaged.get_weights()))
    assert difference > 1e-4
    assert averaged.optimizer.use_ema is False  # a loaded model compiles with the task's defaults


def test_weight_averaging_spans_at_most_a_tenth_of_the_run(tmp_path, capsys):
    config = {"training": {"ema": 0.995}}
    assert _ema_momentum(config) == _ema_momentum(config, steps=2000) == 0.995  # span 200 steps fits
    assert _ema_momentum(config, steps=600) == pytest.approx(1 - 1 / 60)
    assert _ema_momentum(config, steps=8) == 0.0  # too short to average at all
    assert _ema_momentum({}, steps=600) == 0.0
    # A short run says what it uses: 8 batches x 3 epochs, so 0.9 (a span of 10 steps) becomes 1 - 1/2.4.
    rng = np.random.default_rng(1)
    features = rng.normal(size=(32, 4, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    run = RunDir(tmp_path / "run")
    run.start()
    run_training(run, {"task": "test", "training": {"ema": 0.9}}, _build, _data(features, labels),
                 _data(features, labels), epochs=3, seed=0, verbose=2)
    assert "momentum 0.5833 instead of 0.9" in capsys.readouterr().out
    run = RunDir(tmp_path / "two-steps")
    run.start()
    run_training(run, {"task": "test", "training": {"ema": 0.9}}, _build, _data(features[:8], labels[:8]),
                 _data(features, labels), epochs=1, seed=0, verbose=2)
    assert "Not averaging the weights: this run's 2 steps are too few" in capsys.readouterr().out


def test_nan_loss_stops_with_a_clear_error_and_leaves_nothing(tmp_path):
    features = np.full((8, 4, 2), np.nan, dtype="float32")
    labels = np.zeros(8, dtype="int32")
    run = RunDir(tmp_path / "run")
    run.start()
    with pytest.raises(SeqcoreError, match="training diverged: loss became nan at epoch 1, batch 1"):
        with discard_on_error(run, resume=False):
            run_training(
                run, {}, _build, _data(features, labels), _data(features, labels),
                epochs=3, verbose=0,
            )
    assert not run.work.exists() and not run.path.exists()


def test_run_killed_mid_epoch_resumes_from_its_backup(tmp_path):
    """SIGKILL mid-epoch, then resume: the run continues from its backup and trains only what is left.

    The resumed process starts from exactly the backup's weights and optimizer
    state, trains the epochs left (the interrupted one again, from its
    mid-epoch weights) and no finished one, and leaves a complete run.
    """
    from seqcore.saving import load_model
    from tests.seqcore.resume_helpers import (
        assert_resumed_from_backup, backup_weights, h5_arrays, kill_mid_epoch,
    )

    out, partial = tmp_path / "run", tmp_path / "run.partial"
    state, before = kill_mid_epoch([sys.executable, str(SCRIPT), str(out)], partial)
    epoch = state[0]
    at_kill = backup_weights(partial / "backup")
    with open(partial / "history.csv", newline="") as file:
        finished = [row for row in csv.DictReader(file) if int(row["epoch"]) < epoch]
    assert partial.is_dir() and not out.exists()

    subprocess.run([sys.executable, str(SCRIPT), str(out), "resume"], check=True, timeout=180,
                   capture_output=True)
    assert not partial.exists()
    # started from the backup: every weight and optimizer variable, the iteration count included
    started = h5_arrays(tmp_path / "resumed_start.weights.h5")
    assert sorted(started) == sorted(at_kill)
    for name, value in at_kill.items():
        np.testing.assert_array_equal(started[name], value, err_msg=name)
    # trained only the epochs left, each a full epoch (64 examples in batches of 4)
    record = json.loads((tmp_path / "resumed.json").read_text())
    assert record == {"epochs": list(range(epoch, 4)), "batches": 16 * (4 - epoch)}
    assert_resumed_from_backup(out, state, before, epochs=4)
    # the finished epochs' history is kept as the killed process wrote it
    with open(out / "history.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2, 3]
    assert rows[:epoch] == finished
    # the final files are complete: the best model loads and scores the metrics written
    model = load_model(out / "model.keras")
    assert model.class_names == ["a", "b"]
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "history.csv", "logs", "metrics.json", "model.keras"]
    rng = np.random.default_rng(0)
    features = rng.normal(size=(64, 5, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    accuracy = np.mean(np.argmax(model.predict(features, verbose=0), axis=-1) == labels)
    assert json.loads((out / "metrics.json").read_text())["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_resume_after_fit_ended_goes_straight_to_the_best_model(tmp_path):
    """A run killed while its final metrics were computed does not train again."""
    rng = np.random.default_rng(1)
    features = rng.normal(size=(16, 4, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    run = RunDir(tmp_path / "run")
    run.start()
    run_training(run, {}, _build, _data(features, labels), _data(features, labels), epochs=1, verbose=0)
    before = _history_epochs(run.work / "history.csv")

    def must_not_build():
        raise AssertionError("a finished fit was built again")

    model = run_training(run, {}, must_not_build, _data(features, labels), _data(features, labels),
                         epochs=1, resume=True, verbose=0)
    assert _history_epochs(run.work / "history.csv") == before
    assert model.compiled
    path = finish_run(run, {})
    assert not (path / "backup").exists() and not (path / "fit_done.json").exists()
