"""Textgen TFLite: the step model, fed one token per call, gives the full-sequence model's logits."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.textgen.model import build_language_model
from apps.textgen.preprocessing import split_tokens as tf_split_tokens
from apps.textgen.tflite import tflite_models
from apps.textgen.tflite_client import generate, split_tokens, token_ids
from seqcore.tflite import FLOAT_ATOL, run, write_models

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TEXT = "o'er the king's land, my lord!\nROMEO: 42 ways"


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(2)
    config = {"tokenizer": {"level": "char"}, "backbone": {"cell": ["lstm", "gru"], "units": 8, "num_layers": 2},
              "head": {"dropout": 0.0, "learning_rate": 0.002}}
    return build_language_model(config, sorted(set(TEXT)))


def test_word_tokens_equal_the_models_tokenizer():
    for text in [TEXT, "don't  stop'", "Ωμέγα's end", "'quoted' words"]:
        expected = [t.decode() for t in tf_split_tokens(tf.constant([text]), "word").to_list()[0]]
        assert split_tokens(text, "word") == expected


def test_step_model_runs_generation_one_token_at_a_time(model, tmp_path):
    models, files = tflite_models(model)
    reports = write_models(tmp_path, models, quantize=True, files=files)
    assert all(r.max_abs_difference <= r.tolerance for r in reports) and reports[0].tolerance == FLOAT_ATOL
    assert "WHILE" not in reports[0].ops  # one step per call, no loop inside
    vocabulary = model.preprocessor.vocabulary
    ids = token_ids(TEXT, ["", "[UNK]", *vocabulary], "char")
    full = model(np.array([ids], "int32"), training=False).numpy()[0]  # (steps, vocabulary)
    state = np.zeros((1, json.loads(files["preprocessing.json"])["state_size"]), "float32")
    stepped = []
    for token in ids:
        out = run(tmp_path / "step.tflite", {"token": np.array([token], "int32"), "state": state})
        stepped.append(out["logits"][0])
        state = out["state"]
    np.testing.assert_allclose(np.array(stepped), full, atol=FLOAT_ATOL)


def test_client_generation_with_the_step_model_equals_keras_step(model, tmp_path):
    models, files = tflite_models(model)
    write_models(tmp_path, models, files=files)
    size = json.loads(files["preprocessing.json"])["state_size"]
    vocabulary = ["", "[UNK]", *model.preprocessor.vocabulary]
    step_fn = tf.function(models["step"][0], input_signature=models["step"][1])

    def keras_step(token, state):
        return {name: value.numpy() for name, value in step_fn(tf.constant(token), tf.constant(state)).items()}

    def tflite_step(token, state):
        return run(tmp_path / "step.tflite", {"token": token, "state": state})

    for temperature in (0.0, 1.0):
        on_device = generate(tflite_step, "the ", vocabulary, "char", size, 20, temperature, seed=3)
        reference = generate(keras_step, "the ", vocabulary, "char", size, 20, temperature, seed=3)
        assert on_device == reference and len(on_device) == 20
