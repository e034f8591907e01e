"""The contract every app keeps, checked the same way for all four through `seqcore <task> ...`.

For each task, at tiny scale: `train` writes a finished run (and nothing
beside it), `evaluate --json` prints the metrics the suite compares,
predicting with the export prints exactly what predicting with the run
prints, and bad input (a missing data file, a run of another task, a
missing model) is one `Error:` line with nothing left behind. A new task
adds one `Recipe` here.
"""

import csv
import dataclasses
import json
import re

import numpy as np
import pytest

from seqcore.apps import get_app
from tests.apps.speech.speech_helpers import write_generated_digits
from tests.cli_helpers import fails, invoke, listing, ok

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")

RUN_FILES = {"model.keras", "config.json", "metrics.json", "history.csv", "logs"}


def review_table(folder):
    words = {"positive": ["great", "lovely", "superb", "fun", "warm"],
             "negative": ["awful", "boring", "dull", "bad", "cold"]}
    rng = np.random.default_rng(0)
    path = folder / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for index in range(60):
            label = ("positive", "negative")[index % 2]
            writer.writerow([" ".join(["a", *rng.choice(words[label], 3), "film"]), label])
    return path


def load_table(folder, hours=300, name="load.csv"):
    t = np.arange(hours)
    load = 100 + 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(size=hours)
    times = np.datetime64("2024-01-01T00:00") + t * np.timedelta64(1, "h")
    path = folder / name
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["time", "load"])
        writer.writerows([str(when).replace("T", " "), f"{y:.3f}"] for when, y in zip(times, load))
    return path


def plays(folder):
    rng = np.random.default_rng(0)
    words = ["the", "king", "queen", "night", "love", "sword", "crown", "speak"]
    lines = [f"{('ROMEO', 'JULIET')[i % 2]}:\n{' '.join(rng.choice(words, 7))}.\n" for i in range(120)]
    path = folder / "plays.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def digits(folder):
    return write_generated_digits(folder / "recordings")


@dataclasses.dataclass
class Recipe:
    """How to exercise one task at tiny scale.

    Args:
        write_data: `folder -> path` of a small training source.
        train: options for `train` after `--data` (tiny model, one or two epochs).
        predict: `(folder, model) -> arguments` predicting (or generating) with `model`.
    """

    write_data: callable
    train: list
    predict: callable


RECIPES = {
    "sentiment": Recipe(review_table, ["--epochs", "1", "--units", "8", "--max-tokens", "100",
                                       "--sequence-length", "8", "--batch-size", "16"],
                        lambda folder, model: ["predict", model, "a great fun film", "a dull bad film"]),
    "forecast": Recipe(load_table, ["--time-col", "time", "--target", "load", "--lookback", "24", "--horizon",
                                    "6", "--units", "4", "--epochs", "1", "--batch-size", "32"],
                       lambda folder, model: ["predict", model, load_table(folder, 40, "history.csv")]),
    "textgen": Recipe(plays, ["--units", "16", "--embedding-dim", "8", "--seq-len", "32", "--batch-size", "32",
                              "--epochs", "1"],
                      lambda folder, model: ["generate", model, "--prompt", "the king ", "--length", "12"]),
    "speech": Recipe(digits, ["--epochs", "1", "--units", "8", "--conv-filters", "4", "--batch-size", "16",
                              "--mfccs", "13", "--no-synthetic-voices"],
                     lambda folder, model: ["predict", model, folder / "recordings" / "1_lucas_0.wav"]),
}


@pytest.fixture(scope="module", params=sorted(RECIPES))
def trained(request, tmp_path_factory):
    """`(task, folder, run, train output)` of a tiny run of each task."""
    task = request.param
    folder = tmp_path_factory.mktemp(task)
    data = RECIPES[task].write_data(folder)
    run = folder / "runs" / "tiny"
    result = ok(invoke(task, "train", "--data", data, "--out", run, *RECIPES[task].train))
    return task, folder, run, result.output


def test_train_writes_a_finished_run_and_nothing_beside_it(trained):
    task, _, run, output = trained
    assert RUN_FILES <= set(listing(run)), listing(run)
    assert listing(run.parent) == ["tiny"]
    assert json.loads((run / "config.json").read_text())["task"] == task
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(get_app(task).read_metric(metrics))
    assert str(run) in output


def test_evaluate_json_holds_the_compared_metric(trained):
    task, _, run, _ = trained
    report = json.loads(ok(invoke(task, "evaluate", run, "--json")).output)
    # Scored on the test split: the report is metrics.json's layout, or the "test" part of it.
    assert np.isfinite(get_app(task).read_metric(report if "test" in report else {"test": report}))


def test_the_export_predicts_what_the_run_predicts(trained):
    task, folder, run, _ = trained
    base = folder / "exports"
    ok(invoke(task, "export", run, base))
    assert listing(base) == ["1"] and "saved_model.pb" in listing(base / "1")
    recipe = RECIPES[task]
    from_run = ok(invoke(task, *recipe.predict(folder, run))).output
    from_export = ok(invoke(task, *recipe.predict(folder, base / "1"))).output
    assert from_run.strip()
    assert_same_output(from_run, from_export)


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def assert_same_output(expected, received, rtol=1e-4):
    """The same text, its numbers equal within `rtol` (the export may round a last printed digit differently)."""
    assert NUMBER.sub("#", expected) == NUMBER.sub("#", received), (expected, received)
    np.testing.assert_allclose([float(n) for n in NUMBER.findall(received)],
                               [float(n) for n in NUMBER.findall(expected)], rtol=rtol, atol=1e-6)


def test_bad_input_is_one_line_and_leaves_nothing(trained):
    task, folder, run, _ = trained
    out = folder / "bad-run"
    fails(invoke(task, "train", "--data", folder / "missing.csv", "--out", out, *RECIPES[task].train), "missing")
    assert not [p for p in folder.iterdir() if p.name.startswith(("bad-run", ".bad-run"))]
    other = "textgen" if task != "textgen" else "sentiment"
    fails(invoke(other, "evaluate", run), task)
    fails(invoke(task, *RECIPES[task].predict(folder, folder / "no-model")), "no-model")
