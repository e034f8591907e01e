"""A comparison's table: one row per backbone, for the terminal, Markdown and JSON."""

import statistics

from seqcore.runs import write_json

#: Columns of every row of `results.json` (and of the tables).
COLUMNS = (
    "backbone",
    "cells",
    "bidirectional",
    "repeats",
    "seeds",
    "metric_mean",
    "metric_std",
    "metric_values",
    "parameters",
    "recurrent_parameters",
    "epochs",
    "train_seconds_per_epoch",
    "latency_ms_per_example",
    "peak_memory_mb",
)


def summarize(runs):
    """One row per backbone (in the order first run), aggregated over its repeats.

    The metric is given as mean and standard deviation over repeats (0 for
    one repeat); times as means; peak memory as the largest.

    Example:

    >>> run = dict(backbone="gru", cells=["gru"], bidirectional=False, seed=0, metric=0.8,
    ...            parameters=10, recurrent_parameters=6, epochs=2, train_seconds_per_epoch=1.0,
    ...            latency_ms_per_example=0.1, peak_memory_mb=500.0)
    >>> row = summarize([run, {**run, "seed": 1, "metric": 0.9}])[0]
    >>> row["metric_mean"], row["repeats"]
    (0.85, 2)
    """
    by_backbone = {}
    for run in runs:
        by_backbone.setdefault(run["backbone"], []).append(run)
    rows = []
    for name, group in by_backbone.items():
        values = [run["metric"] for run in group]
        rows.append({
            "backbone": name,
            "cells": group[0]["cells"],
            "bidirectional": group[0]["bidirectional"],
            "repeats": len(group),
            "seeds": [run["seed"] for run in group],
            "metric_mean": round(statistics.fmean(values), 6),
            "metric_std": round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
            "metric_values": values,
            "parameters": group[0]["parameters"],
            "recurrent_parameters": group[0]["recurrent_parameters"],
            "epochs": round(statistics.fmean(run["epochs"] for run in group), 2),
            "train_seconds_per_epoch": round(statistics.fmean(r["train_seconds_per_epoch"] for r in group), 3),
            "latency_ms_per_example": round(statistics.fmean(r["latency_ms_per_example"] for r in group), 4),
            "peak_memory_mb": max(run["peak_memory_mb"] for run in group),
        })
    return rows


def baseline_row(runs, metric_path):
    """The row of the task's in-product baseline, from the runs' `metrics.json`, or None.

    A run whose metrics hold `baseline: {"description": ..., <the metric's
    path>: value}` (sentiment's TF-IDF + linear model, trained on the same
    split) contributes its value; the row gives their mean and spread.

    Example:

    >>> runs = [{"metrics": {"baseline": {"description": "bag of words", "test": {"accuracy": 0.9}}}}]
    >>> row = baseline_row(runs, ("test", "accuracy"))
    >>> row["backbone"], row["metric_mean"], row["description"]
    ('baseline', 0.9, 'bag of words')
    >>> baseline_row([{"metrics": {}}], ("test", "accuracy")) is None
    True
    """
    values, description = [], None
    for run in runs:
        value = (run.get("metrics") or {}).get("baseline")
        if not isinstance(value, dict):
            continue
        description = description or value.get("description")
        for key in metric_path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            values.append(float(value))
    if not values:
        return None
    return {
        "backbone": "baseline",
        "description": description,
        "repeats": len(values),
        "metric_mean": round(statistics.fmean(values), 6),
        "metric_std": round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
        "metric_values": values,
    }


def _baseline_cells(row):
    spread = f" ± {row['metric_std']:.4f}" if row["repeats"] > 1 else ""
    return ["baseline", f"{row['metric_mean']:.4f}{spread}", "-", "-", "-", "-", "-"]


def _cells(row):
    spread = f" ± {row['metric_std']:.4f}" if row["repeats"] > 1 else ""
    return [
        row["backbone"],
        f"{row['metric_mean']:.4f}{spread}",
        f"{row['parameters']:,}",
        f"{row['recurrent_parameters']:,}",
        f"{row['train_seconds_per_epoch']:.1f}",
        f"{row['latency_ms_per_example']:.3f}",
        f"{row['peak_memory_mb']:.0f}",
    ]


def _headers(metric_name, repeats):
    metric = f"{metric_name} (mean ± std of {repeats})" if repeats > 1 else metric_name
    return ["backbone", metric, "parameters", "recurrent", "s/epoch", "ms/example", "peak MiB"]


def format_table(rows, metric_name, baseline=None):
    """A plain-text table with aligned columns, for the terminal; the baseline's row last, when given.

    Example:

    >>> row = dict(backbone="gru", repeats=1, metric_mean=0.8, metric_std=0.0, parameters=1200,
    ...            recurrent_parameters=600, train_seconds_per_epoch=1.5,
    ...            latency_ms_per_example=0.12, peak_memory_mb=640.0)
    >>> print(format_table([row], "test accuracy"))
    backbone  test accuracy  parameters  recurrent  s/epoch  ms/example  peak MiB
    gru              0.8000       1,200        600      1.5       0.120       640
    """
    repeats = max(row["repeats"] for row in rows)
    extra = [] if baseline is None else [_baseline_cells(baseline)]
    return text_table(_headers(metric_name, repeats), [_cells(row) for row in rows] + extra)


def markdown_table(rows, metric_name, baseline=None):
    """The same table in Markdown (GitHub pipe table).

    Example:

    >>> row = dict(backbone="gru", repeats=1, metric_mean=0.8, metric_std=0.0, parameters=1200,
    ...            recurrent_parameters=600, train_seconds_per_epoch=1.5,
    ...            latency_ms_per_example=0.12, peak_memory_mb=640.0)
    >>> print(markdown_table([row], "test accuracy").splitlines()[2])
    | gru | 0.8000 | 1,200 | 600 | 1.5 | 0.120 | 640 |
    """
    repeats = max(row["repeats"] for row in rows)
    extra = [] if baseline is None else [_baseline_cells(baseline)]
    return pipe_table(_headers(metric_name, repeats), [_cells(row) for row in rows] + extra)


def text_table(headers, lines):
    """Aligns string cells: the first column to the left, the others to the right.

    Example:

    >>> print(text_table(["cell", "accuracy"], [["rnn", "0.12"], ["lstm", "1.00"]]))
    cell  accuracy
    rnn       0.12
    lstm      1.00
    """
    table = [list(headers), *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    return "\n".join(
        "  ".join([line[0].ljust(widths[0]), *(v.rjust(w) for v, w in zip(line[1:], widths[1:]))])
        for line in table
    )


def pipe_table(headers, lines):
    """String cells as a Markdown pipe table.

    Example:

    >>> print(pipe_table(["cell", "accuracy"], [["rnn", "0.12"]]))
    | cell | accuracy |
    |---|---|
    | rnn | 0.12 |
    """
    rows = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(rows + ["| " + " | ".join(line) + " |" for line in lines])


def reference_table(references, markdown=False):
    """The backbones beside the app's references (`App.reference_scores`), best first, and the skill line.

    Example:

    >>> references = {"metric_name": "test MAE", "higher_is_better": False, "description": "10 origins",
    ...               "rows": [{"name": "gru", "kind": "backbone", "value": 0.9},
    ...                        {"name": "MSTL", "kind": "reference", "value": 1.2}]}
    >>> print(reference_table(references))
    against the references (10 origins):
    model  test MAE
    gru      0.9000
    MSTL     1.2000
    best backbone gru: 25.0% better than the best reference (MSTL)
    """
    sign = -1 if references["higher_is_better"] else 1
    rows = sorted(references["rows"], key=lambda row: sign * row["value"])
    cells = [[row["name"], f"{row['value']:.4f}"] for row in rows]
    headers = ["model", references["metric_name"]]
    table = pipe_table(headers, cells) if markdown else text_table(headers, cells)
    best = {kind: next(row for row in rows if row["kind"] == kind) for kind in ("backbone", "reference")}
    ours, theirs = best["backbone"]["value"], best["reference"]["value"]
    gain = (ours - theirs) / abs(theirs) if references["higher_is_better"] else (theirs - ours) / abs(theirs)
    verdict = (f"best backbone {best['backbone']['name']}: {abs(gain):.1%} "
               f"{'better' if gain >= 0 else 'worse'} than the best reference ({best['reference']['name']})")
    return "\n".join([f"against the references ({references['description']}):", table, verdict])


def markdown_report(report):
    """`results.md`: what was compared, under which budget, and the table."""
    metric = report["metric"]
    better = "higher" if metric["higher_is_better"] else "lower"
    lines = [
        f"# seqcore compare {report['task']}",
        "",
        f"Same data, options and seeds for every backbone: `{' '.join(report['task_args']) or '(task defaults)'}`, "
        f"units {report['units'] or 'task default'}, seeds {report['seeds']}.",
        "",
        markdown_table(report["rows"], metric["name"], report.get("baseline")),
        "",
        *([f"baseline: {report['baseline']['description']}, trained by each run on the same split."]
          if report.get("baseline") else []),
        *([reference_table(report["references"], markdown=True), ""] if report.get("references") else []),
        f"{metric['name']}: {better} is better. parameters: the whole model; recurrent: the "
        "recurrent layers alone. s/epoch: training time per epoch, validation excluded "
        "(the first epoch, which also compiles, is left out when there are more). "
        f"ms/example: one compiled call on a fixed batch of {report['latency_batch']}, after warm-up, "
        "median of 20, divided by the batch size. peak MiB: the peak resident memory of the "
        "run's own process (TensorFlow included).",
        "",
    ]
    return "\n".join(lines)


def write_report(folder, report, markdown):
    """Writes `results.json` and `results.md` (the given Markdown text) into `folder`, each atomically."""
    write_json(folder / "results.json", report)
    temporary = folder / ".results.md"
    temporary.write_text(markdown, encoding="utf-8")
    temporary.replace(folder / "results.md")
