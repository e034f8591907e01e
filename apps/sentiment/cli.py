"""`seqcore sentiment ...` / `seqcore-sentiment ...`: train, evaluate, predict, export."""

import json
import sys

import click

from apps.sentiment import settings
from seqcore.cli.group import SeqcoreGroup
from seqcore.cli.options import backbone_options, data_option, export_command, option_group, training_options
from seqcore.cli.options import refuse_options_with_resume, shard_options, train_on_this_worker


@click.group(cls=SeqcoreGroup)
def cli():
    """Sentiment analysis: raw text in, label and class probabilities out."""


def _source_options(data_help):
    """`--data` and how to read it (shared by train, prepare and corpus)."""
    return option_group(
        data_option(data_help),
        click.option("--text-col", default="text", show_default=True, help="Text column of a file source."),
        click.option("--label-col", default="label", show_default=True, help="Label column of a file source."),
        click.option("--limit", type=click.IntRange(min=3), help="Use at most this many examples (quick runs)."),
    )


@cli.command()
@_source_options("imdb (built-in, default), rotten-tomatoes, tfds:NAME, a .csv/.tsv/.jsonl file, a folder "
                 "with one sub-folder of .txt files per class, or tfrecord:DIR (written by prepare).")
@click.option("--max-tokens", type=click.IntRange(min=3), default=20000, show_default=True, help="Vocabulary size.")
@click.option("--sequence-length", type=click.IntRange(min=1),
              help="Keep only the first N tokens of each text. [default: every token, whole documents]")
@click.option("--wide/--no-wide", default=True, show_default=True,
              help="A linear path over word 1-3 grams (NBSVM features) beside the recurrent one, "
              "trained apart and joined with a weight picked on validation.")
@click.option("--init-from", type=click.Path(), help="Start the backbone (embedding + recurrent layers) "
              "from this finished run's; its cell, units, layers and vocabulary must fit.")
@backbone_options(default_preset="lstm")
@training_options(settings.TRAINING)
def train(data, text_col, label_col, limit, max_tokens, sequence_length, wide, init_from, out, resume,
          overwrite, strategy, mixed_precision, **options):
    """Train a sentiment classifier and write a run directory.

    With no --data it trains on the built-in IMDB reviews, offline; with
    --data tfrecord:DIR on shards written by `prepare`, streamed. Unless a
    preset or an option says otherwise, the backbone uses mean pooling,
    input dropout 0.3 and 64-wide token embeddings.
    """
    from apps.sentiment import commands

    refuse_options_with_resume(click.get_current_context(), resume)
    config = commands.resolve_config(
        data=data,
        text_column=text_col,
        label_column=label_col,
        limit=limit,
        max_tokens=max_tokens,
        sequence_length=sequence_length,
        wide=wide,
        init_from=init_from,
        **options,
    )
    path, metrics = train_on_this_worker(commands.train, config, out=out, resume=resume, overwrite=overwrite,
                                                 strategy=strategy, mixed_precision=mixed_precision)
    test = metrics["test"]
    reference = metrics.get("baseline")
    against = f" (baseline {reference['test']['accuracy']:.4f})" if reference else ""
    click.echo(
        f"test accuracy {test['accuracy']:.4f}{against}, F1 {test['f1']:.4f} "
        f"on {test['examples']} examples; run written to {path}"
    )


@cli.command()
@click.argument("run_dir", type=click.Path())
@data_option("Evaluate on another labelled source instead: its test split if it has one, else all of it.")
@click.option("--text-col", help="Text column of --data (default: the run's).")
@click.option("--label-col", help="Label column of --data (default: the run's).")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test", show_default=True,
              help="Which split of the run's own data.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Also report the TF-IDF n-gram baseline on the same texts (trained on the run's "
              "training split; saved with runs trained by this version).")
def evaluate(run_dir, data, text_col, label_col, split, as_json, baseline):
    """Print accuracy, precision, recall, F1 and the confusion matrix of RUN_DIR, and the baseline's."""
    from apps.sentiment import commands
    from seqcore.metrics import format_classification_metrics

    metrics = commands.evaluate(
        run_dir, data=data, split=split, text_column=text_col, label_column=label_col,
        with_baseline=baseline,
    )
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    reference = metrics.pop("baseline", None)
    click.echo(format_classification_metrics(metrics))
    if reference:
        gain = 100 * (metrics["accuracy"] - reference["accuracy"])
        click.echo(f"\nbaseline ({reference['description']}) on the same {reference['examples']} texts:")
        side = "above" if gain >= 0 else "below"
        click.echo(f"accuracy {reference['accuracy']:.4f}, F1 {reference['f1']:.4f}; "
                   f"the model is {abs(gain):.1f} points {side} it")


@cli.command()
@click.argument("model", type=click.Path())
@click.argument("texts", nargs=-1)
@click.option("--file", "file", type=click.Path(allow_dash=True), help="One text per line; - reads stdin.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input.")
def predict(model, texts, file, as_json):
    """Label TEXTS with MODEL, a run directory or an export directory.

    Texts come from the arguments, from --file, or from stdin when piped.
    """
    from apps.sentiment import prediction

    inputs = prediction.gather_texts(texts, file=file, stdin=sys.stdin)
    for batch in prediction.predict_batches(model, inputs):  # streamed: bounded memory for any file
        click.echo(prediction.format_predictions(batch, as_json=as_json))


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@_source_options("Any train --data source except tfrecord: (default: imdb).")
@shard_options()
def prepare(out_dir, data, text_col, label_col, limit, shards, overwrite):
    """Write the train / validation / test splits of --data as TFRecord shards in OUT_DIR.

    Train on them, streamed, with `train --data tfrecord:OUT_DIR`.
    """
    from apps.sentiment import commands

    manifest = commands.prepare(out_dir, data=data, text_column=text_col, label_column=label_col,
                                limit=limit, shards=shards, overwrite=overwrite)
    counts = ", ".join(f"{name} {entry['count']} in {len(entry['files'])} shards"
                       for name, entry in manifest["splits"].items())
    click.echo(f"wrote {counts} to {out_dir}; train with --data tfrecord:{out_dir}")


@cli.command()
@click.argument("out_file", type=click.Path(dir_okay=False))
@_source_options("Any train --data source except tfrecord: (default: imdb).")
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT_FILE.")
def corpus(out_file, data, text_col, label_col, limit, overwrite):
    """Write the training split's texts, as the classifier reads them, one per line, to OUT_FILE.

    Unlabelled text for a word-level language model (`seqcore textgen train
    --data OUT_FILE --level word`) whose backbone `train --init-from` then
    starts from. Validation and test texts are never written.
    """
    from apps.sentiment import commands
    from apps.sentiment.corpus import write_corpus

    splits = commands._load_splits({"source": commands._absolute_if_path(data or "imdb"), "text_column": text_col,
                                    "label_column": label_col, "limit": limit})
    texts, words = write_corpus(out_file, splits, overwrite=overwrite)
    click.echo(f"wrote {texts} training texts ({words} words) to {out_file}")


cli.add_command(export_command("apps.sentiment.export"))


def main():
    cli(prog_name="seqcore-sentiment")
