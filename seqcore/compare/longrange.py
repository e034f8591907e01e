"""The long-range dependency experiment: delayed recall across a gap of distractors.

Each example is a sequence of one-hot steps. One step shows one of
`num_symbols` symbols; the others show random *distractor* symbols (from a
separate alphabet); the last step shows a *recall* marker, and the model
must answer which symbol it saw. Nothing but memory links the answer to the
input. Test sequences put the symbol at least `gap` steps before the
question, so the task gets harder exactly as the gap grows; training
sequences put it anywhere, so every cell also sees short delays from which
to learn *what* to store, and the test asks whether it can *hold* it across
the gap. Chance accuracy is `1 / num_symbols`.

Besides accuracy, `input_gradient_norms` measures how much the loss can
"feel" each input step: the norm of dL/dx_t for every t. A simple RNN's
gradient shrinks geometrically with the distance from the output (it is a
product of `gap` Jacobians of `tanh(W x + U h)`), so it cannot learn what
step 0 said; the additive cell state of an LSTM and the interpolating update
of a GRU keep it alive.
"""

import time

import numpy as np

from seqcore.errors import SeqcoreError

#: Defaults of the experiment; `run_experiment` takes each as an argument.
DEFAULTS = {
    "num_symbols": 8,
    "train_examples": 2000,
    "test_examples": 500,
    "units": 32,
    "epochs": 60,
    "batch_size": 32,
    "learning_rate": 3e-3,
}


def delayed_recall(num_examples, gap, num_symbols=8, seed=0, position=None, delays="far"):
    """Makes the delayed-recall data set.

    A sequence has `gap + gap // 10 + 2` one-hot steps. One of them shows
    the symbol to remember; the last step shows the *recall* marker; every
    other step shows a random *distractor* (from a separate alphabet). With
    `delays="far"` the symbol is at a random step among the first
    `gap // 10 + 1`, so at least `gap` distractors separate it from the
    question, and how many varies (by up to a tenth): a model must hold the
    symbol in a stable memory, it cannot rely on an exact delay. With
    `delays="any"` it is at any step before the question (delays from 1
    to the whole length): the training mix.

    Args:
        num_examples: how many sequences.
        gap: the fewest distractor steps between the symbol and the recall
            marker.
        num_symbols: size of the alphabet to remember (and of the
            distractor alphabet).
        seed: seeds symbols, positions and distractors (an int or a list
            of ints).
        position: the symbol's step in every sequence, or None for a
            random one per sequence.
        delays: `"far"` (at least `gap` steps before the question) or
            `"any"`; where the random positions are drawn.

    Returns:
        `(inputs, targets)`: float32 one-hot steps `(num_examples, steps,
        2 * num_symbols + 1)` and int32 symbols `(num_examples,)`. Channels
        `[0, num_symbols)` are the symbols, the next `num_symbols` the
        distractors, and the last one the recall marker.

    Example:

    >>> x, y = delayed_recall(4, gap=10, num_symbols=3, position=0)
    >>> x.shape, y.shape
    ((4, 13, 7), (4,))
    >>> bool((x[:, 0, :3].argmax(-1) == y).all())
    True
    >>> x, y = delayed_recall(1000, gap=10, num_symbols=3, delays="any")
    >>> int(x[:, :, :3].sum(-1).argmax(-1).max())  # the symbol reaches the step before the question
    11
    """
    if int(gap) < 0:
        raise SeqcoreError(f"gap must be a number of steps >= 0; received: {gap}")
    if int(num_symbols) < 2:
        raise SeqcoreError(f"num_symbols must be at least 2; received: {num_symbols}")
    if delays not in ("far", "any"):
        raise SeqcoreError(f"delays must be 'far' or 'any'; received: {delays!r}")
    jitter = gap // 10
    steps, width = gap + jitter + 2, 2 * num_symbols + 1
    last = jitter if delays == "far" else steps - 2
    if position is not None and not 0 <= position <= last:
        raise SeqcoreError(f"position must be in [0, {last}] for gap {gap}; received: {position}")
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, num_symbols, size=num_examples).astype("int32")
    positions = (rng.integers(0, last + 1, size=num_examples) if position is None
                 else np.full(num_examples, position))
    distractors = rng.integers(num_symbols, 2 * num_symbols, size=(num_examples, steps - 1))
    inputs = np.zeros((num_examples, steps, width), dtype="float32")
    rows = np.arange(num_examples)[:, None]
    inputs[rows, np.arange(steps - 1)[None, :], distractors] = 1.0
    inputs[rows[:, 0], positions, :] = 0.0
    inputs[rows[:, 0], positions, targets] = 1.0
    inputs[:, -1, -1] = 1.0
    return inputs, targets


def build_model(cell, units, num_features, num_symbols, bidirectional=False, learning_rate=3e-3):
    """A seqcore classifier over the backbone's last output, compiled with Adam.

    Example:

    >>> model = build_model("gru", 4, num_features=7, num_symbols=3)
    >>> model.output_shape
    (None, 3)
    """
    import keras

    from seqcore.backbone import RecurrentBackbone
    from seqcore.classifier import SequenceClassifier

    backbone = RecurrentBackbone(
        cell=cell, units=units, bidirectional=bidirectional, pooling="last",
        num_features=num_features, mask_value=None,
    )
    model = SequenceClassifier(backbone, class_names=[str(i) for i in range(num_symbols)], dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0))
    return model


def input_gradient_norms(model, inputs, targets):
    """The mean norm of dL/dx_t over a batch, for every step t.

    Args:
        model: a Keras classifier returning class probabilities.
        inputs: float array `(batch, steps, features)`.
        targets: int array `(batch,)`.

    Returns:
        A float64 array `(steps,)`: `mean_b || d loss / d inputs[b, t] ||`.

    Example:

    >>> x, y = delayed_recall(8, gap=4, num_symbols=2)
    >>> model = build_model("rnn", 4, num_features=5, num_symbols=2)
    >>> input_gradient_norms(model, x, y).shape
    (6,)
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(inputs)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(targets, model(x, training=False))
    gradient = tape.gradient(loss, x)
    return tf.reduce_mean(tf.norm(gradient, axis=-1), axis=0).numpy().astype("float64")


def run_one(cell, gap, *, seed=0, bidirectional=False, num_symbols=8, train_examples=2000,
            test_examples=500, units=32, epochs=15, batch_size=32, learning_rate=3e-3,
            verbose=0):
    """Trains one cell on one gap; returns accuracy, gradient norms and timings.

    Every cell gets the same data (seeded by `seed` and the gap; fresh
    training sequences each epoch, so nothing can be memorized), units,
    epochs, batch size and learning rate. Training sequences hold the
    symbol at any delay; test sequences at least `gap` steps back.

    Returns:
        A dict: `cell`, `bidirectional`, `gap`, `seed`, `accuracy` (test),
        `loss`, `parameters`, `history` (per-epoch `loss`, `accuracy`),
        `gradient_norms` (`init` and `trained`, per step) and
        `gradient_ratio` (`init` and `trained`: norm at step 0 / norm at
        the last step), `train_seconds`.

    Example:

    >>> row = run_one("gru", 3, train_examples=64, test_examples=32, units=4, epochs=1)
    >>> sorted(row["gradient_ratio"])
    ['init', 'trained']
    """
    import keras

    keras.utils.set_random_seed(seed)
    test_x, test_y = delayed_recall(test_examples, gap, num_symbols, seed=_seed(seed, gap, "test"))
    # The gradient probe puts the symbol at step 0: the farthest from the question.
    probe_x, probe_y = delayed_recall(256, gap, num_symbols, seed=_seed(seed, gap, "probe"), position=0)
    model = build_model(cell, units, test_x.shape[-1], num_symbols, bidirectional, learning_rate)
    initial = input_gradient_norms(model, probe_x, probe_y)
    history, started = {}, time.time()
    for epoch in range(epochs):
        # Fresh sequences every epoch: the model cannot memorize the training set.
        train_x, train_y = delayed_recall(train_examples, gap, num_symbols, seed=_seed(seed, gap, epoch),
                                          delays="any")
        logs = model.fit(train_x, train_y, batch_size=batch_size, epochs=1, verbose=verbose).history
        for key, values in logs.items():
            history.setdefault(key, []).append(float(values[-1]))
    train_seconds = time.time() - started
    loss, accuracy = model.evaluate(test_x, test_y, batch_size=256, verbose=0)
    trained = input_gradient_norms(model, probe_x, probe_y)
    return {
        "cell": cell,
        "bidirectional": bool(bidirectional),
        "gap": int(gap),
        "seed": int(seed),
        "accuracy": float(accuracy),
        "loss": float(loss),
        "chance": 1.0 / num_symbols,
        "parameters": int(model.count_params()),
        "epochs": int(epochs),
        "train_seconds": round(train_seconds, 2),
        "history": history,
        "gradient_norms": {"init": initial.tolist(), "trained": trained.tolist()},
        "gradient_ratio": {"init": _ratio(initial), "trained": _ratio(trained)},
    }


def _seed(seed, gap, part):
    """A distinct data seed per (seed, gap, epoch, "test" or "probe"), the same for every cell."""
    index = {"test": 0, "probe": 1}[part] if isinstance(part, str) else int(part) + 2
    return [int(seed) % 2**32, int(gap), index]


def _ratio(norms):
    """Norm at step 0 over norm at the last step (0 when the last is 0)."""
    return float(norms[0] / norms[-1]) if norms[-1] > 0 else 0.0


def run_experiment(backbones, gaps, *, repeats=1, seed=0, units=None, echo=None, **options):
    """Trains every backbone on every gap, `repeats` times, under the same budget.

    Args:
        backbones: `BackboneChoice`s (see `seqcore.compare.backbones`).
        gaps: distractor steps, e.g. `[10, 100]`.
        repeats: runs per (backbone, gap); repeat `r` uses seed `seed + r`.
        seed: seed of the first repeat.
        units: units of every backbone (default `DEFAULTS["units"]`).
        echo: called with one line per finished run.
        **options: the other `DEFAULTS` (epochs, examples, learning rate...).

    Returns:
        The per-run dicts of `run_one`, each with `backbone` added.
    """
    echo = echo or (lambda line: None)
    settings = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    settings["units"] = units or settings["units"]
    runs, total = [], len(backbones) * len(gaps) * repeats
    for repeat in range(repeats):
        for gap in gaps:
            for backbone in backbones:
                run = run_one(backbone.cell, gap, seed=seed + repeat,
                              bidirectional=backbone.bidirectional, **settings)
                run["backbone"] = backbone.name
                runs.append(run)
                echo(
                    f"[{len(runs)}/{total}] {backbone.name} gap {gap} seed {seed + repeat}: accuracy "
                    f"{run['accuracy']:.3f} (chance {run['chance']:.3f}), gradient ratio at init "
                    f"{run['gradient_ratio']['init']:.1e}, {run['train_seconds']:.0f} s"
                )
    return runs


def summarize(runs):
    """One row per (backbone, gap): accuracy mean and spread over repeats, gradient ratios.

    The per-step gradient norms of a row are the mean over its repeats.

    Example:

    >>> run = {"backbone": "rnn", "gap": 10, "seed": 0, "accuracy": 0.5, "chance": 0.125,
    ...        "parameters": 9, "epochs": 1, "train_seconds": 2.0,
    ...        "gradient_ratio": {"init": 0.1, "trained": 0.2},
    ...        "gradient_norms": {"init": [1.0, 2.0], "trained": [3.0, 4.0]}}
    >>> summarize([run, {**run, "seed": 1, "accuracy": 0.7}])[0]["accuracy_mean"]
    0.6
    """
    import statistics

    groups = {}
    for run in runs:
        groups.setdefault((run["backbone"], run["gap"]), []).append(run)
    rows = []
    for (backbone, gap), group in groups.items():
        accuracies = [run["accuracy"] for run in group]

        def mean_of(key, which):
            return np.mean([run[key][which] for run in group], axis=0).tolist()

        rows.append({
            "backbone": backbone,
            "gap": gap,
            "repeats": len(group),
            "seeds": [run["seed"] for run in group],
            "accuracy_mean": round(statistics.fmean(accuracies), 6),
            "accuracy_std": round(statistics.stdev(accuracies), 6) if len(group) > 1 else 0.0,
            "accuracy_values": accuracies,
            "chance": group[0]["chance"],
            "gradient_ratio_init": mean_of("gradient_ratio", "init"),
            "gradient_ratio_trained": mean_of("gradient_ratio", "trained"),
            "parameters": group[0]["parameters"],
            "epochs": group[0]["epochs"],
            "train_seconds_per_epoch": round(
                statistics.fmean(run["train_seconds"] / run["epochs"] for run in group), 3
            ),
            "gradient_norms": {
                "init": mean_of("gradient_norms", "init"),
                "trained": mean_of("gradient_norms", "trained"),
            },
        })
    return sorted(rows, key=lambda row: row["gap"])


def verdict(rows):
    """Reads, from the numbers, whether each backbone holds or collapses as the gap grows.

    A backbone's *skill* at a gap is its accuracy above chance, as a
    fraction of the most there is: `(accuracy - chance) / (1 - chance)`.
    Between the smallest and the largest gap it **holds** if its skill
    keeps at least 80 % of its value, **collapses** if it falls to 20 % or
    less of the way above chance, and otherwise **degrades**. The expected
    shape is: rnn collapses while lstm and gru hold.

    Returns:
        A dict: `per_backbone` (name -> `holds` / `degrades` / `collapses`),
        `expected_shape` (True, False, or None when there is one gap or
        none of rnn / lstm / gru was run) and `summary` (one sentence).

    Example:

    >>> rows = [{"backbone": b, "gap": g, "accuracy_mean": a, "chance": 0.125}
    ...         for b, g, a in [("rnn", 10, 1.0), ("rnn", 100, 0.13), ("lstm", 10, 1.0), ("lstm", 100, 0.99)]]
    >>> verdict(rows)["per_backbone"]
    {'rnn': 'collapses', 'lstm': 'holds'}
    """
    gaps = sorted({row["gap"] for row in rows})
    if len(gaps) < 2:
        return {"per_backbone": {}, "expected_shape": None,
                "summary": "one gap only: nothing to say about how accuracy changes with the gap"}
    small, large = gaps[0], gaps[-1]
    accuracy = {(row["backbone"], row["gap"]): row["accuracy_mean"] for row in rows}
    chance = rows[0]["chance"]
    status = {}
    for backbone in dict.fromkeys(row["backbone"] for row in rows):
        skill_small = (accuracy[backbone, small] - chance) / (1 - chance)
        skill_large = (accuracy[backbone, large] - chance) / (1 - chance)
        if skill_large >= 0.8 * skill_small:
            status[backbone] = "holds"
        elif skill_large <= 0.2:
            status[backbone] = "collapses"
        else:
            status[backbone] = "degrades"
    expected = {"rnn": "collapses", "lstm": "holds", "gru": "holds"}
    checked = {name: want for name, want in expected.items() if name in status}
    if not checked:
        return {"per_backbone": status, "expected_shape": None,
                "summary": "none of rnn, lstm, gru was run: the expected shape cannot be checked"}
    agrees = all(status[name] == want for name, want in checked.items())
    observed = "; ".join(
        f"{name} {state} ({accuracy[name, small]:.3f} at gap {small} -> {accuracy[name, large]:.3f} at gap {large})"
        for name, state in status.items()
    )
    if agrees:
        summary = f"As expected, from gap {small} to {large}: {observed}."
    else:
        wrong = ", ".join(f"{name} {status[name]} (expected: {want})" for name, want in checked.items()
                          if status[name] != want)
        summary = (f"The expected shape did NOT come out of this run: {wrong}. "
                   f"From gap {small} to {large}: {observed}.")
    return {"per_backbone": status, "expected_shape": agrees, "summary": summary}


HEADERS = ["backbone", "gap", "accuracy", "grad ratio (init)", "grad ratio (trained)", "parameters", "s/epoch"]


def table_cells(rows):
    """String cells of the experiment's table, one line per (backbone, gap)."""
    lines = []
    for row in rows:
        spread = f" ± {row['accuracy_std']:.3f}" if row["repeats"] > 1 else ""
        lines.append([
            row["backbone"], str(row["gap"]), f"{row['accuracy_mean']:.3f}{spread}",
            f"{row['gradient_ratio_init']:.1e}", f"{row['gradient_ratio_trained']:.1e}",
            f"{row['parameters']:,}", f"{row['train_seconds_per_epoch']:.1f}",
        ])
    return lines


def markdown_report(report):
    """`results.md` of the experiment: the setup, the table and the verdict."""
    from seqcore.compare.report import pipe_table

    s = report["settings"]
    return "\n".join([
        "# seqcore compare longrange",
        "",
        f"Delayed recall of one of {s['num_symbols']} symbols across a gap of distractors "
        f"(chance {1 / s['num_symbols']:.3f}). Same budget for every backbone: {s['units']} units, "
        f"{s['train_examples']} training and {s['test_examples']} test sequences, {s['epochs']} epochs, "
        f"batch {s['batch_size']}, Adam {s['learning_rate']}, seeds {report['seeds']}. "
        "Training sequences hold the symbol at any delay; test sequences at least `gap` steps "
        "before the question.",
        "",
        pipe_table(HEADERS, table_cells(report["rows"])),
        "",
        "accuracy: on the test sequences. grad ratio: mean ||dL/dx_0|| / mean ||dL/dx_T|| over 256 "
        "test sequences: how much of the gradient reaches the step that holds the answer, compared "
        "with the last step.",
        "",
        f"**Verdict:** {report['verdict']['summary']}",
        "",
    ])
