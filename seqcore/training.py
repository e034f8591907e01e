"""The one training routine that every app uses.

`run_training` seeds everything, writes the resolved configuration, trains
with Keras' own progress bars and callbacks (early stopping, best
checkpoint, backup for resuming, CSV history, TensorBoard, NaN guard, and
the weights' moving average where `training.ema` asks for it), on the
recurrent training loop measured faster on this machine
(`seqcore.loop_tuning`), and returns the best model. `finish_run` writes the metrics and moves the run
into place.
"""

import contextlib
import csv
import platform
import shutil

import keras
import tensorflow as tf

from seqcore.atomic import atomic_file
from seqcore.callbacks import BestModelCheckpoint, NanGuard, ResumableBackup
from seqcore.errors import SeqcoreError
from seqcore.runs import save_model_atomically, write_json
from seqcore.saving import load_model

INITIAL_MODEL = "initial.keras"
#: Written once `fit` has ended, so a resumed run goes straight to its metrics.
FIT_DONE = "fit_done.json"
#: Scratch files of a run in progress, removed by `finish_run`.
SCRATCH = (INITIAL_MODEL, FIT_DONE, "model.keras.best.json", "backup")


def environment():
    """Versions that a run records next to its configuration."""
    from seqcore import __version__

    return {
        "seqcore": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


@contextlib.contextmanager
def discard_on_error(run, resume):
    """Removes a fresh run's work area if training fails; keeps it on Ctrl-C.

    An interrupted run (KeyboardInterrupt, or a kill that skips this code)
    stays resumable; a run that failed (bad data, divergence) is deleted, so
    nothing half-written is left behind. In a multi-worker run, a worker
    that fails because another one died (a collective op error) keeps its
    work area too, and says how to resume.
    """
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        if run.cluster is not None and _is_cluster_failure(error):
            raise SeqcoreError(
                f"the cluster stopped: {type(error).__name__}: {_first_line(error)}; expected "
                "every worker to stay up; the run is kept: restart every worker with "
                "`train --out RUN --strategy multi-worker --resume`"
            ) from None
        if not resume:
            run.discard()
        raise


def _is_cluster_failure(error):
    """A peer gone or a collective aborted, not bad input or a local failure (out of memory, a file)."""
    import tensorflow as tf

    return isinstance(error, (tf.errors.UnavailableError, tf.errors.AbortedError,
                              tf.errors.CancelledError, tf.errors.DeadlineExceededError))


def _first_line(error):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:200] if lines else "no message"


def _dedupe_history(path):
    """Keeps the last row per epoch: a resumed run may repeat an epoch."""
    if not path.is_file():
        return
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return
    by_epoch = {row["epoch"]: row for row in rows}
    with atomic_file(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(sorted(by_epoch.values(), key=lambda row: int(row["epoch"])))


def run_training(
    run,
    config,
    build_model,
    train_data,
    validation_data,
    *,
    epochs,
    resume=False,
    patience=3,
    monitor="val_loss",
    mode="min",
    backup_every=50,
    seed=None,
    verbose="auto",
    extra_callbacks=(),
    distribution=None,
    batch_size=None,
):
    """Trains a task model in `run.work` and returns its best version.

    On a fresh run, `build_model()` makes the model (preprocessor adapted)
    and it is saved as `initial.keras`; on `resume` that file is loaded
    instead and `keras.callbacks.BackupAndRestore` restores the weights and
    the epoch reached, so the run finishes the epochs it planned.

    Under a `tf.distribute` strategy the model is loaded and compiled in
    its scope and `fit` shards the datasets (by example unless a dataset
    says otherwise, e.g. TFRecord shards by file). Under `multi-worker`
    every worker runs this; a non-chief's `run` is its scratch folder.

    Args:
        run: a started `seqcore.runs.RunDir`.
        config: the resolved configuration, written to `config.json`;
            `config["training"]["ema"]`, when set, is the momentum of an
            exponential moving average of the weights that validation, the
            best checkpoint and early stopping use (`keras.callbacks.SwapEMAWeights`);
            it is lowered where the average would span more than a tenth of
            the planned steps (`EMA_MAX_SPAN`).
        build_model: callable returning an uncompiled `seqcore.task.Task`.
        train_data: batched `tf.data.Dataset` of (raw inputs, targets).
        validation_data: the same for validation.
        epochs: total epochs the run should reach.
        resume: continue the interrupted run in `run.work`.
        patience: early-stopping patience, in epochs.
        monitor: the validation metric that picks the best epoch.
        mode: `"min"` or `"max"` for `monitor`.
        backup_every: save a resumable backup every this many batches.
        seed: seeds Python, NumPy and TensorFlow.
        verbose: Keras `fit` verbosity.
        extra_callbacks: more Keras callbacks, run after the built-in ones.
        distribution: a `seqcore.distribute.Distribution` (default: one device).
        batch_size: the per-replica batch size, for the line printed at the
            start (the datasets are already batched globally).

    Returns:
        The best model (by `monitor`), loaded from the run's `model.keras`
        and compiled with the task's defaults.

    Raises:
        SeqcoreError: when the loss becomes NaN or infinite.

    Usage (a sketch; it trains a model, so it is not run as a test)::

        model = run_training(RunDir("runs/x"), config, build, train, val, epochs=3)
    """
    from seqcore.distribute import prepare_model, resolve_strategy

    distribution = distribution or resolve_strategy("one-device")
    work = run.work
    if seed is not None:
        keras.utils.set_random_seed(seed)
    write_json(work / "config.json", {**config, "environment": environment()})
    if resume and (work / FIT_DONE).is_file():
        return _best_model(work)
    distributed = distribution.name != "one-device"
    if resume and (work / INITIAL_MODEL).is_file():
        model = None
    else:
        model = build_model()
        save_model_atomically(model, work / INITIAL_MODEL)
    steps = _planned_steps(train_data, epochs)
    ema, requested = _ema_momentum(config, steps), _ema_momentum(config)
    if verbose and ema < requested:
        print(f"Averaging the weights with momentum {ema:.4f} instead of {requested:g}, so that the "
              f"average spans at most a tenth of this run's {steps} steps" if ema else
              f"Not averaging the weights: this run's {steps} steps are too few", flush=True)
    with distribution.scope():
        if model is None or distributed:  # variables made in the scope are distributed
            model = load_model(work / INITIAL_MODEL, compile=False)
        _compile(model, config, ema)
    prepare_model(model, distribution)
    if verbose and batch_size is not None:
        print(distribution.describe(batch_size), flush=True)
    if not distributed:
        _tune_training_loops(model, config, ema, train_data, verbose)
    nan_guard = NanGuard()
    callbacks = [
        nan_guard,
        # History first: under multi-worker, saving reads synchronized metric
        # variables (a collective op), which fails first when a worker dies.
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=True),
        ResumableBackup(str(work / "backup"), save_freq=backup_every),
        # After the backup (which keeps the raw weights), before the checkpoint
        # and early stopping (which judge the averaged ones).
        *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []),
        BestModelCheckpoint(work / "model.keras", monitor=monitor, mode=mode),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience),
        keras.callbacks.TensorBoard(str(work / "logs"), write_graph=False),
        *extra_callbacks,
    ]
    if distribution.multi_worker:
        train_data, validation_data = _shard_by_data(train_data), _shard_by_data(validation_data)
    with distribution.scope():
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
        )
    if nan_guard.diverged_at is not None:
        epoch, batch, loss = nan_guard.diverged_at
        raise SeqcoreError(
            f"training diverged: loss became {loss} at epoch {epoch}, batch {batch}; "
            "expected a finite loss (try a lower learning rate or fewer units)"
        )
    _dedupe_history(work / "history.csv")
    if not (work / "model.keras").is_file():
        save_model_atomically(model, work / "model.keras")
    write_json(work / FIT_DONE, {"epochs": epochs})
    return _best_model(work)


def _tune_training_loops(model, config, ema, train_data, verbose):
    """Trains with seqcore's or Keras' recurrent loop, whichever measures faster here (`seqcore.loop_tuning`)."""
    from seqcore import loop_tuning

    if not loop_tuning.tunable_layers(model):
        return
    batch = None
    if loop_tuning.requested_loop() == "auto":
        batch = next(iter(model.preprocess_dataset(train_data)))  # as `fit` feeds the model
    log = (lambda line: print(line, flush=True)) if verbose else None
    choice = loop_tuning.tune_training_loops(model, batch, log=log)
    if choice["source"] == "measured":
        _compile(model, config, ema)  # a fresh optimizer: the timed steps leave no trace


#: The weights' moving average spans (1 / (1 - momentum) steps) at most this
#: share of a run's planned steps, so a short run does not keep mostly its
#: first, untrained weights.
EMA_MAX_SPAN = 0.1


def _planned_steps(train_data, epochs):
    """Training steps the run plans, or None where the dataset's length is unknown (streamed)."""
    batches = int(train_data.cardinality())
    return batches * epochs if batches > 0 else None


def _ema_momentum(config, steps=None):
    """`training.ema`, lowered where its span would exceed `EMA_MAX_SPAN` of `steps`.

    Example:

    >>> config = {"training": {"ema": 0.995}}
    >>> _ema_momentum(config, steps=2400), round(_ema_momentum(config, steps=600), 4)
    (0.995, 0.9833)
    """
    momentum = float(config.get("training", {}).get("ema") or 0.0)
    if momentum and steps:
        momentum = min(momentum, max(0.0, 1.0 - 1.0 / (EMA_MAX_SPAN * steps)))
    return momentum


def _compile(model, config, momentum=0.0):
    """The task's own `compile()`, with loss scaling when the backbone computes in float16.

    With a `momentum` (such as 0.995), the optimizer also keeps an
    exponential moving average of the weights (Polyak averaging);
    `run_training` validates and checkpoints that average.
    """
    model.compile()
    if momentum:
        optimizer = model.optimizer
        model.compile(optimizer=type(optimizer).from_config(
            {**optimizer.get_config(), "use_ema": True, "ema_momentum": momentum}))
    if config.get("backbone", {}).get("dtype") == "mixed_float16":
        model.compile(optimizer=keras.optimizers.LossScaleOptimizer(model.optimizer))


def _shard_by_data(dataset):
    """Leaves a dataset's explicit shard policy; `AUTO` becomes `DATA` (in-memory sources have no files)."""
    policy = dataset.options().experimental_distribute.auto_shard_policy
    if policy != tf.data.experimental.AutoShardPolicy.AUTO:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _best_model(work):
    best = load_model(work / "model.keras")
    best.compile()
    return best


def finish_run(run, metrics):
    """Writes `metrics.json`, removes training scratch files, moves the run into place.

    A non-chief worker of a cluster writes nothing: its scratch folder is
    deleted and the path the chief writes is returned.
    """
    if not run.is_chief:
        return run.finalize()
    write_json(run.work / "metrics.json", metrics)
    for name in SCRATCH:
        shutil.rmtree(run.work / name, ignore_errors=True)
        (run.work / name).unlink(missing_ok=True)
    for leftover in run.work.glob(".saving.*"):
        leftover.unlink()
    return run.finalize()
