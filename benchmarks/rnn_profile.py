"""Where a recurrent training step's time goes: seqcore's pieces, timed one by one.

For each cell and sequence length (one layer of `--units` over `--features`
inputs, batch `--batch`, as `rnn_throughput.py`), times, interleaved over
`--rounds` rounds, each piece of one training step as seqcore runs it in
training (the step loops XLA-compiled, the large matmuls in plain
TensorFlow):

- `input_matmuls`: the input projection of all steps (one matmul) and its two
  gradient matmuls (inputs and kernel);
- `forward_loop`: the forward step loop (`seqcore.recurrent_loops`);
- `backward_loop`: the backward step loop;
- `recurrent_kernel_grad`: the recurrent kernel's gradient, one matmul over
  all steps;
- `step_matmul_floor`: a step loop that does nothing but the two recurrent
  matmuls of a step (`h @ R` forward, `dz @ R^T` backward): the least any step loop
  on this CPU can cost, so `loops / floor` is the loops' overhead (gate
  arithmetic, state copies, loop control);
- `train_step`: one whole `fit` step of the seqcore backbone with a Dense
  head (what `rnn_throughput.py` times), so `train_step - sum of pieces` is
  the optimizer, the head and Keras;
- `torch_forward_backward`: PyTorch's fused `nn.LSTM` / `nn.GRU` / `nn.RNN`
  forward and backward on the same shape (when installed).

Prints one JSON object: milliseconds per batch (median, min, max) per piece,
each loop's achieved GFLOP/s and the share of the train step it takes.

Run:

    python benchmarks/rnn_profile.py --cells lstm,gru --steps 100,400
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import report  # noqa: E402

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _pieces(cell, steps, args):
    """`name -> callable` for every piece of one training step, warmed up."""
    import keras
    import numpy as np
    import tensorflow as tf

    from seqcore import recurrent_loops as loops

    rng = np.random.default_rng(0)
    batch, features, units, gates = args.batch, args.features, args.units, GATES[cell]

    def const(*shape, scale=0.1):
        return tf.constant(rng.normal(size=shape).astype("float32") * scale)

    x, kernel = const(steps, batch, features, scale=1.0), const(features, gates * units)
    recurrent = const(units, gates * units)
    h0 = tf.zeros((batch, units))
    xp, dz = const(steps, batch, gates * units, scale=1.0), const(steps, batch, gates * units)
    dhs = const(steps, batch, units)
    jit = lambda fn: tf.function(fn, jit_compile=True)  # noqa: E731

    if cell == "lstm":
        forward = jit(lambda: loops._lstm_forward(xp, h0, h0, recurrent, None))
        hs, cs, saved = forward()
        backward = jit(lambda: loops._lstm_backward(dhs, h0, hs, cs, h0, saved, recurrent, None))
    elif cell == "gru":
        bias = tf.zeros((gates * units,))
        forward = jit(lambda: loops._gru_forward(xp, h0, recurrent, bias, None))
        hs, saved = forward()
        backward = jit(lambda: loops._gru_backward(dhs, hs, h0, saved, recurrent, None))
    else:
        forward = jit(lambda: loops._simple_forward(xp, h0, recurrent, None))
        hs = forward()
        backward = jit(lambda: loops._simple_backward(dhs, hs, recurrent, None))

    def floor_loop():
        recurrent_t = tf.transpose(recurrent)

        def body(t, h, g):
            return t + 1, tf.matmul(h, recurrent)[:, :units], tf.matmul(dz[t], recurrent_t) + g

        return tf.while_loop(lambda t, *_: t < steps, body, (0, h0, h0))[1:]

    plain = tf.function  # the large matmuls run outside XLA in training (oneDNN)
    pieces = {
        "input_matmuls": plain(lambda: (
            tf.matmul(tf.reshape(x, (-1, features)), kernel),
            loops._flat_matmul(x, dz),
            tf.matmul(tf.reshape(dz, (-1, gates * units)), kernel, transpose_b=True),
        )),
        "forward_loop": forward,
        "backward_loop": backward,
        "recurrent_kernel_grad": plain(lambda: loops._flat_matmul(hs, dz)),
        "step_matmul_floor": jit(floor_loop),
    }

    from seqcore.backbone import RecurrentBackbone

    keras.utils.set_random_seed(0)
    backbone = RecurrentBackbone(cell=cell, units=units, num_features=features, mask_value=None)
    inputs = keras.Input((None, features))
    model = keras.Model(inputs, keras.layers.Dense(1)(backbone(inputs)["pooled_output"]))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    data = tf.data.Dataset.from_tensors(
        (tf.transpose(x, (1, 0, 2)), tf.constant(rng.normal(size=(batch, 1)).astype("float32")))
    ).repeat()
    # One `fit` call of `repeats` steps, so its per-call overhead is shared as in real training.
    train_steps = lambda: model.fit(data, epochs=1, steps_per_epoch=args.repeats, verbose=0)  # noqa: E731

    torch_step = _torch_step(cell, steps, args)
    if torch_step is not None:
        pieces["torch_forward_backward"] = torch_step
    for piece in [*pieces.values(), train_steps]:
        piece()
        piece()
    return {name: _synced(piece, args.repeats) for name, piece in pieces.items()} | {"train_step": train_steps}


def _synced(piece, repeats):
    """Runs `piece` `repeats` times and waits for its results."""
    import tensorflow as tf

    def run():
        for _ in range(repeats):
            result = piece()
        for value in tf.nest.flatten(result):
            if hasattr(value, "numpy"):
                value.numpy()

    return run


def _torch_step(cell, steps, args):
    try:
        import torch
    except ImportError:
        return None
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](args.features, args.units)
    x = torch.randn(steps, args.batch, args.features)

    def step():
        layer.zero_grad()
        outputs, _ = layer(x)
        outputs[-1].sum().backward()

    return step


def profile(cell, steps, args, peak):
    pieces = _pieces(cell, steps, args)
    seconds = report.interleaved(pieces, args.rounds)
    milliseconds = {name: report.summary([1000 * s / args.repeats for s in values], 3)
                    for name, values in seconds.items()}
    step = milliseconds["train_step"]["median"]
    # The loops (and the floor) hold two recurrent matmuls per step: h @ R and dz @ R^T.
    recurrent_flops = 2 * 2 * args.batch * steps * args.units * GATES[cell] * args.units
    loops_ms = milliseconds["forward_loop"]["median"] + milliseconds["backward_loop"]["median"]
    seqcore_pieces = ("input_matmuls", "forward_loop", "backward_loop", "recurrent_kernel_grad")
    accounted = sum(milliseconds[name]["median"] for name in seqcore_pieces)
    return {
        "cell": cell,
        "steps": steps,
        "ms_per_batch": milliseconds,
        "share_of_train_step": {name: round(milliseconds[name]["median"] / step, 3) for name in seqcore_pieces}
        | {"rest (optimizer, head, Keras)": round(max(step - accounted, 0.0) / step, 3)},
        "loops_over_matmul_floor": round(loops_ms / milliseconds["step_matmul_floor"]["median"], 2),
        "recurrent_matmul_gflops_in_loops": round(recurrent_flops / loops_ms / 1e6, 1),
        "recurrent_matmul_gflops_floor": round(recurrent_flops / milliseconds["step_matmul_floor"]["median"] / 1e6, 1),
        "peak_gflops": peak,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--steps", default="100,400")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10,
                        help="Calls of each piece per round (training steps per `fit` call).")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="TensorFlow and PyTorch threads.")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    size = 2048
    a = tf.random.normal((size, size))
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)))
    matmul()
    peak = report.summary([2 * size**3 / s / 1e9 for s in report.interleaved({"mm": matmul}, 5)["mm"]], 1)
    cases = [profile(cell, int(steps), args, peak["median"])
             for cell in args.cells.split(",") for steps in args.steps.split(",")]
    print(json.dumps({"benchmark": "rnn_profile", **report.environment(), "matmul_peak_gflops": peak,
                      "batch": args.batch, "features": args.features, "units": args.units, "cases": cases,
                      "command": "python " + " ".join(sys.argv)}, indent=2))


if __name__ == "__main__":
    main()
