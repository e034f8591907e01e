"""Conformal calibration of a forecaster's quantiles on held-out windows.

Two kinds, both stored as a weight of the model (its `.keras` file and its
export carry them):

- `"scale"` (the default of new runs): each quantile's distance from the
  median is multiplied by a factor per level and target, pooled over the
  horizon steps. The factor of a level q above the median is the
  q-quantile of `(truth - median) / (forecast_q - median)` on the
  held-out windows (below the median, the (1 - q)-quantile of
  `(median - truth) / (median - forecast_q)`): conformalized quantile
  regression with the model's own interval as the local scale, so wide
  forecasts (uncertain days) widen more than narrow ones. Held-out
  windows are time-correlated and the series drifts, so the factor is
  made robust to that: the windows are cut into consecutive blocks of
  `horizon` origins, the quantile is taken in each block, and the factor
  is the 75th percentile of the blocks' (the nominal level holds in three
  blocks out of four, not only on average over the held-out period).
  With fewer than four blocks the held-out windows are pooled.
- `"offset"` (runs written before): per-step, per-level raw-unit shifts,
  the q-quantile of `truth - forecast_q` (one-sided CQR, Romano et al.
  2019).

The median is left as trained either way.
"""

import numpy as np

BLOCK_PERCENTILE = 75
MIN_BLOCKS = 4


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


def _robust_quantile(scores, level, block):
    """The `level`-quantile of `scores` `(n, steps, targets)` per target, block-robust (see the module)."""
    blocks = len(scores) // block if block else 0
    if blocks < MIN_BLOCKS:
        return np.quantile(scores.reshape(-1, scores.shape[-1]), level, axis=0)
    per_block = [np.quantile(part.reshape(-1, scores.shape[-1]), level, axis=0)
                 for part in np.array_split(scores, blocks)]
    return np.percentile(np.stack(per_block), BLOCK_PERCENTILE, axis=0)


def conformal_scales(quantiles, truth, levels, median_index, block=None):
    """Factors `(horizon, targets, levels)` on each quantile's distance from the median (see the module).

    Args:
        quantiles: held-out forecasts `(n, horizon, targets, levels)`, raw
            units, in time order.
        truth: the held-out truth `(n, horizon, targets)`.
        levels: the quantile levels, in order.
        median_index: the position of 0.5 (its factor is 1).
        block: consecutive windows per block (default: the horizon).

    Example:

    >>> truth = np.random.default_rng(0).normal(scale=2.0, size=(400, 1, 1))
    >>> forecasts = np.tile(np.array([-1.0, 0.0, 1.0]), (400, 1, 1, 1))
    >>> factors = conformal_scales(forecasts, truth, [0.1, 0.5, 0.9], 1, block=50)
    >>> [round(float(f), 1) for f in factors[0, 0]]
    [2.6, 1.0, 2.8]
    """
    quantiles = np.asarray(quantiles, dtype="float64")
    truth = np.asarray(truth, dtype="float64")
    median = quantiles[..., median_index]
    spread = np.abs(truth - median).mean() + 1e-12
    factors = np.ones(quantiles.shape[1:])
    for index, level in enumerate(levels):
        if index == median_index:
            continue
        distance = np.maximum(np.abs(quantiles[..., index] - median), 1e-6 * spread)
        sign = 1.0 if index > median_index else -1.0
        scores = sign * (truth - median) / distance
        coverage = level if index > median_index else 1.0 - level
        factors[..., index] = _robust_quantile(scores, coverage, block or quantiles.shape[1])
    return np.maximum(factors, 0.0).astype("float32")


def calibrate(model, inputs, truth):
    """Fits the model's calibration on held-out windows (e.g. the validation part); returns it.

    Args:
        model: a calibrated-capable forecaster.
        inputs: the inputs the model reads for those windows, in time order.
        truth: their truth `(n, horizon, targets)`, raw units.
    """
    kind = getattr(model, "calibration_kind", "offset")
    neutral = np.ones if kind == "scale" else np.zeros
    model.set_calibration(neutral(model.calibration.shape, "float32"))
    quantiles = model.predict(inputs, batch_size=256, verbose=0)
    if kind == "scale":
        values = conformal_scales(quantiles, truth, model.quantiles, model.median_index)
    else:
        values = conformal_offsets(quantiles, truth, model.quantiles, model.median_index)
    model.set_calibration(values)
    return values
