"""Conformal calibration: scale factors reach the nominal coverage, robust to drift; old offset models load."""

import numpy as np
import pytest

from apps.forecast.calibration import calibrate, conformal_offsets, conformal_scales

LEVELS = [0.1, 0.5, 0.9]


def _coverage(truth, lower, upper):
    return float(np.mean((truth >= lower) & (truth <= upper)))


def test_scale_factors_bring_too_narrow_intervals_to_the_nominal_coverage():
    rng = np.random.default_rng(0)
    # Intervals half as wide as they should be, wider where the noise is larger (the model's own scale).
    scale = rng.uniform(0.5, 3.0, size=(4000, 6, 1))
    truth = rng.normal(size=scale.shape) * scale
    half = 0.5 * 1.2816 * scale
    forecasts = np.stack([-half, np.zeros_like(half), half], axis=-1)
    assert _coverage(truth, forecasts[..., 0], forecasts[..., 2]) < 0.5
    factors = conformal_scales(forecasts, truth, LEVELS, 1, block=4000)  # one block: pooled
    assert factors.shape == (6, 1, 3) and np.all(factors[..., 1] == 1.0)
    np.testing.assert_allclose(factors[..., [0, 2]], 2.0, atol=0.1)
    fresh = rng.normal(size=scale.shape) * scale
    covered = _coverage(fresh, -factors[..., 0] * half, factors[..., 2] * half)
    assert 0.78 <= covered <= 0.82, covered


def test_block_robust_factor_holds_the_level_in_the_noisier_blocks_too():
    rng = np.random.default_rng(1)
    # The noise drifts: every other block of 50 windows is twice as noisy.
    noise = np.concatenate([rng.normal(size=(50, 2, 1)) * (2.0 if b % 2 else 1.0) for b in range(16)])
    forecasts = np.tile(np.array([-1.2816, 0.0, 1.2816]), (800, 2, 1, 1))
    pooled = conformal_scales(forecasts, noise, LEVELS, 1, block=800)[0, 0, 2]
    robust = conformal_scales(forecasts, noise, LEVELS, 1, block=50)[0, 0, 2]
    assert pooled < 1.7 < 1.8 < robust < 2.3, (pooled, robust)
    noisy = noise[np.repeat(np.arange(16) % 2 == 1, 50)]
    assert np.mean(noisy <= robust * 1.2816) >= 0.87
    assert np.mean(noisy <= pooled * 1.2816) < 0.85


def test_offsets_are_the_residual_quantiles():
    truth = np.arange(100.0).reshape(100, 1, 1)
    offsets = conformal_offsets(np.zeros((100, 1, 1, 3)), truth, LEVELS, 1)
    np.testing.assert_allclose(offsets[0, 0], [9.9, 0.0, 89.1], rtol=1e-5)


@pytest.mark.parametrize("kind", ["scale", "offset"])
def test_calibrated_forecaster_saves_and_loads_its_calibration(tmp_path, kind):
    import keras

    from seqcore.backbone import RecurrentBackbone
    from seqcore.forecaster import Forecaster

    rng = np.random.default_rng(0)
    backbone = RecurrentBackbone(cell="gru", units=4, num_features=1, mask_value=None)
    model = Forecaster(backbone, horizon=3, calibrated=True, calibration_kind=kind)
    model.adapt(rng.normal(size=(50, 1)))
    history = rng.normal(size=(200, 8, 1)).astype("float32")
    truth = rng.normal(scale=5.0, size=(200, 3, 1)).astype("float32")
    values = calibrate(model, history, truth)
    quantiles = model.predict(history, verbose=0)
    assert 0.74 <= _coverage(truth, quantiles[..., 0], quantiles[..., 2]) <= 0.86
    np.testing.assert_allclose(quantiles[..., 1], model.predict(history, verbose=0)[..., 1])
    if kind == "scale":
        assert np.all(values[..., [0, 2]] > 1.0)  # a near-constant model's intervals widen
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.calibration_kind == kind
    np.testing.assert_allclose(loaded.predict(history, verbose=0), quantiles, rtol=1e-5, atol=1e-5)


def test_a_model_saved_without_a_calibration_kind_keeps_offsets():
    from seqcore.backbone import RecurrentBackbone
    from seqcore.forecaster import Forecaster

    backbone = RecurrentBackbone(cell="gru", units=4, num_features=1, mask_value=None)
    config = Forecaster(backbone, horizon=2, calibrated=True).get_config()
    config.pop("calibration_kind")  # as runs written before the scale kind
    assert Forecaster.from_config(config).calibration_kind == "offset"
