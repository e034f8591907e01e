"""Generation speed: the stateful generator against re-running the model over the whole text.

Measures characters per second for 1,000 generated characters with
(1) the exported SavedModel's `serving_default` (loaded with TensorFlow
alone), (2) `seqcore-textgen generate`'s compiled function on a run
directory, and (3) the naive way: the full network re-run over the whole
prompt + text so far at every step (compiled too). Prints one JSON object
with the ratios. Timings exclude loading and the first (tracing) call.

Run (with a trained run, e.g. the quality benchmark's; without --run an
untrained model of the default size is built on the Shakespeare vocabulary,
which times the same):

    python benchmarks/textgen_speed.py --run runs/textgen-quality > textgen_speed.json
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

LENGTH = 1000
PROMPT = "ROMEO:\n"


def _timed(fn, repeats):
    fn()  # trace / warm up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="A trained run directory (default: an untrained default model).")
    parser.add_argument("--length", type=int, default=LENGTH)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from apps.textgen import commands, corpus as corpus_lib
    from seqcore.runs import write_json

    work = Path(tempfile.mkdtemp(prefix="textgen-speed-"))
    run_dir = args.run
    if run_dir is None:
        from apps.textgen.model import build_language_model
        from seqcore.training import environment

        config = commands.resolve_config()
        vocabulary = corpus_lib.build_vocabulary(corpus_lib.resolve().train, "char", sample_chunks=8)
        model = build_language_model(config, vocabulary)
        run_dir = work / "run"
        run_dir.mkdir()
        model.save(run_dir / "model.keras")
        write_json(run_dir / "config.json", {**config, "environment": environment()})
    export_dir = commands.export(run_dir, work / "export")
    generator = commands.Generator(run_dir)
    model = commands.load_run_model(run_dir)
    settings = dict(length=args.length, temperature=0.8, seed=1)

    from_run = _timed(lambda: generator([PROMPT], **settings), args.repeats)
    exported = commands.Generator(export_dir)
    from_export = _timed(lambda: exported([PROMPT], **settings), args.repeats)

    tokenizer = model.preprocessor
    banned = tf.constant([[True, True] + [False] * (model.vocabulary_size - 2)])

    @tf.function(input_signature=[tf.TensorSpec([1, None], tf.int32), tf.TensorSpec([], tf.int64)])
    def full_step(ids, step):
        logits = model(ids, training=False)[:, -1]
        logits = tf.where(banned, -1e9, logits) / 0.8
        return tf.random.stateless_categorical(logits, 1, seed=tf.stack([tf.constant(1, tf.int64), step]),
                                               dtype=tf.int32)[:, 0]

    prompt_ids = tokenizer(tf.constant([PROMPT])).numpy()

    def naive():
        ids = prompt_ids
        for step in range(args.length):
            token = full_step(tf.constant(ids), tf.constant(step, tf.int64)).numpy()
            ids = np.concatenate([ids, token[:, None]], axis=1)
        return ids

    naive_seconds = _timed(naive, 1)
    result = {
        "benchmark": "textgen_speed",
        "characters": args.length,
        "model": {"backbone": model.backbone.get_config()["cell"], "units": model.backbone.units,
                  "vocabulary_size": model.vocabulary_size, "trained": args.run is not None},
        "export_chars_per_second": round(args.length / from_export, 1),
        "generate_chars_per_second": round(args.length / from_run, 1),
        "full_rerun_chars_per_second": round(args.length / naive_seconds, 1),
        "export_speedup": round(naive_seconds / from_export, 1),
        "generate_speedup": round(naive_seconds / from_run, 1),
        "bar_speedup": 20,
        "passes": min(naive_seconds / from_export, naive_seconds / from_run) >= 20,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "command": "python benchmarks/textgen_speed.py" + (f" --run {args.run}" if args.run else ""),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
