"""seqcore.tflite: recurrent models convert to TFLite builtins, match Keras, quantize, and fail cleanly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.errors import SeqcoreError
from seqcore.tflite import FLOAT_ATOL, conversion_problem, run, write_models, write_tflite

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # tf.lite.Interpreter's deprecation notice

TOKENS = tf.TensorSpec([None, None], tf.int32, name="token_ids")


def classifier(cell, bidirectional=False, units=8, layers=1):
    keras.utils.set_random_seed(0)
    backbone = RecurrentBackbone(cell=cell, units=units, num_layers=layers, vocabulary_size=40,
                                 bidirectional=bidirectional)
    return SequenceClassifier(backbone, ["a", "b", "c"], dropout=0.0)


def padded_ids():
    """Three rows of different lengths, right-padded: the mask must matter."""
    return np.array([[3, 4, 5, 6, 7, 8], [9, 10, 11, 0, 0, 0], [12, 0, 0, 0, 0, 0]], "int32")


def probabilities(model):
    return lambda token_ids: {"probabilities": model(token_ids, training=False)}


@pytest.mark.parametrize("cell, bidirectional, layers", [("lstm", False, 2), ("gru", True, 1), ("rnn", False, 1)])
def test_recurrent_classifier_matches_keras_and_runs_as_a_step_loop(tmp_path, cell, bidirectional, layers):
    model = classifier(cell, bidirectional, layers=layers)
    ids = padded_ids()
    expected = model.predict(ids, verbose=0)
    report = write_tflite(tmp_path / "m.tflite", probabilities(model), [TOKENS], {"token_ids": ids},
                          {"probabilities": expected})
    assert report.max_abs_difference <= FLOAT_ATOL and report.tolerance == FLOAT_ATOL
    assert (tmp_path / "m.tflite").stat().st_size == report.size_bytes
    # The recurrence is a WHILE op over one cell step, with no fused or TF-kernel op.
    assert "WHILE" in report.ops and not any("LSTM" in op or "FLEX" in op for op in report.ops), report.ops
    # Padding is masked: another batch (lengths differ) gives each row's own result.
    alone = run(tmp_path / "m.tflite", {"token_ids": ids[1:2, :3]})["probabilities"]
    np.testing.assert_allclose(alone, expected[1:2], atol=FLOAT_ATOL)


def test_quantized_model_is_smaller_and_close(tmp_path):
    model = classifier("lstm", units=64)
    ids = padded_ids()
    expected = {"probabilities": model.predict(ids, verbose=0)}
    reports = write_models(tmp_path, {"model": (probabilities(model), [TOKENS], {"token_ids": ids}, expected)},
                           quantize=True, files={"vocabulary.txt": "a\n"})
    plain, quantized = reports
    assert [r.quantized for r in reports] == [False, True]
    assert quantized.size_bytes < 0.6 * plain.size_bytes  # int8 weights, not float32
    assert 0 < quantized.max_abs_difference <= quantized.tolerance == pytest.approx(0.05)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.int8.tflite", "model.tflite", "report.json", "vocabulary.txt"]


def test_a_conversion_failure_names_the_layer_and_op_and_writes_nothing(tmp_path):
    inputs = keras.Input((4, 4))
    outputs = keras.layers.Lambda(lambda x: tf.linalg.det(x), name="determinant")(inputs)
    model = keras.Model(inputs, outputs)
    x = np.eye(4, dtype="float32")[None]
    with pytest.raises(SeqcoreError) as error:
        write_tflite(tmp_path / "m.tflite", lambda x: {"y": model(x)}, [tf.TensorSpec([None, 4, 4], tf.float32, name="x")],
                     {"x": x}, {"y": model.predict(x, verbose=0)})
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("TFLite conversion failed at layer '") and "determinant" in message
    assert "MatrixDeterminant" in message, message
    assert list(tmp_path.iterdir()) == []


def test_a_difference_beyond_the_tolerance_writes_nothing(tmp_path):
    model = classifier("gru")
    ids = padded_ids()
    wrong = model.predict(ids, verbose=0) + 0.01
    with pytest.raises(SeqcoreError, match=r"differs from the Keras model on sample inputs by 1\.00e-02; "
                                           r"expected at most 1e-04"):
        write_tflite(tmp_path / "m.tflite", probabilities(model), [TOKENS], {"token_ids": ids},
                     {"probabilities": wrong})
    assert list(tmp_path.iterdir()) == []


def test_conversion_problem_reads_the_converter_message():
    message = ('loc(callsite(fused["BlockLSTMV2:", "model/backbone/lstm_0/BlockLSTMV2@__inference_f"] at x)): '
               "error: 'tf.BlockLSTMV2' op is neither a custom op nor a flex op\nmore")
    assert conversion_problem(message) == (
        "layer 'model/backbone/lstm_0' (op tf.BlockLSTMV2): the op is neither a custom op nor a flex op")
