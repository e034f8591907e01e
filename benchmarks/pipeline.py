"""Input pipeline vs training: examples/s of each app's training dataset alone and of training on it.

For each task (sentiment, forecast, textgen, speech), runs the app's own
`train` on its built-in data (or `--data TASK=SOURCE`) up to the point
where it hands the training dataset and the model builder to the shared
training routine, and stops there (nothing is written). Then, interleaved
over `--rounds` rounds:

- `pipeline`: iterating `--batches` batches of the training dataset alone;
- `training`: `model.fit` on `--batches` batches of the same dataset (the
  task's default model and compile settings, one epoch, no callbacks).

Reports examples per second (median, min, max) and the per-round ratio
pipeline / training: above 1 the pipeline keeps ahead of training (with
`prefetch` it runs in parallel with the steps), so it is never the
bottleneck. Prints one JSON object; appends a row per task to the "Input
pipeline vs training" table of benchmarks/README.md unless `--no-readme`.

Run:

    python benchmarks/pipeline.py
    python benchmarks/pipeline.py --tasks sentiment,textgen --data speech=../shared/data/fsdd/recordings
"""

import argparse
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

TASKS = ("sentiment", "forecast", "textgen", "speech")
SECTION = "Input pipeline vs training"
INTRO = """`python benchmarks/pipeline.py` takes each app's own training dataset and model
(built-in data, default settings) and times, interleaved, iterating the dataset
alone against `model.fit` on the same batches; examples/s as median (min-max),
ratio = pipeline / training per round (above 1: the pipeline is not the
bottleneck)."""
HEADER = (
    report.PREFIX_HEADER
    + " task | data | batch | pipeline ex/s | training ex/s | pipeline / training |\n" + "|---" * 10 + "|"
)


class _Captured(Exception):
    def __init__(self, build_model, train_data):
        super().__init__("captured")
        self.build_model, self.train_data = build_model, train_data


def capture(task, data, work):
    """The training dataset and model builder that `apps.<task>.commands.train` would use."""
    import seqcore.training

    commands = importlib.import_module(f"apps.{task}.commands")
    config = commands.resolve_config(**({"data": data} if data else {}))
    original = seqcore.training.run_training

    def stop(run, config, build_model, train_data, validation_data, **kwargs):
        raise _Captured(build_model, train_data)

    seqcore.training.run_training = stop
    try:
        commands.train(config, out=str(work / task), overwrite=True, verbose=0)
    except _Captured as captured:
        return config, captured.build_model, captured.train_data
    finally:
        seqcore.training.run_training = original
    raise RuntimeError(f"{task}: train finished without reaching run_training")


def _batch_size(batch):
    import tensorflow as tf

    first = tf.nest.flatten(batch)[0]
    return int(first.shape[0])


def measure(task, data, args, work):
    config, build_model, train_data = capture(task, data, work)
    batches = args.batches
    sample = list(train_data.take(batches + 2))
    sizes = [_batch_size(batch) for batch in sample]
    examples = sum(sizes[:batches])
    model = build_model()
    model.compile()
    model.fit(train_data.take(2), epochs=1, verbose=0)  # trace and build

    def pipeline():
        for _ in train_data.take(batches):
            pass

    def training():
        model.fit(train_data.take(batches), epochs=1, verbose=0)

    pipeline()
    seconds = report.interleaved({"pipeline": pipeline, "training": training}, args.rounds)
    rates = {name: report.summary([examples / s for s in values], 1) for name, values in seconds.items()}
    return {
        "data": config.get("data", {}).get("source") if isinstance(config.get("data"), dict) else data,
        "batch_size": sizes[0],
        "batches": batches,
        "examples_per_second": rates,
        "pipeline_over_training": report.ratio(seconds["training"], seconds["pipeline"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--data", action="append", default=[], help="TASK=SOURCE (repeatable).")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sources = dict(item.split("=", 1) for item in args.data)

    env = report.environment()
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    results = {}
    for task in args.tasks.split(","):
        results[task] = measure(task, sources.get(task), args, work)
    print(json.dumps({"benchmark": "pipeline", **env, "tasks": results,
                      "command": "python " + " ".join(sys.argv)}, indent=2))
    if not args.no_readme:
        for task, result in results.items():
            rates, ratio = result["examples_per_second"], result["pipeline_over_training"]
            row = (f"{report.row_prefix(env)} {task} | {result['data']} | {result['batch_size']} "
                   f"| {rates['pipeline']['median']:,.0f} ({rates['pipeline']['min']:,.0f}-{rates['pipeline']['max']:,.0f}) "
                   f"| {rates['training']['median']:,.0f} ({rates['training']['min']:,.0f}-{rates['training']['max']:,.0f}) "
                   f"| {ratio['median']:.1f}x ({ratio['min']:.1f}-{ratio['max']:.1f}) |")
            report.append_row(SECTION, INTRO, HEADER, row)


if __name__ == "__main__":
    main()
