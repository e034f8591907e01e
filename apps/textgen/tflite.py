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
character alone) and the state size. `token_ids` and `generate` below are
that client recipe in plain Python and NumPy.
"""

import json
import unicodedata

import numpy as np
import tensorflow as tf

from apps.textgen import generation


def _is_word_char(c):
    return unicodedata.category(c)[0] in "LN"


def split_tokens(text, level):
    """The tokens of `text` (`apps.textgen.preprocessing.split_tokens`, in plain Python).

    Example:

    >>> split_tokens("o'er the\\nsea!", "word")
    ["o'er", ' ', 'the', '\\n', 'sea', '!']
    """
    if level == "char":
        return list(text)
    tokens, i = [], 0
    while i < len(text):
        if not _is_word_char(text[i]):
            tokens.append(text[i])
            i += 1
            continue
        j = i
        while j < len(text) and _is_word_char(text[j]):
            j += 1
        # inner apostrophes: "'" followed by a letter or digit continues the word
        while j + 1 < len(text) and text[j] == "'" and _is_word_char(text[j + 1]):
            j += 1
            while j < len(text) and _is_word_char(text[j]):
                j += 1
        tokens.append(text[i:j])
        i = j
    return tokens


def token_ids(text, vocabulary, level):
    """Token ids of `text` with `vocabulary` (id order, as in `vocabulary.json`); unknown tokens: 1."""
    ids = {token: index for index, token in enumerate(vocabulary) if index >= 2}
    return [ids.get(token, 1) for token in split_tokens(text, level)]


def generate(step, prompt, vocabulary, level, state_size, length, temperature=0.0, seed=0):
    """Generates `length` tokens after `prompt` with a step model: the on-device loop.

    Args:
        step: a function `(token int32 [1], state float32 [1, state_size]) ->
            {"logits", "state"}`, e.g. `lambda **k: seqcore.tflite.run(path, k)`.
        prompt, vocabulary, level, state_size: as shipped in the model's folder.
        length: tokens to generate.
        temperature: 0 picks the likeliest token; otherwise samples from
            the softmax of logits / temperature.

    Returns:
        The generated text (without the prompt). Padding and `[UNK]` are never emitted.
    """
    rng = np.random.default_rng(seed)
    state = np.zeros((1, state_size), "float32")
    ids = token_ids(prompt, vocabulary, level) or [1]
    for token in ids:
        out = step(token=np.array([token], "int32"), state=state)
        state = out["state"]
    generated = []
    for _ in range(length):
        logits = np.asarray(out["logits"][0], "float64")[2:]  # never padding or [UNK]
        if temperature == 0:
            token = int(np.argmax(logits)) + 2
        else:
            p = np.exp((logits - logits.max()) / temperature)
            token = int(rng.choice(len(p), p=p / p.sum())) + 2
        generated.append(vocabulary[token])
        out = step(token=np.array([token], "int32"), state=state)
        state = out["state"]
    return "".join(generated)


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
