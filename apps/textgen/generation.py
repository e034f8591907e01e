"""Text generation as compiled TensorFlow functions: the same code runs from a run
directory and inside the exported SavedModel.

`generation_function(model)` returns the `serving_default` function: prompts
and settings in, text out. The prompt is read once (its final recurrent
states), then the model steps one token at a time inside an XLA-compiled
`tf.while_loop`, sampling included (`CausalLM.generate_ids`); stop strings
are looked for between chunks of 64 tokens. `step_function(model)` returns the single-step
signature for streaming clients: a token and the flat state in, logits and
the next state out.
"""

import tensorflow as tf

from seqcore.samplers import TopPSampler

#: Generation settings, in the order of the serving signature after `prompt`.
GENERATION_SIGNATURE = [
    tf.TensorSpec([None], tf.string, name="prompt"),
    tf.TensorSpec([], tf.int32, name="max_length"),
    tf.TensorSpec([], tf.float32, name="temperature"),
    tf.TensorSpec([], tf.int32, name="top_k"),
    tf.TensorSpec([], tf.float32, name="top_p"),
    tf.TensorSpec([], tf.float32, name="repetition_penalty"),
    tf.TensorSpec([], tf.int64, name="seed"),
    tf.TensorSpec([None], tf.string, name="stop"),
]

DEFAULTS = {
    "max_length": 300,
    "temperature": 0.8,
    "top_k": 0,
    "top_p": 1.0,
    "repetition_penalty": 1.0,
    "seed": 0,
    "stop": (),
}

_REGEX_SPECIAL = r"([.^$|?*+()\[\]{}\\])"


def start_id(tokenizer):
    """The token an empty prompt starts from: a line break if known, else the most frequent token."""
    vocabulary = tokenizer.vocabulary
    return vocabulary.index("\n") + 2 if "\n" in vocabulary else 2


def _stop_pattern(stop):
    """One RE2 alternation of the (escaped, non-empty) stop strings, and whether there are any."""
    stop = tf.boolean_mask(stop, tf.strings.length(stop) > 0)
    escaped = tf.strings.regex_replace(stop, _REGEX_SPECIAL, r"\\\1")
    return "(" + tf.strings.reduce_join(escaped, separator="|") + ")", tf.size(stop) > 0, stop


def generation_function(model, jit_compile=True):
    """`(prompt, max_length, temperature, top_k, top_p, repetition_penalty, seed, stop)` -> dict.

    Returns `text` (prompt + continuation) and `generated` (the
    continuation alone), string `(batch,)`. Generation of a row ends after
    `max_length` tokens or just before the first stop string, which is not
    included. Temperature 0 is greedy decoding; the same seed gives the
    same text.

    Usage (a sketch; it needs a trained model, so it is not run as a test)::

        generate = tf.function(generation_function(model))
        generate(tf.constant(["ROMEO:"]), 100, 0.8, 0, 0.95, 1.0, 7, tf.constant(["\\n\\n"]))
    """
    tokenizer = model.preprocessor
    first = start_id(tokenizer)

    def generate(prompt, max_length, temperature, top_k, top_p, repetition_penalty, seed, stop):
        checks = [
            tf.debugging.assert_non_negative(max_length, message="max_length must be >= 0"),
            tf.debugging.assert_greater_equal(temperature, 0.0, message="temperature must be >= 0"),
            tf.debugging.assert_non_negative(top_k, message="top_k must be >= 0"),
            tf.debugging.assert_greater(top_p, 0.0, message="top_p must be in (0, 1]"),
            tf.debugging.assert_less_equal(top_p, 1.0, message="top_p must be in (0, 1]"),
            tf.debugging.assert_greater(
                repetition_penalty, 0.0, message="repetition_penalty must be > 0"
            ),
        ]
        with tf.control_dependencies(checks):
            ids = tokenizer(prompt)
        empty = tf.equal(ids[:, 0], 0)
        ids = tf.concat([tf.where(empty, first, ids[:, 0])[:, None], ids[:, 1:]], axis=1)

        pattern, any_stop, stop = _stop_pattern(stop)
        window = tf.reduce_max(tf.concat([tf.strings.length(stop, "UTF8_CHAR"), [1]], axis=0))

        def stop_fn(recent):
            def search():
                text = tokenizer.detokenize(recent)
                return tf.strings.regex_full_match(text, "(?s).*" + pattern + ".*")

            # Without stop strings the loop skips decoding altogether.
            return tf.cond(any_stop, search, lambda: tf.zeros([tf.shape(recent)[0]], tf.bool))

        sampler = TopPSampler(temperature, top_k, top_p)
        new_ids, _ = model.generate_ids(
            ids,
            max_length,
            sampler=sampler,
            seed=seed,
            repetition_penalty=repetition_penalty,
            banned_ids=tokenizer.special_ids,
            stop_fn=stop_fn,
            stop_window=window,
            jit_compile=jit_compile,
        )
        generated = tokenizer.detokenize(new_ids)
        cut = tf.strings.regex_replace(generated, "(?s)" + pattern + ".*$", "", replace_global=False)
        generated = tf.where(any_stop, cut, generated)
        return {"text": prompt + generated, "generated": generated}

    return generate


def state_size(model):
    """Width of the flat state that the step signature carries."""
    return sum(
        int(size) for layer in model.recurrent_layers for size in _state_sizes(layer.cell)
    )


def _state_sizes(cell):
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


def step_function(model):
    """`(token int32 [batch], state float32 [batch, state_size])` -> `logits`, `state`.

    Start from a zero state; feed the prompt's ids one by one, then sampled
    ones. The state concatenates every layer's states (LSTM: h then c).
    """
    sizes = [_state_sizes(layer.cell) for layer in model.recurrent_layers]

    def step(token, state):
        parts = tf.split(state, [s for layer in sizes for s in layer], axis=-1)
        states, index = [], 0
        for layer in sizes:
            states.append(parts[index : index + len(layer)])
            index += len(layer)
        logits, new_states = model.step(token, states)
        return {"logits": logits, "state": tf.concat(tf.nest.flatten(new_states), axis=-1)}

    return step


def step_signature(model):
    return [
        tf.TensorSpec([None], tf.int32, name="token"),
        tf.TensorSpec([None, state_size(model)], tf.float32, name="state"),
    ]


def settings_tensors(prompts, max_length, temperature, top_k, top_p, repetition_penalty, seed, stop):
    """The serving signature's inputs as tensors, in order."""
    return [
        tf.constant(list(prompts), tf.string),
        tf.constant(int(max_length), tf.int32),
        tf.constant(float(temperature), tf.float32),
        tf.constant(int(top_k), tf.int32),
        tf.constant(float(top_p), tf.float32),
        tf.constant(float(repetition_penalty), tf.float32),
        tf.constant(int(seed), tf.int64),
        tf.constant(list(stop), tf.string, shape=[len(stop)]),
    ]
