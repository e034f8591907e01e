"""Generation speed: `generate` and the export against re-running the model over the whole text.

Contenders, interleaved in one process over `--rounds` rounds, each
generating `--length` characters after "ROMEO:\\n" (temperature 0.8,
top-p 0.95, seed 1), batch 1:

- `generate`: `seqcore textgen generate`'s function on a run directory
  (prompt read once, then chunks of the XLA-compiled sampling loop);
- `export`: the SavedModel's `serving_default`, loaded with TensorFlow;
- `export_without_xla`: the export's `generate_without_xla` signature (the
  same loop without XLA, for TensorFlow Serving without XLA:CPU);
- `rerun`: the naive way, the full network re-run over the prompt + text
  so far at every step (a compiled call per step), for `--rerun-length`
  characters (it is slow; its rate falls as the text grows).

Reports characters per second (median, min, max over rounds) in wall time
and in this process's CPU time (the machines are shared: CPU time is what
an idle machine would show as wall time, for this single-stream loop),
and the speed-ups over `rerun`. Timings exclude loading and the first
(tracing / compiling) call, which is reported apart.

The model is the run given by `--run`, or an untrained char-level GRU of
`--units` (default 512) on the built-in Shakespeare vocabulary — speed does
not depend on the weights. Prints one JSON object; appends a row to the
"Generation" table of benchmarks/README.md unless `--no-readme`.

Run:

    python benchmarks/textgen_speed.py > textgen_speed.json
    python benchmarks/textgen_speed.py --run runs/textgen --length 1000 --rounds 5
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

PROMPT = "ROMEO:\n"
BAR_CHARS_PER_SECOND = 5000
SECTION = "Generation"
INTRO = """`python benchmarks/textgen_speed.py` generates after "ROMEO:\\n" at batch 1 with
`generate` (run directory), the export's `serving_default`, its
`generate_without_xla` signature, and by re-running the whole network over the
growing text; interleaved rounds, chars/s as median (min-max). CPU chars/s counts
this process's CPU time instead of wall time (the machine is shared; for this
single-stream loop it is what an idle machine shows). Bar: 5,000 chars/s for a
512-unit char GRU."""
HEADER = (
    report.PREFIX_HEADER
    + " model | chars | generate chars/s (CPU) | export chars/s (CPU) | export without XLA (CPU) "
    "| re-run chars/s | generate / re-run | first call s (generate, export) |\n"
    + "|---" * 12 + "|"
)


def _untrained_run(units, work):
    from apps.textgen import commands
    from apps.textgen import corpus as corpus_lib
    from apps.textgen.model import build_language_model
    from seqcore.runs import write_json
    from seqcore.training import environment

    config = commands.resolve_config(units=units)
    vocabulary = corpus_lib.build_vocabulary(corpus_lib.resolve().train, "char", sample_chunks=8)
    model = build_language_model(config, vocabulary)
    run_dir = work / "run"
    run_dir.mkdir()
    model.save(run_dir / "model.keras")
    write_json(run_dir / "config.json", {**config, "environment": environment()})
    return run_dir


def _rerun_contender(model, length):
    """Generates `length` tokens by re-running the whole model at each step."""
    import numpy as np
    import tensorflow as tf

    banned = tf.constant([[True, True] + [False] * (model.vocabulary_size - 2)])

    @tf.function(input_signature=[tf.TensorSpec([1, None], tf.int32), tf.TensorSpec([], tf.int64)])
    def full_step(ids, step):
        logits = model(ids, training=False)[:, -1]
        logits = tf.where(banned, -1e9, logits) / 0.8
        seed = tf.stack([tf.constant(1, tf.int64), step])
        return tf.random.stateless_categorical(logits, 1, seed=seed, dtype=tf.int32)[:, 0]

    prompt_ids = model.preprocessor(tf.constant([PROMPT])).numpy()

    def rerun():
        ids = prompt_ids
        for step in range(length):
            token = full_step(tf.constant(ids), tf.constant(step, tf.int64)).numpy()
            ids = np.concatenate([ids, token[:, None]], axis=1)
        return ids

    return rerun


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="A trained run directory (default: an untrained char GRU).")
    parser.add_argument("--units", type=int, default=512, help="Units of the untrained GRU.")
    parser.add_argument("--length", type=int, default=2000, help="Characters per generation.")
    parser.add_argument("--rerun-length", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from apps.textgen import commands

    env = report.environment()
    work = Path(tempfile.mkdtemp(prefix="textgen-speed-"))
    run_dir = Path(args.run) if args.run else _untrained_run(args.units, work)
    export_dir = commands.export(run_dir, work / "export")
    model = commands.load_run_model(run_dir)
    settings = dict(temperature=0.8, top_p=0.95, seed=1)
    from_run = commands.Generator(run_dir)
    from_export = commands.Generator(export_dir)
    without_xla = commands.Generator(export_dir, signature="generate_without_xla")
    generators = {"generate": from_run, "export": from_export, "export_without_xla": without_xla}
    first_call = {}
    for name, generator in generators.items():
        started = time.perf_counter()
        generator([PROMPT], length=args.length, **settings)
        first_call[name] = round(time.perf_counter() - started, 2)
    texts = {name: generator([PROMPT], length=args.length, **settings)[0]
             for name, generator in generators.items()}

    contenders = {
        name: (lambda g=generator: g([PROMPT], length=args.length, **settings))
        for name, generator in generators.items()
    }
    rerun = _rerun_contender(model, args.rerun_length)
    rerun()
    contenders["rerun"] = rerun
    lengths = {name: args.length for name in generators} | {"rerun": args.rerun_length}

    cpu = {name: [] for name in contenders}

    def with_cpu(name, fn):
        def timed():
            started = time.process_time()
            fn()
            cpu[name].append(time.process_time() - started)

        return timed

    wall = report.interleaved({name: with_cpu(name, fn) for name, fn in contenders.items()}, args.rounds)
    rates = {name: report.summary([lengths[name] / s for s in seconds], 1) for name, seconds in wall.items()}
    cpu_rates = {name: report.summary([lengths[name] / s for s in seconds], 1) for name, seconds in cpu.items()}
    per_char = {name: [s / lengths[name] for s in seconds] for name, seconds in wall.items()}
    result = {
        "benchmark": "generation",
        **env,
        "model": {
            "cell": model.backbone.get_config()["cell"],
            "units": model.backbone.units,
            "vocabulary_size": model.vocabulary_size,
            "trained": args.run is not None,
        },
        "characters": args.length,
        "rerun_characters": args.rerun_length,
        "rounds": args.rounds,
        "chars_per_second": rates,
        "cpu_chars_per_second": cpu_rates,
        "speedup_over_rerun": {
            name: report.ratio(per_char["rerun"], per_char[name]) for name in generators
        },
        "first_call_seconds": first_call,
        "export_equals_generate": texts["export"] == texts["generate"],
        "bar_chars_per_second": BAR_CHARS_PER_SECOND,
        "passes_wall": min(rates["generate"]["median"], rates["export"]["median"]) >= BAR_CHARS_PER_SECOND,
        "passes_cpu": min(cpu_rates["generate"]["median"], cpu_rates["export"]["median"])
        >= BAR_CHARS_PER_SECOND,
        "command": "python " + " ".join(sys.argv),
    }
    print(json.dumps(result, indent=2))
    if not args.no_readme:

        def cell(name):
            return (f"{rates[name]['median']:,.0f} ({rates[name]['min']:,.0f}-{rates[name]['max']:,.0f}) "
                    f"({cpu_rates[name]['median']:,.0f})")

        model_text = f"{result['model']['cell']} {result['model']['units']}" + (
            "" if args.run else " untrained")
        speedup = result["speedup_over_rerun"]["generate"]["median"]
        row = (f"{report.row_prefix(env)} {model_text} | {args.length:,} | {cell('generate')} | "
               f"{cell('export')} | {cell('export_without_xla')} | "
               f"{rates['rerun']['median']:,.1f} ({args.rerun_length} chars) | {speedup:,.0f}x | "
               f"{first_call['generate']}, {first_call['export']} |")
        report.append_row(SECTION, INTRO, HEADER, row)


if __name__ == "__main__":
    main()
