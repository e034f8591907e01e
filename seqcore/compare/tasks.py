"""What `compare` needs of each app: its `App` (train command, metric, sample batch).

Everything else (data, preprocessing, training, evaluation) is the app's
own: `compare` runs the app's `train` command with the backbone options
added, and reads the run directory it writes. Apps are found through
`seqcore.apps`, so `compare` works for any registered task.
"""

from seqcore.apps import get_app

#: Examples in the fixed batch that inference latency is measured on.
LATENCY_BATCH = 32

#: `compare`'s own experiments, beside the apps' tasks.
EXPERIMENTS = ("longrange",)


def get_task(name):
    """The `App` of a task, or one clear error naming the valid tasks and experiments.

    Example:

    >>> get_task("forecast").read_metric({"test": {"model": {"mae": 0.2}}})
    0.2
    """
    return get_app(name, also=EXPERIMENTS)


def sample_batch(task, model, config, size=LATENCY_BATCH):
    """A fixed batch of the model's inputs, for timing inference: `(inputs, preprocess)`.

    Raw inputs, as served (text, waveforms, raw-unit histories), except
    where the app says otherwise (textgen times one window of token ids);
    `preprocess` says whether the model's preprocessor must run first.
    """
    return get_task(task).sample(model, config, size)
