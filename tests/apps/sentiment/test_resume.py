"""`seqcore sentiment train` killed with SIGKILL mid-epoch; `train --resume` continues it.

The resumed process's TensorBoard files show that it trained only the
epochs left, starting from the backup's optimizer iteration count (see
tests/seqcore/resume_helpers.py), and the finished run is complete.
"""

import csv
import json
import os
import random
import subprocess
import sys

from tests.seqcore.resume_helpers import assert_resumed_from_backup, kill_mid_epoch

TF_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
GOOD = "great wonderful lovely brilliant superb moving funny charming".split()
BAD = "awful boring dull terrible dreadful stupid slow ugly".split()
FILLER = "the film acting story cast script music was and a it".split()


def _reviews(path, count=400, seed=0):
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for i in range(count):
            label, words = ("positive", GOOD) if i % 2 else ("negative", BAD)
            text = " ".join(rng.choice(words if rng.random() < 0.4 else FILLER) for _ in range(8))
            writer.writerow([text, label])
    return path


def test_killed_mid_epoch_resumes_from_its_backup(tmp_path):
    data = _reviews(tmp_path / "reviews.csv")
    out, partial = tmp_path / "run", tmp_path / "run.partial"
    train = [sys.executable, "-m", "apps.sentiment", "train"]
    state, before = kill_mid_epoch(
        [*train, "--data", str(data), "--out", str(out), "--epochs", "4", "--units", "8",
         "--sequence-length", "16", "--max-tokens", "100", "--batch-size", "4", "--patience", "4"],
        partial, env=TF_ENV)
    assert not out.exists()

    result = subprocess.run([*train, "--out", str(out), "--resume"], capture_output=True, text=True,
                            env=TF_ENV, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not partial.exists()
    assert_resumed_from_backup(out, state, before, epochs=4)
    with open(out / "history.csv", newline="") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1", "2", "3"]
    assert {"model.keras", "config.json", "metrics.json", "history.csv", "logs"} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    predicted = subprocess.run([*train[:-1], "predict", str(out), "a great and wonderful film"],
                               capture_output=True, text=True, env=TF_ENV, timeout=120)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    assert predicted.stdout.split("\t")[0] in ("positive", "negative")
    assert "test" in metrics  # the metrics of the finished run were written
