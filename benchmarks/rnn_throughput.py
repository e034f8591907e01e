"""Training throughput of rnn / lstm / gru: seqcore against plain Keras and PyTorch.

For each cell and sequence length, trains the same network (one recurrent
layer of `--units` over `--features` inputs, the last output into a
one-unit Dense head, MSE loss, Adam) with each contender:

- `seqcore`: a `RecurrentBackbone` (no input masking, "last" pooling) and
  the head, trained with Keras `fit` as the apps train it: with whichever of
  seqcore's and Keras' step loops `seqcore.loop_tuning` measures faster
  here (measured afresh, not cached; the JSON names the loop and both
  timings);
- `seqcore_layer`: the seqcore layer alone (`seqcore.fast_rnn.LSTM`, ...),
  in the same model as `keras`;
- `seqcore_no_xla`: as `seqcore_layer`, its step loops not XLA-compiled;
- `keras`: the plain `keras.layers.SimpleRNN` / `LSTM` / `GRU`, with `fit`;
- `torch`: `torch.nn.RNN` / `LSTM` / `GRU` with `torch.optim.Adam`, at its
  best CPU settings (`torch.set_flush_denormal(True)`, as many threads as
  TensorFlow: `--threads`, one per core by default). Skipped, with a note, when PyTorch is not installed
  (`pip install -e ".[bench]"`).

The contenders run in one process, interleaved: every round trains each of
them (in a shuffled order, after `--pause` idle seconds, so that no thread
of the previous turn still spins) for `--batches` batches of random data. Reported
per contender: sequences per second (median, min and max over the rounds),
achieved GFLOP/s (matmul FLOPs of forward + backward: 3 x the forward's
2 * batch * steps * (features + units) * gates * units) and that as a
fraction of this CPU's float32 matmul peak, measured in the same rounds
with `tf.matmul` on 2048 x 2048 matrices. Ratios between contenders are the
median (min, max) of the per-round ratios, so a load change on a shared
machine moves both sides of a ratio together.

Prints one JSON object (with the bars each case meets) and appends one row
per cell and length to the "Training throughput" table of
benchmarks/README.md (machine, versions, date, load average);
`--no-readme` leaves the README alone.

Run:

    python benchmarks/rnn_throughput.py > rnn_throughput.json
    python benchmarks/rnn_throughput.py --cells lstm --steps 100 --rounds 3 --no-readme
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CONTENDERS = ("seqcore", "seqcore_layer", "seqcore_no_xla", "keras", "torch")
DEFAULT_CONTENDERS = ("seqcore", "keras", "torch")
BAR_VS_KERAS, BAR_VS_TORCH = 0.95, 1.25
SECTION = "Training throughput"
INTRO = """`python benchmarks/rnn_throughput.py` trains one recurrent layer (128 units over
64 features, batch 64, unless the row says otherwise) plus a one-unit head with
each contender, interleaved in one process: `seqcore` is the `RecurrentBackbone`
(seqcore.fast_rnn layers), `keras` the plain `keras.layers` layer, both trained
with `fit`; `torch` is `torch.nn` with Adam, `set_flush_denormal(True)` and as many
threads as TensorFlow; 15 rounds of 8 batches each since 2026-12-02 (earlier
rows: 5 of 16). seq/s are medians over the rounds; ratios the median
(min-max) of per-round ratios; "of peak" the achieved matmul GFLOP/s over the
`tf.matmul` 2048^3 float32 peak measured in the same rounds. Bars: seqcore /
keras >= 0.95 and seqcore / torch >= 1.25 for LSTM and GRU. Load is the 1-minute
load average when the run started (these machines are shared: read ratios, not
absolute figures). "seqcore loop" is the training loop `seqcore.loop_tuning`
measured faster for the seqcore contender (ms per step, seqcore's vs Keras');
rows without the column's figures predate the measurement and ran seqcore's loop."""
HEADER = (
    report.PREFIX_HEADER
    + " threads | cell | steps | seqcore seq/s | keras seq/s | torch seq/s | seqcore / keras "
    "| seqcore / torch | keras / torch | seqcore GFLOP/s (of peak) | peak GFLOP/s | seqcore loop |\n"
    + "|---" * 16 + "|"
)


def training_flops(cell, batch, steps, features, units):
    """Matmul FLOPs of one training step: the forward's, three times (forward, two backward products).

    Example:

    >>> training_flops("rnn", batch=1, steps=1, features=1, units=1)
    12
    """
    return 3 * 2 * batch * steps * (features + units) * GATES[cell] * units


def _keras_model(layer_class, args):
    import keras

    model = keras.Sequential(
        [keras.Input((None, args.features)), layer_class(args.units), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def _backbone_model(cell, args):
    import keras

    from seqcore.backbone import RecurrentBackbone

    backbone = RecurrentBackbone(cell=cell, units=args.units, num_features=args.features, mask_value=None)
    inputs = keras.Input((None, args.features))
    model = keras.Model(inputs, keras.layers.Dense(1)(backbone(inputs)["pooled_output"]))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def _keras_trainer(model, x, y, args):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch).repeat().prefetch(1)

    def train():
        model.fit(dataset, epochs=1, steps_per_epoch=args.batches, shuffle=False, verbose=0)

    return train


def _torch_trainer(cell, x, y, args):
    import torch

    torch.manual_seed(0)
    layer_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.recurrent = layer_class(args.features, args.units, batch_first=True)
            self.head = torch.nn.Linear(args.units, 1)

        def forward(self, inputs):
            outputs, _ = self.recurrent(inputs)
            return self.head(outputs[:, -1])

    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def train():
        for index in range(args.batches):
            rows = slice((index * args.batch) % len(x), (index * args.batch) % len(x) + args.batch)
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x[rows]), y[rows])
            loss.backward()
            optimizer.step()

    return train


def _contender(name, cell, x, y, args):
    """`(train, loop)`: a function that trains `args.batches` batches with contender `name`
    (built and warmed up), and for `seqcore` the training loop it measured faster (else None)."""
    import keras

    from seqcore import fast_rnn, loop_tuning, recurrent_loops

    keras.utils.set_random_seed(0)
    loop = None
    plain = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    fast = {"rnn": fast_rnn.SimpleRNN, "lstm": fast_rnn.LSTM, "gru": fast_rnn.GRU}[cell]
    if name == "torch":
        train = _torch_trainer(cell, x, y, args)
    else:
        model = {
            "seqcore": lambda: _backbone_model(cell, args),
            "seqcore_layer": lambda: _keras_model(fast, args),
            "seqcore_no_xla": lambda: _keras_model(fast, args),
            "keras": lambda: _keras_model(plain, args),
        }[name]()
        if name == "seqcore":
            loop = loop_tuning.tune_training_loops(model, (x[: args.batch], y[: args.batch]), log=None,
                                                   use_cache=False)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")  # a fresh optimizer
        train = _keras_trainer(model, x, y, args)
    # The first call traces (and compiles); the step loops' XLA setting is read then.
    recurrent_loops.JIT_COMPILE = name != "seqcore_no_xla"
    try:
        train()
    finally:
        recurrent_loops.JIT_COMPILE = True
    return train, loop


def _matmul_peak():
    import tensorflow as tf

    size = 2048
    a = tf.random.normal((size, size))
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)))
    matmul()

    def measure(repeats=3):
        started = time.perf_counter()
        for _ in range(repeats):
            matmul().numpy()
        return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9

    return measure


def _ratios(seconds, a, b):
    """Per-round throughput ratio a / b (= time b / time a), or None without both."""
    if a not in seconds or b not in seconds:
        return None
    return report.ratio(seconds[b], seconds[a])


def run_case(cell, steps, contenders, args, peak):
    import numpy as np

    rng = np.random.default_rng(0)
    rows = args.batch * args.batches
    x = rng.normal(size=(rows, steps, args.features)).astype("float32")
    y = rng.normal(size=(rows, 1)).astype("float32")
    trainers, loops = {}, {}
    for name in contenders:
        trainers[name], loops[name] = _contender(name, cell, x, y, args)
    seconds = {name: [] for name in trainers}
    peaks = []
    order = list(trainers)
    cpu_seconds = {name: [] for name in trainers}
    for _ in range(args.rounds):
        random.shuffle(order)
        for name in order:
            # Let the previous contender's worker threads (OpenMP spins for a while) go idle.
            time.sleep(args.pause)
            started, cpu_started = time.perf_counter(), time.process_time()
            trainers[name]()
            seconds[name].append(time.perf_counter() - started)
            cpu_seconds[name].append(time.process_time() - cpu_started)
        peaks.append(peak())
    flops = training_flops(cell, args.batch, steps, args.features, args.units)
    peak_median = statistics.median(peaks)
    result = {"cell": cell, "steps": steps, "flops_per_batch": flops, "peak_gflops": report.summary(peaks, 1), "contenders": {}}
    if loops.get("seqcore"):
        result["seqcore_training_loop"] = loops["seqcore"]
    for name, times in seconds.items():
        per_second = [args.batch * args.batches / t for t in times]
        gflops = statistics.median(per_second) / args.batch * flops / 1e9
        result["contenders"][name] = {
            "sequences_per_second": report.summary(per_second, 1),
            "sequences_per_cpu_second": statistics.median(args.batch * args.batches / t for t in cpu_seconds[name]),
            "gflops": gflops,
            "fraction_of_peak": gflops / peak_median,
        }
    pairs = [
        ("seqcore", "keras"), ("seqcore", "torch"), ("keras", "torch"),
        ("seqcore_layer", "keras"), ("seqcore_layer", "torch"), ("seqcore_no_xla", "keras"),
    ]
    result["ratios"] = {f"{a} / {b}": r for a, b in pairs if (r := _ratios(seconds, a, b)) is not None}
    result["cpu_time_ratios"] = {f"{a} / {b}": r for a, b in pairs if (r := _ratios(cpu_seconds, a, b)) is not None}
    return result


def _number(value):
    return "-" if value is None else f"{value:,.0f}"


def _ratio_cell(ratio):
    return "-" if ratio is None else f"{ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"


def _loop_cell(choice):
    if not choice:
        return "-"
    ms = choice["ms_per_step"]
    return f"{choice['loop']} ({ms['seqcore']:.0f} vs {ms['keras']:.0f} ms)" if ms else choice["loop"]


def readme_rows(result):
    """The README table rows of a result, one per cell and length."""
    env = {**result["environment"], "versions": {**result["environment"]["versions"], "torch": result["torch"]}}
    rows = []
    for case in result["cases"]:
        contenders, ratios = case["contenders"], case["ratios"]

        def speed(name):
            return contenders[name]["sequences_per_second"]["median"] if name in contenders else None

        seqcore = contenders.get("seqcore")
        of_peak = "-" if seqcore is None else f"{seqcore['gflops']:.0f} ({seqcore['fraction_of_peak']:.0%})"
        rows.append(
            f"{report.row_prefix(env)} {result['settings']['threads']} | {case['cell']} | {case['steps']} "
            f"| {_number(speed('seqcore'))} | {_number(speed('keras'))} | {_number(speed('torch'))} "
            f"| {_ratio_cell(ratios.get('seqcore / keras'))} | {_ratio_cell(ratios.get('seqcore / torch'))} "
            f"| {_ratio_cell(ratios.get('keras / torch'))} | {of_peak} | {case['peak_gflops']['median']:.0f} "
            f"| {_loop_cell(case.get('seqcore_training_loop'))} |"
        )
    return rows


def bars(result):
    """Which bars each case meets (median per-round ratios)."""
    checks = {}
    for case in result["cases"]:
        ratios = case["ratios"]
        key = f"{case['cell']} T={case['steps']}"
        if "seqcore / keras" in ratios:
            checks[f"{key} seqcore / keras >= {BAR_VS_KERAS}"] = ratios["seqcore / keras"]["median"] >= BAR_VS_KERAS
        if "seqcore / torch" in ratios and case["cell"] in ("lstm", "gru"):
            checks[f"{key} seqcore / torch >= {BAR_VS_TORCH}"] = ratios["seqcore / torch"]["median"] >= BAR_VS_TORCH
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--steps", default="100,400", help="Comma-separated sequence lengths.")
    parser.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS),
                        help=f"Comma-separated, from: {', '.join(CONTENDERS)}.")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--units", type=int, default=128)
    # Many short rounds: on a shared machine, speed changes within seconds,
    # and the median of per-round ratios needs many rounds to settle.
    parser.add_argument("--batches", type=int, default=8, help="Training batches per contender per round.")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--pause", type=float, default=1.0,
                        help="Seconds of idle before each contender's turn (lets busy-waiting threads sleep).")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="Threads for TensorFlow (intra- and inter-op) and PyTorch; default: one per core.")
    parser.add_argument("--no-readme", action="store_true", help="Do not append to benchmarks/README.md.")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    contenders = [name.strip() for name in args.contenders.split(",") if name.strip()]
    unknown = sorted(set(contenders) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contenders {unknown}; expected some of: {', '.join(CONTENDERS)}")
    notes = []
    torch_version = None
    if "torch" in contenders:
        try:
            import torch
        except ImportError:
            contenders.remove("torch")
            notes.append('PyTorch is not installed, torch skipped (pip install -e ".[bench]")')
        else:
            torch.set_flush_denormal(True)
            torch.set_num_threads(args.threads)
            torch_version = torch.__version__

    env = report.environment()
    peak = _matmul_peak()
    cases = [
        run_case(cell.strip(), int(steps), contenders, args, peak)
        for cell in args.cells.split(",")
        for steps in args.steps.split(",")
    ]
    result = {
        "benchmark": "rnn_throughput",
        "environment": env,
        "torch": torch_version,
        "settings": {k: getattr(args, k) for k in ("batch", "features", "units", "batches", "rounds", "threads")},
        "notes": notes,
        "cases": cases,
    }
    result["bars"] = bars(result)
    print(json.dumps(result, indent=2))
    if not args.no_readme:
        for row in readme_rows(result):
            report.append_row(SECTION, INTRO, HEADER, row)


if __name__ == "__main__":
    main()
