"""Runs a trained recurrent classifier one frame at a time, with its state kept outside the model.

A `RecurrentBackbone` reads a whole sequence and pools it; a stream never
ends, so `RecurrentStepper` runs the same layers' cells one step at a time
with an explicit state (one tensor per layer, two for an LSTM) that the
caller passes in and gets back. This is google-research `kws_streaming`'s
"external state" mode: the state is an ordinary input and output, so the
same step function becomes a SavedModel signature or a TFLite model whose
state the client keeps between calls. Fed the frames of a sequence from the
zero state, the last step's output equals the non-streaming model's
`pooled_output` with `"last"` pooling (tested), because they are the same
cells with the same weights.

Only a unidirectional stack whose output is the last step's can stream:
`streaming_blockers` says why any other one cannot.

Example:

>>> import numpy as np
>>> from seqcore.backbone import RecurrentBackbone
>>> backbone = RecurrentBackbone(cell="gru", units=4, num_features=3, mask_value=None)
>>> stepper = RecurrentStepper(backbone)
>>> state = stepper.initial_state(1)
>>> outputs, state = stepper.step(np.zeros((1, 2, 3), "float32"), state)
>>> tuple(outputs.shape), sorted(state)
((1, 2, 4), ['gru_0_h'])
"""

import tensorflow as tf

#: The state tensors of each cell kind, in the order its cell takes them.
STATE_PARTS = {"rnn": ("h",), "gru": ("h",), "lstm": ("h", "c")}


def _cell_names(backbone):
    cell = backbone.cell
    names = [name.strip() for name in cell.split(",")] if isinstance(cell, str) else list(cell)
    return names * backbone.num_layers if len(names) == 1 else names


def streaming_blockers(backbone):
    """Why `backbone` cannot run one frame at a time: a list of reasons, empty when it can.

    Example:

    >>> from seqcore.backbone import RecurrentBackbone
    >>> streaming_blockers(RecurrentBackbone(cell="gru", units=4, num_features=3, pooling="max",
    ...                                      mask_value=None))
    ['max pooling over time needs every frame of the clip (train with pooling "last")']
    """
    from seqcore.backbone import RecurrentBackbone

    reasons = []
    if not isinstance(backbone, RecurrentBackbone):
        kind = type(backbone).__name__
        if kind != "ConvRecurrentBackbone":
            return [f"a {kind} backbone has no recurrent step form; expected a RecurrentBackbone"]
        reasons.append("its convolution front end (CRNN) reads frames on both sides of each step and "
                       "pools pairs of frames, so it has no one-frame step (train with --front-end none)")
    if getattr(backbone, "bidirectional", False):
        reasons.append("a bidirectional layer reads each clip backward from its end, which a "
                       "stream never reaches (train it unidirectional)")
    if getattr(backbone, "pooling", "last") != "last":
        reasons.append(f"{backbone.pooling} pooling over time needs every frame of the clip "
                       '(train with pooling "last")')
    if getattr(backbone, "mask_value", None) is not None:
        reasons.append("it masks padded frames, which a stream does not have (mask_value must be None)")
    return reasons


class RecurrentStepper:
    """Steps a unidirectional `RecurrentBackbone`'s cells frame by frame with an explicit state.

    Args:
        backbone: a `RecurrentBackbone` over float features with `"last"`
            pooling, not bidirectional (see `streaming_blockers`).

    Raises:
        ValueError: the backbone cannot stream; the message says why.
    """

    def __init__(self, backbone):
        reasons = streaming_blockers(backbone)
        if reasons:
            raise ValueError("this model has no streaming form: " + "; ".join(reasons))
        self.backbone = backbone
        self.layers = []
        for index, name in enumerate(_cell_names(backbone)):
            self.layers.append((name, backbone.get_layer(f"{name}_{index}")))
        self.units = int(backbone.units)

    @property
    def state_names(self):
        """The state tensors' names, e.g. `["lstm_0_h", "lstm_0_c", "gru_1_h"]`."""
        return [f"{name}_{index}_{part}" for index, (name, _) in enumerate(self.layers)
                for part in STATE_PARTS[name]]

    def state_shapes(self):
        """Name -> shape without the batch axis: `(units,)` for every state tensor."""
        return {name: (self.units,) for name in self.state_names}

    def initial_state(self, batch_size=1):
        """The zero state the non-streaming model starts every sequence from."""
        return {name: tf.zeros([batch_size, self.units]) for name in self.state_names}

    def step(self, frames, state):
        """Runs `frames` `(batch, k, features)` (k static) through the stack from `state`.

        Returns:
            `(outputs, new_state)`: the last layer's output at each of the k
            frames `(batch, k, units)`, and the state after the last frame.
        """
        frames = tf.convert_to_tensor(frames, tf.float32)
        state = dict(state)
        outputs = []
        for t in range(frames.shape[1]):
            x = frames[:, t]
            for index, (name, layer) in enumerate(self.layers):
                keys = [f"{name}_{index}_{part}" for part in STATE_PARTS[name]]
                x, new = layer.cell(x, [state[key] for key in keys], training=False)
                new = new if isinstance(new, (list, tuple)) else [new]
                state.update(zip(keys, new))
            outputs.append(x)
        return tf.stack(outputs, axis=1), state
