"""What the performance benchmarks share: interleaved timing, the machine, the README tables.

Each benchmark script runs its contenders in one process, interleaved
(every round runs each contender once, in a shuffled order), so a load
change on a shared machine hits all of them alike; it reports the median
and the spread (min, max) over the rounds, prints one JSON object and
appends a row to its section's table in `benchmarks/README.md`.

Example:

>>> summary([3.0, 1.0, 2.0])
{'median': 2.0, 'min': 1.0, 'max': 3.0}
"""

import datetime
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from seqcore.machine import machine

README = Path(__file__).with_name("README.md")


def summary(values, digits=4):
    """Median, min and max of `values`, rounded."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def interleaved(contenders, rounds, seed=0):
    """Times each `name -> callable` once per round, in a shuffled order; `name -> [seconds]`.

    Wall-clock seconds (`time.perf_counter`). Call each contender once
    before (tracing, compilation) — this does not warm up.
    """
    order = list(contenders)
    rng = random.Random(seed)
    seconds = {name: [] for name in order}
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            started = time.perf_counter()
            contenders[name]()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def ratio(numerators, denominators):
    """Median (min, max) of per-round ratios of two equally long lists."""
    return summary([a / b for a, b in zip(numerators, denominators)], digits=3)


def versions():
    """Python, TensorFlow and Keras versions (without importing TensorFlow when it is not loaded)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("tensorflow", "keras"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def environment():
    """Date, machine, versions and the 1-minute load average, for a report."""
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions(),
        "load_average": round(os.getloadavg()[0], 2),
    }


def append_row(section, intro, header, row, path=README):
    """Appends `row` to the table of `## {section}` in the README, creating what is missing.

    Only that section changes; the file is replaced atomically (other
    scripts append to other sections of the same file).
    """
    title = f"## {section}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    row = row.rstrip("\n") + "\n"
    if title not in text:
        text = text.rstrip("\n") + f"\n\n{title}\n\n{intro.strip()}\n\n{header.rstrip()}\n" + row
    else:
        start = text.index(title)
        following = text.find("\n## ", start + len(title))
        end = len(text) if following == -1 else following + 1
        section_text = text[start:end].rstrip("\n") + "\n"
        text = text[:start] + section_text + row + ("\n" + text[end:] if following != -1 else "")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".README.", suffix=".tmp")
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def row_prefix(env):
    """The first cells of every table row: date, machine, versions, load."""
    versions_text = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    return f"| {env['date']} | {env['machine']} | {versions_text} | {env['load_average']:.1f} |"


#: The header cells matching `row_prefix`.
PREFIX_HEADER = "| date | machine | versions | load |"

#: Review texts that sentiment benchmarks send (to a model, a server or a file).
REVIEWS = [
    "A moving, beautifully acted film. I loved every minute of it.",
    "Two hours of my life I will never get back. Dull and badly written.",
    "It was fine, nothing special, but the soundtrack is lovely.",
    "The plot made no sense and the acting was wooden throughout.",
    "One of the best films of the decade; funny, warm and sharp.",
]
