"""The default training length: at least `STEP_BUDGET["min_steps"]` gradient steps, set values kept."""

import pytest

from apps.forecast.commands import resolve_config
from apps.forecast.settings import STEP_BUDGET
from apps.forecast.step_budget import resolve_training
from apps.forecast.training_data import SeriesTraining

UNSET = {"epochs": None, "patience": None, "batch_size": 64}


@pytest.mark.parametrize("windows", [1, 64, 640, 1280, 5000, 60000])
def test_unset_epochs_reach_the_step_budget_and_never_go_below_the_default(windows):
    training = resolve_training(UNSET, windows, 64)
    steps_per_epoch = -(-windows // 64)
    assert training["epochs"] >= STEP_BUDGET["epochs"]
    assert training["epochs"] * steps_per_epoch >= STEP_BUDGET["min_steps"]
    assert (training["epochs"] - 1) * steps_per_epoch < STEP_BUDGET["min_steps"] or (
        training["epochs"] == STEP_BUDGET["epochs"])
    assert training["patience"] / training["epochs"] == pytest.approx(
        STEP_BUDGET["patience"] / STEP_BUDGET["epochs"], abs=1 / training["epochs"])


def test_values_the_user_sets_are_kept():
    assert resolve_training({**UNSET, "epochs": 3, "patience": 1}, 64, 64) == {**UNSET, "epochs": 3, "patience": 1}
    assert resolve_training({**UNSET, "epochs": 3}, 64, 64)["patience"] > STEP_BUDGET["patience"]


def test_a_global_batch_over_replicas_counts_fewer_steps():
    assert resolve_training(UNSET, 1280, 128)["epochs"] > resolve_training(UNSET, 1280, 64)["epochs"]


def test_a_short_series_trains_longer_and_elecdemand_keeps_ten_epochs():
    """taylor's 12 weeks give 20 steps an epoch; elecdemand's year gives 93."""
    taylor = SeriesTraining(resolve_config(data="taylor")).config["training"]
    assert (taylor["epochs"], taylor["patience"]) == (47, 10)
    elecdemand = SeriesTraining(resolve_config(data="elecdemand")).config["training"]
    assert (elecdemand["epochs"], elecdemand["patience"]) == (STEP_BUDGET["epochs"], STEP_BUDGET["patience"])
    assert SeriesTraining(resolve_config(data="taylor", epochs=2)).config["training"]["epochs"] == 2
