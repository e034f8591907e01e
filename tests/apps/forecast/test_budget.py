"""The default training length as a budget of gradient steps."""

from apps.forecast.budget import steps_per_epoch, training_length
from apps.forecast.settings import STEP_BUDGET, TRAINING
from apps.forecast.windows import window_count


def test_elecdemand_keeps_the_default_epochs_and_a_short_series_gets_the_step_budget():
    # elecdemand: 12,264 training rows, lookback 336, horizon 48, stride 2 -> 93 batches of 64.
    elecdemand = steps_per_epoch(window_count(12264, 336, 48, stride=2), TRAINING["batch_size"])
    assert elecdemand == 93
    assert training_length(elecdemand) == (TRAINING["epochs"], TRAINING["patience"])
    # taylor: 2,822 training rows -> 20 batches; sunspots: 1,974 -> 13.
    for rows in (2822, 1974):
        steps = steps_per_epoch(window_count(rows, 336, 48, stride=2), TRAINING["batch_size"])
        epochs, patience = training_length(steps)
        assert epochs * steps >= STEP_BUDGET > (epochs - 1) * steps
        assert patience * steps >= TRAINING["patience"] * 93 > (patience - 1) * steps


def test_explicit_epochs_and_patience_are_kept_and_a_tiny_series_trains_at_least_one_step():
    assert training_length(5, epochs=3, patience=1) == (3, 1)
    assert training_length(5, patience=9) == (STEP_BUDGET // 5, 9)
    assert steps_per_epoch(0, 64) == 1
    assert training_length(10_000) == (TRAINING["epochs"], TRAINING["patience"])
