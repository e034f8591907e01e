"""Bar of the long-range experiment: gaps 10 and 100, rnn / lstm / gru, under 10 minutes.

Runs `seqcore compare longrange --gaps 10,100` (extra arguments are passed
on, e.g. `--repeats 2` or `--epochs 30`) and prints one JSON object: per
cell and gap the test accuracy and the gradient ratio ||dL/dx_0|| /
||dL/dx_T|| at initialisation and after training, the verdict read from the
numbers (does the simple RNN collapse while LSTM and GRU hold?), and the
total wall time.

    python benchmarks/longrange.py
    python benchmarks/longrange.py --out compare/longrange   # keep the table and figures

Bar (issue 6): gaps 10 and 100 on 2 CPU cores in under 10 minutes.
"""

import json
import os
import platform
import resource
import sys
import tempfile
import time

from click.testing import CliRunner


def main(argv):
    from seqcore.cli.main import cli

    keep = "--out" in argv
    with tempfile.TemporaryDirectory() as folder:
        out = argv[argv.index("--out") + 1] if keep else os.path.join(folder, "longrange")
        args = ["compare", "longrange", "--gaps", "10,100", "--cells", "rnn,lstm,gru",
                *([] if keep else ["--out", out]), *argv]
        started = time.time()
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        wall = time.time() - started
        print(result.output, file=sys.stderr)  # the command's own table and verdict
        if result.exit_code != 0:
            return result.exit_code
        with open(os.path.join(out, "results.json"), encoding="utf-8") as file:
            results = json.load(file)
    report = {
        "benchmark": "longrange",
        "arguments": args[1:],
        "settings": results["settings"],
        "results": [
            {
                "cell": row["backbone"],
                "gap": row["gap"],
                "accuracy": round(row["accuracy_mean"], 4),
                "chance": round(row["chance"], 4),
                "gradient_ratio_init": float(f"{row['gradient_ratio_init']:.3g}"),
                "gradient_ratio_trained": float(f"{row['gradient_ratio_trained']:.3g}"),
                "train_seconds_per_epoch": row["train_seconds_per_epoch"],
            }
            for row in results["rows"]
        ],
        "verdict": results["verdict"],
        "wall_seconds": round(wall, 1),
        # CPU time of this process: wall time on a machine shared with other
        # work overstates what the experiment costs; this does not.
        "cpu_seconds": round(_cpu_seconds(), 1),
        "bar": {"max_seconds": 600},
        "passed": wall < 600,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    print(json.dumps(report, indent=2))
    return 0


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
