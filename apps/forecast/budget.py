"""The default training length as a budget of gradient steps, so that a short series trains as long as a long one.

The default 10 epochs are ~930 gradient steps on the built-in elecdemand
(93 batches an epoch), but only 200 on taylor (12 weeks, 20 batches) and
130 on sunspots: a short series stops training long before its model has
learnt what the long one's learnt. `training_length` turns the default
epoch count into at least `STEP_BUDGET` steps and scales the early-stopping
patience with it; explicit `--epochs` / `--patience` are left alone.
"""

import math

from apps.forecast.settings import STEP_BUDGET, TRAINING


def steps_per_epoch(window_count, batch_size):
    """Gradient steps of one epoch over `window_count` training windows.

    Example:

    >>> steps_per_epoch(1220, 64), steps_per_epoch(64, 64)
    (20, 1)
    """
    return max(1, math.ceil(int(window_count) / int(batch_size)))


def training_length(steps, epochs=None, patience=None):
    """`(epochs, patience)` for `steps` gradient steps an epoch.

    Args:
        steps: gradient steps of one epoch (`steps_per_epoch`).
        epochs: the epochs asked for, or None for the default: at least
            `TRAINING["epochs"]`, and enough epochs for `STEP_BUDGET` steps.
        patience: the patience asked for, or None for the default: at
            least `TRAINING["patience"]`, and a tenth of the epochs.

    Example:

    >>> training_length(93)  # elecdemand: the defaults unchanged
    (10, 2)
    >>> training_length(20)  # taylor
    (47, 10)
    >>> training_length(20, epochs=5, patience=2)  # explicit options are kept
    (5, 2)
    """
    if epochs is None:
        epochs = max(TRAINING["epochs"], math.ceil(STEP_BUDGET / max(1, int(steps))))
    if patience is None:
        # The default patience in steps (elecdemand: 2 epochs of 93 batches), in this series' epochs.
        per_epoch = STEP_BUDGET / TRAINING["epochs"]
        patience = max(TRAINING["patience"], math.ceil(TRAINING["patience"] * per_epoch / max(1, int(steps))))
    return int(epochs), int(patience)
