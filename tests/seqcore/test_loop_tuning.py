import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqcore import fast_rnn, loop_tuning
from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.errors import SeqcoreError
from seqcore.runs import RunDir
from seqcore.training import run_training


@pytest.fixture
def auto(monkeypatch, tmp_path):
    """`$SEQCORE_TRAINING_LOOP` unset (measure) and a private cache."""
    monkeypatch.delenv(loop_tuning.ENV, raising=False)
    monkeypatch.setenv("SEQCORE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / loop_tuning.CACHE_FILE


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(8, 5, 3)).astype("float32")
    return features, (features[:, 0, 0] > 0).astype("int32")


def _model(cell="gru", bidirectional=False):
    keras.utils.set_random_seed(0)
    backbone = RecurrentBackbone(cell=cell, units=4, num_features=3, bidirectional=bidirectional)
    model = SequenceClassifier(backbone, ["a", "b"])
    model.compile()
    return model


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_both_loops_train_to_the_same_weights(cell):
    trained = {}
    for loop in loop_tuning.LOOPS:
        model = _model(cell, bidirectional=True)
        loop_tuning.use_training_loop(model, loop)
        for seed in range(3):
            model.train_on_batch(*_batch(seed))
        trained[loop] = model.get_weights()
    for seqcore_weight, keras_weight in zip(trained["seqcore"], trained["keras"]):
        np.testing.assert_allclose(seqcore_weight, keras_weight, atol=1e-5)


def test_the_keras_loop_is_chosen_for_training_only(monkeypatch):
    calls = []
    run = fast_rnn.GRU._run
    monkeypatch.setattr(fast_rnn.GRU, "_run", lambda self, *args, **kwargs: calls.append(1) or run(self, *args, **kwargs))
    model = _model("gru")
    loop_tuning.use_training_loop(model, "keras")
    layers = loop_tuning.tunable_layers(model)
    assert layers and all(layer.train_with_keras_loop for layer in layers)
    model.train_on_batch(*_batch())
    assert not calls  # traced with Keras' loop
    model.predict(_batch()[0], verbose=0)
    assert calls  # inference keeps seqcore's loop
    calls.clear()
    loop_tuning.use_training_loop(model, "seqcore")
    assert not any(layer.train_with_keras_loop for layer in layers)
    model.train_on_batch(*_batch())
    assert calls
    with pytest.raises(ValueError, match="Unknown training loop"):
        loop_tuning.use_training_loop(model, "cudnn")


def test_measuring_leaves_the_variables_as_they_were(auto):
    model = _model()
    before = [variable.numpy() for variable in model.variables]
    ms = loop_tuning.measure_training_loops(model, _batch(), rounds=2, steps=1)
    assert sorted(ms) == sorted(loop_tuning.LOOPS) and all(value > 0 for value in ms.values())
    for variable, value in zip(model.variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_the_choice_is_measured_once_then_read_from_the_cache(auto, monkeypatch):
    lines = []
    choice = loop_tuning.tune_training_loops(_model(), _batch(), log=lines.append)
    assert choice["source"] == "measured" and choice["loop"] in loop_tuning.LOOPS
    assert choice["loop"] == loop_tuning.faster_loop(choice["ms_per_step"])
    assert lines[-1].startswith(f"Training loop: {choice['loop']} (measured now: ")
    assert list(json.loads(auto.read_text()).values()) == [
        {"loop": choice["loop"], "ms_per_step": choice["ms_per_step"]}
    ]

    def measure(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(loop_tuning, "measure_training_loops", measure)
    model = _model()
    again = loop_tuning.tune_training_loops(model, _batch(), log=None)
    assert again == {**choice, "source": "cached"}
    expected = choice["loop"] == "keras"
    assert all(layer.train_with_keras_loop == expected for layer in loop_tuning.tunable_layers(model))
    # Another batch shape is another measurement.
    with pytest.raises(AssertionError, match="measured again"):
        loop_tuning.tune_training_loops(model, (_batch()[0][:4], _batch()[1][:4]), log=None)


def test_an_unreadable_cache_is_measured_again_and_rewritten(auto):
    auto.parent.mkdir(parents=True)
    auto.write_text("{not json")
    choice = loop_tuning.tune_training_loops(_model(), _batch(), log=None)
    assert choice["source"] == "measured"
    assert len(json.loads(auto.read_text())) == 1


@pytest.mark.parametrize(
    "seqcore_ms, keras_ms, expected",
    [(10.0, 12.0, "seqcore"), (10.0, 9.6, "seqcore"), (10.0, 9.5, "keras"), (10.0, 6.0, "keras")],
)
def test_keras_loop_is_chosen_only_when_clearly_faster(seqcore_ms, keras_ms, expected):
    assert loop_tuning.faster_loop({"seqcore": seqcore_ms, "keras": keras_ms}) == expected


@pytest.mark.parametrize("loop", loop_tuning.LOOPS)
def test_the_environment_names_the_loop_without_measuring(auto, monkeypatch, loop):
    monkeypatch.setenv(loop_tuning.ENV, loop.upper())
    model = _model()
    assert loop_tuning.tune_training_loops(model, None) == {"loop": loop, "ms_per_step": {}, "source": loop_tuning.ENV}
    assert loop_tuning.tunable_layers(model)[0].train_with_keras_loop == (loop == "keras")
    assert not auto.exists()


def test_an_unknown_loop_in_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv(loop_tuning.ENV, "fastest")
    with pytest.raises(SeqcoreError, match="expected auto, seqcore or keras, received 'fastest'"):
        loop_tuning.requested_loop()


def test_plain_keras_layers_have_nothing_to_tune(auto):
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4), keras.layers.Dense(1)])
    model.compile(loss="mse")
    assert loop_tuning.tune_training_loops(model, _batch()) is None
    assert not auto.exists()


def test_training_measures_the_loops_on_preprocessed_batches_and_reports_the_choice(auto, tmp_path, capsys):
    features, labels = _batch()
    raw = features.reshape(len(features), -1)  # the preprocessor makes the (steps, features) frames
    data = tf.data.Dataset.from_tensor_slices((raw, labels)).batch(4)
    run = RunDir(tmp_path / "run")
    run.start()

    def build():
        backbone = RecurrentBackbone(cell="gru", units=4, num_features=3)
        return SequenceClassifier(backbone, ["a", "b"], preprocessor=keras.layers.Reshape((5, 3)))

    run_training(run, {"task": "test"}, build, data, data, epochs=1, seed=0, verbose=2)
    assert "Training loop: " in capsys.readouterr().out
    assert len(json.loads(auto.read_text())) == 1


def test_training_refuses_an_unknown_loop_before_fitting(monkeypatch, tmp_path):
    monkeypatch.setenv(loop_tuning.ENV, "fastest")
    features, labels = _batch()
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(4)
    run = RunDir(tmp_path / "run")
    run.start()
    build = lambda: SequenceClassifier(RecurrentBackbone(cell="gru", units=4, num_features=3), ["a", "b"])
    with pytest.raises(SeqcoreError, match="SEQCORE_TRAINING_LOOP is not a training loop"):
        run_training(run, {"task": "test"}, build, data, data, epochs=1, seed=0, verbose=0)
    assert not (run.work / "history.csv").exists()
