"""`ConvRecurrentBackbone`: a convolutional front end feeding a recurrent stack (CRNN)."""

import keras

from seqcore.audio import SpecAugment
from seqcore.backbone import Backbone

CONV_KINDS = ("2d", "1d")


def _as_int_list(value, name):
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    try:
        values = [int(v) for v in value]
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a list of integers; received: {value!r}") from None
    if any(v < 1 for v in values):
        raise ValueError(f"`{name}` must hold positive integers; received: {value!r}")
    return values


@keras.saving.register_keras_serializable(package="seqcore")
class ConvRecurrentBackbone(Backbone):
    """Convolution blocks over feature frames, then a stack of recurrent layers.

    The usual keyword-spotting CRNN: each block is a convolution, batch
    normalization, ReLU and pooling. With `conv="2d"` the frames are an
    image (time x feature) with one channel, pooled in both directions; with
    `conv="1d"` the features are channels and only time is pooled. The
    result, one vector per remaining time step, feeds the same recurrent
    stack as `RecurrentBackbone` (cells `rnn` / `lstm` / `gru`, mixed,
    stacked, bidirectional). Inputs are fixed-length frames, so nothing is
    masked.

    Args:
        num_features: width of each input frame (e.g. MFCC coefficients).
        conv_filters: filters of each convolution block, e.g. `[16, 32]`;
            empty for no convolution.
        conv_kernel: kernel size (time, and feature for `"2d"`).
        time_pool: pooling factor over time in each block.
        feature_pool: pooling factor over features in each `"2d"` block.
        conv: `"2d"` or `"1d"`.
        cell, units, num_layers, bidirectional, dropout, recurrent_dropout,
            pooling: as in `RecurrentBackbone`.
        time_masks, time_mask_max, freq_masks, freq_mask_max: SpecAugment
            masking of the input frames while training (0 masks: off).
        freq_warp: random stretch of the feature axis while training
            (vocal-tract-length perturbation of log-mel frames; 0: off).
        time_stretch: random stretch of the time axis around the clip
            centre while training (tempo perturbation; 0: off).

    Returns:
        A dict: `sequence_output` `(batch, steps, width)` and `pooled_output`
        `(batch, width)`, where steps = input frames // time_pool ** blocks.

    Example:

    >>> import numpy as np
    >>> backbone = ConvRecurrentBackbone(num_features=20, conv_filters=[8], cell="gru", units=16)
    >>> backbone(np.zeros((2, 98, 20), "float32"))["pooled_output"].shape
    TensorShape([2, 16])
    """

    def __init__(
        self,
        num_features,
        conv_filters=(16, 32),
        conv_kernel=3,
        time_pool=2,
        feature_pool=2,
        conv="2d",
        cell="gru",
        units=64,
        num_layers=None,
        bidirectional=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        pooling="last",
        time_masks=0,
        time_mask_max=10,
        freq_masks=0,
        freq_mask_max=4,
        freq_warp=0.0,
        time_stretch=0.0,
        dtype=None,
        **kwargs,
    ):
        if conv not in CONV_KINDS:
            raise ValueError(
                f"Unknown conv; expected one of {', '.join(CONV_KINDS)}; received: {conv!r}"
            )
        filters = _as_int_list(conv_filters, "conv_filters")
        num_features = int(num_features)
        if conv == "2d" and num_features < int(feature_pool) ** len(filters):
            raise ValueError(
                f"`num_features` ({num_features}) is too narrow for {len(filters)} "
                f"blocks pooling features by {feature_pool}; expected at least "
                f"{int(feature_pool) ** len(filters)}"
            )

        # === Layers and Functional Model ===
        inputs = keras.Input(shape=(None, num_features), name="features")
        x = inputs
        if int(time_masks) or int(freq_masks) or float(freq_warp) or float(time_stretch):
            x = SpecAugment(
                time_masks, time_mask_max, freq_masks, freq_mask_max, freq_warp=freq_warp,
                time_stretch=time_stretch, dtype=dtype, name="spec_augment"
            )(x)
        width = num_features
        if filters and conv == "2d":
            x = keras.layers.Reshape((-1, num_features, 1), dtype=dtype, name="as_image")(x)
        for index, count in enumerate(filters):
            if conv == "2d":
                x = keras.layers.Conv2D(
                    count, conv_kernel, padding="same", use_bias=False, dtype=dtype, name=f"conv_{index}"
                )(x)
                pool = keras.layers.MaxPooling2D(
                    (time_pool, feature_pool), padding="same", dtype=dtype, name=f"pool_{index}"
                )
                width = -(-width // int(feature_pool))
            else:
                x = keras.layers.Conv1D(
                    count, conv_kernel, padding="same", use_bias=False, dtype=dtype, name=f"conv_{index}"
                )(x)
                pool = keras.layers.MaxPooling1D(time_pool, padding="same", dtype=dtype, name=f"pool_{index}")
            x = keras.layers.BatchNormalization(dtype=dtype, name=f"conv_norm_{index}")(x)
            x = keras.layers.Activation("relu", dtype=dtype, name=f"conv_relu_{index}")(x)
            x = pool(x)
        if filters and conv == "2d":
            x = keras.layers.Reshape((-1, width * filters[-1]), dtype=dtype, name="as_frames")(x)
        self._build_recurrent(
            inputs, x, cell, units, num_layers, bidirectional, dropout, recurrent_dropout, pooling, dtype, **kwargs
        )

        # === Config ===
        self.num_features = num_features
        self.conv_filters = filters
        self.conv_kernel = int(conv_kernel)
        self.time_pool = int(time_pool)
        self.feature_pool = int(feature_pool)
        self.conv = conv
        self.time_masks = int(time_masks)
        self.time_mask_max = int(time_mask_max)
        self.freq_masks = int(freq_masks)
        self.freq_mask_max = int(freq_mask_max)
        self.freq_warp = float(freq_warp)
        self.time_stretch = float(time_stretch)

    def get_config(self):
        return {
            **super().get_config(),
            "num_features": self.num_features,
            "conv_filters": self.conv_filters,
            "conv_kernel": self.conv_kernel,
            "time_pool": self.time_pool,
            "feature_pool": self.feature_pool,
            "conv": self.conv,
            "time_masks": self.time_masks,
            "time_mask_max": self.time_mask_max,
            "freq_masks": self.freq_masks,
            "freq_mask_max": self.freq_mask_max,
            "freq_warp": self.freq_warp,
            "time_stretch": self.time_stretch,
        }
