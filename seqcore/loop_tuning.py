"""Picks the faster training loop for a model's recurrent layers by timing both on this machine.

`seqcore.fast_rnn`'s whole-sequence loops beat Keras' step loop on some CPUs
and shapes and lose on others (`benchmarks/README.md`, "Training
throughput"): no fixed choice is the faster one everywhere. Like cuDNN's
autotuner, `tune_training_loops` times a few training steps of the model
with each loop, interleaved, and trains with the faster (Keras' only where
it is at least 5 % faster: a near tie is noise). The choice is
cached per machine, TensorFlow version, layer shapes and batch shape in
`$SEQCORE_CACHE/training_loops.json` (default `~/.cache/seqcore`), so only
the first run of a shape pays for the measurement.

`$SEQCORE_TRAINING_LOOP` overrides it: `auto` (the default: measure),
`seqcore` or `keras` (no measurement). Inference never changes: exports run
the same graphs either way.

Usage (a sketch; it times real training steps, so it is not run as a test)::

    choice = tune_training_loops(model, next(iter(train_data)))
    choice["loop"], choice["ms_per_step"]  # e.g. ('seqcore', {'seqcore': 41.8, 'keras': 55.2})
"""

import json
import os
import statistics
import time

import keras
import tensorflow as tf

from seqcore.errors import SeqcoreError
from seqcore.fastpath import recurrent_layers
from seqcore.machine import machine
from seqcore.runs import cache_root, read_json, write_json

LOOPS = ("seqcore", "keras")
#: Keras' loop is chosen only where it takes at most this fraction of
#: seqcore's time: a near tie is measurement noise, and keeps seqcore's loop.
KERAS_MARGIN = 0.95
ENV = "SEQCORE_TRAINING_LOOP"
CACHE_FILE = "training_loops.json"


def requested_loop():
    """`$SEQCORE_TRAINING_LOOP`: `auto` (unset), `seqcore` or `keras`.

    Raises:
        SeqcoreError: for any other value.
    """
    value = os.environ.get(ENV, "").strip().lower() or "auto"
    if value not in ("auto", *LOOPS):
        raise SeqcoreError(f"{ENV} is not a training loop; expected auto, seqcore or keras, received {value!r}")
    return value


def tunable_layers(model):
    """The recurrent layers of `model` that can run either loop here (seqcore.fast_rnn, no blockers)."""
    return [
        layer for layer in recurrent_layers(model)
        if hasattr(layer, "train_with_keras_loop") and not layer.cpu_path_blockers()
    ]


def use_training_loop(model, loop):
    """Makes the tunable layers of `model` train with `loop` (`"seqcore"` or `"keras"`).

    The compiled train function is dropped, so the next `fit` traces anew.

    Example:

    >>> from seqcore.backbone import RecurrentBackbone
    >>> backbone = RecurrentBackbone(cell="gru", units=4, num_features=2)
    >>> use_training_loop(backbone, "keras")
    >>> tunable_layers(backbone)[0].train_with_keras_loop
    True
    """
    if loop not in LOOPS:
        raise ValueError(f"Unknown training loop; expected one of {', '.join(LOOPS)}; received: {loop!r}")
    for layer in tunable_layers(model):
        layer.train_with_keras_loop = loop == "keras"
    model.train_function = None


def cache_key(model, batch):
    """What the measurement depends on: machine, versions, recurrent layers and batch shapes."""
    layers = [
        [type(layer).__name__, layer.cell.units, int(layer.cell.kernel.shape[0]), bool(layer.return_sequences)]
        for layer in tunable_layers(model)
    ]
    shapes = [list(tensor.shape) for tensor in tf.nest.flatten(batch)]
    return json.dumps([machine(), tf.__version__, keras.__version__, layers, shapes])


def measure_training_loops(model, batch, rounds=7, steps=3):
    """Milliseconds per training step of a compiled `model` with each loop (medians of interleaved rounds).

    Each loop is traced and run once before timing. The model's variables
    (weights, seeds) are restored afterwards; its optimizer has taken
    steps, so compile the model again before training it.

    Args:
        model: a compiled Keras model with tunable recurrent layers.
        batch: one training batch, `(x, y)` or `(x, y, sample_weight)`.
        rounds: timed rounds; the loops alternate which goes first.
        steps: training steps per loop in each round.

    Returns:
        `{"seqcore": ms, "keras": ms}`.
    """
    saved = [variable.numpy() for variable in model.variables]
    times = {loop: [] for loop in LOOPS}
    functions = {}
    try:
        for loop in LOOPS:
            use_training_loop(model, loop)
            model.train_on_batch(*batch)  # traces and compiles
            functions[loop] = model.train_function
        for index in range(rounds):
            for loop in LOOPS if index % 2 == 0 else LOOPS[::-1]:
                model.train_function = functions[loop]  # traced with that loop above
                started = time.perf_counter()
                for _ in range(steps):
                    model.train_on_batch(*batch)
                times[loop].append((time.perf_counter() - started) * 1000 / steps)
    finally:
        for variable, value in zip(model.variables, saved):
            variable.assign(value)
        model.train_function = None
    return {loop: round(statistics.median(values), 2) for loop, values in times.items()}


def tune_training_loops(model, batch, log=print, use_cache=True):
    """Sets `model` to train with the loop that is faster here, measuring it unless cached.

    Does nothing where no layer can run seqcore's loop (a GPU, recurrent
    dropout, plain `keras.layers`). With `$SEQCORE_TRAINING_LOOP` set to
    `seqcore` or `keras`, uses that loop without measuring. After a
    measurement, compile the model again (see `measure_training_loops`).

    Args:
        model: a compiled Keras model.
        batch: one training batch, `(x, y)` or `(x, y, sample_weight)`
            (unused, and may be None, where `$SEQCORE_TRAINING_LOOP` names a loop).
        log: callable given one line about the choice, or None.
        use_cache: read and write the cache of earlier measurements.

    Returns:
        None where there is nothing to choose, else a dict: `loop`,
        `ms_per_step` (`{loop: ms}`, empty where not measured now or
        before) and `source` (`"measured"`, `"cached"` or `$SEQCORE_TRAINING_LOOP`).
    """
    if not tunable_layers(model):
        return None
    requested = requested_loop()
    if requested != "auto":
        use_training_loop(model, requested)
        return {"loop": requested, "ms_per_step": {}, "source": ENV}
    path = cache_root() / CACHE_FILE
    key = cache_key(model, batch)
    cache = _read_cache(path) if use_cache else {}
    if key in cache:
        choice = {**cache[key], "source": "cached"}
    else:
        if log:
            log("Timing seqcore's and Keras' recurrent training loops on this machine (once per shape)...")
        ms = measure_training_loops(model, batch)
        choice = {"loop": faster_loop(ms), "ms_per_step": ms, "source": "measured"}
        if use_cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, {**cache, key: {"loop": choice["loop"], "ms_per_step": ms}})
    use_training_loop(model, choice["loop"])
    if log and choice["ms_per_step"]:
        figures = ", ".join(f"{loop} {value:g} ms" for loop, value in choice["ms_per_step"].items())
        when = "measured now" if choice["source"] == "measured" else "measured earlier on this machine"
        log(f"Training loop: {choice['loop']} ({when}: {figures} per step)")
    return choice


def faster_loop(ms_per_step):
    """`"keras"` where Keras' loop took at most `KERAS_MARGIN` of seqcore's time, else `"seqcore"`.

    Example:

    >>> faster_loop({"seqcore": 10.0, "keras": 9.8}), faster_loop({"seqcore": 10.0, "keras": 9.0})
    ('seqcore', 'keras')
    """
    return "keras" if ms_per_step["keras"] <= KERAS_MARGIN * ms_per_step["seqcore"] else "seqcore"


def _read_cache(path):
    try:
        cache = read_json(path)
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: measure again and rewrite it
    return cache if isinstance(cache, dict) else {}
