"""A recurrence that TensorFlow Lite runs as builtins, one cell step at a time.

TensorFlow's own recurrent graphs do not convert to TensorFlow Lite builtins:
the fused `BlockLSTMV2` op has no TFLite kernel, and Keras' step loop keeps
its outputs in a `TensorArray` whose element shape (dynamic batch) the
converter cannot lower ("Lowering tensor list ops is failed",
tensorflow/tensorflow#33416, #58668, #62849). Inside `step_loop_tracing()`,
every `seqcore.fast_rnn` layer runs this loop instead: a `tf.while_loop` whose
body is one call of the layer's own Keras cell (so the arithmetic is Keras',
to float32 rounding) and whose outputs grow by concatenation. The converter
turns it into a TFLite `WHILE` op whose body subgraph is one step of builtins
(`FULLY_CONNECTED` / `BATCH_MATMUL`, `LOGISTIC`, `TANH`, `MUL`, `ADD`,
`SELECT_V2` for masks). The same cell call is the body of explicit
state-in / state-out step models (`cell_step`).

Masks follow Keras and `seqcore.fast_rnn`: a masked step carries the state
over; the output there is the previous output (zeros under
`zero_output_for_mask`).

Example:

>>> import numpy as np
>>> from seqcore import fast_rnn
>>> layer = fast_rnn.GRU(4, return_sequences=True)
>>> x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
>>> reference = layer(x).numpy()
>>> with step_loop_tracing():
...     stepped = layer(x).numpy()
>>> bool(np.allclose(reference, stepped, atol=1e-5))
True
"""

import contextlib
import threading

import keras
import tensorflow as tf

_STATE = threading.local()


def active():
    """Whether recurrent layers built on `seqcore.fast_rnn` run the step loop now (this thread)."""
    return getattr(_STATE, "depth", 0) > 0


@contextlib.contextmanager
def step_loop_tracing():
    """Within the block, `seqcore.fast_rnn` layers compute with the TFLite-convertible step loop.

    Trace (`get_concrete_function`) the function to convert inside it; the
    traced graph keeps the step loop after the block ends.
    """
    _STATE.depth = getattr(_STATE, "depth", 0) + 1
    try:
        yield
    finally:
        _STATE.depth -= 1


def cell_step(cell, inputs, states):
    """One step of a Keras recurrent `cell`: `(inputs (batch, features), [states]) -> (output, [states])`.

    Example:

    >>> import keras, numpy as np
    >>> cell = keras.layers.LSTMCell(3)
    >>> out, states = cell_step(cell, np.zeros((1, 2), "float32"), [np.zeros((1, 3), "float32")] * 2)
    >>> tuple(out.shape), len(states)
    ((1, 3), 2)
    """
    output, new_states = cell(inputs, list(states), training=False)
    new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
    return output, new_states


def run_time_major(cell, inputs, initial_state, mask=None):
    """Runs `cell` over time-major `inputs` `(steps, batch, features)` in a step loop.

    Args:
        cell: the layer's Keras cell.
        inputs: `(steps, batch, features)`, already in reading order.
        initial_state: list of `(batch, units)` states.
        mask: optional boolean `(steps, batch, 1)`; a masked step carries the state.

    Returns:
        `(states, final_states)`: every step's output `(steps, batch, units)`
        (on a masked step: the carried output) and the list of final states.
    """
    steps = tf.shape(inputs)[0]
    states = [tf.convert_to_tensor(state) for state in initial_state]
    units = states[0].shape[-1]
    # No steps so far. The count is 0 computed from the input values (0 or 1,
    # capped at 0), not a constant: the converter would otherwise fix the
    # loop's output at 0 steps and refuse the loop ("result type 0x?xN is
    # incompatible with body result type 1x?xN") when the length is static.
    none_yet = tf.minimum(tf.cast(tf.reduce_any(tf.math.is_nan(inputs)), tf.int32), 0)
    outputs = tf.zeros(tf.stack([none_yet, tf.shape(inputs)[1], units]), inputs.dtype)
    # The weights are read once, outside the loop: the loop body then holds
    # no variable reads, which the converter would leave unresolved there.
    weights = [(variable, tf.convert_to_tensor(variable)) for variable in cell.weights]

    def body(t, outputs, *carry):
        with keras.StatelessScope(state_mapping=weights):
            output, new_states = cell_step(cell, inputs[t], carry)
        if mask is not None:
            keep = mask[t]
            output = tf.where(keep, output, carry[0])
            new_states = [tf.where(keep, new, old) for new, old in zip(new_states, carry)]
        return (t + 1, tf.concat([outputs, output[None]], axis=0), *new_states)

    _, outputs, *final_states = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), outputs, *states),
        shape_invariants=(
            tf.TensorShape([]), tf.TensorShape([None, None, units]), *[s.shape for s in states]
        ),
    )
    return outputs, list(final_states)
