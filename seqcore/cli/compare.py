"""`seqcore compare TASK`: the same task with several backbones, one table of measurements."""

import os
from pathlib import Path

import click

from seqcore.compare.backbones import DIRECTIONS, parse_backbones
from seqcore.errors import SeqcoreError

#: Options of an app's `train` command that `compare` sets itself, per run.
RESERVED = ("backbone", "cell", "units", "bidirectional", "seed", "out", "resume", "overwrite")


def _gaps(ctx, param, value):
    try:
        gaps = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        gaps = []
    if not gaps or min(gaps) < 0:
        raise click.BadParameter(f"expected comma-separated steps >= 0 such as 10,100; received: {value!r}")
    return sorted(set(gaps))


@click.command(name="longrange", add_help_option=False)
@click.option("--gaps", default="10,100", show_default=True, callback=_gaps,
              help="Distractor steps between the symbol and the recall marker.")
@click.option("--epochs", type=click.IntRange(min=1), default=60, show_default=True)
@click.option("--train-examples", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--test-examples", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--symbols", type=click.IntRange(min=2), default=8, show_default=True,
              help="Alphabet size (chance accuracy is 1 / symbols).")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=3e-3, show_default=True)
def longrange_options(**options):
    """Options of the long-range experiment (parsed by `compare longrange`)."""


def parse_task_options(task, args):
    """Checks the task options with the app's own `train` command; returns their values.

    Raises:
        click.UsageError: an unknown option, a bad value, or an option
            that `compare` sets itself (listed in `RESERVED`).
    """
    if task == "longrange":
        command = longrange_options
    else:
        from seqcore.compare.tasks import get_task

        command = get_task(task).train_command()
    context = command.make_context(f"seqcore compare {task}", list(args))
    given = [
        name for name in RESERVED
        if name in context.params
        and context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        raise click.UsageError(
            f"compare sets {', '.join('--' + name for name in given)} itself for each backbone; "
            "expected --cells, --bidirectional uni|bi|both, --units, --seed, --out or --overwrite "
            f"instead; received: {' '.join(args)}"
        )
    return context.params


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    short_help="Train one task with several backbones and compare them.",
)
@click.argument("task", metavar="TASK")
@click.option("--cells", default="rnn,lstm,gru", show_default=True,
              help="Backbones to compare; `+` stacks cells, e.g. rnn,lstm,gru,lstm+gru.")
@click.option("--bidirectional", type=click.Choice(DIRECTIONS), default="uni", show_default=True,
              help="Direction of every backbone; `both` runs each one uni- and bidirectional.")
@click.option("--units", type=click.IntRange(min=1), help="Units of every backbone (default: the task's).")
@click.option("--repeats", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs per backbone, with seeds SEED, SEED+1, ...; the table shows mean ± std.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the first repeat.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Output folder (default: compare/<task>-<timestamp>).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.pass_context
def compare(ctx, task, cells, bidirectional, units, repeats, seed, out, overwrite):
    """Train TASK with each backbone under the same budget and compare them.

    TASK is an app's task: sentiment, forecast, textgen, speech or any other
    registered app (each on its built-in data unless --data says otherwise),
    or longrange (the delayed-recall
    experiment). Any other option goes to the task: the options of
    `seqcore TASK train` (e.g. --limit, --epochs, --data), or for longrange
    --gaps, --epochs, --train-examples, --test-examples, --symbols,
    --batch-size, --learning-rate. Every backbone gets the same data,
    options and seeds.

    Writes OUT/results.json, OUT/results.md and PNG figures, keeps each
    run under OUT/runs/, and prints the table.

    Example: seqcore compare sentiment --cells rnn,lstm,gru --limit 2000 --epochs 2
    """
    if task != "longrange":
        from seqcore.compare.tasks import get_task

        get_task(task)  # an unknown task fails before anything else
    backbones = parse_backbones(cells, bidirectional)
    if task == "longrange" and any(backbone.bidirectional for backbone in backbones):
        raise SeqcoreError("longrange measures memory across the gap, which a backward pass "
                           "skips (it reads the symbol last); expected --bidirectional uni, "
                           f"received --bidirectional {bidirectional}")
    options = parse_task_options(task, ctx.args)

    from seqcore.compare import plots
    from seqcore.atomic import check_output
    from seqcore.compare.output import default_output

    plots.require_matplotlib()
    out = Path(out) if out else default_output(task)
    check_output(out, overwrite)
    common = {"repeats": repeats, "seed": seed, "units": units, "echo": click.echo}
    if task == "longrange":
        table = _longrange(out, overwrite, backbones, options, common)
    else:
        table = _app(task, out, overwrite, backbones, list(ctx.args), common)
    click.echo(table)
    kept = "results.md, results.json, figures" + ("" if task == "longrange" else ", runs/")
    click.echo(f"results in {out}/ ({kept})")


def _app(task, out, overwrite, backbones, task_args, common):
    from seqcore.compare import plots
    from seqcore.atomic import atomic_folder
    from seqcore.compare.report import (COLUMNS, baseline_row, format_table, markdown_report, reference_table,
                                        summarize, write_report)
    from seqcore.compare.runner import run_comparison
    from seqcore.compare.tasks import LATENCY_BATCH, get_task

    spec = get_task(task)
    if spec.references:
        from seqcore.cli.group import quiet_tensorflow

        quiet_tensorflow()  # the references are scored in this process
    with atomic_folder(out, overwrite) as work:
        runs = run_comparison(task, backbones, task_args, work, **common)
        rows = summarize(runs)
        baseline = baseline_row(runs, spec.metric)
        references = spec.reference_scores(runs, common["echo"])  # before the runs move
        for run in runs:  # the runs move with the folder: store where they end up
            run["run_dir"] = str(out / Path(run["run_dir"]).relative_to(work))
        report = {
            "task": task,
            "metric": {"name": spec.metric_name, "higher_is_better": spec.higher_is_better},
            "task_args": task_args,
            "units": common["units"],
            "seeds": [common["seed"] + r for r in range(common["repeats"])],
            "latency_batch": LATENCY_BATCH,
            "columns": list(COLUMNS),
            "rows": rows,
            "baseline": baseline,
            "references": references,
            "runs": runs,
            "environment": {**(runs[0].get("environment") or {}), "cpu_count": os.cpu_count()},
        }
        write_report(work, report, markdown_report(report))
        plots.learning_curves(runs, work / "learning_curves.png", f"{task}: learning curves")
        plots.metric_vs_parameters(rows, spec.metric_name, work / "metric_vs_params.png",
                                   f"{task}: {spec.metric_name} vs size")
    table = format_table(rows, spec.metric_name, baseline)
    return table + ("\n\n" + reference_table(references) if references else "")


def _longrange(out, overwrite, backbones, options, common):
    import time

    from seqcore.cli.group import quiet_tensorflow
    from seqcore.compare import longrange, plots
    from seqcore.atomic import atomic_folder
    from seqcore.compare.report import text_table, write_report

    quiet_tensorflow()
    settings = {
        "num_symbols": options["symbols"],
        "train_examples": options["train_examples"],
        "test_examples": options["test_examples"],
        "epochs": options["epochs"],
        "batch_size": options["batch_size"],
        "learning_rate": options["learning_rate"],
    }
    started = time.time()
    with atomic_folder(out, overwrite) as work:
        runs = longrange.run_experiment(backbones, options["gaps"], **common, **settings)
        rows = longrange.summarize(runs)
        report = {
            "task": "longrange",
            "settings": {**settings, "units": common["units"] or longrange.DEFAULTS["units"]},
            "gaps": options["gaps"],
            "seeds": [common["seed"] + r for r in range(common["repeats"])],
            "rows": rows,
            "verdict": longrange.verdict(rows),
            "runs": runs,
            "wall_seconds": None,
        }
        plots.longrange_accuracy(rows, work / "accuracy_vs_gap.png", rows[0]["chance"])
        plots.longrange_gradients(rows, work / "gradient_norms.png")
        report["wall_seconds"] = round(time.time() - started, 1)
        write_report(work, report, longrange.markdown_report(report))
    return (text_table(longrange.HEADERS, longrange.table_cells(rows))
            + f"\n{report['verdict']['summary']}")
