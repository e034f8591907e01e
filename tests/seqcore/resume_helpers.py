"""Kill a real training process mid-epoch, then prove from its files that `--resume` continued it.

A resumed run restores `backup/latest.weights.h5` (weights and optimizer
state, including the optimizer's iteration count) and the epoch it had
reached. Every validation writes TensorBoard's
``evaluation_loss_vs_iterations`` at the optimizer's iteration count, and
every epoch writes ``epoch_loss`` at the epoch number, in one event file
per process. So the resumed process's event files say which epochs it
trained and from which iteration count it started: a run that ignored the
backup starts again at epoch 0 and iteration 0; one that retrained
finished epochs logs them again.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path


def read_backup(backup):
    """(epoch, batch, optimizer iterations) of a backup folder, as Keras' restore would read it."""
    state, weights = _readable_backup(backup)
    return state["epoch"], state["batch"], int(weights["optimizer/vars/0"])


def backup_weights(backup):
    """{dataset path: array} of the weights file a resume restores (model and optimizer)."""
    return _readable_backup(backup)[1]


def h5_arrays(path):
    """{dataset path: array} of a Keras .weights.h5 file."""
    import h5py

    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(lambda name, item: arrays.__setitem__(name, item[()])
                        if isinstance(item, h5py.Dataset) else None)
    return arrays


def _readable_backup(backup):
    backup = Path(backup)
    for suffix in ("", ".bkp"):  # Keras falls back to the previous backup when the latest is torn
        try:
            weights = h5_arrays(backup / f"latest.weights.h5{suffix}")
            state = json.loads((backup / f"training_metadata.json{suffix}").read_text())
            if "optimizer/vars/0" in weights:
                return state, weights
        except (OSError, KeyError, ValueError):
            continue
    raise AssertionError(f"no readable backup in {backup}")


def kill_mid_epoch(command, partial, min_epoch=1, timeout=240, env=None):
    """Starts `command`, SIGKILLs it once a mid-epoch backup of epoch >= `min_epoch` exists.

    Returns (epoch, batch, iterations) of the backup left behind, and the
    event files present at the kill (so the resumed process's can be told
    apart). Fails when the run ends before it could be killed.
    """
    metadata = Path(partial) / "backup" / "training_metadata.json"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env or os.environ.copy())
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                state = json.loads(metadata.read_text())
            except (OSError, ValueError):
                state = {}
            if state.get("epoch", 0) >= min_epoch and state.get("batch", 0) > 0:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL, (
        f"training ended (exit {process.returncode}) before it could be killed mid-epoch:\n{stderr[-3000:]}")
    epoch, batch, iterations = read_backup(Path(partial) / "backup")
    assert batch > 0 and epoch >= min_epoch, (epoch, batch)
    return (epoch, batch, iterations), set(Path(partial, "logs").rglob("events.out.tfevents.*"))


def logged_steps(event_file, tag):
    """The steps at which `tag` was written in one TensorBoard event file."""
    import tensorflow as tf

    steps = []
    for event in tf.compat.v1.train.summary_iterator(str(event_file)):
        steps += [int(event.step) for value in event.summary.value if value.tag == tag]
    return steps


def what_each_process_logged(logs, before):
    """({'train': epochs, 'validation': iterations} of the processes whose files are in
    `before`, the same for the files written since)."""
    old, new = {"train": [], "validation": []}, {"train": [], "validation": []}
    for part, tag in (("train", "epoch_loss"), ("validation", "evaluation_loss_vs_iterations")):
        for path in sorted(Path(logs, part).glob("events.out.tfevents.*")):
            was_there = any(path.name == earlier.name for earlier in before)
            (old if was_there else new)[part] += logged_steps(path, tag)
    return old, new


def assert_resumed_from_backup(run, backup_state, before, epochs):
    """The finished `run` was continued from `backup_state`, never retrained from scratch.

    Args:
        run: the finished run directory.
        backup_state: (epoch, batch, iterations) of the backup at the kill.
        before: event files present at the kill.
        epochs: the epochs the run planned.
    """
    epoch, _, iterations = backup_state
    assert epochs - epoch >= 2, "kill earlier: two epochs must be left to measure one epoch's steps"
    old, new = what_each_process_logged(Path(run) / "logs", before)
    # the resumed process trained only the epochs left ...
    assert new["train"] == list(range(epoch, epochs)), (new, backup_state)
    # ... each of the same number of steps, starting from the backup's optimizer state (a run
    # that ignored the backup would start at iteration 0; one that retrained would log more epochs)
    steps_per_epoch = new["validation"][1] - new["validation"][0]
    assert steps_per_epoch > 0, new
    assert new["validation"] == [iterations + steps_per_epoch * (k + 1) for k in range(epochs - epoch)], (
        new, backup_state)
    # what the killed process had flushed before the kill agrees: full epochs of the same length
    assert old["train"] == list(range(len(old["train"]))) and len(old["train"]) <= epoch, old
    assert old["validation"] == [steps_per_epoch * (e + 1) for e in range(len(old["validation"]))], old
    assert iterations > epoch * steps_per_epoch, (backup_state, steps_per_epoch)  # a mid-epoch backup


def copy_backup(partial, destination):
    """A copy of the backup folder as it was at the kill (the resumed run deletes it)."""
    shutil.copytree(Path(partial) / "backup", destination)
    return Path(destination)
