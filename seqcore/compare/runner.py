"""Trains one task with several backbones under the same budget and measures each run.

The parent (`run_comparison`) starts one fresh Python process per
(backbone, repeat), so every run starts from the same state and its peak
memory is its own. The child (`train_and_measure`, entered through
`python -m seqcore.compare.worker`) runs the app's own `train` command with
the backbone options added, then loads the finished run and measures it.
"""

import contextlib
import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from seqcore.compare.tasks import get_task, sample_batch
from seqcore.errors import SeqcoreError
from seqcore.runs import read_json, write_json

#: Calls timed (after 3 warm-up calls) to measure inference latency.
LATENCY_CALLS = 20


def run_comparison(task, backbones, task_args, work, *, repeats=1, seed=0, units=None, echo=None):
    """Trains `task` once per backbone and repeat; returns every run's measurements.

    Runs go repeat by repeat (every backbone once, then again), so a change
    in the machine's load spreads over all backbones instead of favouring
    one. Repeat `r` uses seed `seed + r` for every backbone.

    Args:
        task: an app name (see `seqcore.compare.tasks.TASKS`).
        backbones: `BackboneChoice`s.
        task_args: options of the app's `train` command shared by all runs
            (data, epochs, limits).
        work: folder to write `runs/` and `logs/` into.
        repeats: runs per backbone.
        seed: seed of the first repeat.
        units: `--units` for every backbone, or None for the task's default.
        echo: called with one line per finished run.

    Returns:
        A list of dicts, one per run (see `train_and_measure`), each with
        `backbone`, `cells`, `bidirectional` and `seed` added.
    """
    echo = echo or (lambda line: None)
    spec = get_task(task)
    work = Path(work)
    (work / "runs").mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    total, results = len(backbones) * repeats, []
    for repeat in range(repeats):
        for backbone in backbones:
            run_seed = seed + repeat
            label = f"{backbone.name}-seed{run_seed}"
            args = [*task_args, *backbone.train_args(), "--seed", str(run_seed)]
            if units is not None:
                args += ["--units", str(units)]
            result = _run_child(task, args, work / "runs" / label, work / "logs" / f"{label}.log")
            result.update(backbone=backbone.name, cells=list(backbone.cells),
                          bidirectional=backbone.bidirectional, seed=run_seed)
            results.append(result)
            echo(
                f"[{len(results)}/{total}] {backbone.name} seed {run_seed}: {spec.metric_name} "
                f"{result['metric']:.4f}, {result['train_seconds_per_epoch']:.1f} s/epoch, "
                f"{result['latency_ms_per_example']:.3f} ms/example"
            )
    return results


def _run_child(task, train_args, run_dir, log_path):
    """Runs `train_and_measure` in a fresh process; its output goes to `log_path`."""
    spec_path = log_path.with_suffix(".spec.json")
    result_path = log_path.with_suffix(".result.json")
    write_json(spec_path, {"task": task, "train_args": train_args, "run_dir": str(run_dir),
                           "result": str(result_path)})
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.run(
            [sys.executable, "-m", "seqcore.compare.worker", str(spec_path)],
            stdout=log, stderr=subprocess.STDOUT, env=env, check=False,
        )
    spec_path.unlink()
    result = read_json(result_path) if result_path.is_file() else {}
    result_path.unlink(missing_ok=True)
    if "error" in result:
        raise SeqcoreError(result["error"])
    if process.returncode != 0 or not result:
        raise SeqcoreError(
            f"training {run_dir.name} failed (exit status {process.returncode}); expected a "
            f"finished run; see the last lines of {log_path}: {_tail(log_path)}"
        )
    return result


def _tail(path, lines=3):
    text = Path(path).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:])


def train_and_measure(task, train_args, run_dir):
    """Trains with the app's `train` command, then measures the finished run.

    Call it in a fresh process (peak memory is the process's own).

    Returns:
        A dict: `run_dir`, `metric`, `metrics` (the run's `metrics.json`),
        `history` (per-epoch columns of `history.csv`), `epochs`,
        `epoch_seconds` (training time of each epoch, validation excluded),
        `train_seconds_per_epoch` (their mean, leaving out the first epoch,
        which also traces and compiles, when there are more), `parameters`,
        `recurrent_parameters`, `latency_ms_per_example`, `peak_memory_mb`
        and `environment` (versions, from the run's `config.json`).
    """
    spec = get_task(task)
    timer = epoch_timer()
    with added_callbacks(timer):
        spec.train_command().main(
            args=[*train_args, "--out", str(run_dir)],
            prog_name=f"seqcore {task} train",
            standalone_mode=False,
        )
    run_dir = Path(run_dir)
    metrics = read_json(run_dir / "metrics.json")
    config = read_json(run_dir / "config.json")

    from seqcore.saving import load_model

    model = load_model(run_dir / "model.keras", compile=False)
    inputs, preprocess = sample_batch(task, model, config)
    seconds = timer.epoch_seconds
    steady = seconds[1:] or seconds
    return {
        "run_dir": str(run_dir),
        "metric": spec.read_metric(metrics),
        "metrics": metrics,
        "history": read_history(run_dir / "history.csv"),
        "epochs": len(seconds),
        "epoch_seconds": [round(s, 3) for s in seconds],
        "train_seconds_per_epoch": round(sum(steady) / max(len(steady), 1), 3),
        "parameters": int(model.count_params()),
        "recurrent_parameters": recurrent_parameters(model),
        "latency_ms_per_example": round(inference_latency_ms(model, inputs, preprocess), 4),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "environment": config.get("environment"),
    }


def epoch_timer():
    """A Keras callback recording the training seconds of each epoch (validation excluded).

    Example:

    >>> timer = epoch_timer()
    >>> timer.epoch_seconds
    []
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch_seconds = []
            self._start = self._end = None

        def on_epoch_begin(self, epoch, logs=None):
            self._start, self._end = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            if self._start is not None and self._end is None:
                self._end = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append((self._end or time.perf_counter()) - self._start)
            self._start = None

    return EpochTimer()


@contextlib.contextmanager
def added_callbacks(*callbacks):
    """Adds Keras callbacks to every `seqcore.training.run_training` call inside the block.

    Every app trains through `run_training`, but not every app's `train`
    takes callbacks; this reaches all four the same way.
    """
    import seqcore.training as training

    original = training.run_training

    def run_training(*args, extra_callbacks=(), **kwargs):
        return original(*args, extra_callbacks=[*extra_callbacks, *callbacks], **kwargs)

    training.run_training = run_training
    try:
        yield
    finally:
        training.run_training = original


def read_history(path):
    """`history.csv` as column -> list of floats, one per epoch.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.csv"
    >>> _ = path.write_text("epoch,loss,val_loss\\n0,0.7,0.6\\n1,0.5,0.55\\n")
    >>> read_history(path)["val_loss"]
    [0.6, 0.55]
    """
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    columns = {}
    for row in rows:
        for key, value in row.items():
            if key != "epoch":
                columns.setdefault(key, []).append(float(value))
    return columns


def recurrent_parameters(model):
    """Weights of the recurrent layers alone (embeddings, convolutions and heads left out).

    Example:

    >>> import keras
    >>> inputs = keras.Input((None, 3))
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GRU(4)(inputs)))
    >>> recurrent_parameters(model)
    108
    """
    import keras

    total, stack = 0, list(model.layers)
    while stack:
        layer = stack.pop()
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            total += layer.count_params()
        else:
            stack.extend(getattr(layer, "layers", None) or [])
    return int(total)


def inference_latency_ms(model, inputs, preprocess=False, calls=LATENCY_CALLS):
    """Milliseconds per example of one compiled call on a fixed batch (median of `calls`).

    Args:
        model: a Keras model (with a `preprocessor` when `preprocess`).
        inputs: the batch, as served.
        preprocess: run `model.preprocessor` inside the same compiled call.
        calls: timed calls, after 3 warm-up calls that trace and compile.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3)])
    >>> inference_latency_ms(model, np.zeros((4, 5, 2), "float32"), calls=2) > 0
    True
    """
    import numpy as np
    import tensorflow as tf

    @tf.function
    def infer(x):
        if preprocess:
            x = model.preprocessor(x)
        return model(x, training=False)

    if isinstance(inputs, dict):  # several named inputs (a forecaster with known-future covariates)
        batch = {name: tf.constant(value) for name, value in inputs.items()}
    else:
        batch = tf.constant(inputs.tolist() if inputs.dtype == object else inputs)
    for _ in range(3):
        tf.nest.map_structure(np.asarray, infer(batch))
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        tf.nest.map_structure(np.asarray, infer(batch))
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times)) / len(inputs["history"] if isinstance(inputs, dict) else inputs)


def peak_memory_mb():
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_main(spec_path):
    """Entry point of the child process: reads a spec file, writes a result file."""
    import click

    from seqcore.cli.group import quiet_tensorflow

    spec = read_json(spec_path)
    quiet_tensorflow()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    try:
        result = train_and_measure(spec["task"], spec["train_args"], spec["run_dir"])
    except SeqcoreError as error:
        result = {"error": str(error)}
    except click.ClickException as error:
        result = {"error": f"{spec['task']} train options: {error.format_message()}"}
    write_json(spec["result"], result)
