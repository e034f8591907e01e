"""Textgen as TensorFlow Lite: a step model, so a device generates one token per call.

`step.tflite` is the SavedModel's `step` signature as builtins: `token`
int32 [batch] and `state` float32 [batch, state_size] in, `logits` float32
[batch, vocabulary] and the next `state` out (every recurrent layer's states
concatenated, LSTM h then c; start from zeros). Feed the prompt's ids one
by one, then each sampled id: one step per token, the cost of one cell call
per layer, whatever the length so far.

Tokenization and sampling run in the client (TFLite builtins have no string
ops; sampling is a few lines of NumPy): `vocabulary.json` beside the model
lists the tokens in id order (id 0 padding, id 1 `[UNK]`) and
`preprocessing.json` gives the level (`char`: one token per character;
`word`: runs of letters / digits with inner apostrophes, every other
character alone) and the state size. `apps.textgen.tflite_client` is that
client recipe in plain Python and NumPy (no TensorFlow).
"""

import json

import numpy as np
import tensorflow as tf

from apps.textgen import generation


def tflite_models(model):
    """`seqcore.tflite.write_models` arguments: the step model and the client files."""
    step_fn = generation.step_function(model)
    signature = generation.step_signature(model)
    size = generation.state_size(model)
    rng = np.random.default_rng(0)
    inputs = {
        "token": np.array([2, 3, model.preprocessor.vocabulary_size - 1], "int32"),
        "state": rng.normal(scale=0.5, size=(3, size)).astype("float32"),
    }
    expected = tf.function(step_fn, input_signature=signature)(
        tf.constant(inputs["token"]), tf.constant(inputs["state"]))
    expected = {name: value.numpy() for name, value in expected.items()}
    files = {
        "vocabulary.json": json.dumps(["", "[UNK]", *model.preprocessor.vocabulary], ensure_ascii=False) + "\n",
        "preprocessing.json": json.dumps({"level": model.preprocessor.level, "state_size": size}, indent=2) + "\n",
    }
    return {"step": (step_fn, signature, inputs, expected)}, files
