"""What `compare` needs to know about each app: its train command, its metric, a sample batch.

Everything else (data, preprocessing, training, evaluation) is the app's
own: `compare` runs the app's `train` command with the backbone options
added, and reads the run directory it writes.
"""

import dataclasses

from seqcore.errors import SeqcoreError

#: Examples in the fixed batch that inference latency is measured on.
LATENCY_BATCH = 32


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """How to train one app and read its result.

    Args:
        name: the task, as in `seqcore <name> train`.
        cli: `"module:attribute"` of the app's click group.
        metric: path into the run's `metrics.json` of the figure compared;
            `fallback` is used when the first is absent.
        metric_name: how the table names it.
        higher_is_better: whether a larger value is better.
        fallback: another path into `metrics.json`, or None.
    """

    name: str
    cli: str
    metric: tuple
    metric_name: str
    higher_is_better: bool
    fallback: tuple = None

    def train_command(self):
        """The app's click `train` command (imports the app)."""
        import importlib

        module_name, attribute = self.cli.split(":")
        return getattr(importlib.import_module(module_name), attribute).commands["train"]

    def read_metric(self, metrics):
        """The compared figure from a run's `metrics.json` content.

        Example:

        >>> TASKS["forecast"].read_metric({"test": {"model": {"mae": 0.2}}})
        0.2
        """
        for path in (self.metric, self.fallback):
            value = metrics
            for key in path or ():
                value = value.get(key) if isinstance(value, dict) else None
            if path and value is not None:
                return float(value)
        raise SeqcoreError(
            f"the {self.name} run has no {self.metric_name}; expected metrics.json "
            f"to hold {'.'.join(self.metric)}; received keys: {', '.join(metrics)}"
        )


TASKS = {
    spec.name: spec
    for spec in (
        TaskSpec("sentiment", "apps.sentiment.cli:cli", ("test", "accuracy"), "test accuracy", True),
        TaskSpec("forecast", "apps.forecast.cli:cli", ("test", "model", "mae"), "test MAE", False),
        TaskSpec("textgen", "apps.textgen.cli:cli", ("test", "nats_per_char"), "nats/char", False,
                 fallback=("validation", "nats_per_char")),
        TaskSpec("speech", "apps.speech.cli:cli", ("test", "accuracy"), "test accuracy", True),
    )
}


def get_task(name):
    """The `TaskSpec` of an app, or one clear error naming the valid tasks.

    Example:

    >>> get_task("sentiment").metric_name
    'test accuracy'
    """
    if name not in TASKS:
        raise SeqcoreError(
            f"unknown task {name!r}; expected one of: {', '.join([*TASKS, 'longrange'])}"
        )
    return TASKS[name]


def sample_batch(task, model, config, size=LATENCY_BATCH):
    """A fixed batch of the model's serving inputs, for timing inference.

    Raw inputs, as served (text, waveforms, raw-unit histories), except for
    textgen, whose model is timed on one window of `seq_len` token ids (its
    served function is a generation loop, not one call).

    Returns:
        `(inputs, preprocess)`: the batch and whether the model's
        preprocessor must run on it first.
    """
    import numpy as np

    if task == "sentiment":
        from apps.sentiment.model import SAMPLE_TEXTS

        texts = (SAMPLE_TEXTS * size)[:size]
        return np.array(texts, dtype=object), True
    if task == "forecast":
        from apps.forecast.model import sample_history

        return sample_history(model, config["window"]["lookback"], count=size), False
    if task == "speech":
        from apps.speech.model import sample_audio

        pre = model.preprocessor
        return sample_audio(pre.sample_rate, pre.clip_samples, count=size), True
    if task == "textgen":
        rng = np.random.default_rng(0)
        ids = rng.integers(2, model.vocabulary_size, size=(size, config["tokenizer"]["seq_len"]))
        return ids.astype("int32"), False
    raise SeqcoreError(f"no sample batch for task {task!r}")
