"""The order of a task's training steps, owned once; each app supplies its data as hooks.

Every app trains the same way: check where the run goes, pick the
`tf.distribute` strategy (before any other TensorFlow op), complete the
configuration from the data, start the run, train with
`seqcore.training.run_training`, score the best model, and move the
finished run into place, or leave nothing half-written on failure. That
order lives here; an app says only what differs, in a `TrainingData`:
how to build its model, its training and validation datasets, any extra
Keras callbacks, and its reports. In-memory data and TFRecord shards are
two `TrainingData` classes behind the same methods, so the choice between
them is made once, where the app opens its data.

Example (a toy task; the apps' `commands.train` call it the same way):

>>> import numpy as np, tensorflow as tf
>>> from seqcore.backbone import RecurrentBackbone
>>> from seqcore.classifier import SequenceClassifier
>>> class Toy(TrainingData):
...     features = np.random.default_rng(0).normal(size=(8, 4, 2)).astype("float32")
...     def build_model(self):
...         return SequenceClassifier(RecurrentBackbone(cell="gru", units=4, num_features=2), ["a", "b"])
...     def train_dataset(self, global_batch_size, seed):
...         labels = (self.features[:, 0, 0] > 0).astype("int32")
...         return tf.data.Dataset.from_tensor_slices((self.features, labels)).batch(global_batch_size)
...     def validation_dataset(self):
...         return self.train_dataset(8, None)
...     def report(self, model, run):
...         return {"validation": {"examples": len(self.features)}}
>>> config = {"training": {"epochs": 1, "batch_size": 4, "patience": 1, "seed": 0}}
>>> path, metrics = train_task("toy", lambda config, distribution: Toy(config), config, "runs/toy", verbose=0)
>>> sorted(metrics), sorted(p.name for p in path.iterdir())
(['train_seconds', 'validation'], ['config.json', 'history.csv', 'logs', 'metrics.json', 'model.keras'])
"""

import abc
import time

from seqcore.runs import prepare_run


class TrainingData(abc.ABC):
    """One run's data, seen through the hooks `train_task` calls, in this order.

    Args:
        config: the run's configuration; a subclass completes it with what
            the data tells (class names, columns, vocabulary size...) before
            `train_task` writes it to the run's `config.json`.
    """

    #: Whether `train_seconds` also counts `report`: True where the report
    #: trains more models (sentiment's n-gram path and baseline).
    report_trains = False

    def __init__(self, config):
        self.config = config

    def start(self, run, resume):
        """Writes what the run needs beside the model before training (default: nothing).

        Called after `run.start`, inside the guard that discards a failed
        run; `resume` means `run.work` already holds it.
        """

    @abc.abstractmethod
    def build_model(self):
        """An uncompiled `seqcore.task.Task`, its preprocessing adapted to the training data."""

    @abc.abstractmethod
    def train_dataset(self, global_batch_size, seed):
        """The batched, shuffled training `tf.data.Dataset` of (raw inputs, targets)."""

    @abc.abstractmethod
    def validation_dataset(self):
        """The batched validation `tf.data.Dataset`, in a fixed order."""

    def callbacks(self):
        """Keras callbacks this task adds to `fit` (default: none)."""
        return []

    @abc.abstractmethod
    def report(self, model, run):
        """The metrics of the best `model` (test and validation, as the task defines them).

        Runs on the chief only; may write more files into `run.work`.
        """


def train_task(task, open_data, config, out=None, *, resume=False, overwrite=False, verbose="auto",
               backup_every=50, callbacks=(), strategy="auto", mixed_precision=None):
    """Trains one run of `task` and writes a finished run directory.

    Args:
        task: the app's name (the default run directory, the run's task check).
        open_data: `(config, distribution) -> TrainingData`, the app's hook;
            its slow work (reading data) runs after the output path is checked.
        config: from the app's `resolve_config`; ignored on `resume`, which
            reads the interrupted run's own configuration.
        out: the run directory (default `runs/<task>-<timestamp>`).
        resume: finish the interrupted run in `<out>.partial`.
        overwrite: replace an existing run at `out`.
        verbose: Keras `fit` verbosity.
        backup_every: batches between resumable backups.
        callbacks: more Keras callbacks for `fit`, after the task's own.
        strategy: `seqcore.distribute.STRATEGIES`; `--batch-size` is per replica.
        mixed_precision: None, `"float16"` or `"bfloat16"` (ignored on `resume`).

    Returns:
        `(run_path, metrics)`, where `metrics["train_seconds"]` times the
        training alone (and the report, where it trains: `report_trains`); a non-chief worker of a cluster writes nothing and
        returns `(path the chief writes, None)`.
    """
    from seqcore.distribute import resolve_strategy, with_mixed_precision
    from seqcore.training import discard_on_error, finish_run, run_training

    run, stored = prepare_run(out, task, resume=resume, overwrite=overwrite, strategy=strategy)
    distribution = resolve_strategy(strategy)  # before any other TensorFlow op
    data = open_data(stored or with_mixed_precision(config, mixed_precision), distribution)
    run.start(resume=resume, overwrite=overwrite)
    with discard_on_error(run, resume):
        data.start(run, resume)
        training = data.config["training"]
        started = time.time()
        model = run_training(
            run,
            data.config,
            data.build_model,
            data.train_dataset(distribution.global_batch_size(training["batch_size"]), training["seed"]),
            data.validation_dataset(),
            epochs=training["epochs"],
            resume=resume,
            patience=training["patience"],
            seed=training["seed"],
            verbose=verbose,
            backup_every=backup_every,
            extra_callbacks=[*data.callbacks(), *callbacks],
            distribution=distribution,
            batch_size=training["batch_size"],
        )
        if not run.is_chief:
            return finish_run(run, None), None
        train_seconds = time.time() - started
        report_started = time.time()
        metrics = data.report(model, run)
        if data.report_trains:
            train_seconds += time.time() - report_started
        metrics = {**metrics, "train_seconds": round(train_seconds, 1)}
        return finish_run(run, metrics), metrics
