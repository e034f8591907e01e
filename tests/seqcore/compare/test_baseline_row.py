"""`compare` shows the task's in-product baseline beside the backbones (table, Markdown, JSON)."""

import pytest

from seqcore.compare.report import baseline_row, format_table, markdown_report, summarize


def _run(backbone, seed, metric, baseline=None):
    metrics = {"test": {"accuracy": metric}}
    if baseline is not None:
        metrics["baseline"] = {"description": "TF-IDF + linear", "test": {"accuracy": baseline}}
    return {
        "backbone": backbone, "cells": [backbone], "bidirectional": False, "seed": seed, "metric": metric,
        "metrics": metrics, "parameters": 1000, "recurrent_parameters": 300, "epochs": 2,
        "train_seconds_per_epoch": 1.0, "latency_ms_per_example": 0.1, "peak_memory_mb": 600.0,
    }


def test_the_baseline_row_averages_every_runs_baseline():
    runs = [_run("gru", 0, 0.8, baseline=0.7), _run("lstm", 0, 0.9, baseline=0.8)]
    row = baseline_row(runs, ("test", "accuracy"))
    assert row["metric_mean"] == pytest.approx(0.75) and row["repeats"] == 2
    assert row["metric_values"] == [0.7, 0.8] and row["description"] == "TF-IDF + linear"


def test_tables_end_with_the_baseline_row():
    runs = [_run("gru", 0, 0.8, baseline=0.7)]
    rows, baseline = summarize(runs), baseline_row(runs, ("test", "accuracy"))
    lines = format_table(rows, "test accuracy", baseline).splitlines()
    assert len(lines) == 3 and lines[-1].split()[:2] == ["baseline", "0.7000"]
    report = {"task": "sentiment", "metric": {"name": "test accuracy", "higher_is_better": True},
              "task_args": [], "units": None, "seeds": [0], "rows": rows, "baseline": baseline,
              "latency_batch": 32}
    markdown = markdown_report(report)
    assert "| baseline | 0.7000 |" in markdown and "baseline: TF-IDF + linear" in markdown


def test_no_baseline_no_row():
    runs = [_run("gru", 0, 0.8)]
    assert baseline_row(runs, ("test", "accuracy")) is None
    assert len(format_table(summarize(runs), "test accuracy", None).splitlines()) == 2
