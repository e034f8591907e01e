"""The forecast app as the suite sees it (TensorFlow-free; found through the `seqcore.apps` entry point)."""

from seqcore.apps import App


def sample_batch(model, config, size):
    """Raw-unit histories of the run's lookback, as served."""
    from apps.forecast.model import sample_inputs

    # The history, or a dict with the known-future covariates and time where the model reads them.
    return sample_inputs(model, config["window"]["lookback"], count=size), False


APP = App.in_package(__package__, "forecast", ("test", "model", "mae"), "test MAE", False,
                     references=f"{__package__}.references:statistical_references")
