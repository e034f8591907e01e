"""The forecast's default training length: a budget of gradient steps, not a fixed number of epochs.

Ten epochs are 930 gradient steps on elecdemand but 200 on taylor's twelve
weeks, too few to fit it (MAE 491 against 342 after 47 epochs). So when
`--epochs` and `--patience` are left unset, a short series trains for more
epochs, with the early-stopping patience stretched alike, until the run
takes at least `STEP_BUDGET["min_steps"]` steps; a long series keeps
`STEP_BUDGET["epochs"]`. Values the user sets are kept as they are.
"""

import math

from apps.forecast.settings import STEP_BUDGET


def resolve_training(training, train_windows, global_batch_size, budget=STEP_BUDGET):
    """`training` with its unset (None) `epochs` and `patience` filled from the step budget.

    Args:
        training: the run's `"training"` section (`seqcore.run_config.training_config`).
        train_windows: how many training windows an epoch reads.
        global_batch_size: windows per gradient step, over all replicas.
        budget: `{"epochs", "patience", "min_steps"}`.

    Returns:
        A copy of `training` with integer `epochs` and `patience`.

    Example (20 steps an epoch, then 94):

    >>> unset = {"epochs": None, "patience": None, "batch_size": 64}
    >>> resolve_training(unset, 1280, 64)
    {'epochs': 47, 'patience': 10, 'batch_size': 64}
    >>> resolve_training(unset, 6000, 64)
    {'epochs': 10, 'patience': 2, 'batch_size': 64}
    >>> resolve_training({**unset, "epochs": 3}, 1280, 64)["epochs"]
    3
    """
    steps_per_epoch = max(1, math.ceil(train_windows / global_batch_size))
    stretch = max(1.0, budget["min_steps"] / (budget["epochs"] * steps_per_epoch))
    resolved = dict(training)
    for name in ("epochs", "patience"):
        if resolved.get(name) is None:
            resolved[name] = math.ceil(budget[name] * stretch - 1e-9)
    return resolved
