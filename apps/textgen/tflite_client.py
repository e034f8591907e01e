"""The client side of textgen's TFLite step model: tokens and the generation loop, in plain Python and NumPy.

No TensorFlow import: this runs on a device with only `ai_edge_litert` and
NumPy (port it line for line to Kotlin / Swift / C++). `vocabulary.json`
beside `step.tflite` lists the tokens in id order (id 0 padding, id 1
`[UNK]`); `preprocessing.json` gives the `level` and the `state_size`.

Example:

>>> token_ids("ab?", ["", "[UNK]", "a", "b"], "char")
[2, 3, 1]
"""

import unicodedata

import numpy as np


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
