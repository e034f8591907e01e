import json
import re

import numpy as np
import pytest
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.distribute import (
    ClusterRole,
    cluster_role,
    mixed_precision_policy,
    resolve_strategy,
    with_mixed_precision,
)
from seqcore.errors import SeqcoreError
from seqcore.runs import RunDir, WorkerScratch, prepare_run
from seqcore.training import finish_run, run_training


def _config(cluster, task):
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": task})}


def test_cluster_role_names_the_chief():
    workers = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    assert cluster_role(_config(workers, {"type": "worker", "index": 0})) == ClusterRole("worker", 0, 2, has_chief=False)
    assert cluster_role(_config(workers, {"type": "worker", "index": 0})).is_chief
    assert not cluster_role(_config(workers, {"type": "worker", "index": 1})).is_chief
    with_chief = {"chief": ["h:1"], "worker": ["h:2"]}
    assert cluster_role(_config(with_chief, {"type": "chief", "index": 0})).is_chief
    assert not cluster_role(_config(with_chief, {"type": "worker", "index": 0})).is_chief
    assert cluster_role(_config(with_chief, {"type": "worker", "index": 0})).num_workers == 2


@pytest.mark.parametrize("environ, message", [
    ({}, "--strategy multi-worker needs the cluster in the TF_CONFIG environment variable"),
    ({"TF_CONFIG": "{not json"}, "TF_CONFIG is malformed: not JSON"),
    ({"TF_CONFIG": "[]"}, "TF_CONFIG is malformed: not a JSON object"),
    (_config({}, {"type": "worker"}), 'no "cluster" object'),
    (_config({"ps": ["h:1"]}, {"type": "ps"}), "cluster job 'ps' must be"),
    (_config({"worker": ["no-port"]}, {"type": "worker"}), "list of \"host:port\""),
    (_config({"worker": ["h:1"]}, {"type": "chief"}), '"task" must name a "type"'),
    (_config({"worker": ["h:1", "h:2"]}, {"type": "worker", "index": 2}), "index must be 0..1"),
])
def test_missing_or_malformed_tf_config_is_one_clear_error(environ, message):
    with pytest.raises(SeqcoreError, match=re.escape(message)) as error:
        cluster_role(environ)
    assert "\n" not in str(error.value) and "expected" in str(error.value)


def test_strategies_by_name_on_one_cpu():
    assert resolve_strategy("auto").name == "one-device"  # no GPU here
    mirrored = resolve_strategy("mirrored")
    assert isinstance(mirrored.strategy, tf.distribute.MirroredStrategy)
    assert mirrored.describe(32) == (
        "strategy mirrored: 1 replica; global batch size 32 (32 per replica x 1 replica)"
    )
    with pytest.raises(SeqcoreError, match="unknown strategy 'ring'; expected one of: auto, one-device"):
        resolve_strategy("ring")


def test_mixed_precision_goes_to_the_backbone_only():
    assert mixed_precision_policy("float16") == "mixed_float16"
    with pytest.raises(SeqcoreError, match="unknown --mixed-precision 'int8'"):
        mixed_precision_policy("int8")
    config = {"backbone": {"units": 4}, "head": {}}
    assert with_mixed_precision(config, None) is config
    assert with_mixed_precision(config, "float16")["backbone"]["dtype"] == "mixed_float16"


def test_a_non_chief_worker_trains_in_scratch_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 1}}))
    run, _ = prepare_run(str(tmp_path / "run"), "demo", strategy="multi-worker")
    assert isinstance(run, WorkerScratch) and not run.is_chief
    run.start()
    assert run.work == tmp_path / ".run.worker-1.partial" and run.work.is_dir()
    (run.work / "model.keras").write_text("scratch")
    assert finish_run(run, None) == tmp_path / "run"
    assert list(tmp_path.iterdir()) == []
    chief, _ = prepare_run(str(tmp_path / "run"), "demo", strategy="one-device")
    assert type(chief) is RunDir and chief.is_chief


def _data(count=16, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(count, 4, 2)).astype("float32")
    labels = (features[:, 0, 0] > 0).astype("int32")
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(4)


@pytest.mark.parametrize("strategy, dtype", [("mirrored", None), ("one-device", "mixed_float16"),
                                             ("mirrored", "mixed_bfloat16")])
def test_training_under_a_strategy_and_mixed_precision_keeps_float32_outputs(tmp_path, strategy, dtype, capsys):
    def build():
        backbone = RecurrentBackbone(cell="gru", units=4, num_features=2, dtype=dtype)
        return SequenceClassifier(backbone, ["a", "b"])

    run = RunDir(tmp_path / "run")
    run.start()
    config = {"backbone": {"dtype": dtype} if dtype else {}}
    distribution = resolve_strategy(strategy)
    model = run_training(run, config, build, _data(), _data(8, 1), epochs=2, seed=0, verbose=1,
                         distribution=distribution, batch_size=4)
    assert f"strategy {strategy}: 1 replica; global batch size 4" in capsys.readouterr().out
    finish_run(run, {})
    probabilities = model.predict(np.zeros((3, 4, 2), "float32"), verbose=0)
    assert probabilities.dtype == np.float32 and np.allclose(probabilities.sum(-1), 1, atol=1e-3)
    assert model.backbone.get_layer("last_pooling").dtype_policy.name == (dtype or "float32")
    if dtype == "mixed_float16":
        import keras

        fresh = RecurrentBackbone(cell="gru", units=4, num_features=2, dtype=dtype)
        model_for_check = SequenceClassifier(fresh, ["a", "b"])
        from seqcore.training import _compile

        _compile(model_for_check, config)
        assert isinstance(model_for_check.optimizer, keras.optimizers.LossScaleOptimizer)
