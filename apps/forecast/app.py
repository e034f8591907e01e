"""The forecast app as the suite sees it (TensorFlow-free; found through the `seqcore.apps` entry point)."""

from seqcore.apps import App


def sample_batch(model, config, size):
    """Raw-unit histories of the run's lookback, as served."""
    from apps.forecast.model import sample_inputs

    # The history, or a dict with the known-future covariates and time where the model reads them.
    return sample_inputs(model, config["window"]["lookback"], count=size), False


APP = App(
    name="forecast",
    cli="apps.forecast.cli:cli",
    metric=("test", "model", "mae"),
    metric_name="test MAE",
    higher_is_better=False,
    sample_batch="apps.forecast.app:sample_batch",
)
