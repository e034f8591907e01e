import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqcore import fast_rnn, recurrent_loops
from seqcore.backbone import RecurrentBackbone
from seqcore.saving import load_model

NAMES = ["SimpleRNN", "LSTM", "GRU"]
BATCH, STEPS, FEATURES, UNITS = 4, 7, 3, 5
RNG = np.random.default_rng(3)
X = RNG.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
# Right padding, left padding, a hole, and a row with no real step at all.
MASK = np.ones((BATCH, STEPS), bool)
MASK[0, 4:] = False
MASK[1, :2] = False
MASK[2, 3] = False
MASK[3, :] = False


def _pair(name, **kwargs):
    """A seqcore layer and its keras.layers namesake, built, with the same weights."""
    fast = getattr(fast_rnn, name)(UNITS, name="recurrent", **kwargs)
    plain = getattr(keras.layers, name)(UNITS, name="recurrent", **kwargs)
    fast.build(X.shape)
    plain.build(X.shape)
    plain.set_weights(fast.get_weights())
    return fast, plain


def _outputs_and_gradients(layer, mask=None, initial_state=None, training=False):
    """Every output of `layer` on X, and the gradients of a weighted sum of them
    with respect to the inputs, the initial state and every weight."""
    inputs = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        if initial_state is not None:
            tape.watch(initial_state)
        outputs = tf.nest.flatten(layer(inputs, mask=mask, initial_state=initial_state, training=training))
        weights = [tf.random.stateless_normal(tf.shape(out), seed=(i, 7)) for i, out in enumerate(outputs)]
        loss = sum(tf.reduce_sum(out * w) for out, w in zip(outputs, weights))
    sources = [inputs] + list(initial_state or []) + layer.trainable_weights
    return [o.numpy() for o in outputs], [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, sources)]


def _assert_same(fast, plain, atol=1e-5, rtol=1e-6, **call):
    fast_out, fast_grad = _outputs_and_gradients(fast, **call)
    plain_out, plain_grad = _outputs_and_gradients(plain, **call)
    assert len(fast_out) == len(plain_out)
    for a, b in zip(fast_out, plain_out):
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)
    for a, b in zip(fast_grad, plain_grad):
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)


OPTIONS = [
    {},
    {"return_sequences": True},
    {"return_sequences": True, "go_backwards": True},
    {"return_state": True},
    {"return_sequences": True, "return_state": True, "go_backwards": True},
]


@pytest.mark.parametrize("name, options, masked", itertools.product(NAMES, OPTIONS, [False, True]))
def test_outputs_and_gradients_equal_keras(name, options, masked):
    fast, plain = _pair(name, **options)
    assert fast.cpu_path_blockers() == []
    _assert_same(fast, plain, mask=MASK if masked else None)


@pytest.mark.parametrize("name", NAMES)
def test_zero_output_for_mask_and_initial_state_equal_keras(name):
    fast, plain = _pair(name, return_sequences=True, return_state=True)
    fast.zero_output_for_mask = plain.zero_output_for_mask = True
    states = 2 if name == "LSTM" else 1
    initial = [tf.constant(RNG.normal(size=(BATCH, UNITS)).astype("float32")) for _ in range(states)]
    _assert_same(fast, plain, mask=MASK, initial_state=initial)


@pytest.mark.parametrize("name, masked, options", itertools.product(NAMES, [False, True], [OPTIONS[1], OPTIONS[4]]))
def test_xla_compiled_loops_equal_keras(name, masked, options, monkeypatch):
    # Masked batches also run on steps padded to a multiple of STEP_QUANTUM.
    monkeypatch.setattr(recurrent_loops, "JIT_MIN_SIZE", 0)
    fast, plain = _pair(name, **options)
    _assert_same(fast, plain, mask=MASK if masked else None, training=True)


@pytest.mark.parametrize("name", NAMES)
def test_bidirectional_equals_keras(name):
    fast = keras.layers.Bidirectional(getattr(fast_rnn, name)(UNITS, return_sequences=True))
    plain = keras.layers.Bidirectional(getattr(keras.layers, name)(UNITS, return_sequences=True))
    fast.build(X.shape)
    plain.build(X.shape)
    plain.set_weights(fast.get_weights())
    assert type(fast.backward_layer) is getattr(fast_rnn, name)
    assert fast.backward_layer.go_backwards
    _assert_same(fast, plain, mask=MASK)


@pytest.mark.parametrize("name", NAMES)
def test_input_dropout_draws_the_same_mask_as_keras(name):
    fast, plain = _pair(name, return_sequences=True, dropout=0.4, seed=11)
    _assert_same(fast, plain, mask=MASK, training=True)
    # Dropout is live: a training call differs from inference.
    assert not np.allclose(fast(X, training=True), fast(X))


@pytest.mark.parametrize("name", NAMES)
def test_stateful_layers_carry_state_like_keras(name):
    fast, plain = _pair(name, stateful=True)
    for chunk in (X[:, :3], X[:, 3:]):
        np.testing.assert_allclose(fast(chunk), plain(chunk), atol=1e-5)
    fast.reset_state()
    plain.reset_state()
    np.testing.assert_allclose(fast(X), plain(X), atol=1e-5)


@pytest.mark.parametrize(
    "name, options, reason",
    [
        ("LSTM", {"recurrent_dropout": 0.2}, "recurrent_dropout=0.2"),
        ("GRU", {"reset_after": False}, "reset_after=False"),
        ("SimpleRNN", {"activation": "relu"}, "activation is not tanh"),
        ("LSTM", {"recurrent_activation": "hard_sigmoid"}, "recurrent_activation is not sigmoid"),
        ("GRU", {"unroll": True}, "unroll=True"),
        ("LSTM", {"dtype": "mixed_float16"}, "compute dtype is float16"),
    ],
)
def test_unsupported_options_run_keras_loop(name, options, reason, monkeypatch):
    fast, plain = _pair(name, return_sequences=True, **options)
    assert reason in fast.cpu_path_blockers()

    def forbidden(*args, **kwargs):
        raise AssertionError("the fast loop ran")

    for loop in ("lstm_sequence", "gru_sequence", "simple_rnn_sequence"):
        monkeypatch.setattr(recurrent_loops, loop, forbidden)
    np.testing.assert_allclose(fast(X), plain(X), atol=1e-3 if "dtype" in options else 1e-5)


def test_a_visible_gpu_leaves_the_loop_to_keras(monkeypatch):
    """With a GPU, Keras picks cuDNN: the layer must not take the CPU loop."""
    monkeypatch.setattr(fast_rnn, "_gpu_visible", lambda: True)
    fast, plain = _pair("LSTM")
    assert any("GPU" in reason for reason in fast.cpu_path_blockers())
    monkeypatch.setattr(recurrent_loops, "lstm_sequence", None)  # fails if called
    np.testing.assert_allclose(fast(X), plain(X), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_config_and_weight_files_move_both_ways(name, tmp_path):
    fast, plain = _pair(name, return_sequences=True)
    assert fast.get_config() == plain.get_config()
    assert [w.path for w in fast.weights] == [w.path for w in plain.weights]
    rebuilt = getattr(fast_rnn, name).from_config(plain.get_config())
    assert rebuilt.get_config() == plain.get_config()

    # Weight files: Keras -> seqcore and seqcore -> Keras.
    keras_model = keras.Sequential([keras.Input((None, FEATURES)), getattr(keras.layers, name)(UNITS)])
    fast_model = keras.Sequential([keras.Input((None, FEATURES)), getattr(fast_rnn, name)(UNITS)])
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    fast_model.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(fast_model(X), keras_model(X), atol=1e-5)
    fast_model.layers[0].set_weights([w * 0.5 for w in fast_model.layers[0].get_weights()])
    fast_model.save_weights(tmp_path / "fast.weights.h5")
    keras_model.load_weights(tmp_path / "fast.weights.h5")
    np.testing.assert_allclose(keras_model(X), fast_model(X), atol=1e-5)


def test_keras_file_round_trip_keeps_the_seqcore_layer(tmp_path):
    model = keras.Sequential([keras.Input((None, FEATURES)), fast_rnn.GRU(UNITS, return_sequences=True)])
    model.save(tmp_path / "model.keras")
    reloaded = load_model(tmp_path / "model.keras")
    assert type(reloaded.layers[0]) is fast_rnn.GRU
    np.testing.assert_allclose(reloaded(X), model(X), atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backbone_saved_with_keras_layers_loads_and_predicts_the_same(cell, tmp_path, monkeypatch):
    """A `.keras` file written when the backbone stacked keras.layers loads into today's."""
    import seqcore.backbone

    plain_cells = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
    with monkeypatch.context() as patch:
        patch.setattr(seqcore.backbone, "CELLS", plain_cells)
        old = RecurrentBackbone(cell=cell, units=UNITS, num_layers=2, bidirectional=True, num_features=FEATURES)
        assert type(old.get_layer(f"bidirectional_{cell}_0").forward_layer) is plain_cells[cell]
        old.save(tmp_path / "old.keras")
        expected = old(X)["sequence_output"]
    reloaded = load_model(tmp_path / "old.keras")
    assert type(reloaded.get_layer(f"bidirectional_{cell}_0").forward_layer) is seqcore.backbone.CELLS[cell]
    np.testing.assert_allclose(reloaded(X)["sequence_output"], expected, atol=1e-5)


def test_only_training_graphs_hold_xla(monkeypatch):
    monkeypatch.setattr(recurrent_loops, "JIT_MIN_SIZE", 0)
    layer = fast_rnn.GRU(UNITS)
    layer.build(X.shape)

    def compiled_functions(training):
        graph = tf.function(lambda x: layer(x, training=training)).get_concrete_function(tf.constant(X)).graph
        return [f for f in graph.as_graph_def().library.function if f.attr["_XlaMustCompile"].b]

    assert compiled_functions(training=True)
    assert not compiled_functions(training=False)


@pytest.mark.parametrize("masked, training, fused", [(False, False, True), (True, False, False), (False, True, False)])
def test_unmasked_lstm_inference_runs_one_fused_op(masked, training, fused):
    layer = fast_rnn.LSTM(UNITS)
    layer.build(X.shape)
    call = tf.function(lambda x: layer(x, mask=MASK if masked else None, training=training))
    graph = call.get_concrete_function(tf.constant(X)).graph
    ops = {node.op for node in graph.as_graph_def().node}
    ops |= {node.op for function in graph.as_graph_def().library.function for node in function.node_def}
    assert ("BlockLSTMV2" in ops) == fused


@pytest.mark.parametrize("name", NAMES)
def test_inference_compiles_with_xla_for_any_batch_and_length(name):
    fast, plain = _pair(name)
    spec = tf.TensorSpec([None, None, FEATURES], tf.float32)
    compiled = tf.function(lambda x: fast(x, training=False), jit_compile=True, input_signature=[spec])
    np.testing.assert_allclose(compiled(tf.constant(X)), plain(X), atol=1e-5)


def test_fit_trains_a_masked_model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((None, FEATURES))
    hidden = fast_rnn.LSTM(UNITS)(keras.layers.Masking()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x = X * MASK[..., None]
    y = X[:, :1, :1].reshape(BATCH, 1)
    history = model.fit(x, y, epochs=15, batch_size=BATCH, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
