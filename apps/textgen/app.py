"""The textgen app as the suite sees it (TensorFlow-free; found through the `seqcore.apps` entry point)."""

from seqcore.apps import App


def sample_batch(model, config, size):
    """One window of `seq_len` random token ids per row: the model is timed on one forward pass.

    The served function is a generation loop, not one call, so the language
    model itself is timed.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    ids = rng.integers(2, model.vocabulary_size, size=(size, config["tokenizer"]["seq_len"]))
    return ids.astype("int32"), False


APP = App.in_package(__package__, "textgen", ("test", "nats_per_char"), "nats/char", False,
                     fallback=("validation", "nats_per_char"))
