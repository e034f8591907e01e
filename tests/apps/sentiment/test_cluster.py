"""Multi-worker training on 127.0.0.1: two `train --strategy multi-worker` processes with TF_CONFIG.

Every wait has a timeout and every process is killed in a `finally`, so
the tests stop by themselves whatever goes wrong.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--units", "8", "--sequence-length", "32", "--max-tokens", "500", "--batch-size", "8"]


def _free_ports(count):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _tf_config(ports, index):
    return json.dumps({
        "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
        "task": {"type": "worker", "index": index},
    })


class Cluster:
    """Two worker processes of one `train` command; logs in files (no pipe can fill up)."""

    def __init__(self, folder, arguments):
        self.folder, self.arguments = Path(folder), arguments
        self.ports = _free_ports(2)
        self.processes = [None, None]
        self.launches = 0

    def start(self, index, arguments=None):
        self.launches += 1
        log = open(self.folder / f"worker{index}-{self.launches}.log", "w")
        env = {**os.environ, "TF_CONFIG": _tf_config(self.ports, index), "PYTHONPATH": str(ROOT)}
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "apps.sentiment", "train", *(arguments or self.arguments)],
            cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.processes[index].log = log.name
        log.close()

    def wait(self, index, timeout):
        return self.processes[index].wait(timeout=timeout)

    def output(self, index):
        return Path(self.processes[index].log).read_text(errors="replace")

    def kill_all(self):
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture
def cluster_factory(tmp_path):
    clusters = []

    def make(arguments):
        clusters.append(Cluster(tmp_path, arguments))
        return clusters[-1]

    yield make
    for cluster in clusters:
        cluster.kill_all()


def _siblings(out):
    return sorted(p.name for p in out.parent.iterdir() if p.name != "logs" and not p.name.endswith(".log"))


@pytest.mark.slow
def test_two_workers_train_only_the_chief_writes_and_the_export_predicts(tmp_path, cluster_factory):
    out = tmp_path / "run"
    cluster = cluster_factory(["--limit", "200", "--epochs", "1", *TINY, "--out", str(out),
                               "--strategy", "multi-worker"])
    cluster.start(0)
    cluster.start(1)
    codes = [cluster.wait(0, timeout=400), cluster.wait(1, timeout=120)]
    assert codes == [0, 0], cluster.output(0)[-3000:] + cluster.output(1)[-3000:]
    assert "global batch size 16 (8 per replica x 2 replicas)" in cluster.output(0)
    assert "this is worker 0 (chief)" in cluster.output(0)
    assert "run written to" in cluster.output(0)
    assert "the chief writes the run" in cluster.output(1)
    assert _siblings(out) == ["run"]  # no .partial, no worker scratch
    assert {"model.keras", "metrics.json", "config.json", "history.csv"} <= {p.name for p in out.iterdir()}

    exports = tmp_path / "exports"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "apps.sentiment", "export", str(out), str(exports)],
                   check=True, timeout=300, env=env, capture_output=True)
    predicted = subprocess.run(
        [sys.executable, "-m", "apps.sentiment", "predict", str(exports), "--json", "a great film"],
        check=True, timeout=300, env=env, capture_output=True, text=True,
    )
    row = json.loads(predicted.stdout.strip().splitlines()[-1])
    assert row["label"] in ("negative", "positive")
    assert abs(sum(row["probabilities"].values()) - 1.0) < 1e-4


def _backup_epoch(folder):
    try:
        return json.loads((folder / "backup" / "training_metadata.json").read_text()).get("epoch", -1)
    except (OSError, ValueError):
        return -1


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_training_resumes_from_the_backup(tmp_path, cluster_factory):
    out = tmp_path / "run"
    epochs = 4
    cluster = cluster_factory(["--limit", "1500", "--epochs", str(epochs), "--patience", "9", *TINY,
                               "--out", str(out), "--strategy", "multi-worker"])
    cluster.start(0)
    cluster.start(1)
    scratch = tmp_path / ".run.worker-1.partial"
    deadline = time.time() + 400
    while time.time() < deadline and _backup_epoch(scratch) < 1:
        assert cluster.processes[1].poll() is None, cluster.output(1)[-3000:]
        time.sleep(0.05)
    assert _backup_epoch(scratch) >= 1, "no end-of-epoch backup before the deadline"
    os.kill(cluster.processes[1].pid, signal.SIGKILL)
    cluster.wait(1, timeout=30)

    # The chief fails on its next collective op (or is stopped, as a job scheduler would).
    try:
        code = cluster.wait(0, timeout=180)
        assert code == 1
        last = cluster.output(0).strip().splitlines()[-1]
        assert last.startswith("Error: the cluster stopped") and "--resume" in last, last
    except subprocess.TimeoutExpired:
        cluster.processes[0].kill()
        cluster.wait(0, timeout=30)
    assert not out.exists() and (tmp_path / "run.partial").is_dir() and scratch.is_dir()
    reached = _backup_epoch(tmp_path / "run.partial")
    assert reached >= 1

    restart = ["--out", str(out), "--strategy", "multi-worker", "--resume"]  # the job's command + --resume
    cluster.start(0, restart)
    cluster.start(1, restart)
    codes = [cluster.wait(0, timeout=400), cluster.wait(1, timeout=120)]
    assert codes == [0, 0], cluster.output(0)[-3000:] + cluster.output(1)[-3000:]
    resumed = cluster.output(0)
    assert f"Epoch {reached + 1}/{epochs}" in resumed and "Epoch 1/" not in resumed
    assert _siblings(out) == ["run"]
    epochs_logged = [line.split(",")[0] for line in (out / "history.csv").read_text().splitlines()[1:]]
    assert epochs_logged == [str(e) for e in range(epochs)]
