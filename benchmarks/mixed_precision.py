"""Training speed of a recurrent classifier in float32 vs mixed float16 / bfloat16 on this machine.

Trains the same `SequenceClassifier` (an LSTM `RecurrentBackbone` over
token ids) with the backbone's dtype policy set as `--mixed-precision`
sets it, interleaved in one process: every round trains each policy (in
a shuffled order) for `--batches` batches of random tokens. Prints one
JSON object: sequences per second per policy (median, min, max over the
rounds) and each mixed policy's speed relative to float32 (median of the
per-round ratios, so a load change on a shared machine moves both sides).

    python benchmarks/mixed_precision.py --rounds 3 --batches 20
"""

import argparse
import json
import os
import random
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqcore.backbone import RecurrentBackbone  # noqa: E402
from seqcore.classifier import SequenceClassifier  # noqa: E402
from seqcore.training import _compile  # noqa: E402

POLICIES = (None, "mixed_float16", "mixed_bfloat16")


def build(policy, units, vocabulary):
    backbone = RecurrentBackbone(cell="lstm", units=units, vocabulary_size=vocabulary, dtype=policy)
    model = SequenceClassifier(backbone, ["a", "b"])
    _compile(model, {"backbone": {"dtype": policy}})
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--units", type=int, default=64)
    args = parser.parse_args()
    vocabulary = 5000
    rng = np.random.default_rng(0)
    tokens = rng.integers(2, vocabulary, size=(args.batch_size * args.batches, args.steps)).astype("int32")
    labels = rng.integers(0, 2, size=len(tokens)).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((tokens, labels)).batch(args.batch_size).cache()
    models = {policy or "float32": build(policy, args.units, vocabulary) for policy in POLICIES}
    for model in models.values():  # trace and warm up
        model.fit(data.take(2), epochs=1, verbose=0)
    speeds = {name: [] for name in models}
    for _ in range(args.rounds):
        order = list(models)
        random.shuffle(order)
        for name in order:
            started = time.perf_counter()
            models[name].fit(data, epochs=1, verbose=0)
            speeds[name].append(len(tokens) / (time.perf_counter() - started))
    result = {
        "machine": {"cpus": os.cpu_count(), "gpus": len(tf.config.list_physical_devices("GPU")),
                    "load_average": os.getloadavg()[0]},
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "settings": vars(args),
        "sequences_per_second": {
            name: {"median": round(statistics.median(v), 1), "min": round(min(v), 1), "max": round(max(v), 1)}
            for name, v in speeds.items()
        },
        "speed_vs_float32": {
            name: round(statistics.median(a / b for a, b in zip(speeds[name], speeds["float32"])), 3)
            for name in speeds if name != "float32"
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
