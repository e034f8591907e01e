"""The sentiment app as the suite sees it (TensorFlow-free; found through the `seqcore.apps` entry point)."""

from seqcore.apps import App


def sample_batch(model, config, size):
    """Raw review texts, as served: the model's preprocessor runs on them."""
    import numpy as np

    from apps.sentiment.model import SAMPLE_TEXTS

    return np.array((SAMPLE_TEXTS * size)[:size], dtype=object), True


APP = App(
    name="sentiment",
    cli="apps.sentiment.cli:cli",
    metric=("test", "accuracy"),
    metric_name="test accuracy",
    higher_is_better=True,
    sample_batch="apps.sentiment.app:sample_batch",
)
