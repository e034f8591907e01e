import json

from seqcore.compare.report import COLUMNS, format_table, markdown_report, markdown_table, summarize, write_report


def _run(backbone, seed, metric, cells=None):
    return {
        "backbone": backbone, "cells": cells or [backbone], "bidirectional": False, "seed": seed,
        "metric": metric, "parameters": 1000, "recurrent_parameters": 300, "epochs": 2,
        "train_seconds_per_epoch": 1.0 + seed, "latency_ms_per_example": 0.1,
        "peak_memory_mb": 600.0 + seed,
    }


RUNS = [_run("rnn", 0, 0.6), _run("lstm", 0, 0.8), _run("rnn", 1, 0.7), _run("lstm", 1, 0.9)]


def test_one_row_per_backbone_with_every_column():
    rows = summarize(RUNS)
    assert [row["backbone"] for row in rows] == ["rnn", "lstm"]
    for row in rows:
        assert set(row) == set(COLUMNS)
    rnn = rows[0]
    assert rnn["repeats"] == 2 and rnn["seeds"] == [0, 1]
    assert abs(rnn["metric_mean"] - 0.65) < 1e-9
    assert abs(rnn["metric_std"] - 0.070711) < 1e-6
    assert rnn["train_seconds_per_epoch"] == 1.5
    assert rnn["peak_memory_mb"] == 601.0


def test_tables_show_mean_and_spread():
    rows = summarize(RUNS)
    text = format_table(rows, "test accuracy")
    assert "test accuracy (mean ± std of 2)" in text.splitlines()[0]
    assert "0.6500 ± 0.0707" in text
    markdown = markdown_table(rows, "test accuracy").splitlines()
    assert markdown[0].startswith("| backbone |") and len(markdown) == 4


def test_write_report_is_valid_json_and_markdown(tmp_path):
    rows = summarize(RUNS)
    report = {"task": "sentiment", "metric": {"name": "test accuracy", "higher_is_better": True},
              "task_args": ["--limit", "300"], "units": 8, "seeds": [0, 1], "latency_batch": 32,
              "rows": rows, "runs": RUNS}
    write_report(tmp_path, report, markdown_report(report))
    assert json.loads((tmp_path / "results.json").read_text())["rows"] == rows
    markdown = (tmp_path / "results.md").read_text()
    assert "`--limit 300`" in markdown and "higher is better" in markdown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "results.md"]
