"""Conformal calibration of a forecaster's quantiles on held-out windows.

Each quantile level q of each horizon step and target is shifted by the
q-quantile of the held-out residuals `truth - forecast_q` (conformalized
quantile regression, one-sided per level, Romano et al. 2019): on windows
like the held-out ones, a fraction q of the truth then falls below the
level-q forecast, so the nominal 80 % interval (0.1 to 0.9) covers about
80 %. The median is left as trained. The shifts are a weight of the model,
so its `.keras` file and its export carry them.
"""

import numpy as np


def conformal_offsets(quantiles, truth, levels, median_index):
    """Raw-unit shifts `(horizon, targets, levels)` that calibrate `quantiles` on `truth`.

    Args:
        quantiles: held-out forecasts `(n, horizon, targets, levels)`, raw units.
        truth: the held-out truth `(n, horizon, targets)`.
        levels: the quantile levels, in order.
        median_index: the position of 0.5 (left unshifted).

    Example:

    >>> truth = np.arange(100.0).reshape(100, 1, 1)
    >>> forecasts = np.zeros((100, 1, 1, 3))
    >>> conformal_offsets(forecasts, truth, [0.1, 0.5, 0.9], 1)[0, 0]
    array([ 9.9,  0. , 89.1], dtype=float32)
    """
    quantiles = np.asarray(quantiles, dtype="float64")
    residuals = np.asarray(truth, dtype="float64")[..., None] - quantiles
    offsets = np.zeros(quantiles.shape[1:])
    for index, level in enumerate(levels):
        if index != median_index:
            offsets[..., index] = np.quantile(residuals[..., index], level, axis=0)
    return offsets.astype("float32")


def calibrate(model, inputs, truth):
    """Fits the model's calibration on held-out windows (e.g. the validation part); returns the shifts.

    Args:
        model: a calibrated-capable forecaster.
        inputs: the inputs the model reads for those windows.
        truth: their truth `(n, horizon, targets)`, raw units.
    """
    model.set_calibration(np.zeros(model.calibration.shape, "float32"))
    quantiles = model.predict(inputs, batch_size=256, verbose=0)
    offsets = conformal_offsets(quantiles, truth, model.quantiles, model.median_index)
    model.set_calibration(offsets)
    return offsets
