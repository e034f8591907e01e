"""The sentiment app as the suite sees it (TensorFlow-free; found through the `seqcore.apps` entry point)."""

from seqcore.apps import TEST_ACCURACY, App


def sample_batch(model, config, size):
    """Raw review texts, as served: the model's preprocessor runs on them."""
    import numpy as np

    from apps.sentiment.model import SAMPLE_TEXTS

    return np.array((SAMPLE_TEXTS * size)[:size], dtype=object), True


APP = App.in_package(__package__, "sentiment", **TEST_ACCURACY)
