"""Inference: each export's batch-1 latency and batch-256 throughput against in-process calls.

For each `TASK=RUN_DIR` given (sentiment, forecast, speech), exports the
run to a temporary folder, loads it with `tf.saved_model.load` and times,
interleaved over `--rounds` rounds of `--calls` calls each:

- `export`: the SavedModel's `serving_default` (what TensorFlow Serving runs);
- `compiled`: the same serving function (raw inputs -> outputs, string
  preprocessing included) as an in-process `tf.function`;
- `compiled_xla`: the same call with XLA: `tf.function(jit_compile=True)`
  over all of it but the string ops, which XLA cannot compile: the whole
  serving function (forecast), the serving function with its class-name
  lookup outside XLA (speech), the model after tokenizing in a plain
  `tf.function` (sentiment);
- `export_xla`: the SavedModel's `serving_xla` signature, where the export
  has one (forecast and speech: the serving function XLA-compiled, for
  TensorFlow Serving with `--xla_cpu_compilation_enabled=true`);
- `predict`: `model.predict` on the raw inputs (never serve through it).

Batch 1: p50 and p99 milliseconds per call over all rounds; batch 256:
examples per second (median over rounds). The bar: the export's batch-1
p50 within 1.5x of the fastest compiled in-process call; `passes` holds
when `serving_default` or, where there is one, `serving_xla` meets it
(both ratios are reported).

Prints one JSON object; appends a row per task to the "Inference latency"
table of benchmarks/README.md unless `--no-readme`.

Run:

    python benchmarks/inference.py sentiment=runs/sentiment forecast=runs/forecast speech=runs/digits
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

BAR_RATIO = 1.5
SECTION = "Inference latency"
INTRO = """`python benchmarks/inference.py TASK=RUN ...` times each export's `serving_default`
(loaded with `tf.saved_model.load`), the same serving function as an in-process
`tf.function`, the same call with XLA (string preprocessing, which XLA cannot
compile, stays outside it), and `model.predict`, interleaved; batch-1 p50 / p99 in ms,
batch-256 examples/s. Bar: export batch-1 p50 within 1.5x of the fastest
compiled in-process call (`serving_default`, or `serving_xla` where the export has
one: TensorFlow Serving runs it with `--xla_cpu_compilation_enabled=true`)."""
HEADER = (
    report.PREFIX_HEADER
    + " task | export p50 / p99 ms | compiled p50 / p99 ms | XLA p50 ms | predict p50 ms "
    "| export / fastest compiled | serving_xla p50 ms (/ fastest) | export b256 ex/s | compiled b256 ex/s |\n"
    + "|---" * 13 + "|"
)


def task_inputs(task, model, config, batch):
    """Raw inputs of `batch` examples, the serving function, its XLA-compiled form, `predict`'s input."""
    import tensorflow as tf

    if task == "sentiment":
        from apps.sentiment.model import serving_function

        texts = ["A moving, beautifully acted film, though the middle drags a little."] * batch
        # String ops do not compile: tokenize in plain TensorFlow, run the numeric core in XLA.
        core = tf.function(lambda ids: model(ids, training=False), jit_compile=True)
        tokenize = tf.function(model.preprocessor)
        return ({"text": tf.constant(texts)}, serving_function(model), lambda text: core(tokenize(text)),
                np.array(texts, dtype=object))
    if task == "forecast":
        from apps.forecast.model import sample_inputs, serving_function

        # The model's serving inputs: the history, with `future` and `time` where it reads them.
        inputs = sample_inputs(model, config["window"]["lookback"], count=batch)
        raw = {name: tf.constant(value) for name, value in inputs.items()} if isinstance(inputs, dict) else {
            "history": tf.constant(inputs)}
        serve = serving_function(model)
        return raw, serve, tf.function(serve, jit_compile=True), inputs
    if task == "speech":
        from apps.speech.model import sample_audio, serving_function

        pre = model.preprocessor
        audio = np.resize(sample_audio(pre.sample_rate, pre.clip_samples), (batch, pre.clip_samples))
        audio = audio.astype("float32")
        # The export's own serving_xla function: all but the class-name lookup compiles.
        compiled = tf.function(serving_function(model, jit_compile=True))
        return {"audio": tf.constant(audio)}, serving_function(model), compiled, audio
    raise SystemExit(f"Error: unknown task {task!r}; expected sentiment, forecast or speech")


def measure(task, run_dir, args):
    import importlib

    import tensorflow as tf

    commands = importlib.import_module(f"apps.{task}.commands")
    model, config = commands.load_run_model(run_dir), None
    if isinstance(model, tuple):  # forecast returns (model, config)
        model, config = model
    # The forecast app keeps its export in a module of its own; the others in their commands.
    exporter = importlib.import_module("apps.forecast.export") if task == "forecast" else commands
    export_dir = exporter.export(run_dir, Path(tempfile.mkdtemp(prefix=f"{task}-export-")))
    signatures = tf.saved_model.load(str(export_dir)).signatures
    signature = signatures["serving_default"]

    def contenders(batch):
        raw, serve, serve_xla, predict_input = task_inputs(task, model, config, batch)
        compiled = tf.function(serve)
        calls = {
            "export": lambda: signature(**raw),
            "compiled": lambda: compiled(**raw),
            "compiled_xla": lambda: serve_xla(**raw),
            **({"export_xla": lambda: signatures["serving_xla"](**raw)} if "serving_xla" in signatures else {}),
            "predict": lambda: model.predict(predict_input, verbose=0, batch_size=batch),
        }
        for name, call in list(calls.items()):
            try:
                call()
                call()
            except Exception as error:  # noqa: BLE001 - e.g. an op XLA cannot compile
                print(f"{task} {name}: skipped ({type(error).__name__})", file=sys.stderr)
                del calls[name]
        return calls

    def repeat(call, times):
        return lambda: [call() for _ in range(times)]

    single = contenders(1)
    seconds = report.interleaved(
        {name: repeat(call, args.calls if name != "predict" else max(args.calls // 10, 3))
         for name, call in single.items()}, args.rounds)
    # Per-call latencies: time each call of one extra round individually.
    latencies = {name: [] for name in single}
    for _ in range(args.rounds):
        for name, call in single.items():
            for _ in range(args.calls if name != "predict" else max(args.calls // 10, 3)):
                started = time.perf_counter()
                call()
                latencies[name].append(1000 * (time.perf_counter() - started))
    batch_1 = {
        name: {"p50_ms": round(float(np.percentile(values, 50)), 3),
               "p99_ms": round(float(np.percentile(values, 99)), 3)}
        for name, values in latencies.items()
    }
    large = contenders(256)
    large_seconds = report.interleaved({name: call for name, call in large.items() if name != "predict"}
                                       | {"predict": large["predict"]}, args.rounds)
    throughput = {name: report.summary([256 / s for s in values], 1) for name, values in large_seconds.items()}
    fastest = min(batch_1[name]["p50_ms"] for name in ("compiled", "compiled_xla") if name in batch_1)
    ratios = {name: round(batch_1[name]["p50_ms"] / fastest, 2) for name in ("export", "export_xla") if name in batch_1}
    del seconds
    return {
        "batch_1": batch_1,
        "batch_256_examples_per_second": throughput,
        "export_over_fastest_compiled": ratios["export"],
        "export_xla_over_fastest_compiled": ratios.get("export_xla"),
        "passes": min(ratios.values()) <= BAR_RATIO,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="TASK=RUN_DIR, e.g. sentiment=runs/sentiment")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50, help="Batch-1 calls per contender per round.")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    env = report.environment()
    results = {}
    for item in args.runs:
        task, _, run_dir = item.partition("=")
        if not run_dir:
            sys.exit(f"Error: expected TASK=RUN_DIR; received: {item!r}")
        results[task] = measure(task, run_dir, args)
    print(json.dumps({"benchmark": "inference", **env, "tasks": results,
                      "command": "python " + " ".join(sys.argv)}, indent=2))
    if not args.no_readme:
        for task, result in results.items():
            b1, b256 = result["batch_1"], result["batch_256_examples_per_second"]

            def p50(name):
                return f"{b1[name]['p50_ms']:.2f}" if name in b1 else "-"

            xla_ratio = (f" ({result['export_xla_over_fastest_compiled']:.2f}x)"
                         if result["export_xla_over_fastest_compiled"] else "")
            row = (f"{report.row_prefix(env)} {task} | {b1['export']['p50_ms']:.2f} / {b1['export']['p99_ms']:.2f} "
                   f"| {b1['compiled']['p50_ms']:.2f} / {b1['compiled']['p99_ms']:.2f} | {p50('compiled_xla')} "
                   f"| {p50('predict')} | {result['export_over_fastest_compiled']:.2f}x "
                   f"| {p50('export_xla')}{xla_ratio} "
                   f"| {b256['export']['median']:,.0f} | {b256['compiled']['median']:,.0f} |")
            report.append_row(SECTION, INTRO, HEADER, row)


if __name__ == "__main__":
    main()
