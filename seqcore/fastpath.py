"""Which loop each recurrent layer of a model runs: cuDNN, seqcore's CPU loop, or Keras' generic one."""

import keras
import tensorflow as tf


def recurrent_layers(layer):
    """Every recurrent layer in `layer` (itself included), a `Bidirectional`'s two directions apiece."""
    if isinstance(layer, keras.layers.Bidirectional):
        yield from (layer.forward_layer, layer.backward_layer)
    elif isinstance(layer, keras.layers.RNN):
        yield layer
    for child in getattr(layer, "layers", []):
        yield from recurrent_layers(child)


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


def _path(layer, cudnn_active):
    """The loop `layer` runs here, and why not a faster one."""
    if cudnn_active:
        return "cudnn", []
    blockers = getattr(layer, "cpu_path_blockers", None)
    if blockers is None:
        return "keras", [f"keras.layers.{type(layer).__name__}, not seqcore.fast_rnn's"]
    reasons = blockers()
    return ("keras", reasons) if reasons else ("seqcore", [])


def fast_path_report(model):
    """One row per recurrent layer: can it use cuDNN, and which loop will it run here?

    Returns:
        A list of dicts: `layer`, `kind`, `eligible` (for cuDNN), `reasons`
        (why not cuDNN), `active` (eligible and a GPU is visible), `path`
        (the loop it runs here: `"cudnn"`, `"seqcore"` for the whole-sequence
        CPU loop of `seqcore.fast_rnn`, or `"keras"` for Keras' step-by-step
        loop) and `path_reasons` (why not a faster one). Masked input must
        also be right-padded at run time for cuDNN, which every seqcore
        preprocessor does.

    Example:

    >>> from seqcore.backbone import RecurrentBackbone
    >>> rows = fast_path_report(RecurrentBackbone(cell="gru", units=4, num_features=2))
    >>> rows[0]["eligible"], rows[0]["path"]
    (True, 'seqcore')
    """
    gpu = bool(tf.config.list_physical_devices("GPU"))
    rows = []
    for layer in recurrent_layers(model):
        reasons = _blockers(layer)
        path, path_reasons = _path(layer, gpu and not reasons)
        rows.append(
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "eligible": not reasons,
                "reasons": reasons,
                "active": gpu and not reasons,
                "path": path,
                "path_reasons": path_reasons,
            }
        )
    return rows
