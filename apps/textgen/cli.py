"""`seqcore textgen ...` / `seqcore-textgen ...`: train, evaluate, generate, export."""

import json

import click

from apps.textgen import settings
from seqcore.cli.group import SeqcoreGroup
from seqcore.cli.options import backbone_options, data_option, export_command, training_options
from seqcore.cli.options import refuse_options_with_resume, train_on_this_worker


@click.group(cls=SeqcoreGroup)
def cli():
    """Text generation: a character- or word-level recurrent language model."""


@cli.command()
@data_option(
    "shakespeare (built-in, default: 38 plays, Hamlet held out), tfds:NAME "
    "(e.g. tfds:tiny_shakespeare), a text file, comma-separated files, or a folder."
)
@click.option("--level", type=click.Choice(settings.LEVELS), default="char", show_default=True)
@click.option("--seq-len", type=click.IntRange(min=1), help="Tokens per training window (truncated BPTT). [char: 100, word: 50]")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Vocabulary cap. [char: 1000, word: 20000]")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Share of each of your files held out (end of file).")
@click.option("--embedding-dim", type=click.IntRange(min=1), help="Token embedding width. [64]")
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=2e-3, show_default=True)
@click.option("--max-minutes", type=click.FloatRange(0, min_open=True), help="Stop training after this long (the epoch still validates).")
@backbone_options(default_preset="gru")
@training_options(settings.TRAINING)
def train(data, level, seq_len, max_tokens, validation_fraction, embedding_dim, learning_rate,
          max_minutes, out, resume, overwrite, **options):
    """Train a language model and write a run directory.

    With no --data it trains on the built-in Shakespeare plays, offline.
    Unless a preset or an option says otherwise the backbone is one GRU
    layer of 384 units over 64-wide embeddings. Text is streamed from disk,
    so corpora larger than memory work; the vocabulary is built from the
    first ~10 MB of the training part.
    """
    from apps.textgen import commands

    refuse_options_with_resume(click.get_current_context(), resume)
    strategy, mixed_precision = options.pop("strategy"), options.pop("mixed_precision")
    config = commands.resolve_config(
        data=data, level=level, seq_len=seq_len, max_tokens=max_tokens,
        validation_fraction=validation_fraction, embedding_dim=embedding_dim,
        learning_rate=learning_rate, max_minutes=max_minutes, **options,
    )
    path, metrics = train_on_this_worker(commands.train, config, out=out, resume=resume, overwrite=overwrite,
                                                 strategy=strategy, mixed_precision=mixed_precision)
    held_out = metrics.get("test", metrics["validation"])
    click.echo(
        f"{held_out['text']}: {held_out['nats_per_char']:.4f} nats/char "
        f"({held_out['bits_per_char']:.4f} bits/char), perplexity {held_out['perplexity']:.2f} "
        f"per token; run written to {path}"
    )


@cli.command()
@click.argument("run_dir", type=click.Path())
@data_option("A text file or folder to score instead of the run's held-out text.")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(run_dir, data, split, as_json):
    """Print cross-entropy per character (nats and bits) and per token (perplexity) of RUN_DIR."""
    from apps.textgen import commands

    metrics = commands.evaluate(run_dir, data=data, split=split)
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    click.echo(
        f"{metrics['text']}: {metrics['nats_per_char']:.4f} nats/char, "
        f"{metrics['bits_per_char']:.4f} bits/char; {metrics['nats_per_token']:.4f} nats/token, "
        f"perplexity {metrics['perplexity']:.2f} over {metrics['tokens']} tokens"
    )


@cli.command()
@click.argument("model", type=click.Path())
@click.option("--prompt", default="", help="Text to continue (unseen characters read as the unknown token).")
@click.option("--length", type=int, default=300, show_default=True, help="Tokens to generate (characters at char level).")
@click.option("--temperature", type=float, default=0.8, show_default=True, help="0 is greedy.")
@click.option("--top-k", type=int, default=0, show_default=True, help="Sample among the K most likely tokens (0: all).")
@click.option("--top-p", type=float, default=1.0, show_default=True, help="Nucleus sampling, in (0, 1].")
@click.option("--repetition-penalty", type=float, default=1.0, show_default=True,
              help="Above 1 discourages tokens already used.")
@click.option("--stop", multiple=True, help="Stop before this string (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same text.")
def generate(model, prompt, length, temperature, top_k, top_p, repetition_penalty, stop, seed):
    """Continue --prompt with MODEL, a run directory or an export directory."""
    from apps.textgen import commands

    text = commands.generate(
        model, prompt, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
        repetition_penalty=repetition_penalty, seed=seed, stop=stop,
        warn=lambda line: click.echo(line, err=True),
    )
    click.echo(text)


cli.add_command(export_command("apps.textgen.commands"))


def main():
    cli(prog_name="seqcore-textgen")
