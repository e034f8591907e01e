"""Quality bar of the forecast app: the default model against the naive baselines.

Trains `seqcore forecast train` with its defaults on the built-in elecdemand
series (half-hourly Victorian electricity demand, 2014; lookback 336 steps =
one week, horizon 48 steps = one day; chronological 70 / 15 / 15 split) and
prints one JSON object: every metric of the model, the last-value naive and
the seasonal naive forecasts on the same test windows, the model's MAE skill
over seasonal naive, wall-clock training time and the machine. Extra
arguments are passed to `train`, e.g.

    python benchmarks/forecast_quality.py
    python benchmarks/forecast_quality.py --backbone gru --epochs 4

Bar (issue 3): MAE at least 20 % below seasonal naive on the test part,
trained in under 10 minutes on 2 CPU cores.
"""

import json
import os
import platform
import sys
import tempfile
import time

from click.testing import CliRunner


def _rounded(metrics):
    return {k: (None if v is None else round(v, 4)) for k, v in metrics.items()}


def main(argv):
    from seqcore.cli.group import quiet_tensorflow

    quiet_tensorflow()
    from apps.forecast.cli import cli
    from seqcore.runs import read_json

    with tempfile.TemporaryDirectory() as folder:
        run = os.path.join(folder, "run")
        started = time.time()
        result = CliRunner().invoke(cli, ["train", "--out", run, *argv], catch_exceptions=False)
        wall = time.time() - started
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            return result.exit_code
        metrics = read_json(os.path.join(run, "metrics.json"))
        config = read_json(os.path.join(run, "config.json"))
    test = metrics["test"]
    seasonal_mae = test["seasonal_naive"]["mae"]
    skill_vs_seasonal = 1 - test["model"]["mae"] / seasonal_mae
    report = {
        "benchmark": "forecast_quality",
        "arguments": argv,
        "data": config["source"],
        "window": config["window"],
        "test_windows": test["windows"],
        "test": {name: _rounded(test[name]) for name in ("model", "naive", "seasonal_naive")},
        "coverage_nominal": test["coverage_nominal"],
        "mae_skill_vs_seasonal_naive": round(skill_vs_seasonal, 4),
        "mae_skill_vs_better_baseline": round(test["skill"]["mae"], 4),
        "validation_model_mae": round(metrics["validation"]["model"]["mae"], 4),
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "bar": {"mae_skill_vs_seasonal_naive": 0.20, "max_seconds": 600},
        "passed": skill_vs_seasonal >= 0.20 and wall < 600,
        "backbone": config["backbone"],
        "head": config["head"],
        "training": config["training"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": config["environment"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
