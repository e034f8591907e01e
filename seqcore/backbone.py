"""`RecurrentBackbone`: a configurable stack of RNN / LSTM / GRU layers."""

import keras

from seqcore import fast_rnn
from seqcore.pooling import SequencePooling
from seqcore.registry import CELL_TYPES, POOLING_MODES

# seqcore's drop-ins for keras.layers.SimpleRNN / LSTM / GRU: the same weights
# and config, a faster CPU loop (cuDNN stays the default on a GPU).
CELLS = dict(zip(CELL_TYPES, (fast_rnn.SimpleRNN, fast_rnn.LSTM, fast_rnn.GRU)))


def _as_cell_list(cell, num_layers):
    """Resolves `cell` (a name, a comma-separated string or a list) per layer."""
    if isinstance(cell, str):
        cell = [name.strip() for name in cell.split(",") if name.strip()]
    cells = list(cell)
    if len(cells) == 1:
        cells = cells * num_layers
    if len(cells) != num_layers:
        raise ValueError(
            f"`cell` names {len(cells)} cells but `num_layers` is {num_layers}; "
            "expected one cell name, or one per layer"
        )
    for name in cells:
        if name not in CELLS:
            raise ValueError(
                f"Unknown cell; expected one of {', '.join(CELLS)}; received: {name!r}"
            )
    return cells


def recurrent_outputs(
    x, cells, units, bidirectional=False, dropout=0.0, recurrent_dropout=0.0, pooling="last", dtype=None
):
    """Stacks one recurrent layer per cell name on `x`, then pools the sequence.

    Shared by every backbone, so a front end (e.g. convolutions) can feed
    the same recurrent stack.

    Returns:
        `(sequence_output, pooled_output)`.

    Example:

    >>> features = keras.Input((None, 3))
    >>> sequence, pooled = recurrent_outputs(features, ["lstm", "gru"], units=4)
    >>> tuple(pooled.shape)
    (None, 4)
    """
    for index, name in enumerate(cells):
        layer = CELLS[name](
            units,
            return_sequences=True,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            dtype=dtype,
            name=f"{name}_{index}",
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, dtype=dtype, name=f"bidirectional_{name}_{index}")
        x = layer(x)
    pooled = SequencePooling(
        pooling, backward_units=units if bidirectional else 0, dtype=dtype, name=f"{pooling}_pooling"
    )(x)
    return x, pooled


class Backbone(keras.Model):
    """Base of the recurrent backbones: a functional model ending in the shared recurrent stack.

    A subclass builds its front end (an embedding, masking, convolutions)
    on its `keras.Input`, then calls `_build_recurrent` with the front end's
    output: the recurrent layers and the pooling are built, checked and
    configured here, once, for every backbone, and so are `get_config`'s
    shared keys and `from_config`. A subclass's `get_config` adds only its
    own constructor arguments to `super().get_config()`.

    Example:

    >>> class Plain(Backbone):
    ...     def __init__(self, num_features, **kwargs):
    ...         inputs = keras.Input((None, num_features))
    ...         self._build_recurrent(inputs, inputs, **kwargs)
    ...         self.num_features = num_features
    ...     def get_config(self):
    ...         return {**super().get_config(), "num_features": self.num_features}
    >>> plain = Plain(3, cell="gru", units=4)
    >>> Plain.from_config(plain.get_config()).output_width
    4
    """

    def _build_recurrent(
        self, inputs, x, cell="lstm", units=64, num_layers=None, bidirectional=False, dropout=0.0,
        recurrent_dropout=0.0, pooling="last", dtype=None, **kwargs
    ):
        """Stacks the recurrent layers on `x`, builds the functional model and sets the shared config."""
        if pooling not in POOLING_MODES:
            raise ValueError(
                f"Unknown pooling; expected one of {', '.join(POOLING_MODES)}; "
                f"received: {pooling!r}"
            )
        if int(units) < 1:
            raise ValueError(f"`units` must be positive; received: {units}")
        if num_layers is None:
            num_layers = len(cell) if isinstance(cell, (list, tuple)) else 1
        cells = _as_cell_list(cell, int(num_layers))
        sequence_output, pooled_output = recurrent_outputs(
            x, cells, units, bidirectional, dropout, recurrent_dropout, pooling, dtype
        )
        # The next class after Backbone: keras.Model at first, Functional once Keras has put it there.
        super(Backbone, self).__init__(
            inputs=inputs,
            outputs={"sequence_output": sequence_output, "pooled_output": pooled_output},
            dtype=dtype,
            **kwargs,
        )
        self.cell = cells if len(set(cells)) > 1 else cells[0]
        self.units = int(units)
        self.num_layers = int(num_layers)
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.pooling = pooling
        self.output_width = self.units * (2 if self.bidirectional else 1)

    def get_config(self):
        """The keys every backbone shares: identity, dtype and the recurrent stack."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            # A functional model does not keep the `dtype` it was given; its layers do.
            "dtype": keras.dtype_policies.serialize(self.get_layer(f"{self.pooling}_pooling").dtype_policy),
            "cell": self.cell,
            "units": self.units,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "pooling": self.pooling,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuilds the backbone from `get_config()`: its constructor arguments, dtype policy revived."""
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="seqcore")
class RecurrentBackbone(Backbone):
    """A stack of recurrent layers over token ids or float features.

    Give `vocabulary_size` for token-id input (an embedding with id 0 as
    padding, masked) or `num_features` for float-feature input (steps whose
    features all equal `mask_value` are masked). Padding must be on the right
    for the LSTM / GRU cuDNN path on a GPU; the CPU loop of
    `seqcore.fast_rnn` takes any mask.

    Args:
        cell: `"rnn"`, `"lstm"` or `"gru"`, or a list (or comma-separated
            string) with one name per layer for a mixed stack, e.g.
            `["lstm", "gru"]`.
        units: hidden units per direction of every layer.
        num_layers: number of recurrent layers; inferred from a list `cell`.
        bidirectional: wrap each layer in `keras.layers.Bidirectional`
            (outputs are then `2 * units` wide).
        dropout: dropout on the inputs of every recurrent layer.
        recurrent_dropout: dropout on the recurrent state. Any value above 0
            leaves the fast paths (cuDNN on a GPU, seqcore's loop on CPU).
        pooling: how `pooled_output` summarizes the sequence: `"last"`,
            `"mean"`, `"max"` or `"attention"`.
        vocabulary_size: size of the token vocabulary (token-id input).
        embedding_dim: width of the token embedding; defaults to `units`.
        num_features: width of each step (float-feature input).
        mask_value: for float-feature input, the padding value to mask, or
            None for no masking.

    Returns:
        A dict: `sequence_output` `(batch, steps, width)` and `pooled_output`
        `(batch, width)`.

    Example:

    >>> import numpy as np
    >>> backbone = RecurrentBackbone(cell="gru", units=8, vocabulary_size=100)
    >>> out = backbone(np.array([[5, 7, 9, 0]]))
    >>> out["pooled_output"].shape
    TensorShape([1, 8])
    """

    def __init__(
        self,
        cell="lstm",
        units=64,
        num_layers=None,
        bidirectional=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        pooling="last",
        vocabulary_size=None,
        embedding_dim=None,
        num_features=None,
        mask_value=0.0,
        dtype=None,
        **kwargs,
    ):
        if (vocabulary_size is None) == (num_features is None):
            raise ValueError(
                "RecurrentBackbone needs exactly one input kind; expected "
                "`vocabulary_size` (token ids) or `num_features` (float "
                f"features); received: vocabulary_size={vocabulary_size}, "
                f"num_features={num_features}"
            )
        # === Layers ===
        if vocabulary_size is not None:
            inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
            embedding = keras.layers.Embedding(
                vocabulary_size,
                embedding_dim or units,
                mask_zero=True,
                dtype=dtype,
                name="token_embedding",
            )
            x = embedding(inputs)
        else:
            inputs = keras.Input(shape=(None, num_features), name="features")
            x = inputs
            if mask_value is not None:
                x = keras.layers.Masking(mask_value, dtype=dtype, name="padding_mask")(x)

        # === Recurrent stack and functional model ===
        self._build_recurrent(
            inputs, x, cell, units, num_layers, bidirectional, dropout, recurrent_dropout, pooling, dtype, **kwargs
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.num_features = num_features
        self.mask_value = mask_value

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "num_features": self.num_features,
            "mask_value": self.mask_value,
        }
