"""Mask-aware pooling of a recurrent sequence output into one vector."""

import keras
import numpy as np
from keras import ops

from seqcore.registry import POOLING_MODES


@keras.saving.register_keras_serializable(package="seqcore")
class SequencePooling(keras.layers.Layer):
    """Pools `(batch, steps, features)` into `(batch, features)`, honouring the mask.

    Padded steps never change the result: a sequence alone and the same
    sequence right-padded inside a longer batch pool to the same vector. A
    row with no real step at all (e.g. a text of punctuation only) pools to
    zeros in every mode.

    Args:
        mode: `"last"` (the output at the last valid step), `"mean"`,
            `"max"` or `"attention"` (a learned query scores every valid
            step; the softmax of the scores weights the sum).
        backward_units: for `"last"` pooling after a bidirectional layer,
            the number of trailing features that come from the backward
            direction. Those are read at step 0, where the backward pass
            ends; the forward features are read at the last valid step.

    Call arguments:
        inputs: float tensor `(batch, steps, features)`.
        mask: optional boolean tensor `(batch, steps)`, True for real steps.

    Returns:
        A float tensor `(batch, features)`.

    Example:

    >>> import numpy as np
    >>> x = np.arange(12, dtype="float32").reshape(1, 3, 4)
    >>> mask = np.array([[True, True, False]])
    >>> SequencePooling("mean")(x, mask=mask).shape
    TensorShape([1, 4])
    """

    def __init__(self, mode="last", backward_units=0, **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLING_MODES:
            raise ValueError(
                f"Unknown pooling mode; expected one of {', '.join(POOLING_MODES)}; "
                f"received: {mode!r}"
            )
        self.mode = mode
        self.backward_units = int(backward_units)
        self.supports_masking = True

    def build(self, input_shape):
        if self.mode == "attention":
            features = input_shape[-1]
            self.score_dense = keras.layers.Dense(
                features, activation="tanh", name="score_dense"
            )
            self.score_dense.build(input_shape)
            self.query = self.add_weight(
                name="query", shape=(features,), initializer="glorot_uniform"
            )

    def call(self, inputs, mask=None):
        if mask is None and self.mode == "last":
            return self._last(inputs, None)  # every step is valid: no lengths, no gather
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")
        steps = ops.expand_dims(mask, -1)
        if self.mode == "mean":
            weights = ops.cast(steps, inputs.dtype)
            pooled = ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        elif self.mode == "max":
            pooled = ops.max(ops.where(steps, inputs, _lowest(inputs.dtype)), axis=1)
        elif self.mode == "attention":
            scores = ops.matmul(self.score_dense(inputs), ops.expand_dims(self.query, -1))
            scores = ops.where(steps, scores, _lowest(scores.dtype))
            weights = ops.cast(ops.softmax(scores, axis=1), inputs.dtype)
            pooled = ops.sum(inputs * weights, axis=1)
        else:
            pooled = self._last(inputs, mask)
        has_steps = ops.any(mask, axis=1, keepdims=True)
        return ops.where(has_steps, pooled, ops.zeros_like(pooled))

    def _last(self, inputs, mask):
        if mask is None:
            forward_last = inputs[:, -1, :]
        else:
            lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
            last_index = ops.maximum(lengths - 1, 0)
            forward_last = ops.take_along_axis(
                inputs, ops.reshape(last_index, (-1, 1, 1)), axis=1
            )[:, 0, :]
        if not self.backward_units:
            return forward_last
        split = ops.shape(inputs)[-1] - self.backward_units
        return ops.concatenate(
            [forward_last[:, :split], inputs[:, 0, split:]], axis=-1
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "backward_units": self.backward_units})
        return config


def _lowest(dtype):
    """The most negative finite value of `dtype`: masks out steps without overflowing to -inf."""
    return float(np.finfo(keras.backend.standardize_dtype(dtype)).min)
