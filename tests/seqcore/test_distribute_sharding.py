"""Under `multi-worker`, each example goes to exactly one of two workers per epoch (loopback cluster)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from seqcore.tfrecords import write_shards
from tests.apps.sentiment.test_cluster import ROOT, _free_ports, _tf_config

# One epoch of a dataset distributed the way `fit` distributes it; writes the ids this worker saw.
WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    from seqcore.distribute import resolve_strategy
    from seqcore.training import _shard_by_data

    distribution = resolve_strategy("multi-worker")
    import tensorflow as tf
    from seqcore.tfrecords import read_split

    source, out = sys.argv[1], sys.argv[2]
    if source == "memory":
        dataset = _shard_by_data(tf.data.Dataset.range(40).map(lambda i: {"id": i}).batch(6))
    else:
        dataset = _shard_by_data(read_split(source, "train", workers=distribution.workers).batch(6))
    seen = []
    for batch in distribution.strategy.experimental_distribute_dataset(dataset):
        for ids in distribution.strategy.experimental_local_results(batch["id"]):
            seen += [int(i) for i in np.ravel(ids.numpy())]
    json.dump(seen, open(out, "w"))
""")


def _run_two_workers(tmp_path, source):
    ports = _free_ports(2)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    processes = []
    try:
        for index in range(2):
            env = {**os.environ, "TF_CONFIG": _tf_config(ports, index), "PYTHONPATH": str(ROOT)}
            processes.append(subprocess.Popen(
                [sys.executable, str(script), source, str(tmp_path / f"seen{index}.json")],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        assert [p.wait(timeout=240) for p in processes] == [0, 0]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return [json.loads((tmp_path / f"seen{index}.json").read_text()) for index in range(2)]


@pytest.mark.slow
@pytest.mark.parametrize("source", ["memory", "tfrecord"])
def test_every_example_goes_to_exactly_one_worker(tmp_path, source):
    count = 40 if source == "memory" else 37
    if source == "tfrecord":
        write_shards(tmp_path / "shards", {"train": [{"id": i} for i in range(count)]},
                     {"id": {"dtype": "int64", "shape": []}}, shards=4)
        source = str(tmp_path / "shards")
    first, second = _run_two_workers(tmp_path, source)
    assert first and second
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(count))
    assert np.unique(first).size == len(first) and np.unique(second).size == len(second)
