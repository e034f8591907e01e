"""Drop-in `LSTM`, `GRU` and `SimpleRNN` layers with a faster CPU loop.

Each subclasses its `keras.layers` namesake and keeps everything but the
loop: the same cell, weights (names and shapes), config and call
arguments, so weights and `.keras` files move freely between the two. Only
`inner_loop` changes, and only where `cpu_path_blockers()` finds nothing in
the way: the input projections of all steps become one matmul and the
recurrence runs in `seqcore.recurrent_loops` (step loops with hand-written
gradients, XLA-compiled in training; inference graphs, and so exports, stay
plain TensorFlow, where an unmasked LSTM runs TensorFlow's fused
`BlockLSTMV2` op). Everywhere else, on a GPU in particular (where
Keras picks cuDNN), the Keras loop runs unchanged.

Results equal Keras' to float32 rounding (about 1e-6): masked steps carry
the state over and output the previous output (zeros under
`zero_output_for_mask`, which `Bidirectional` sets), `go_backwards` returns
the reversed sequence, input dropout draws the same mask from the cell's
seed generator.

Example:

>>> import numpy as np
>>> layer = LSTM(4, return_sequences=True)
>>> layer(np.zeros((2, 5, 3), "float32")).shape
TensorShape([2, 5, 4])
>>> layer.cpu_path_blockers()
[]
"""

import keras
import tensorflow as tf

from seqcore import recurrent_loops, step_loop

#: Masked (variable-length) training batches run their loops on steps
#: rounded up to a multiple of this, so that XLA, which compiles once per
#: shape, compiles a few loops instead of one per bucket length.
STEP_QUANTUM = 32


def _gpu_visible():
    return bool(tf.config.list_physical_devices("GPU"))


def _in_xla_context():
    """Whether the graph being traced will be XLA-compiled (`jit_compile`), which
    has no kernel for the fused LSTM op; True when that cannot be told."""
    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:  # a TensorFlow without the private helper: stay on the loop
        return True
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


class _FastLoopMixin:
    """Replaces `keras.layers.RNN.inner_loop` by a whole-sequence loop when it can."""

    #: Train with Keras' step loop although the fast loop could run: set by
    #: `seqcore.loop_tuning` where Keras' loop measured faster on this machine.
    #: Inference is unaffected; the setting is not saved with the layer.
    train_with_keras_loop = False

    def cpu_path_blockers(self):
        """Why this layer runs Keras' own loop instead of the fast one (empty: it does not).

        Example:

        >>> GRU(4, recurrent_dropout=0.1).cpu_path_blockers()
        ['recurrent_dropout=0.1']
        """
        cell = self.cell
        reasons = []
        if keras.backend.backend() != "tensorflow":
            reasons.append(f"backend is {keras.backend.backend()}")
        if _gpu_visible():
            reasons.append("a GPU is visible (Keras' cuDNN or generic loop)")
        if keras.activations.serialize(cell.activation) != "tanh":
            reasons.append("activation is not tanh")
        if hasattr(cell, "recurrent_activation") and (
            keras.activations.serialize(cell.recurrent_activation) != "sigmoid"
        ):
            reasons.append("recurrent_activation is not sigmoid")
        if cell.recurrent_dropout:
            reasons.append(f"recurrent_dropout={cell.recurrent_dropout}")
        elif getattr(cell, "implementation", 2) != 2:
            reasons.append(f"implementation={cell.implementation}")
        if not getattr(cell, "reset_after", True):
            reasons.append("reset_after=False")
        if self.unroll:
            reasons.append("unroll=True")
        if getattr(self, "use_cudnn", "auto") is True:
            reasons.append("use_cudnn=True")
        if self.compute_dtype != "float32":
            reasons.append(f"compute dtype is {self.compute_dtype}")
        return reasons

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        stepped = step_loop.active() and training is not True  # TFLite conversion: see seqcore.step_loop
        if not stepped and (self.cpu_path_blockers() or (training is True and self.train_with_keras_loop)):
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)

        cell = self.cell
        if training and 0.0 < cell.dropout < 1.0:
            # The mask `RNN.call` drew for this batch, shared by every step as in Keras.
            sequences = sequences * tf.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        inputs = tf.transpose(sequences, (1, 0, 2))  # time-major
        if mask is not None:
            mask = tf.cast(mask, tf.bool)
            mask = tf.transpose(mask if mask.shape.rank == 3 else tf.expand_dims(mask, -1), (1, 0, 2))
        if self.go_backwards:
            inputs = tf.reverse(inputs, (0,))
            mask = None if mask is None else tf.reverse(mask, (0,))

        # XLA for training only: inference graphs (exports) stay plain TensorFlow.
        xla = training is True and recurrent_loops.JIT_COMPILE
        fused = training is not True and mask is None and hasattr(self, "_run_fused")
        if stepped:
            states, final_states = step_loop.run_time_major(cell, inputs, initial_state, mask)
        elif fused and not _in_xla_context():
            states, final_states = self._run_fused(inputs, initial_state)
        else:
            # One matmul projects the inputs of every step.
            steps, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
            projected = tf.matmul(tf.reshape(inputs, (-1, cell.kernel.shape[0])), cell.kernel)
            input_bias = self._input_bias()
            if input_bias is not None:
                projected += input_bias
            projected = tf.reshape(projected, (steps, batch, projected.shape[-1]))
            loop_mask = mask
            if xla and mask is not None:
                # Padded steps are masked: they carry the state and change nothing.
                pad = (-steps) % STEP_QUANTUM
                loop_mask = tf.pad(mask, [[0, pad], [0, 0], [0, 0]])  # pads with False
                projected = tf.pad(projected, [[0, pad], [0, 0], [0, 0]])
            states, final_states = self._run(projected, initial_state, loop_mask, xla=xla)
            states = states[:steps]
        outputs = states
        if mask is not None:
            # Masked steps output zeros, or (Keras' default) the previous
            # output: the carried state once a real step has been seen.
            shown = mask if self.zero_output_for_mask else tf.cumsum(tf.cast(mask, tf.int32), axis=0) > 0
            outputs = tf.where(shown, states, tf.zeros_like(states))
        last_output = outputs[-1]
        if self.return_sequences:
            outputs = tf.transpose(outputs, (1, 0, 2))
        else:
            outputs = last_output[:, None]
        return last_output, outputs, final_states


@keras.saving.register_keras_serializable(package="seqcore")
class LSTM(_FastLoopMixin, keras.layers.LSTM):
    """`keras.layers.LSTM` with a faster CPU loop; same weights, config and results.

    Takes every argument of `keras.layers.LSTM`. On CPU, training uses one
    input-projection matmul for all steps and an XLA-compiled step loop with
    a hand-written gradient; inference without a mask runs TensorFlow's
    fused `BlockLSTMV2` op (with a mask, the same step loop, plain
    TensorFlow). `cpu_path_blockers()` names any reason to run Keras' loop
    instead (e.g. `recurrent_dropout`, another activation, a visible GPU,
    where cuDNN stays the default).

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    >>> fast, plain = LSTM(4), keras.layers.LSTM(4)
    >>> fast.build(x.shape); plain.build(x.shape)
    >>> plain.set_weights(fast.get_weights())
    >>> bool(np.allclose(fast(x), plain(x), atol=1e-5))
    True
    """

    def _input_bias(self):
        return self.cell.bias if self.cell.use_bias else None

    def _run(self, projected, initial_state, mask, xla):
        h0, c0 = initial_state
        states, last_carry = recurrent_loops.lstm_sequence(
            projected, h0, c0, self.cell.recurrent_kernel, mask, xla
        )
        return states, [states[-1], last_carry]

    def _run_fused(self, inputs, initial_state):
        """Unmasked inference: TensorFlow's fused LSTM op over all steps."""
        h0, c0 = initial_state
        cell = self.cell
        bias = self._input_bias()
        if bias is None:
            bias = tf.zeros((4 * cell.units,), inputs.dtype)
        states, last_carry = recurrent_loops.lstm_fused_sequence(
            inputs, h0, c0, cell.kernel, cell.recurrent_kernel, bias
        )
        return states, [states[-1], last_carry]


@keras.saving.register_keras_serializable(package="seqcore")
class GRU(_FastLoopMixin, keras.layers.GRU):
    """`keras.layers.GRU` with a faster CPU loop; same weights, config and results.

    Takes every argument of `keras.layers.GRU`; the fast loop needs
    `reset_after=True` (the default) besides what `LSTM` needs.

    Example:

    >>> import numpy as np
    >>> GRU(4)(np.zeros((2, 6, 3), "float32")).shape
    TensorShape([2, 4])
    """

    def _input_bias(self):
        return self.cell.bias[0] if self.cell.use_bias else None

    def _run(self, projected, initial_state, mask, xla):
        (h0,) = initial_state
        units = self.cell.units
        recurrent_bias = self.cell.bias[1] if self.cell.use_bias else tf.zeros((3 * units,), projected.dtype)
        states = recurrent_loops.gru_sequence(
            projected, h0, self.cell.recurrent_kernel, recurrent_bias, mask, xla
        )
        return states, [states[-1]]


@keras.saving.register_keras_serializable(package="seqcore")
class SimpleRNN(_FastLoopMixin, keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` with a faster CPU loop; same weights, config and results.

    Takes every argument of `keras.layers.SimpleRNN`; the fast loop needs
    the default `tanh` activation and no recurrent dropout.

    Example:

    >>> import numpy as np
    >>> SimpleRNN(4)(np.zeros((2, 6, 3), "float32")).shape
    TensorShape([2, 4])
    """

    def _input_bias(self):
        return self.cell.bias if self.cell.use_bias else None

    def _run(self, projected, initial_state, mask, xla):
        (h0,) = initial_state
        states = recurrent_loops.simple_rnn_sequence(projected, h0, self.cell.recurrent_kernel, mask, xla)
        return states, [states[-1]]
