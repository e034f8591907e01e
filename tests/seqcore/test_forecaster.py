import numpy as np
import pytest

from seqcore.backbone import RecurrentBackbone
from seqcore.forecast_calendar import calendar_width
from seqcore.forecaster import Forecaster, PinballLoss, check_quantiles  # registers the classes
from seqcore.testing import run_task_test

RNG = np.random.default_rng(0)

# Reloading in the process that trained the model warns about its unused optimizer state.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def make(head="direct", residual_season=None, quantiles=(0.1, 0.5, 0.9), targets=2, highway=None,
         base_seasons=1, window_level=False, **backbone):
    backbone = RecurrentBackbone(
        num_features=3, mask_value=None, **{"cell": "gru", "units": 4, **backbone}
    )
    model = Forecaster(backbone, horizon=5, num_targets=targets, quantiles=quantiles, head=head,
                       residual_season=residual_season, highway=highway, base_seasons=base_seasons,
                       window_level=window_level)
    model.adapt(RNG.normal(loc=[100, -5, 2], scale=[10, 1, 0.1], size=(200, 3)))
    return model


def raw_history(n=6, steps=12):
    return RNG.normal(loc=[100, -5, 2], scale=[10, 1, 0.1], size=(n, steps, 3)).astype("float32")


@pytest.mark.parametrize("head", ["direct", "autoregressive"])
def test_fits_round_trips_and_keeps_quantiles_ordered(head, tmp_path):
    highway = 12 if head == "direct" else None
    model = make(head, residual_season=4, highway=highway, cell=["lstm", "gru"], num_layers=2)
    history = raw_history()
    future = RNG.normal(loc=[100, -5], scale=[10, 1], size=(6, 5, 2)).astype("float32")
    reloaded = run_task_test(model, history, future, tmp_path)
    assert reloaded.get_config() == model.get_config()
    # Random weights with large outputs still give ordered quantiles.
    for weight in reloaded.output_dense.weights:
        weight.assign(RNG.normal(scale=3.0, size=weight.shape))
    out = reloaded.predict(history, verbose=0)
    assert out.shape == (6, 5, 2, 3) and out.dtype == np.float32
    assert np.all(np.diff(out, axis=-1) >= 0), "lower <= median <= upper must hold"


@pytest.mark.parametrize("head", ["direct", "autoregressive"])
def test_untrained_residual_model_is_the_seasonal_naive_forecast_in_raw_units(head):
    # The output layers start at zero, so the median is exactly the naive forecast, in raw units:
    # the scaling in and out of the model cancels.
    model = make(head, residual_season=4, highway=6 if head == "direct" else None)
    history = raw_history(steps=9)
    median = model.predict(history, verbose=0)[..., model.median_index]
    expected = history[:, [5, 6, 7, 8, 5], :2]
    np.testing.assert_allclose(median, expected, rtol=1e-5, atol=1e-3)


def test_seasonal_average_base_round_trips_and_repeats_a_periodic_history(tmp_path):
    model = make(residual_season=4, highway=12, base_seasons=3, window_level=True)
    history = raw_history()
    reloaded = run_task_test(model, history, RNG.normal(loc=[100, -5], scale=[10, 1], size=(6, 5, 2)), tmp_path)
    assert reloaded.get_config() == model.get_config()
    assert reloaded.base_seasons == 3 and reloaded.window_level
    # Untrained, whatever the weights on the three seasons and the level's
    # smoothing: a history that repeats every season is forecast as its last season.
    model = make(residual_season=4, highway=12, base_seasons=3, window_level=True)
    model.base_logits.assign(RNG.normal(size=model.base_logits.shape))
    model.base_smoothing.assign(RNG.normal(size=model.base_smoothing.shape))
    periodic = np.tile(raw_history(n=2, steps=4), (1, 3, 1))
    median = model.predict(periodic, verbose=0)[..., model.median_index]
    np.testing.assert_allclose(median, periodic[:, [0, 1, 2, 3, 0], :2], rtol=1e-5, atol=1e-3)


def test_seasonal_average_base_weighs_the_past_seasons_around_the_latest_level():
    model = make(residual_season=2, base_seasons=2, targets=1)
    model.base_logits.assign(np.array([[0.0], [np.log(3.0)]]))  # weights 1/4 (last season), 3/4
    model.base_smoothing.assign(np.array([20.0]))  # the level is the last value, deseasonalized
    history = np.zeros((1, 4, 3), "float32")
    history[0, :, 0] = [20.0, 10.0, 104.0, 100.0]  # profiles +5, -5 then +2, -2
    median = model.predict(history, verbose=0)[0, :, 0, model.median_index]
    profile = 0.25 * np.array([2.0, -2.0]) + 0.75 * np.array([5.0, -5.0])
    level = 100.0 - profile[1]
    np.testing.assert_allclose(median, level + profile[[0, 1, 0, 1, 0]], rtol=1e-5)


def test_window_level_forecast_moves_with_the_level_of_the_history():
    # Read relative to its window, the same history one level higher is the same
    # forecast one level higher, whatever the weights (covariates unchanged).
    model = make(residual_season=4, highway=12, base_seasons=3, window_level=True)
    for weight in model.trainable_weights:
        weight.assign(RNG.normal(scale=0.5, size=weight.shape))
    history = raw_history(n=3)
    shifted = history.copy()
    shifted[..., :2] += np.array([300.0, -7.0], "float32")
    forecast = model.predict(history, verbose=0)
    expected = forecast + np.array([300.0, -7.0])[:, None]  # per target, every level
    np.testing.assert_allclose(model.predict(shifted, verbose=0), expected, atol=2e-2)
    plain = make(residual_season=4, highway=12, base_seasons=3)
    plain.set_weights(model.get_weights())
    moved = plain.predict(shifted, verbose=0) - plain.predict(history, verbose=0)
    assert np.max(np.abs(moved[..., 0, :] - 300.0)) > 1.0  # without it, the level does change the forecast


def test_point_forecast_and_scaling_fitted_on_adapt_rows():
    model = make(quantiles=[0.5], targets=1)
    assert model.quantiles == [0.5] and model.median_index == 0
    mean = np.asarray(model.normalizer.mean).reshape(-1)
    # 200 rows with scales 10, 1, 0.1: four standard errors of each column's mean
    assert np.all(np.abs(mean - [100, -5, 2]) < [2.9, 0.29, 0.029]), mean
    assert model.predict(raw_history(), verbose=0).shape == (6, 5, 1, 1)
    assert model.target_scale()[0] == pytest.approx(10, rel=0.2)


def test_pinball_loss_by_hand():
    loss = PinballLoss([0.1, 0.5, 0.9])
    y_true = np.array([[[2.0]]], "float32")  # (1, 1, 1)
    y_pred = np.array([[[[1.0, 2.0, 4.0]]]], "float32")  # errors 1, 0, -2
    expected = (0.1 * 1 + 0 + (0.9 - 1) * -2) / 3
    assert float(loss(y_true, y_pred)) == pytest.approx(expected)
    scaled = PinballLoss([0.1, 0.5, 0.9], scales=[2.0])
    assert float(scaled(y_true, y_pred)) == pytest.approx(expected / 2)
    assert PinballLoss.from_config(scaled.get_config()).scales == [2.0]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="including the median"):
        check_quantiles([0.1, 0.9])
    with pytest.raises(ValueError, match="with the direct head"):
        make("autoregressive", highway=4)
    with pytest.raises(ValueError, match="unidirectional"):
        make("autoregressive", bidirectional=True)
    with pytest.raises(ValueError, match="base_seasons"):
        make(base_seasons=2)  # no residual season to average
    with pytest.raises(ValueError, match="window_level"):
        make("autoregressive", window_level=True)
    with pytest.raises(ValueError, match="horizon"):
        Forecaster(RecurrentBackbone(num_features=2, units=2, mask_value=None), horizon=0)
    with pytest.raises(ValueError, match="num_targets"):
        Forecaster(RecurrentBackbone(num_features=2, units=2, mask_value=None), horizon=1,
                   num_targets=3)


def test_calendar_reads_the_time_to_the_second():
    # Keras casts a layer's float inputs to float32 unless told not to: at
    # today's epoch that rounds `time` to 128 s, while TFLite's whole-second
    # int64 path is exact, so the two forecasts drifted apart.
    rng = np.random.default_rng(0)
    backbone = RecurrentBackbone(cell="gru", units=4, num_features=3 + calendar_width(), mask_value=None)
    model = Forecaster(backbone, horizon=5, num_targets=1, calendar_step=1800.0)
    model.adapt(rng.normal(loc=[100, -5, 2], scale=[10, 1, 0.1], size=(200, 3)))
    history = rng.normal(loc=[100, -5, 2], scale=[10, 1, 0.1], size=(2, 12, 3)).astype("float32")
    time = np.array([1.4e9 + 1817.0, 1.4e9 + 90000.0 + 17.0])  # not float32 numbers
    model({"history": history, "time": time})  # builds the weights
    for weight in model.trainable_weights:  # the output layers start at zero: make the calendar count
        weight.assign(rng.normal(scale=0.5, size=weight.shape))
    forecast = np.asarray(model({"history": history, "time": time}))
    np.testing.assert_allclose(forecast, model({"history": history, "time": time.astype("int64")}), atol=1e-3)
    rounded = np.asarray(model({"history": history, "time": time.astype("float32").astype("float64")}))
    assert np.max(np.abs(rounded - forecast)) > 1e-2  # the calendar does tell 17 s apart
