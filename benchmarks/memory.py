"""Peak memory: textgen training on a 1 GB corpus, and sentiment `predict` over a large file.

1. Writes a `--corpus-gb` (default 1) GB corpus to a temporary folder: the
   built-in Shakespeare plays' lines, shuffled and repeated (never kept).
   Runs `seqcore textgen train` on it in a subprocess for a bounded time
   (`--train-minutes`, default 2: token counting over the whole file,
   vocabulary, then training steps) and reports its peak RSS.
2. Trains a tiny sentiment model (`--limit 2000`, 1 epoch), exports it,
   writes `--lines` (default 1,000,000) review lines and runs `seqcore
   sentiment predict --file` over them, from the run and from the export,
   and over a 10,000-line file: streamed, the peak RSS does not grow with
   the file.

Peak RSS is the child's own `ru_maxrss` (`os.wait4`). Prints one JSON
object; appends a row to the "Memory" table of benchmarks/README.md unless
`--no-readme`. Bar: textgen on 1 GB under 2 GB peak RSS.

Run:

    python benchmarks/memory.py > memory.json
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

BAR_BYTES = 2 * 1024**3
SECTION = "Memory"
INTRO = """`python benchmarks/memory.py` reports the peak RSS (the child process's
`ru_maxrss`) of `seqcore textgen train` on a generated 1 GB corpus (time-limited:
counting the whole file, vocabulary, training steps) and of `seqcore sentiment
predict --file` over 1,000,000 lines (from a run and from its export) against a
10,000-line file. Bar: textgen on 1 GB under 2 GB."""
HEADER = (
    report.PREFIX_HEADER
    + " corpus | textgen train peak RSS (wall s) | training limit | predict 10k lines (run) | predict 1M lines (run) "
    "| predict 1M lines (export) |\n" + "|---" * 10 + "|"
)
TF_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def peak_rss(argv, stdout=subprocess.DEVNULL, timeout=None):
    """Runs `argv`; returns (exit status, peak RSS in bytes, seconds, stderr tail)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(argv, stdout=stdout, stderr=errors, env=TF_ENV)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except KeyboardInterrupt:
            process.kill()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        tail = errors.read()[-2000:].decode("utf-8", "replace")
    return process.returncode, usage.ru_maxrss * 1024, round(time.perf_counter() - started, 1), tail


def write_corpus(path, gigabytes, seed=0):
    """Shuffled lines of the built-in plays, repeated up to `gigabytes` GB."""
    from apps.textgen import corpus as corpus_lib

    lines = []
    for play in corpus_lib.builtin_plays().values():
        text = corpus_lib.strip_markdown(play.read_text(encoding="utf-8"))
        lines += [line + "\n" for line in text.split("\n") if line.strip()]
    rng = random.Random(seed)
    target = int(gigabytes * 1024**3)
    written = 0
    with open(path, "w", encoding="utf-8") as file:
        while written < target:
            rng.shuffle(lines)
            block = "".join(lines)
            file.write(block)
            written += len(block.encode("utf-8"))
    return path.stat().st_size


def write_reviews(path, lines):
    with open(path, "w", encoding="utf-8") as file:
        for index in range(lines):
            file.write(f"{report.REVIEWS[index % len(report.REVIEWS)]} ({index})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-gb", type=float, default=1.0)
    parser.add_argument("--train-minutes", type=float, default=2.0)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--work", help="Folder for the generated files (default: a temporary one, removed).")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    seqcore = shutil.which("seqcore") or sys.exit("Error: `seqcore` is not on PATH; expected `pip install -e .`")
    work = Path(args.work or tempfile.mkdtemp(prefix="memory-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = report.environment()
    try:
        corpus = work / "corpus.txt"
        corpus_bytes = write_corpus(corpus, args.corpus_gb)
        status, textgen_peak, seconds, tail = peak_rss([
            seqcore, "textgen", "train", "--data", str(corpus), "--out", str(work / "textgen-run"),
            "--overwrite", "--units", "128", "--validation-fraction", "0.0005", "--epochs", "1",
            "--max-minutes", str(args.train_minutes),
        ])
        if status != 0:
            sys.exit(f"Error: textgen train failed ({status}): {tail}")
        history = (work / "textgen-run" / "history.csv").read_text().splitlines()
        textgen = {"corpus_bytes": corpus_bytes, "peak_rss_bytes": textgen_peak, "seconds": seconds,
                   "epochs_logged": len(history) - 1}
        corpus.unlink()

        run = work / "sentiment-run"
        status, _, _, tail = peak_rss([seqcore, "sentiment", "train", "--out", str(run), "--overwrite",
                                       "--limit", "2000", "--epochs", "1", "--units", "16"])
        if status != 0:
            sys.exit(f"Error: sentiment train failed ({status}): {tail}")
        export = work / "sentiment-export"
        subprocess.run([seqcore, "sentiment", "export", str(run), str(export)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=TF_ENV)
        small, large = work / "small.txt", work / "large.txt"
        write_reviews(small, 10_000)
        write_reviews(large, args.lines)
        predict = {}
        for name, model, texts in (("run_10k", run, small), ("run_large", run, large),
                                   ("export_large", export, large)):
            output = work / f"{name}.out"
            with open(output, "w") as stdout:
                status, peak, seconds, tail = peak_rss(
                    [seqcore, "sentiment", "predict", str(model), "--file", str(texts)], stdout=stdout)
            if status != 0:
                sys.exit(f"Error: sentiment predict failed ({status}): {tail}")
            with open(output) as file:
                lines = sum(1 for _ in file)
            predict[name] = {"peak_rss_bytes": peak, "seconds": seconds, "lines": lines}
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    result = {
        "benchmark": "memory",
        **env,
        "textgen_train": textgen,
        "sentiment_predict": predict,
        "bar_bytes": BAR_BYTES,
        "passes": textgen["peak_rss_bytes"] < BAR_BYTES,
        "command": "python " + " ".join(sys.argv),
    }
    print(json.dumps(result, indent=2))
    if not args.no_readme:
        def mb(value):
            return f"{value / 1024**2:,.0f} MB"

        row = (f"{report.row_prefix(env)} {corpus_bytes / 1024**3:.2f} GB | {mb(textgen_peak)} "
               f"({textgen['seconds']} s) | {args.train_minutes} min | {mb(predict['run_10k']['peak_rss_bytes'])} "
               f"| {mb(predict['run_large']['peak_rss_bytes'])} ({predict['run_large']['seconds']} s) "
               f"| {mb(predict['export_large']['peak_rss_bytes'])} ({predict['export_large']['seconds']} s) |")
        report.append_row(SECTION, INTRO, HEADER, row)


if __name__ == "__main__":
    main()
