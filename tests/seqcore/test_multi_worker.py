"""A fast two-worker `multi-worker` training run on 127.0.0.1, in the default suite.

Two processes of `multi_worker_script.py` form a `MultiWorkerMirroredStrategy`
cluster through `TF_CONFIG` and train a tiny classifier for two epochs
through `seqcore.training.run_training`. Both must finish, only the chief
may write the run (the other worker's scratch folder is gone at the end),
and in every epoch each example is trained on by exactly one worker, once.
The slow tests in tests/apps/sentiment/test_cluster.py run the app's CLI
and a killed worker.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.apps.sentiment.test_cluster import ROOT, _free_ports, _tf_config

SCRIPT = Path(__file__).with_name("multi_worker_script.py")
EXAMPLES, EPOCHS = 48, 2


def test_two_workers_finish_the_chief_alone_writes_and_each_example_is_trained_once_per_epoch(tmp_path):
    runs, witness = tmp_path / "runs", tmp_path / "witness"
    runs.mkdir()
    witness.mkdir()
    ports = _free_ports(2)
    processes = []
    try:
        for index in range(2):
            log = open(witness / f"worker{index}.log", "w")
            env = {**os.environ, "TF_CONFIG": _tf_config(ports, index), "PYTHONPATH": str(ROOT),
                   "TF_CPP_MIN_LOG_LEVEL": "3"}
            processes.append(subprocess.Popen(
                [sys.executable, str(SCRIPT), str(runs / "run"), str(witness / f"seen{index}.json")],
                env=env, stdout=log, stderr=subprocess.STDOUT))
            log.close()
        codes = [process.wait(timeout=240) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    logs = [(witness / f"worker{index}.log").read_text(errors="replace")[-3000:] for index in range(2)]
    assert codes == [0, 0], logs

    chief, other = (json.loads((witness / f"seen{index}.json").read_text()) for index in range(2))
    # Only the chief writes: the run is the one folder in `runs`, and the other
    # worker trained in its own scratch folder, deleted at the end.
    assert chief["chief"] and not other["chief"]
    assert chief["work"] == str(runs / "run.partial")
    assert other["work"] == str(runs / ".run.worker-1.partial")
    assert sorted(p.name for p in runs.iterdir()) == ["run"]
    assert {"model.keras", "config.json", "history.csv", "metrics.json"} <= {p.name for p in (runs / "run").iterdir()}
    assert json.loads((runs / "run" / "metrics.json").read_text()) == {"examples": EXAMPLES}

    assert len(chief["epochs"]) == len(other["epochs"]) == EPOCHS
    for mine, theirs in zip(chief["epochs"], other["epochs"]):
        assert mine and theirs  # both workers trained in every epoch
        assert len(set(mine)) == len(mine) and len(set(theirs)) == len(theirs), (mine, theirs)
        assert not set(mine) & set(theirs), (mine, theirs)
        assert sorted(mine + theirs) == list(range(EXAMPLES))
