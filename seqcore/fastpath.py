"""Which recurrent layers of a model will run on the fast cuDNN kernels."""

import keras
import tensorflow as tf


def _recurrent_layers(layer):
    if isinstance(layer, keras.layers.Bidirectional):
        yield from (layer.forward_layer, layer.backward_layer)
    elif isinstance(layer, keras.layers.RNN):
        yield layer
    for child in getattr(layer, "layers", []):
        yield from _recurrent_layers(child)


def _blockers(layer):
    """Reasons a recurrent layer cannot use cuDNN, whatever the hardware."""
    if not isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        return [f"{type(layer).__name__} has no cuDNN kernel"]
    reasons = []
    if keras.activations.serialize(layer.activation) != "tanh":
        reasons.append("activation is not tanh")
    if keras.activations.serialize(layer.recurrent_activation) != "sigmoid":
        reasons.append("recurrent_activation is not sigmoid")
    if layer.recurrent_dropout:
        reasons.append(f"recurrent_dropout={layer.recurrent_dropout}")
    if layer.unroll:
        reasons.append("unroll=True")
    if not layer.use_bias:
        reasons.append("use_bias=False")
    if isinstance(layer, keras.layers.GRU) and not layer.reset_after:
        reasons.append("reset_after=False")
    if layer.use_cudnn is False:
        reasons.append("use_cudnn=False")
    return reasons


def fast_path_report(model):
    """One row per recurrent layer: can it use cuDNN, and will it here?

    Returns:
        A list of dicts: `layer`, `kind`, `eligible`, `reasons`, `active`
        (eligible and a GPU is visible). Masked input must also be
        right-padded at run time, which every seqcore preprocessor does.

    Example:

    >>> from seqcore.backbone import RecurrentBackbone
    >>> rows = fast_path_report(RecurrentBackbone(cell="gru", units=4, num_features=2))
    >>> rows[0]["eligible"]
    True
    """
    gpu = bool(tf.config.list_physical_devices("GPU"))
    rows = []
    for layer in _recurrent_layers(model):
        reasons = _blockers(layer)
        rows.append(
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "eligible": not reasons,
                "reasons": reasons,
                "active": gpu and not reasons,
            }
        )
    return rows
