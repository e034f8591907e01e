"""`seqcore compare`: bad input, the long-range experiment, and (slow) a sentiment comparison."""

import json

import pytest
from click.testing import CliRunner

from seqcore.cli.main import cli
from seqcore.compare.report import COLUMNS


def _compare(*args):
    return CliRunner().invoke(cli, ["compare", *args])


@pytest.mark.parametrize("args, words", [
    (["poetry"], "unknown task 'poetry'; expected one of: forecast, sentiment, speech, textgen, longrange"),
    (["sentiment", "--cells", "rnn,attention"], "unknown cell 'attention' in --cells"),
    (["sentiment", "--cells", "gru", "--cell", "lstm"], "compare sets --cell itself"),
    (["sentiment", "--unidirectional"], "compare sets --bidirectional itself"),
    (["sentiment", "--limit", "many"], "'many' is not a valid integer"),
    (["sentiment", "--no-such-option"], "No such option"),
    (["forecast", "--epochs", "0"], "--epochs"),
    (["longrange", "--gaps", "10,x"], "expected comma-separated steps >= 0"),
    (["longrange", "--limit", "3"], "No such option"),
    (["sentiment", "--bidirectional", "sideways"], "'sideways' is not one of"),
    (["longrange", "--bidirectional", "both"], "expected --bidirectional uni, received --bidirectional both"),
])
def test_bad_input_is_one_error_line(tmp_path, args, words):
    out = tmp_path / "cmp"
    result = _compare(*args, "--out", str(out))
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert words in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_output_is_refused(tmp_path):
    (tmp_path / "cmp").mkdir()
    result = _compare("longrange", "--out", str(tmp_path / "cmp"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: output folder already exists")


def test_longrange_writes_table_json_and_figures(tmp_path):
    out = tmp_path / "lr"
    result = _compare("longrange", "--cells", "rnn,gru", "--gaps", "2,6", "--units", "4",
                      "--epochs", "1", "--train-examples", "64", "--test-examples", "32",
                      "--symbols", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "grad ratio (init)" in result.output
    report = json.loads((out / "results.json").read_text())
    assert [(row["backbone"], row["gap"]) for row in report["rows"]] == [
        ("rnn", 2), ("gru", 2), ("rnn", 6), ("gru", 6)]
    for row in report["rows"]:
        assert len(row["gradient_norms"]["init"]) == row["gap"] + row["gap"] // 10 + 2
        assert 0 <= row["accuracy_mean"] <= 1
    assert report["verdict"]["summary"] in result.output
    assert report["verdict"]["summary"] in (out / "results.md").read_text()
    for name in ("accuracy_vs_gap.png", "gradient_norms.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lr"]


@pytest.mark.slow
def test_sentiment_with_three_cells(tmp_path):
    out = tmp_path / "cmp"
    result = _compare("sentiment", "--cells", "rnn,lstm,gru", "--units", "8", "--out", str(out),
                      "--limit", "300", "--epochs", "1", "--sequence-length", "32", "--max-tokens", "500")
    assert result.exit_code == 0, result.output
    table = result.output.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("backbone"))
    assert [line.split()[0] for line in table[header + 1: header + 4]] == ["rnn", "lstm", "gru"]
    report = json.loads((out / "results.json").read_text())
    assert [row["backbone"] for row in report["rows"]] == ["rnn", "lstm", "gru"]
    for row in report["rows"]:
        assert set(row) == set(COLUMNS)
        assert 0 <= row["metric_mean"] <= 1
        assert row["parameters"] > row["recurrent_parameters"] > 0
        assert row["train_seconds_per_epoch"] > 0 and row["latency_ms_per_example"] > 0
        assert row["peak_memory_mb"] > 100
    # lstm has 4 gate blocks of weights, gru 3, rnn 1 (same units and input width)
    params = {row["backbone"]: row["recurrent_parameters"] for row in report["rows"]}
    assert params["lstm"] > params["gru"] > params["rnn"]
    assert "| rnn |" in (out / "results.md").read_text()
    for name in ("learning_curves.png", "metric_vs_params.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    for run in report["runs"]:
        assert (out / "runs" / f"{run['backbone']}-seed0" / "model.keras").is_file()


def _fsdd_digits(folder):
    """Digits 0-2 of the five FSDD speakers, 3 clips each (a tiny speech source); generated without FSDD."""
    from tests.apps.speech.speech_helpers import FSDD, SPEAKERS, write_generated_digits

    if not FSDD.is_dir():
        return str(write_generated_digits(folder, takes=3))
    folder.mkdir()
    for name in (f"{d}_{s}_{i}.wav" for d in range(3) for s in SPEAKERS for i in range(3)):
        (folder / name).write_bytes((FSDD / name).read_bytes())
    return str(folder)


@pytest.mark.parametrize("task, options", [
    ("textgen", ["--embedding-dim", "8", "--seq-len", "50", "--batch-size", "128", "--max-minutes", "0.1"]),
    ("speech", ["--epochs", "1", "--conv-filters", "4", "--batch-size", "16", "--sample-rate", "8000",
                "--no-synthetic-voices"]),
])
def test_every_app_compares_on_its_data(tmp_path, task, options):
    if task == "speech":
        options = [*options, "--data", _fsdd_digits(tmp_path / "fsdd")]
    out = tmp_path / "cmp"
    result = _compare(task, "--cells", "rnn,gru", "--units", "8", "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    assert [row["backbone"] for row in report["rows"]] == ["rnn", "gru"]
    for row in report["rows"]:
        assert set(row) == set(COLUMNS) and row["metric_mean"] >= 0
        assert row["parameters"] > row["recurrent_parameters"] > 0
    for name in ("results.md", "learning_curves.png", "metric_vs_params.png"):
        assert (out / name).is_file()


def test_forecast_compares_the_backbones_with_statsforecast_on_evaluates_origins(tmp_path):
    from apps.forecast.evaluation import evaluate
    from tests.apps.test_app_contract import load_table

    out = tmp_path / "cmp"
    result = _compare("forecast", "--cells", "rnn,gru", "--units", "8", "--out", str(out), "--epochs", "1",
                      "--data", str(load_table(tmp_path, hours=600)), "--time-col", "time", "--target", "load",
                      "--lookback", "48", "--horizon", "12")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    assert [row["backbone"] for row in report["rows"]] == ["rnn", "gru"]
    references = {row["name"]: row for row in report["references"]["rows"]}
    assert {"rnn", "gru", "naive", "seasonal naive", "AutoETS", "MSTL", "Theta (DOT)"} == set(references)
    run = next(run["run_dir"] for run in report["runs"] if run["backbone"] == "gru")
    scored = evaluate(run)  # what `seqcore forecast evaluate` prints, on the same origins
    assert references["gru"]["value"] == pytest.approx(scored["model"]["mae"])
    assert references["MSTL"]["value"] == pytest.approx(scored["mstl"]["mae"])
    assert f"{scored['windows']} origins" in report["references"]["description"]
    for text in (result.output, (out / "results.md").read_text()):
        assert "against the references" in text and "than the best reference" in text
