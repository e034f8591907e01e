"""Options shared by every task's `train` command, with choices from the registries."""

import click

from seqcore.distribute import PRECISIONS, STRATEGIES
from seqcore.registry import CELL_TYPES, POOLING_MODES, PRESETS


def _parse_cells(ctx, param, value):
    if value is None:
        return None
    cells = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in cells if name not in CELL_TYPES]
    if not cells or unknown:
        raise click.BadParameter(
            f"expected one of {', '.join(CELL_TYPES)} or a comma-separated list "
            f"such as lstm,gru; received: {value!r}"
        )
    return cells if len(cells) > 1 else cells[0]


def option_group(*options):
    """One decorator applying click options in the order given, as if stacked above the command.

    Example:

    >>> @click.command()
    ... @option_group(click.option("--a"), click.option("--b"))
    ... def command(a, b):
    ...     pass
    >>> [param.name for param in command.params]
    ['a', 'b']
    """

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def data_option(help):
    """`--data SOURCE`: the source a command reads; `help` names the app's sources."""
    return click.option("--data", metavar="SOURCE", help=help)


def shard_options():
    """`--shards` and `--overwrite` of every app's `prepare` (TFRecord shards in OUT_DIR)."""
    return option_group(
        click.option("--shards", type=click.IntRange(min=1), default=8, show_default=True,
                     help="TFRecord files per split (at least the number of workers, to shard by file)."),
        click.option("--overwrite", is_flag=True, help="Replace an existing OUT_DIR."),
    )


def backbone_options(default_preset):
    """`--backbone` and the options that override a preset's (and the task's) values."""
    return option_group(
        click.option(
            "--backbone",
            type=click.Choice(PRESETS.names()),
            default=default_preset,
            show_default=True,
            help="Backbone preset (see `seqcore backbones`).",
        ),
        click.option(
            "--cell",
            callback=_parse_cells,
            help="Cell per layer: rnn, lstm or gru; a list such as lstm,gru makes a mixed stack.",
        ),
        click.option("--units", type=click.IntRange(min=1), help="Hidden units per direction."),
        click.option("--layers", type=click.IntRange(min=1), help="Number of recurrent layers."),
        click.option(
            "--bidirectional/--unidirectional",
            default=None,
            help="Read the sequence in both directions (doubles the width).",
        ),
        click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), help="Input dropout of each recurrent layer."),
        click.option(
            "--recurrent-dropout",
            type=click.FloatRange(0, 1, max_open=True),
            help="Dropout on the recurrent state; above 0 it leaves the fast cuDNN path.",
        ),
        click.option(
            "--pooling",
            type=click.Choice(POOLING_MODES),
            help="How the sequence is summarized for the head.",
        ),
    )


def training_options(defaults, help=None):
    """`--out`, `--epochs`, `--batch-size`, `--seed`, `--resume` and friends.

    Args:
        defaults: the task's training defaults, `{"epochs", "batch_size",
            "patience", "ema"}` (its `settings.TRAINING`), the same values
            its `resolve_config` defaults to.
        help: optional `{"epochs", "patience"}` help texts, for a task
            whose default for them is None (resolved from its data).
    """
    help = help or {}
    return option_group(
        click.option(
            "--out",
            type=click.Path(file_okay=False),
            help="Run directory to write (default: runs/<task>-<timestamp>).",
        ),
        click.option("--epochs", type=click.IntRange(min=1), default=defaults["epochs"], show_default=True,
                     help=help.get("epochs")),
        click.option("--batch-size", type=click.IntRange(min=1), default=defaults["batch_size"], show_default=True),
        click.option("--seed", type=int, default=0, show_default=True, help="Seeds weights and shuffling."),
        click.option("--patience", type=click.IntRange(min=1), default=defaults["patience"], show_default=True,
                     help=f"Early-stopping patience in epochs. {help.get('patience', '')}".strip()),
        click.option("--ema", type=click.FloatRange(min=0.0, max=1.0, max_open=True), default=defaults["ema"],
                     show_default=True, help="Keep an exponential moving average of the weights with this "
                     "momentum (e.g. 0.995); validation, the best checkpoint and the saved model use "
                     "the average, which a short run narrows to at most a tenth of its steps. 0: off."),
        click.option(
            "--resume",
            is_flag=True,
            help="Finish the interrupted run in <out>.partial with its own configuration.",
        ),
        click.option("--overwrite", is_flag=True, help="Replace an existing run at --out."),
        click.option(
            "--strategy",
            type=click.Choice(STRATEGIES),
            default="auto",
            show_default=True,
            help="tf.distribute strategy: auto is mirrored over several GPUs, else one device; "
            "multi-worker reads the cluster from TF_CONFIG (only the chief writes the run). "
            "--batch-size is per replica.",
        ),
        click.option(
            "--mixed-precision",
            type=click.Choice(PRECISIONS),
            help="Run the backbone in this precision with float32 weights and outputs; "
            "faster on GPUs with tensor cores (float16) and TPUs or recent CPUs (bfloat16).",
        ),
    )


def refuse_options_with_resume(ctx, resume, allowed=("out", "resume", "strategy")):
    """`--resume` continues a run with its own configuration: other options are an error.

    `--strategy` says where to run, not what to train, so a cluster job is
    restarted with its own command plus `--resume`.

    Usage, inside a `train` command::

        refuse_options_with_resume(click.get_current_context(), resume)
    """
    if not resume:
        return
    given = [
        "--" + name.replace("_", "-")
        for name in ctx.params
        if name not in allowed
        and ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        raise click.UsageError(
            "--resume finishes the interrupted run with its own configuration; "
            f"expected only --out, --resume and --strategy; received also: {', '.join(given)}"
        )


def export_command(commands_module):
    """The `export RUN_DIR EXPORT_BASE [--version N] [--format tflite [--quantize]]` command of an app.

    Args:
        commands_module: dotted name of the app's module with an
            `export(run_dir, export_base, version=None, format="saved_model",
            quantize=False)` function, imported only when the command runs.

    Example:

    >>> command = export_command("apps.sentiment.commands")
    >>> command.name, sorted(p.name for p in command.params)
    ('export', ['export_base', 'export_format', 'quantize', 'run_dir', 'version'])
    """
    from seqcore.cli.group import SeqcoreCommand

    @click.command(name="export", cls=SeqcoreCommand)
    @click.argument("run_dir", type=click.Path())
    @click.argument("export_base", type=click.Path(file_okay=False))
    @click.option("--version", type=click.IntRange(min=1),
                  help="Version folder to write (default: the next free one).")
    @click.option("--format", "export_format", type=click.Choice(["saved_model", "tflite"]), default="saved_model",
                  show_default=True, help="tflite: also TensorFlow Lite models in <version>/tflite/ (float32, "
                  "builtin ops only), each reloaded and checked against the Keras model.")
    @click.option("--quantize", is_flag=True,
                  help="With --format tflite, also a dynamic-range int8 model (int8 weights) of each.")
    def export(run_dir, export_base, version, export_format, quantize):
        """Export RUN_DIR as a SavedModel under EXPORT_BASE/<version>/ for TensorFlow Serving."""
        import importlib

        if quantize and export_format != "tflite":
            raise click.BadParameter("needs --format tflite (it quantizes the TFLite models)",
                                     param_hint="'--quantize'")
        options = {"format": "tflite", "quantize": quantize} if export_format == "tflite" else {}
        path = importlib.import_module(commands_module).export(run_dir, export_base, version=version, **options)
        click.echo(f"exported to {path}")
        if export_format == "tflite":
            from seqcore.tflite import report_lines

            for line in report_lines(path):
                click.echo(line)
        click.echo(f"inspect it: saved_model_cli show --dir {path} --all")

    return export


def train_on_this_worker(train, config, **run_options):
    """Runs an app's `train(config, **run_options)` and returns `(path, metrics)` on the chief.

    A non-chief worker of a multi-worker job trains its share and writes
    nothing: it says where the chief writes the run, and the command ends
    there (exit status 0).
    """
    path, metrics = train(config, **run_options)
    if metrics is None:
        click.echo(f"worker done; the chief writes the run to {path}")
        click.get_current_context().exit(0)
    return path, metrics
