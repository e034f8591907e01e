"""`seqcore forecast ...` / `seqcore-forecast ...`: train, evaluate, predict, export, prepare."""

import json

import click

from apps.forecast import settings
from seqcore.cli.group import SeqcoreGroup
from seqcore.cli.options import backbone_options, data_option, export_command, option_group, training_options
from seqcore.cli.options import refuse_options_with_resume, shard_options, train_on_this_worker
from seqcore.registry import FORECAST_HEADS


def _warn(line):
    click.echo(f"Warning: {line}", err=True)


@click.group(cls=SeqcoreGroup)
def cli():
    """Forecasting: raw multivariate history in, multi-step forecast with intervals out."""


def _data_options(data_help):
    """The options that choose the series and cut its windows (shared by train and prepare)."""
    return option_group(
        data_option(data_help),
        click.option("--time-col", help="Timestamp column of a file (ISO 8601); enables the season "
                     "and future times."),
        click.option("--target", help="Column(s) to forecast, comma-separated (required for a file)."),
        click.option("--features", help="Past covariate column(s), comma-separated; '' for none."),
        click.option("--future-features", help="Known-future covariate column(s) (a workday flag, a "
                     "weather forecast...): read over the horizon too; '' for none (default for "
                     "elecdemand: Temperature,WorkDay)."),
        click.option("--country", help="Add a known-future 'holiday' flag from the time column: public "
                     "holidays of this ISO country code (e.g. US, GB, AU-VIC), from the holidays package."),
        click.option("--id-col", help="Column naming the series of each row, for several series in "
                     "one file."),
        click.option("--lookback", type=int, default=settings.WINDOW["lookback"], show_default=True,
                     help="History steps the model reads."),
        click.option("--horizon", type=int, default=settings.WINDOW["horizon"], show_default=True,
                     help="Steps forecast at once."),
        click.option("--stride", type=int, default=settings.WINDOW["stride"], show_default=True,
                     help="Steps between training window origins (evaluation uses every origin)."),
        click.option("--season", type=int, help="Seasonal period in steps (default: from the time step, "
                     "e.g. 48 for 30 min)."),
    )


def _shard_windows(ctx, data, options):
    """With `tfrecord:DIR` the shards fix the window sizes: defaults left unset become None."""
    from click.core import ParameterSource

    from seqcore.tfrecords import is_tfrecord_source

    if is_tfrecord_source(data):
        for name in ("lookback", "horizon", "stride"):
            if ctx.get_parameter_source(name) is ParameterSource.DEFAULT:
                options[name] = None
    return options


@cli.command()
@_data_options("elecdemand (built-in, default), taylor, sunspots, a .csv / .tsv file, or tfrecord:DIR "
               "(windows written by prepare; they fix the data and window options).")
@click.option("--head", type=click.Choice(FORECAST_HEADS), default="direct", show_default=True,
              help="Emit every step at once, or one step at a time fed back.")
@click.option("--quantiles", default=",".join(map(str, settings.QUANTILES)), show_default=True,
              help="Forecast quantiles (0.5 is always added); 'none' for a point forecast.")
@click.option("--residual/--no-residual", default=True, show_default=True,
              help="Predict the median as a correction of the seasonal naive forecast.")
@click.option("--highway/--no-highway", default=True, show_default=True,
              help="Direct head: add a linear map of the lookback window of the targets (LSTNet).")
@click.option("--base-seasons", type=click.IntRange(min=1), default=settings.BASE["base_seasons"],
              show_default=True, help="Direct head, with --residual: the naive forecast averages the "
              "profiles of up to this many past seasons (as many as the lookback holds) with learned weights, "
              "around an exponentially smoothed level; 1 repeats the last season.")
@click.option("--window-level/--no-window-level", default=settings.BASE["window_level"], show_default=True,
              help="Direct head: read the history relative to its level in the window (DeepAR, RevIN).")
@click.option("--calendar/--no-calendar", default=None,
              help="Read time of day, day of week and day of year from the timestamps (default: on "
              "wherever the series has a fixed time step).")
@click.option("--calibrate/--no-calibrate", default=True, show_default=True,
              help="Calibrate the quantiles on the validation part (conformal).")
@backbone_options(default_preset="lstm")
@training_options(settings.TRAINING, help=settings.TRAINING_HELP)
def train(data, time_col, target, features, future_features, country, id_col, out, resume, overwrite,
          strategy, mixed_precision, **options):
    """Train a forecaster and write a run directory.

    With no --data it trains on the built-in half-hourly Victorian
    electricity demand (targets: Demand; covariates: Temperature, WorkDay),
    offline. Windows are split chronologically 70 / 15 / 15; input scaling
    is fitted on the training part and saved inside the model. With
    --data tfrecord:DIR it streams the windows `prepare` wrote.
    """
    from apps.forecast import commands
    from apps.forecast.metrics import format_report

    ctx = click.get_current_context()
    refuse_options_with_resume(ctx, resume)
    config = commands.resolve_config(
        data=data, time_column=time_col, target=target, features=features, future_features=future_features,
        country=country, id_column=id_col, **_shard_windows(ctx, data, options),
    )
    path, metrics = train_on_this_worker(commands.train, config, out=out, resume=resume, overwrite=overwrite,
                                                 echo=_warn, strategy=strategy, mixed_precision=mixed_precision)
    click.echo(format_report(metrics["test"], title="test part:"))
    click.echo(f"run written to {path}")


@cli.command()
@click.argument("run_dir", type=click.Path())
@data_option("Evaluate on this source (same columns) instead of the run's own data.")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test", show_default=True)
@click.option("--backtest", type=click.IntRange(min=1),
              help="Also report N consecutive ranges of the origins on their own.")
@click.option("--origin-every", type=click.IntRange(min=1),
              help="Steps between forecast origins (default: half the horizon; 1 for every origin).")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Also score statsforecast's AutoETS, MSTL and Theta on the same origins (AutoETS and "
              "Theta fitted about eight times per series and carried forward in between; needs the baselines "
              "extra).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a PNG of the last window's forecast.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(run_dir, data, split, backtest, origin_every, baselines, plot, as_json):
    """Print MAE, RMSE, sMAPE, MASE and coverage of RUN_DIR and of the baselines on the same origins.

    The baselines: the naive and seasonal naive forecasts, and
    statsforecast's AutoETS, MSTL and Theta on the history before each
    origin (when statsforecast is installed): MSTL fitted at every origin,
    AutoETS and Theta every k origins (about eight fits per series; the
    output says k) and carried forward from their fitted state in between.
    """
    from apps.forecast.evaluation import evaluate as evaluate_run
    from apps.forecast.evaluation import format_evaluation

    report = evaluate_run(run_dir, data=data, split=split, backtest=backtest, plot=plot, echo=_warn,
                          origin_every=origin_every, baselines=baselines)
    click.echo(json.dumps(report, indent=2) if as_json else format_evaluation(report))


@cli.command()
@click.argument("model", type=click.Path())
@click.argument("history", type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the forecast CSV here (default: stdout).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a PNG of history and forecast.")
@click.option("--time-col", help="Timestamp column of HISTORY, when the model was trained without one.")
def predict(model, history, output, plot, time_col):
    """Forecast the steps after HISTORY (a CSV) with MODEL, a run or export directory.

    HISTORY has the training columns and at least lookback rows per series;
    the output has one row per future step: the median and each quantile
    of every target.
    """
    from apps.forecast import prediction

    header, rows = prediction.predict(model, history, plot=plot, echo=_warn, time_column=time_col)
    text = prediction.format_csv(header, rows)
    if output:
        prediction.write_text_atomically(output, text)
        click.echo(f"forecast written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@_data_options("Any train --data source except tfrecord: (default: elecdemand).")
@shard_options()
def prepare(out_dir, data, time_col, target, features, future_features, country, id_col, shards, overwrite,
            **window):
    """Write the train / validation / test windows of --data as TFRecord shards in OUT_DIR.

    The windows are those train would cut (train windows --stride apart,
    shuffled; validation and test at every origin); the manifest keeps the
    columns, MASE scales and input statistics. Train on them, streamed,
    with `train --data tfrecord:OUT_DIR`.
    """
    from apps.forecast.commands import resolve_config
    from apps.forecast.shards import prepare as prepare_shards

    config = resolve_config(data=data, time_column=time_col, target=target, features=features,
                            future_features=future_features, country=country, id_column=id_col, **window)
    manifest = prepare_shards(out_dir, config, shards=shards, overwrite=overwrite, echo=_warn)
    counts = ", ".join(f"{name} {entry['count']} in {len(entry['files'])} shards"
                       for name, entry in manifest["splits"].items())
    click.echo(f"wrote {counts} to {out_dir}; train with --data tfrecord:{out_dir}")


cli.add_command(export_command("apps.forecast.export"))


def main():
    cli(prog_name="seqcore-forecast")
