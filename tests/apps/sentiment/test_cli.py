"""End-to-end tests of the sentiment command line: `seqcore sentiment ...` and `seqcore-sentiment`.

One tiny run is trained per module and shared by the evaluate / predict / export tests.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tests.export_parity import serve_with_tensorflow_alone

from apps.sentiment.cli import cli as sentiment_cli
from seqcore.cli.main import cli as seqcore_cli
from seqcore.registry import PRESETS
from tests.cli_helpers import fails as one_line_error, ok

POSITIVE = [
    "a great film, i loved it", "wonderful acting and a lovely story", "i loved this movie",
    "brilliant, moving and funny", "an excellent and fun film", "a great joy to watch",
    "superb cast, wonderful script", "loved every minute, great fun", "the best film this year",
    "beautiful, warm and delightful", "a lovely, happy film", "great music and great acting",
    "funny and charming, i loved it", "a wonderful, excellent story", "brilliant film, great cast",
]
NEGATIVE = [
    "a terrible film, i hated it", "awful acting and a boring story", "i hated this movie",
    "dull, slow and bad", "an awful and boring film", "a waste of time",
    "terrible cast, awful script", "hated every minute, so boring", "the worst film this year",
    "ugly, cold and dreadful", "a boring, sad mess", "bad music and bad acting",
    "dull and stupid, i hated it", "a terrible, awful story", "boring film, bad cast",
]
NEUTRAL = [
    "the film is two hours long", "it was released in march", "the story is set in a city",
    "there are four main characters", "it is a film about a family", "the cast has ten actors",
    "it was shot in colour", "the movie has a sequel", "the plot follows a teacher",
    "it is based on a novel",
]
TINY = ["--epochs", "2", "--units", "8", "--sequence-length", "16", "--max-tokens", "200",
        "--batch-size", "16"]
RUN_FILES = {"model.keras", "baseline.keras", "nbsvm.keras", "config.json", "metrics.json", "history.csv", "logs"}
TF_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

# Loading a run's model in the process that trained it makes Keras warn about the saved
# optimizer state (unused for inference); a separate CLI process does not.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def two_class_rows():
    return ([(t, "positive") for t in POSITIVE * 2] + [(t, "negative") for t in NEGATIVE * 2])


def invoke(*args, input=None, app=seqcore_cli):
    """Runs `seqcore sentiment ARGS` (or `seqcore-sentiment ARGS` with app=sentiment_cli)."""
    args = [str(a) for a in args]
    if app is seqcore_cli:
        args = ["sentiment", *args]
    prog = "seqcore" if app is seqcore_cli else "seqcore-sentiment"
    return CliRunner().invoke(app, args, input=input, prog_name=prog)


def fails(result, match):
    """`tests.cli_helpers.fails`, and the line is on stderr alone.

    In click >= 8.2 `result.output` holds stdout and stderr interleaved, and
    `result.stderr` stderr alone.
    """
    line = one_line_error(result, match)
    assert result.stdout == "" and result.stderr.strip() == line
    return line


def usage_error(result, option):
    """Asserts a one-line usage error for `option` (exit 2); returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: Invalid value for '{option}'"), result.output
    return lines[0]


def predictions(result):
    return [json.loads(line) for line in ok(result).output.strip().splitlines()]


def listing(path):
    return sorted(p.name for p in Path(path).iterdir())


# Fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("sentiment_cli")


@pytest.fixture(scope="module")
def data_file(work):
    return write_csv(work / "reviews.csv", two_class_rows())


@pytest.fixture(scope="module")
def trained(work, data_file):
    """(run directory, result of `seqcore sentiment train`): trained once per module."""
    run = work / "runs" / "tiny"
    result = ok(invoke("train", "--data", data_file, "--out", run, *TINY))
    return run, result


@pytest.fixture(scope="module")
def run_dir(trained):
    return trained[0]


@pytest.fixture(scope="module")
def exported(work, run_dir):
    """An export base after two `export` calls, and their outputs."""
    base = work / "exports" / "sentiment"
    first = ok(invoke("export", run_dir, base))
    second = ok(invoke("export", run_dir, base))
    return base, first, second


# train ------------------------------------------------------------------------------------------

def test_train_writes_a_finished_run(trained, data_file):
    run, result = trained
    assert set(listing(run)) == RUN_FILES  # scratch files (initial.keras, backup/) are gone
    assert listing(run.parent) == ["tiny"]  # no tiny.partial left
    assert (run / "logs").is_dir() and any(p.is_file() for p in (run / "logs").rglob("*"))
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("test accuracy ") and last.endswith(f"run written to {run}")


def test_train_config_json(run_dir, data_file):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["task"] == "sentiment"
    assert config["preset"] == "lstm"
    # Task defaults, then the preset, then the explicit options.
    assert config["backbone"] == {"cell": "lstm", "units": 8, "pooling": "mean",
                                  "dropout": 0.3, "embedding_dim": 64}
    assert config["class_names"] == ["negative", "positive"]
    assert config["preprocessing"] == {"max_tokens": 200, "sequence_length": 16}
    assert config["training"] == {"epochs": 2, "batch_size": 16, "seed": 0, "patience": 2, "ema": 0.0}
    assert config["data"]["source"] == str(data_file)
    assert config["data"]["description"] == f"CSV file {data_file}"
    assert {"seqcore", "tensorflow", "keras", "python"} <= set(config["environment"])


def test_train_metrics_json(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for split, size in (("test", 6), ("validation", 6)):
        m = metrics[split]
        assert m["examples"] == size
        for key in ("accuracy", "precision", "recall", "f1"):
            assert 0.0 <= m[key] <= 1.0
        matrix = np.array(m["confusion_matrix"])
        assert matrix.shape == (2, 2) and matrix.sum() == size
        assert matrix.sum(axis=1).tolist() == [size // 2] * 2  # stratified split
        assert m["accuracy"] == pytest.approx(np.trace(matrix) / size)
        assert m["class_names"] == ["negative", "positive"]
    assert metrics["train_seconds"] >= 0


def test_train_history_has_one_row_per_epoch(run_dir):
    with open(run_dir / "history.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])


@pytest.fixture(scope="module")
def three_class(work):
    """A 3-class run trained through `seqcore-sentiment` (apps.sentiment.cli) with a
    relative --data path, from inside its folder."""
    folder = work / "three"
    folder.mkdir()
    rows = ([(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]
            + [(t, "neutral") for t in NEUTRAL + NEUTRAL[:5]])
    write_csv(folder / "three.csv", rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        result = ok(invoke("train", "--data", "three.csv", "--out", "run3", "--backbone", "gru",
                           *TINY, app=sentiment_cli))
    return folder / "run3", result


def test_three_classes_through_the_app_cli(three_class):
    run, result = three_class
    assert "run written to run3" in result.output
    config = json.loads((run / "config.json").read_text())
    assert config["class_names"] == ["negative", "neutral", "positive"]
    assert config["backbone"]["cell"] == "gru" and config["preset"] == "gru"
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.array(metrics["test"]["confusion_matrix"]).shape == (3, 3)
    out = predictions(invoke("predict", run, "--json", "a great film", "a dull film",
                             app=sentiment_cli))
    for p in out:
        assert set(p["probabilities"]) == {"negative", "neutral", "positive"}
        assert sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_evaluate_from_another_directory(three_class, tmp_path, monkeypatch):
    run, _ = three_class
    monkeypatch.chdir(tmp_path)
    metrics = json.loads(ok(invoke("evaluate", run, "--json")).output)
    assert len(metrics["confusion_matrix"]) == 3


# evaluate ---------------------------------------------------------------------------------------

def test_evaluate_json(run_dir):
    metrics = json.loads(ok(invoke("evaluate", run_dir, "--json")).output)
    assert {"accuracy", "precision", "recall", "f1", "confusion_matrix"} <= set(metrics)
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["confusion_matrix"] == saved["test"]["confusion_matrix"]
    assert metrics["accuracy"] == pytest.approx(saved["test"]["accuracy"])
    validation = json.loads(ok(invoke("evaluate", run_dir, "--split", "validation",
                                      "--json")).output)
    assert validation["confusion_matrix"] == saved["validation"]["confusion_matrix"]


def test_evaluate_prints_a_report_with_confusion_matrix(run_dir):
    output = ok(invoke("evaluate", run_dir, "--no-baseline")).output
    assert output.startswith("accuracy ")
    assert "confusion matrix" in output
    lines = output.strip().splitlines()
    assert lines[-3].split() == ["negative", "positive"]
    assert lines[-2].split()[0] == "negative" and lines[-1].split()[0] == "positive"
    assert sum(int(n) for line in lines[-2:] for n in line.split()[1:]) == 6


# predict ----------------------------------------------------------------------------------------

LONG = "a great film " * 10


def test_predict_arguments_one_line_each(run_dir):
    output = ok(invoke("predict", run_dir, "what a great film", "boring and awful", LONG, "!!!"))
    lines = output.output.strip().splitlines()
    assert len(lines) == 4
    for line, text in zip(lines, ["what a great film", "boring and awful", LONG, "!!!"]):
        label, probability, shown = line.split("\t")
        assert label in ("negative", "positive")
        assert 0.5 <= float(probability) <= 1.0
        assert shown == (text if len(text) <= 60 else text[:57] + "...")


def test_predict_json(run_dir):
    texts = ["what a great film", "boring and awful", "<br />Unknown words zyx"]
    out = predictions(invoke("predict", run_dir, "--json", *texts))
    assert [p["text"] for p in out] == texts
    for p in out:
        probabilities = p["probabilities"]
        assert set(probabilities) == {"negative", "positive"}
        assert all(np.isfinite(v) and 0 <= v <= 1 for v in probabilities.values())
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert p["label"] == max(probabilities, key=probabilities.get)


def test_predict_file(run_dir, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("what a great film\n\n  boring and awful  \r\nlovely\n", encoding="utf-8")
    out = predictions(invoke("predict", run_dir, "--json", "--file", path))
    assert [p["text"] for p in out] == ["what a great film", "boring and awful", "lovely"]
    # Arguments first, then the file.
    out = predictions(invoke("predict", run_dir, "--json", "first", "--file", path))
    assert [p["text"] for p in out][:2] == ["first", "what a great film"]


def test_predict_runs_the_model_in_bounded_batches(run_dir, exported):
    from apps.sentiment import prediction

    texts = [f"film number {i} was {'great' if i % 2 else 'dull'}" for i in range(10)]
    for model in (run_dir, exported[0]):
        batches = list(prediction.predict_batches(model, iter(texts), batch_size=4))
        assert [len(batch) for batch in batches] == [4, 4, 2]
        whole = prediction.predict(model, texts)
        assert [r["label"] for b in batches for r in b] == [r["label"] for r in whole]


def test_predict_stdin(run_dir):
    out = predictions(invoke("predict", run_dir, "--json", input="great film\n\nawful film\n"))
    assert [p["text"] for p in out] == ["great film", "awful film"]
    out = predictions(invoke("predict", run_dir, "--json", "--file", "-",
                             input="one\r\ntwo\n"))
    assert [p["text"] for p in out] == ["one", "two"]


# export -----------------------------------------------------------------------------------------

def test_export_writes_numbered_versions(exported):
    base, first, second = exported
    assert (base / "1" / "saved_model.pb").is_file()
    assert (base / "2" / "saved_model.pb").is_file()
    assert (base / "1" / "variables").is_dir()
    assert listing(base) == ["1", "2"]  # no hidden temporary folders left
    assert first.output.splitlines()[0] == f"exported to {base / '1'}"
    assert second.output.splitlines()[0] == f"exported to {base / '2'}"
    assert "saved_model_cli show --dir" in first.output


def test_export_existing_version_fails_and_keeps_it(exported, run_dir):
    base, _, _ = exported
    before = {p.relative_to(base): p.read_bytes() for p in (base / "1").rglob("*") if p.is_file()}
    line = fails(invoke("export", run_dir, base, "--version", "1"), "export version already exists")
    assert str(base / "1") in line and "next free: 3" in line
    after = {p.relative_to(base): p.read_bytes() for p in (base / "1").rglob("*") if p.is_file()}
    assert after == before
    assert listing(base) == ["1", "2"]


def test_predict_export_matches_run(exported, run_dir):
    base, _, _ = exported
    texts = ["what a great film", "boring and awful", "<br />ok i guess", "!!!"]
    from_run = predictions(invoke("predict", run_dir, "--json", *texts))
    for model in (base, base / "1"):
        from_export = predictions(invoke("predict", model, "--json", *texts))
        assert [p["label"] for p in from_export] == [p["label"] for p in from_run]
        for e, r in zip(from_export, from_run):
            assert list(e["probabilities"]) == list(r["probabilities"])
            np.testing.assert_allclose(list(e["probabilities"].values()),
                                       list(r["probabilities"].values()), atol=1e-5)


def test_export_runs_with_tensorflow_alone_and_equals_the_keras_model(exported, run_dir):
    """Raw texts in, the trained Keras model's probabilities out, in a process that cannot import seqcore."""
    from apps.sentiment.commands import load_run_model

    base, _, _ = exported
    texts = np.array(["what a great film", "boring and awful", "<br />ok i guess", "!!!"])
    served, metadata = serve_with_tensorflow_alone(base / "2", ("serving_default", {"text": texts}), ("metadata", {}))
    model = load_run_model(run_dir)
    expected = model.predict(texts, verbose=0)
    assert np.ptp(expected[:, 0]) > 1e-3  # trained weights: the texts get different answers
    np.testing.assert_allclose(served["probabilities"], expected, rtol=1e-5, atol=1e-6)
    assert served["label"].tolist() == [model.class_names[i] for i in expected.argmax(-1)]
    assert metadata["class_names"].tolist() == ["negative", "positive"]


@pytest.mark.skipif(shutil.which("saved_model_cli") is None, reason="saved_model_cli not on PATH")
def test_saved_model_cli_shows_the_signature(exported):
    base, _, _ = exported
    result = subprocess.run(
        ["saved_model_cli", "show", "--dir", str(base / "1"), "--tag_set", "serve",
         "--signature_def", "serving_default"],
        capture_output=True, text=True, env=TF_ENV, timeout=180)
    assert result.returncode == 0, result.stderr[-4000:]
    for word in ("text", "label", "probabilities", "DT_STRING", "DT_FLOAT"):
        assert word in result.stdout, result.stdout


# train: resume / overwrite ----------------------------------------------------------------------

def test_resume_without_interrupted_run(data_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = fails(invoke("train", "--out", "run", "--resume"), "nothing to resume")
    assert "run.partial" in line
    fails(invoke("train", "--resume"), "--resume needs --out")
    assert listing(tmp_path) == []


def test_interrupted_run_needs_resume_or_overwrite(data_file, tmp_path):
    partial = tmp_path / "run.partial"
    partial.mkdir()
    (partial / "config.json").write_text("{}")
    fails(invoke("train", "--data", data_file, "--out", tmp_path / "run", *TINY),
          "an interrupted run is in")
    assert listing(tmp_path) == ["run.partial"] and listing(partial) == ["config.json"]


def test_existing_run_needs_overwrite(run_dir, data_file, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    before = (run / "config.json").read_text()
    fails(invoke("train", "--data", data_file, "--out", run, *TINY),
          f"run directory already exists: {run}")
    assert (run / "config.json").read_text() == before
    assert listing(tmp_path) == ["run"]

    ok(invoke("train", "--data", data_file, "--out", run, "--overwrite", *TINY, "--units", "4",
              "--epochs", "1"))
    assert listing(tmp_path) == ["run"]  # no run.partial, no .run.replaced
    assert set(listing(run)) == RUN_FILES
    config = json.loads((run / "config.json").read_text())
    assert config["backbone"]["units"] == 4 and config["training"]["epochs"] == 1
    with open(run / "history.csv", newline="") as file:
        assert len(list(csv.DictReader(file))) == 1


# Bad input --------------------------------------------------------------------------------------

def bad_files(folder):
    """name -> (file content, extra options, expected message part)."""
    rows = two_class_rows()
    return {
        "missing": (None, [], "data file not found: missing.csv"),
        "empty": ("", [], "empty.csv is empty"),
        "columns": (rows, ["--text-col", "body"], "has no 'body' column"),
        "one_class": ([(t, "positive") for t, _ in rows], [], "only one class"),
        "empty_text": (rows[:10] + [("  ", "positive")] + rows[10:], [],
                       "empty_text.csv line 12 has an empty text"),
        "non_utf8": ("text,label\n".encode() + b"caf\xe9 great,positive\n", [],
                     "is not valid UTF-8: invalid byte 0xe9"),
    }


@pytest.mark.parametrize("case", list(bad_files(Path("."))))
def test_train_bad_data(case, tmp_path, monkeypatch):
    content, options, message = bad_files(tmp_path)[case]
    monkeypatch.chdir(tmp_path)
    name = f"{case}.csv"
    if isinstance(content, str):
        Path(name).write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        Path(name).write_bytes(content)
    elif content is not None:
        write_csv(name, content)
    expected = sorted([name] if content is not None else [])
    # Both with --out and with the default runs/sentiment-<timestamp>.
    fails(invoke("train", "--data", name, "--out", "run", *options, *TINY), message)
    fails(invoke("train", "--data", name, *options, *TINY), message)
    assert listing(tmp_path) == expected  # no run, run.partial or runs/ left


def test_train_unknown_backbone(data_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = usage_error(invoke("train", "--data", data_file, "--backbone", "transformer"),
                         "--backbone")
    for name in PRESETS.names():
        assert repr(name) in output
    assert listing(tmp_path) == []


def test_train_unknown_cell(data_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = usage_error(invoke("train", "--data", data_file, "--cell", "lstm,xyz"), "--cell")
    assert "rnn, lstm, gru" in output and "'lstm,xyz'" in output
    assert listing(tmp_path) == []


@pytest.mark.parametrize("command", ["evaluate", "predict", "export"])
def test_commands_on_a_folder_that_is_not_a_run(command, tmp_path):
    folder = tmp_path / "notarun"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    args = {"evaluate": [folder], "predict": [folder, "great film"],
            "export": [folder, tmp_path / "base"]}[command]
    line = fails(invoke(command, *args), f"not a run directory: {folder}")
    assert "model.keras and config.json" in line
    assert listing(tmp_path) == ["notarun"]  # export made no base folder
    fails(invoke(command, *[tmp_path / "missing", *args[1:]]), "missing")
    assert listing(tmp_path) == ["notarun"]


def test_predict_model_is_a_file(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("not a model")
    fails(invoke("predict", path, "great film"), str(path))


def test_predict_empty_text(run_dir):
    fails(invoke("predict", run_dir, "great film", ""), "input 2 is empty")
    fails(invoke("predict", run_dir, "   "), "input 1 is empty")


def test_predict_no_input(run_dir, tmp_path):
    fails(invoke("predict", run_dir), "no input text")
    fails(invoke("predict", run_dir, input="\n  \n"), "no input text")
    (tmp_path / "blank.txt").write_text("\n \n")
    fails(invoke("predict", run_dir, "--file", tmp_path / "blank.txt"), "has no text")
    fails(invoke("predict", run_dir, "--file", tmp_path / "nope.txt"), "text file not found")


# Start-up ---------------------------------------------------------------------------------------

HELP_SCRIPT = """
import sys
from seqcore.cli.main import cli
try:
    cli.main({args!r}, prog_name="seqcore", standalone_mode=False)
except SystemExit:
    pass
print("tensorflow" in sys.modules)
"""


def run_help(args):
    result = subprocess.run([sys.executable, "-c", HELP_SCRIPT.format(args=args)],
                            capture_output=True, text=True, env=TF_ENV, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_seqcore_help_does_not_import_tensorflow():
    stdout = run_help(["--help"])
    assert "sentiment" in stdout
    assert stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("args", [["sentiment", "--help"], ["sentiment", "train", "--help"]])
def test_subcommand_help_does_not_import_tensorflow(args):
    stdout = run_help(args)
    assert "Usage: seqcore sentiment" in stdout
    assert stdout.strip().splitlines()[-1] == "False"


def test_python_m_apps_sentiment_help():
    result = subprocess.run([sys.executable, "-m", "apps.sentiment", "--help"],
                            capture_output=True, text=True, env=TF_ENV, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    for command in ("train", "evaluate", "predict", "export"):
        assert command in result.stdout


# Fixes found in review ---------------------------------------------------------------------------

def test_folder_named_like_a_built_in_does_not_shadow_it(tmp_path, monkeypatch):
    from apps.sentiment.commands import resolve_config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "imdb").mkdir()
    assert resolve_config()["data"]["source"] == "imdb"


@pytest.mark.parametrize("via", ["argument", "stdin"])
def test_predict_refuses_bytes_that_are_not_utf8(run_dir, via):
    if via == "argument":
        result = invoke("predict", run_dir, "caf\udce9")  # how Python passes argv byte 0xe9
    else:
        result = CliRunner().invoke(seqcore_cli, ["sentiment", "predict", str(run_dir)], input=b"caf\xe9\n")
    fails(result, "not valid UTF-8")


def test_predict_prints_one_line_per_input_even_with_newlines(run_dir):
    result = ok(invoke("predict", run_dir, "great\nfilm", "bad film"))
    assert len(result.output.strip().splitlines()) == 2


def test_cells_and_layers_that_disagree_fail_before_loading_data(tmp_path):
    fails(invoke("train", "--data", tmp_path / "missing.csv", "--cell", "lstm,gru", "--layers", "3",
                 "--out", tmp_path / "run"), "--layers 3 does not match the 2 cells lstm,gru")
    assert listing(tmp_path) == []


def test_resume_refuses_other_options(tmp_path):
    result = invoke("train", "--out", tmp_path / "run", "--resume", "--epochs", "5")
    assert result.exit_code == 2
    assert "received also: --epochs" in result.output


def test_evaluate_on_another_file_uses_all_of_it(run_dir, tmp_path):
    rows = [("a great film", "positive"), ("a terrible film", "negative")] * 10
    path = write_csv(tmp_path / "extra.csv", rows, header=("review", "sentiment"))
    result = ok(invoke("evaluate", run_dir, "--data", path, "--text-col", "review",
                       "--label-col", "sentiment", "--json"))
    assert json.loads(result.output)["examples"] == 20


def test_evaluate_refuses_labels_the_model_does_not_know(run_dir, tmp_path):
    path = write_csv(tmp_path / "other.csv", [("fine", "meh"), ("good", "positive")])
    fails(invoke("evaluate", run_dir, "--data", path), "received: meh")


def test_info_reports_a_runs_layers(run_dir):
    result = ok(CliRunner().invoke(seqcore_cli, ["info", str(run_dir), "--json"]))
    rows = json.loads(result.output)["fast_path"][str(run_dir)]
    assert [row["kind"] for row in rows] == ["LSTM"]


def test_evaluate_reports_the_baseline_on_the_same_texts(run_dir):
    metrics = json.loads(ok(invoke("evaluate", run_dir, "--json")).output)
    reference = metrics["baseline"]
    assert reference["examples"] == metrics["examples"] == 6
    assert "TF-IDF" in reference["description"]
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert reference["accuracy"] == pytest.approx(saved["baseline"]["test"]["accuracy"])
    assert set(saved["recurrent"]) == {"test", "validation"} and "wide_weight" in saved
    output = ok(invoke("evaluate", run_dir)).output
    assert "baseline (TF-IDF word 1-2 grams" in output and "points" in output.splitlines()[-1]
