"""`Forecaster`: a backbone with a multi-horizon, quantile forecasting head.

The model takes raw history (targets first, then covariates) and returns
quantile forecasts in raw units: a `keras.layers.Normalization` adapted on
the training part scales the inputs, and the head maps its output back to
the targets' units, so `model.keras` and its export both work on raw data.
"""

import keras
from keras import ops

from seqcore.forecast_calendar import calendar_features, calendar_width
from seqcore.registry import FORECAST_HEADS
from seqcore.task import Task

HEADS = FORECAST_HEADS
CALIBRATION_KINDS = ("scale", "offset")


def check_quantiles(quantiles):
    """Sorted quantile levels in (0, 1) that include the median 0.5.

    Example:

    >>> check_quantiles([0.9, 0.1, 0.5])
    [0.1, 0.5, 0.9]
    """
    levels = sorted(float(q) for q in quantiles)
    if (
        not levels
        or len(set(levels)) != len(levels)
        or any(not 0.0 < q < 1.0 for q in levels)
        or 0.5 not in levels
    ):
        raise ValueError(
            "`quantiles` must be distinct levels in (0, 1) including the median 0.5, "
            f"e.g. [0.1, 0.5, 0.9]; received: {list(quantiles)}"
        )
    return levels


@keras.saving.register_keras_serializable(package="seqcore")
class PinballLoss(keras.losses.Loss):
    """Mean pinball (quantile) loss of `(batch, horizon, targets, quantiles)` forecasts.

    With the single level 0.5 it is half the mean absolute error.

    Args:
        quantiles: the levels of the last axis of `y_pred`, in order.
        scales: optional per-target divisors (e.g. the training standard
            deviations), so targets in different units weigh the same.

    Example:

    >>> import numpy as np
    >>> loss = PinballLoss([0.1, 0.5, 0.9])
    >>> y_true = np.zeros((1, 2, 1), "float32")
    >>> y_pred = np.tile(np.array([-1.0, 0.0, 1.0], "float32"), (1, 2, 1, 1))
    >>> round(float(loss(y_true, y_pred)), 4)
    0.0667
    """

    def __init__(self, quantiles=(0.5,), scales=None, name="pinball", reduction="sum_over_batch_size", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.quantiles = [float(q) for q in quantiles]
        self.scales = None if scales is None else [float(s) for s in scales]

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        error = ops.expand_dims(y_true, -1) - y_pred
        if self.scales is not None:
            error = error / ops.reshape(ops.convert_to_tensor(self.scales, y_pred.dtype), (-1, 1))
        levels = ops.convert_to_tensor(self.quantiles, y_pred.dtype)
        loss = ops.maximum(levels * error, (levels - 1.0) * error)
        return ops.mean(loss, axis=(1, 2, 3))

    def get_config(self):
        config = super().get_config()
        config.update({"quantiles": self.quantiles, "scales": self.scales})
        return config


@keras.saving.register_keras_serializable(package="seqcore")
class MedianAbsoluteError(keras.metrics.MeanMetricWrapper):
    """Mean absolute error of the median (quantile 0.5) forecast, in raw units.

    Example:

    >>> metric = MedianAbsoluteError(median_index=0)
    """

    def __init__(self, median_index=0, name="mae", dtype=None):
        super().__init__(fn=self._error, name=name, dtype=dtype)
        self.median_index = int(median_index)

    def _error(self, y_true, y_pred):
        median = y_pred[..., self.median_index]
        return ops.mean(ops.abs(ops.cast(y_true, median.dtype) - median), axis=(1, 2))

    def get_config(self):
        return {"median_index": self.median_index, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="seqcore")
class Forecaster(Task, keras.Model):
    """Forecasts `horizon` steps of the targets, with quantiles, from raw history.

    The history's first `num_targets` features are the target series, the
    rest are past covariates. Inputs are normalized inside the model (call
    `adapt` on the training part), and the median is predicted as a
    residual on a naive forecast: the value `residual_season` steps earlier
    (1 repeats the last value, the season length repeats the last season;
    None predicts from scratch; with `base_seasons`, an average of several
    past seasons around a smoothed level). Other quantiles are the median
    plus or minus cumulative softplus offsets, so they never cross.

    Args:
        backbone: a `RecurrentBackbone` over float features, `num_features`
            wide, with no masking.
        horizon: steps forecast at once.
        num_targets: how many leading history features are targets.
        quantiles: forecast levels, including 0.5 (the point forecast).
        head: `"direct"` (one dense layer on `pooled_output` emits every
            step) or `"autoregressive"` (the recurrent layers warm up on the
            history, then step once per horizon step, fed their own median;
            covariates are held at their last observed value). The
            autoregressive head needs a unidirectional backbone with
            `"last"` pooling.
        residual_season: lag of the naive forecast the median is added to,
            or None.
        highway: for the direct head, the number of last history steps of
            the targets that a linear layer maps straight to the forecast
            and adds to it (LSTNet's autoregressive "highway"), or None.
            The history must then be at least this long.
        dropout: dropout before the output layer.
        future_features: how many known-future covariates the model reads
            over the horizon (the last `future_features` history columns;
            their future values come in the `future` input). Direct head only.
        calendar_step: seconds between steps, to derive calendar features
            (time of day, day of week and, with `calendar_year`, day of
            year) from the `time` input
            for every history and future step; None for no calendar.
            Direct head only.
        decoder_units: width of the per-step layer that reads the future
            covariates and calendar (with the history's summary).
        calibrated: whether the model holds a per-step, per-level
            calibration of its quantiles, set by conformal calibration on
            held-out windows (`set_calibration`).
        calibration_kind: `"scale"` (each quantile's distance from the
            median is multiplied by the calibration) or `"offset"` (the
            calibration, in raw units, is added to each quantile; models
            saved before the scale existed).
        base_seasons: how many past seasons the naive forecast averages
            (with `residual_season`, direct head), as exponential
            smoothing's level and seasonal terms do in Smyl's ES-RNN: the
            profiles of the last `base_seasons` seasons (each around its
            own mean) are averaged with learned softmax weights (starting
            equal), and added to a level, the exponentially weighted mean
            (learned smoothing, starting at 0.5) of the last season's
            values less that profile. 1 is the seasonal naive forecast; the
            history must be at least `base_seasons * residual_season` steps.
        window_level: whether the recurrent layers and the highway read the
            target history relative to its level in the window (the mean of
            its last `residual_season` steps, or its last value), as
            DeepAR's and RevIN's per-window scaling do, rather than relative
            to the training mean alone. A trending series then shows the
            model levels it has seen in training. Direct head only.

    Inputs: the raw history `(batch, steps, num_features)`; with future
    covariates or a calendar, a dict of `history`, `future` `(batch,
    horizon, future_features)` (omitted without future covariates) and
    `time` `(batch,)` epoch seconds of the first forecast step (float64;
    omitted without a calendar).

    Returns:
        Raw-unit forecasts `(batch, horizon, num_targets, len(quantiles))`, float32.

    Example:

    >>> import numpy as np
    >>> from seqcore.backbone import RecurrentBackbone
    >>> backbone = RecurrentBackbone(cell="gru", units=8, num_features=2, mask_value=None)
    >>> model = Forecaster(backbone, horizon=3, num_targets=1)
    >>> model.adapt(np.random.default_rng(0).normal(size=(50, 2)))
    >>> model.predict(np.zeros((4, 10, 2), "float32"), verbose=0).shape
    (4, 3, 1, 3)
    """

    def __init__(
        self,
        backbone,
        horizon,
        num_targets=1,
        quantiles=(0.1, 0.5, 0.9),
        head="direct",
        residual_season=None,
        highway=None,
        dropout=0.0,
        future_features=0,
        calendar_step=None,
        decoder_units=32,
        calibrated=False,
        calendar_year=True,
        calibration_kind="offset",
        window_level=False,
        base_seasons=1,
        **kwargs,
    ):
        # Keras would cast the float64 `time` input to float32 (128 s apart at
        # today's epoch); the calendar needs whole seconds, and `call` casts
        # the history itself.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        if int(horizon) < 1:
            raise ValueError(f"`horizon` must be at least 1; received: {horizon}")
        if head not in HEADS:
            raise ValueError(f"Unknown head; expected one of {', '.join(HEADS)}; received: {head!r}")
        width = calendar_width(calendar_year) if calendar_step else 0
        num_features = None if backbone.num_features is None else backbone.num_features - width
        if num_features is None or not 1 <= int(num_targets) <= num_features:
            raise ValueError(
                "`num_targets` must be between 1 and the backbone's `num_features`; "
                f"received: num_targets={num_targets}, num_features={num_features}"
            )
        if residual_season is not None and int(residual_season) < 1:
            raise ValueError(f"`residual_season` must be at least 1 or None; received: {residual_season}")
        if highway is not None and (int(highway) < 1 or head != "direct"):
            raise ValueError(
                "`highway` must be a positive number of steps, with the direct head; "
                f"received: highway={highway}, head={head!r}"
            )
        if head == "autoregressive" and (backbone.bidirectional or backbone.pooling != "last"):
            raise ValueError(
                "The autoregressive head steps the recurrent layers forward; expected a "
                "unidirectional backbone with pooling='last'; received: "
                f"bidirectional={backbone.bidirectional}, pooling={backbone.pooling!r}"
            )

        if int(future_features) < 0 or int(future_features) > num_features - int(num_targets):
            raise ValueError(
                "`future_features` must be between 0 and the number of covariates "
                f"({num_features - int(num_targets)}); received: {future_features}"
            )
        if (int(future_features) or calendar_step) and head != "direct":
            raise ValueError(
                "Future covariates and calendar features need the direct head; received: "
                f"head={head!r}, future_features={future_features}, calendar_step={calendar_step}"
            )

        if int(base_seasons) < 1 or (int(base_seasons) > 1 and (head != "direct" or residual_season is None)):
            raise ValueError("`base_seasons` must be 1, or more with the direct head and a "
                             f"`residual_season`; received: base_seasons={base_seasons}, head={head!r}, "
                             f"residual_season={residual_season}")
        if window_level and head != "direct":
            raise ValueError(f"`window_level` needs the direct head; received: head={head!r}")
        if calibration_kind not in CALIBRATION_KINDS:
            raise ValueError(f"Unknown calibration_kind; expected one of {', '.join(CALIBRATION_KINDS)}; "
                             f"received: {calibration_kind!r}")

        # === Config ===
        self.backbone = backbone
        self.horizon = int(horizon)
        self.num_targets = int(num_targets)
        self.num_features = int(num_features)
        self.quantiles = check_quantiles(quantiles)
        self.head = head
        self.residual_season = None if residual_season is None else int(residual_season)
        self.highway = None if highway is None else int(highway)
        self.dropout = float(dropout)
        self.median_index = self.quantiles.index(0.5)
        self.future_features = int(future_features)
        self.calendar_step = None if not calendar_step else float(calendar_step)
        self.calendar_width = width
        self.calendar_year = bool(calendar_year)
        self.decoder_units = int(decoder_units)
        self.calibrated = bool(calibrated)
        self.calibration_kind = calibration_kind
        self.window_level = bool(window_level)
        self.base_seasons = int(base_seasons)

        # === Layers ===
        steps_out = 1 if head == "autoregressive" else self.horizon
        self.normalizer = keras.layers.Normalization(axis=-1, name="history_normalization")
        self.head_dropout = keras.layers.Dropout(self.dropout, name="head_dropout")
        self.output_dense = keras.layers.Dense(
            steps_out * self.num_targets * len(self.quantiles),
            kernel_initializer="zeros",  # start from the naive forecast
            name="forecast_dense",
        )
        self.highway_dense = None
        if self.highway:
            self.highway_dense = keras.layers.Dense(
                self.horizon * self.num_targets,
                kernel_initializer="zeros",
                use_bias=False,
                name="highway_dense",
            )
        self.decoder_hidden = self.decoder_output = self.step_embedding = None
        if self.takes_dict:
            self.step_embedding = keras.layers.Embedding(self.horizon, 8, name="step_embedding")
            self.decoder_hidden = keras.layers.Dense(self.decoder_units, activation="relu",
                                                     name="decoder_hidden")
            self.decoder_output = keras.layers.Dense(
                self.num_targets * len(self.quantiles), kernel_initializer="zeros", name="decoder_output"
            )
        self.base_logits = None
        if self.base_seasons > 1:
            self.base_logits = self.add_weight(shape=(self.base_seasons, self.num_targets), initializer="zeros",
                                               name="base_logits")
            self.base_smoothing = self.add_weight(shape=(self.num_targets,), initializer="zeros",
                                                  name="base_smoothing")
        self.calibration = None
        if self.calibrated:
            self.calibration = self.add_weight(
                shape=(self.horizon, self.num_targets, len(self.quantiles)),
                initializer="ones" if calibration_kind == "scale" else "zeros",
                trainable=False, name="calibration",
            )
        self.build((None, None, self.num_features))

    def build(self, input_shape):
        self.normalizer.build((None, None, self.num_features))
        self.output_dense.build((None, self.backbone.output_width))
        if self.highway_dense is not None:
            self.highway_dense.build((None, self.highway * self.num_targets))
        if self.takes_dict:
            self.step_embedding.build((None,))
            self.decoder_hidden.build((None, None, self._decoder_width()))
            self.decoder_output.build((None, None, self.decoder_units))
        self.built = True

    @property
    def takes_dict(self):
        """Whether the model's input is a dict (`history`, `future`, `time`) rather than the history alone."""
        return bool(self.future_features or self.calendar_step)

    @property
    def _default_save_signature(self):
        # TensorFlow's default signature traces the history alone; a dict-input model has none.
        return None if self.takes_dict else super()._default_save_signature

    def _decoder_width(self):
        lagged = self.future_features if self.residual_season is not None else 0
        return self.backbone.output_width + self.future_features + lagged + self.calendar_width + 8

    def set_calibration(self, offsets):
        """Sets the calibration `(horizon, targets, levels)`: factors on the distance from the median, or offsets."""
        if self.calibration is None:
            raise ValueError("This forecaster was built with `calibrated=False`; it has no calibration to set")
        self.calibration.assign(ops.cast(offsets, self.calibration.dtype))

    # --- Scaling -----------------------------------------------------------------------

    def adapt(self, rows):
        """Fits the input scaling on training rows `(steps, num_features)` in raw units."""
        import numpy as np

        rows = np.asarray(rows, dtype="float32").reshape(-1, 1, self.num_features)
        self.normalizer.adapt(rows)

    def target_scale(self):
        """The targets' training standard deviations (what the loss divides errors by)."""
        variance = ops.reshape(self.normalizer.variance, (-1,))[: self.num_targets]
        return [float(v) for v in ops.convert_to_numpy(ops.sqrt(ops.maximum(variance, 1e-12)))]

    def _target_stats(self, dtype):
        mean = ops.reshape(self.normalizer.mean, (-1,))[: self.num_targets]
        variance = ops.reshape(self.normalizer.variance, (-1,))[: self.num_targets]
        std = ops.maximum(ops.sqrt(variance), keras.backend.epsilon())
        return ops.cast(mean, dtype), ops.cast(std, dtype)

    # --- Forward pass ------------------------------------------------------------------

    def _quantiles(self, raw):
        """`(..., targets * Q)` head output -> normalized quantiles `(..., targets, Q)`, ordered."""
        shape = ops.shape(raw)
        raw = ops.reshape(raw, (*shape[:-1], self.num_targets, len(self.quantiles)))
        median = raw[..., self.median_index]
        below = ops.softplus(raw[..., : self.median_index])
        above = ops.softplus(raw[..., self.median_index + 1 :])
        parts = []
        if self.median_index:
            # Offsets outward from the median: the lowest level gets the largest.
            lower = median[..., None] - ops.flip(ops.cumsum(ops.flip(below, -1), axis=-1), -1)
            parts.append(lower)
        parts.append(median[..., None])
        if len(self.quantiles) > self.median_index + 1:
            parts.append(median[..., None] + ops.cumsum(above, axis=-1))
        return ops.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]

    def _naive(self, targets, step):
        """The naive value for output `step` from normalized target history `(B, T, targets)`."""
        season = self.residual_season
        length = ops.shape(targets)[1]
        index = length - season + (step % season)
        return ops.take(targets, index, axis=1)

    def call(self, inputs, training=False):
        future = time = None
        if isinstance(inputs, dict):
            future, time = inputs.get("future"), inputs.get("time")
            inputs = inputs["history"]
        if self.future_features and future is None:
            raise ValueError(f"This forecaster reads {self.future_features} future covariates; "
                             "expected inputs {'history', 'future'...}; received no `future`")
        if self.calendar_step and time is None:
            raise ValueError("This forecaster has calendar features; expected a `time` input "
                             "(epoch seconds of the first forecast step); received none")
        inputs = ops.cast(inputs, "float32")
        normalized = self.normalizer(inputs)
        if self.head == "autoregressive":
            quantiles = self._autoregressive(normalized, training)
        else:
            quantiles = self._direct(normalized, training, future, time)
        mean, std = self._target_stats(quantiles.dtype)
        quantiles = quantiles * std[:, None] + mean[:, None]
        if self.calibration is not None:
            calibration = ops.cast(self.calibration, quantiles.dtype)
            if self.calibration_kind == "scale":
                median = quantiles[..., self.median_index : self.median_index + 1]
                quantiles = median + calibration * (quantiles - median)
            else:
                quantiles = quantiles + calibration
            quantiles = ops.sort(quantiles, axis=-1)
        return quantiles

    def _decoder(self, normalized, pooled, future, time, training):
        """The per-step correction read from future covariates and calendar: `(B, horizon, targets * Q)`."""
        batch = ops.shape(normalized)[0]
        parts = [ops.repeat(pooled[:, None, :], self.horizon, axis=1)]
        if self.future_features:
            mean = ops.reshape(self.normalizer.mean, (-1,))[-self.future_features :]
            std = ops.sqrt(ops.maximum(ops.reshape(self.normalizer.variance, (-1,))[-self.future_features :],
                                       keras.backend.epsilon() ** 2))
            parts.append((ops.cast(future, "float32") - mean) / std)
            if self.residual_season is not None:
                covariates = normalized[..., -self.future_features :]
                parts.append(ops.stack([self._naive(covariates, step) for step in range(self.horizon)], axis=1))
        if self.calendar_step:
            parts.append(calendar_features(time, self.calendar_step, 0, self.horizon, self.calendar_year))
        steps = self.step_embedding(ops.arange(self.horizon))
        parts.append(ops.repeat(steps[None], batch, axis=0))
        hidden = self.decoder_hidden(ops.concatenate(parts, axis=-1))
        return self.decoder_output(self.head_dropout(hidden, training=training))

    def _level(self, targets):
        """The level of normalized target history `(B, T, targets)` in its window: `(B, 1, targets)`."""
        recent = targets[:, -(self.residual_season or 1) :]
        return ops.mean(recent, axis=1, keepdims=True)

    def _seasonal_average(self, targets):
        """The naive forecast from `base_seasons` past seasons of normalized targets: `(B, horizon, targets)`."""
        season = self.residual_season
        profiles, levels = [], []
        for k in range(1, self.base_seasons + 1):
            segment = targets[:, -k * season : (-(k - 1) * season or None)]
            levels.append(ops.mean(segment, axis=1, keepdims=True))
            profiles.append(segment - levels[-1])
        weights = ops.softmax(ops.cast(self.base_logits, targets.dtype), axis=0)  # (K, targets)
        profile = ops.sum(ops.stack(profiles, axis=1) * weights[None, :, None, :], axis=1)  # (B, season, targets)
        # The level: an exponentially weighted mean of the last season, deseasonalized (newest first).
        deseasonalized = ops.flip(targets[:, -season:] - profile, axis=1)
        alpha = ops.sigmoid(ops.cast(self.base_smoothing, targets.dtype))  # (targets,)
        decay = ops.power(1.0 - alpha[None, :], ops.cast(ops.arange(season), targets.dtype)[:, None])
        decay = decay / ops.sum(decay, axis=0, keepdims=True)  # (season, targets)
        level = ops.sum(deseasonalized * decay[None], axis=1, keepdims=True)
        phases = [step % season for step in range(self.horizon)]
        return level + ops.take(profile, phases, axis=1)

    def _direct(self, normalized, training, future=None, time=None):
        targets = normalized[..., : self.num_targets]
        features, relative, level = normalized, targets, None
        if self.window_level:
            level = self._level(targets)
            relative = targets - level
            features = ops.concatenate([relative, normalized[..., self.num_targets :]], axis=-1)
        if self.calendar_step:
            length = ops.shape(normalized)[1]
            features = ops.concatenate(
                [features, calendar_features(time, self.calendar_step, -length, length, self.calendar_year)],
                axis=-1)
        pooled = self.backbone(features, training=training)["pooled_output"]
        raw = self.output_dense(self.head_dropout(pooled, training=training))
        raw = ops.reshape(raw, (-1, self.horizon, self.num_targets * len(self.quantiles)))
        if self.takes_dict:
            raw = raw + self._decoder(normalized, pooled, future, time, training)
        quantiles = self._quantiles(raw)
        if self.base_logits is not None:
            quantiles = quantiles + self._seasonal_average(targets)[..., None]
        elif self.residual_season is not None:
            base = ops.stack([self._naive(targets, step) for step in range(self.horizon)], axis=1)
            quantiles = quantiles + base[..., None]
        elif level is not None:
            quantiles = quantiles + level[..., None]
        if self.highway_dense is not None:
            recent = relative[:, -self.highway :]
            linear = self.highway_dense(ops.reshape(recent, (-1, self.highway * self.num_targets)))
            quantiles = quantiles + ops.reshape(linear, (-1, self.horizon, self.num_targets, 1))
        return quantiles

    def _recurrent_layers(self):
        return [
            layer for layer in self.backbone.layers if isinstance(layer, keras.layers.RNN)
        ]

    def _autoregressive(self, normalized, training):
        layers = self._recurrent_layers()
        batch = ops.shape(normalized)[0]
        x, states = normalized, []
        for layer in layers:  # warm-up on the history (the layers' own fast loop)
            last, x, state = layer.inner_loop(
                x, layer.get_initial_state(batch), mask=None, training=training
            )
            states.append(state)
        covariates = normalized[:, -1, self.num_targets :]
        history = normalized[..., : self.num_targets]
        predicted = []
        for step in range(self.horizon):
            raw = self.output_dense(self.head_dropout(last, training=training))
            quantiles = self._quantiles(raw)  # (B, targets, Q)
            if self.residual_season is not None:
                season = self.residual_season
                if step >= season:
                    base = predicted[step - season][..., self.median_index]
                else:
                    base = ops.take(history, ops.shape(history)[1] - season + step, axis=1)
                quantiles = quantiles + base[..., None]
            predicted.append(quantiles)
            if step + 1 == self.horizon:
                break
            x = ops.concatenate([quantiles[..., self.median_index], covariates], axis=-1)
            for index, layer in enumerate(layers):
                x, new_state = layer.cell(x, states[index], training=training)
                states[index] = new_state if isinstance(new_state, (list, tuple)) else [new_state]
            last = x
        for layer in layers:
            for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                getattr(layer.cell, reset, lambda: None)()
        return ops.stack(predicted, axis=1)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict):
            input_shape = input_shape["history"]
        return (input_shape[0], self.horizon, self.num_targets, len(self.quantiles))

    # --- Training ----------------------------------------------------------------------

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles with Adam (gradients clipped), the pinball loss and the median's MAE.

        The loss divides each target's errors by its training standard
        deviation, so `adapt` before compiling.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3, clipnorm=1.0)
        if loss == "auto":
            loss = PinballLoss(self.quantiles, scales=self.target_scale())
        if metrics == "auto":
            metrics = [MedianAbsoluteError(self.median_index)]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                "horizon": self.horizon,
                "num_targets": self.num_targets,
                "quantiles": self.quantiles,
                "head": self.head,
                "residual_season": self.residual_season,
                "highway": self.highway,
                "dropout": self.dropout,
                "future_features": self.future_features,
                "calendar_step": self.calendar_step,
                "decoder_units": self.decoder_units,
                "calibrated": self.calibrated,
                "calendar_year": self.calendar_year,
                "calibration_kind": self.calibration_kind,
                "window_level": self.window_level,
                "base_seasons": self.base_seasons,
            }
        )
        return config
