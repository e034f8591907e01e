"""Quality bar of the sentiment app: test accuracy of the default configuration.

Trains `seqcore sentiment train` with its defaults on the built-in IMDB split
(20,000 train / 2,500 validation / 2,500 test reviews) and prints one JSON
object: test accuracy, F1, wall-clock training time and the machine. Extra
arguments are passed to `train` to compare other settings, e.g.

    python benchmarks/sentiment_quality.py
    python benchmarks/sentiment_quality.py --backbone bigru --epochs 2

Bar (issue 2): test accuracy >= 0.85 in under 15 minutes on 2 CPU cores.
"""

import json
import os
import platform
import sys
import tempfile
import time

from click.testing import CliRunner


def main(argv):
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
    test = metrics["test"]
    report = {
        "benchmark": "sentiment_quality",
        "arguments": argv,
        "test_accuracy": round(test["accuracy"], 4),
        "test_f1": round(test["f1"], 4),
        "test_examples": test["examples"],
        "validation_accuracy": round(metrics["validation"]["accuracy"], 4),
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "bar": {"test_accuracy": 0.85, "max_seconds": 900},
        "passed": test["accuracy"] >= 0.85 and wall < 900,
        "backbone": config["backbone"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": config["environment"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
