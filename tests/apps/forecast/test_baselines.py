"""statsforecast baselines fitted every k origins and carried forward in between (apps.forecast.baselines)."""

import dataclasses
import importlib.util

import numpy as np
import pytest

from apps.forecast.baselines import refit_every, statistical_forecasts

pytestmark = pytest.mark.skipif(importlib.util.find_spec("statsforecast") is None,
                                reason="statsforecast (the baselines extra) is not installed")


@dataclasses.dataclass
class Origins:
    """The two fields of `Windows` that `statistical_forecasts` reads."""

    segment: np.ndarray
    origin: np.ndarray

    def __len__(self):
        return len(self.origin)


def series(n=520, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (50 + 0.02 * t + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(scale=1.0, size=n))[:, None]


def test_refit_every_k_equals_refit_at_every_origin_on_fitted_origins_and_stays_close_between():
    # The two checked claims: forecasts at the fitted origins are those of a fit there, and carried-forward
    # forecasts between them score within 20 % of fits at every origin on a regular seasonal series.
    values = series()
    origins = Origins(np.zeros(9, int), 300 + 6 * np.arange(9))
    every = statistical_forecasts([values], origins, 12, 1, 24, refit=1)
    carried = statistical_forecasts([values], origins, 12, 1, 24, refit=3)
    assert set(carried) == {"auto_ets", "mstl", "theta"}
    truth = np.stack([values[o : o + 12] for o in origins.origin])
    for name in carried:
        for part in range(3):  # mean, lower, upper
            np.testing.assert_allclose(carried[name][part][::3], every[name][part][::3], rtol=1e-6)
        between = np.setdiff1d(np.arange(9), np.arange(0, 9, 3))
        if name == "mstl":  # fitted at every origin whatever the cadence
            np.testing.assert_allclose(carried[name][0], every[name][0], rtol=1e-6)
            continue
        # Carried forward, not re-fitted: the forecasts differ, their error barely.
        assert not np.allclose(carried[name][0][between], every[name][0][between])
        mae_every = np.mean(np.abs(every[name][0] - truth))
        mae_carried = np.mean(np.abs(carried[name][0] - truth))
        assert abs(mae_carried - mae_every) < 0.2 * mae_every, (name, mae_carried, mae_every)


def test_carried_forward_models_read_the_history_after_their_fit():
    values = series()
    shifted = values.copy()
    shifted[306:] += 40.0  # a level shift after the fit at origin 300, seen before the origin 312
    origins = Origins(np.zeros(2, int), np.array([300, 312]))
    plain = statistical_forecasts([values], origins, 12, 1, 24, refit=2)
    moved = statistical_forecasts([shifted], origins, 12, 1, 24, refit=2)
    for name in plain:
        np.testing.assert_allclose(moved[name][0][0], plain[name][0][0])  # the fit itself is the same
        # The states run over the shifted rows, so the forecast rises, though by the fitted smoothing only:
        # after a break like this one a refit moves AutoETS and Theta by 31-48, carried forward by 4-24.
        assert np.mean(moved[name][0][1] - plain[name][0][1]) > 0.1, name


def test_refit_every_gives_about_eight_fits_per_series():
    assert [refit_every(n) for n in (1, 8, 9, 108, 400)] == [1, 1, 2, 14, 50]
