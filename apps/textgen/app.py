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


APP = App(
    name="textgen",
    cli="apps.textgen.cli:cli",
    metric=("test", "nats_per_char"),
    metric_name="nats/char",
    higher_is_better=False,
    sample_batch="apps.textgen.app:sample_batch",
    fallback=("validation", "nats_per_char"),
)
