"""`seqcore speech ...` / `seqcore-speech ...`: train, evaluate, predict, detect, export, synth."""

import json
import sys

import click

from apps.speech import settings
from apps.speech import detection_settings
from seqcore.cli.group import SeqcoreGroup
from seqcore.cli.options import backbone_options, data_option, export_command, training_options
from seqcore.cli.options import refuse_options_with_resume, shard_options, train_on_this_worker


def _words(ctx, param, value):
    if value is None:
        return None
    words = [w.strip() for w in value.split(",") if w.strip()]
    if not words:
        raise click.BadParameter(f"expected comma-separated words such as yes,no; received: {value!r}")
    return words


def _integers(ctx, param, value):
    if value is None:
        return None
    try:
        numbers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        numbers = []
    if not numbers or any(n < 1 for n in numbers):
        raise click.BadParameter(f"expected comma-separated positive integers such as 16,32; "
                                 f"received: {value!r}")
    return numbers


@click.group(cls=SeqcoreGroup)
def cli():
    """Keyword spotting: raw audio (WAV) in, keyword label and class probabilities out."""


@cli.command()
@data_option("keywords (built-in, synthesized offline; default), tfds:speech_commands, "
              "tfds:spoken_digit, a folder of WAV files: one sub-folder per label, or file "
              "names following --pattern (e.g. FSDD's recordings/), or tfrecord:DIR (written by prepare).")
@click.option("--pattern", default="{label}_{speaker}_{index}.wav", show_default=True,
              help="File-name pattern of a flat folder: {label}, {speaker}, {index}.")
@click.option("--split-by", type=click.Choice(["speaker", "random", "predefined"]),
              help="How to split: by speaker (default where speakers are known; no speaker in two "
              "splits), random, or the source's own lists / TFDS splits (default where present).")
@click.option("--test-speakers", callback=_words, help="Speakers to hold out for test, e.g. george.")
@click.option("--keywords", callback=_words, help="Labels to keep as classes; others are dropped, "
              "or become _unknown_ with --unknown.")
@click.option("--unknown", is_flag=True, help="Add an _unknown_ class of the non-keyword labels.")
@click.option("--silence", is_flag=True, help="Add a _silence_ class of generated noise and silence.")
@click.option("--synthetic-voices/--no-synthetic-voices", default=None,
              help="Add every installed text-to-speech voice saying each class's word (digits 0-9 as "
              "words) to the training split; validation and test stay real recordings. Default: on "
              "for recordings whose labels are all words or digits, where an engine is installed; "
              "off for the built-in keywords, synth's folders and tfrecord: shards.")
@click.option("--sample-rate", type=click.IntRange(min=1000), help="Model sample rate in Hz "
              "(default: the data's own rate; other rates are resampled).")
@click.option("--clip-seconds", type=click.FloatRange(min=0.05),
              default=settings.FEATURES["clip_seconds"], show_default=True,
              help="Fixed clip length; clips are centred, cropped or zero-padded.")
@click.option("--features", type=click.Choice(["mfcc", "log-mel"]),
              default=settings.FEATURES["features"], show_default=True)
@click.option("--frame-ms", type=click.FloatRange(min=1),
              default=settings.FEATURES["frame_ms"], show_default=True, help="STFT window.")
@click.option("--hop-ms", type=click.FloatRange(min=1),
              default=settings.FEATURES["hop_ms"], show_default=True, help="STFT hop.")
@click.option("--mel-bins", type=click.IntRange(min=2),
              default=settings.FEATURES["num_mel_bins"], show_default=True)
@click.option("--mfccs", type=click.IntRange(min=1),
              default=settings.FEATURES["num_mfccs"], show_default=True, help="MFCC coefficients kept.")
@click.option("--front-end", type=click.Choice(["conv", "none"]), default="conv", show_default=True,
              help="conv: convolution blocks before the recurrent layers (CRNN); none: recurrent only.")
@click.option("--conv-filters", callback=_integers, default="48,96", show_default=True,
              help="Filters of each convolution block.")
@click.option("--augment/--no-augment", default=True, show_default=True,
              help="Speed perturbation, time shift and background noise mixing while training.")
@click.option("--spec-augment/--no-spec-augment", default=True, show_default=True,
              help="SpecAugment time and frequency masks while training (conv front end).")
@click.option("--freq-warp", type=click.FloatRange(min=0.0, max=0.5), default=None,
              help="Vocal-tract-length perturbation while training: stretch the log-mel axis by "
                   "a random factor in [1 - W, 1 + W] (log-mel features only; default: "
                   "the task default).")
@click.option("--streamable", is_flag=True,
              help="Train a model that can stream (`detect`, the export's stream signature): no "
                   "convolution front end, a unidirectional stack read at its last step, features "
                   "without per-clip peak or mean normalization.")
@backbone_options(default_preset="gru")
@training_options(settings.TRAINING)
def train(data, pattern, split_by, test_speakers, keywords, unknown, silence, synthetic_voices, sample_rate,
          clip_seconds, features, frame_ms, hop_ms, mel_bins, mfccs, front_end, conv_filters,
          augment, spec_augment, freq_warp, streamable, out, resume, overwrite, strategy, mixed_precision, **options):
    """Train a keyword classifier and write a run directory.

    With no --data it trains on the built-in keyword set (yes, no, up, down,
    left, right, on, off, stop, go), synthesized offline on first use. The
    default model is a CRNN: two convolution blocks (48, 96 filters) over 13
    MFCCs, then a 128-unit bidirectional GRU with max pooling, and keeps a
    moving average of its weights (--ema). On recordings labelled with words
    or digits, the installed text-to-speech voices join the training split
    (--synthetic-voices).
    """
    from apps.speech import commands

    refuse_options_with_resume(click.get_current_context(), resume)

    config = commands.resolve_config(
        data=data, pattern=pattern, split_by=split_by, test_speakers=test_speakers,
        keywords=keywords, unknown=unknown, silence=silence,
        synthetic="auto" if synthetic_voices is None else synthetic_voices,
        sample_rate=sample_rate,
        clip_seconds=clip_seconds, features=features, frame_ms=frame_ms, hop_ms=hop_ms,
        num_mel_bins=mel_bins, num_mfccs=mfccs, front_end=front_end, conv_filters=conv_filters,
        augment=augment, spec_augment=spec_augment, **options,
        **({} if freq_warp is None else {"freq_warp": freq_warp}),
    )
    if streamable:
        from apps.speech.streaming import refuse_unstreamable_options, streamable_config

        refuse_unstreamable_options(front_end=front_end, **options)
        config = streamable_config(config)
    path, metrics = train_on_this_worker(commands.train, config, out=out, resume=resume, overwrite=overwrite,
                                                 strategy=strategy, mixed_precision=mixed_precision)
    test = metrics["test"]
    click.echo(f"test accuracy {test['accuracy']:.4f}, F1 {test['f1']:.4f} "
               f"on {test['examples']} clips; run written to {path}")




@cli.command()
@click.argument("run_dir", type=click.Path())
@data_option("Evaluate on this source instead of the run's own split; its labels "
              "must be the model's classes (digits 0-9 map to the words zero-nine).")
@click.option("--split", type=click.Choice(["test", "validation", "train", "all"]),
              help="Split to evaluate (default: test of the run's data, all of --data).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(run_dir, data, split, as_json):
    """Print accuracy, per-class recall and the confusion matrix of RUN_DIR."""
    from apps.speech import commands
    from seqcore.metrics import format_classification_metrics

    metrics = commands.evaluate(run_dir, data=data, split=split)
    click.echo(json.dumps(metrics, indent=2) if as_json else format_classification_metrics(metrics))


@cli.command()
@click.argument("model", type=click.Path())
@click.argument("inputs", nargs=-1, type=click.Path())
@click.option("--resample/--no-resample", default=True, show_default=True,
              help="Resample WAV files of another rate to the model's, or refuse them.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per clip.")
def predict(model, inputs, resample, as_json):
    """Label WAV files (or folders of them) with MODEL, a run directory or an export."""
    from apps.speech import commands

    results = commands.predict(model, inputs, allow_resample=resample)
    click.echo(commands.format_predictions(results, as_json=as_json))


@cli.command()
@click.argument("model", type=click.Path())
@click.argument("audio", type=click.Path(allow_dash=True))
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=detection_settings.THRESHOLD,
              show_default=True, help="Averaged probability a keyword must reach.")
@click.option("--average-ms", type=click.FloatRange(min=0), default=detection_settings.AVERAGE_MS,
              show_default=True, help="Window of the moving average of the probabilities.")
@click.option("--suppression-ms", type=click.FloatRange(min=0), default=detection_settings.SUPPRESSION_MS,
              show_default=True, help="After a detection, no other for this long.")
@click.option("--hop-ms", type=click.FloatRange(min=1), help="Audio per step for a run directory "
              f"(default {detection_settings.HOP_MS:g}; an export streams at its own).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per detection.")
def detect(model, audio, threshold, average_ms, suppression_ms, hop_ms, as_json):
    """Print the keywords heard in AUDIO, a WAV file or - (raw PCM on stdin), as they are heard.

    MODEL is a run trained with --streamable or its export. Each line is the
    time in seconds from the start, the keyword and its averaged
    probability. `-` reads 16-bit little-endian mono PCM at the model's
    sample rate, e.g. `arecord -f S16_LE -r 8000 -c 1 -t raw | seqcore speech detect MODEL -`.
    """
    from apps.speech.detect import detect as run_detect, format_detection

    for found in run_detect(model, audio, hop_ms=hop_ms, threshold=threshold, average_ms=average_ms,
                            suppression_ms=suppression_ms):
        click.echo(format_detection(found, as_json=as_json))
        sys.stdout.flush()


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@data_option("Any train --data source except tfrecord: (default: keywords).")
@click.option("--pattern", default="{label}_{speaker}_{index}.wav", show_default=True,
              help="File-name pattern of a flat folder: {label}, {speaker}, {index}.")
@click.option("--split-by", type=click.Choice(["speaker", "random", "predefined"]), help="As for train.")
@click.option("--test-speakers", callback=_words, help="Speakers to hold out for test.")
@click.option("--keywords", callback=_words, help="Labels to keep as classes.")
@click.option("--unknown", is_flag=True, help="Add an _unknown_ class of the non-keyword labels.")
@click.option("--silence", is_flag=True, help="Add a _silence_ class of generated noise and silence.")
@click.option("--sample-rate", type=click.IntRange(min=1000), help="Resample to this rate (default: the data's).")
@click.option("--clip-seconds", type=click.FloatRange(min=0.05),
              default=settings.FEATURES["clip_seconds"], show_default=True)
@shard_options()
def prepare(out_dir, data, pattern, split_by, test_speakers, keywords, unknown, silence, sample_rate,
            clip_seconds, shards, overwrite):
    """Write the train / validation / test clips of --data as TFRecord shards in OUT_DIR.

    Clips are stored at their fixed length and rate; train on them,
    streamed, with `train --data tfrecord:OUT_DIR` (the feature statistics
    are adapted on the first 4,096 training clips).
    """
    from apps.speech import commands

    config = commands.resolve_config(
        data=data, pattern=pattern, split_by=split_by, test_speakers=test_speakers, keywords=keywords,
        unknown=unknown, silence=silence, sample_rate=sample_rate, clip_seconds=clip_seconds,
    )
    manifest = commands.prepare(out_dir, config, shards=shards, overwrite=overwrite)
    counts = ", ".join(f"{name} {entry['count']} in {len(entry['files'])} shards"
                       for name, entry in manifest["splits"].items())
    click.echo(f"wrote {counts} to {out_dir}; train with --data tfrecord:{out_dir}")


cli.add_command(export_command("apps.speech.commands"))


@cli.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--words", callback=_words, default="yes,no,up,down,left,right,on,off,stop,go",
              show_default=True, help="Comma-separated words to speak.")
@click.option("--engines", callback=_words, help="espeak-ng, flite, festival (default: every one installed).")
@click.option("--voices", callback=_words, help="Only these voices (e.g. en-us,slt).")
@click.option("--variants", default="all", show_default=True,
              help="espeak-ng voice variants: all, none, or a comma-separated list (m3,f2,klatt).")
@click.option("--speeds", callback=_integers, default="130,175,220", show_default=True,
              help="Speaking rates in words per minute.")
@click.option("--pitches", callback=_integers, default="30,50,70", show_default=True,
              help="Pitches, 0-99 (espeak-ng scale).")
@click.option("--full-grid", is_flag=True, help="Speak every speed x pitch combination "
              "(default: cycle them over variants and words).")
@click.option("--sample-rate", type=click.IntRange(min=1000), default=16000, show_default=True)
@click.option("--clip-seconds", type=click.FloatRange(min=0.1), default=1.0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT folder.")
def synth(out, words, engines, voices, variants, speeds, pitches, full_grid, sample_rate,
          clip_seconds, overwrite):
    """Synthesize spoken keywords into OUT/<word>/<voice>_nohash_<n>.wav, offline.

    Uses every installed English voice of espeak-ng, flite and festival;
    train on the result with `train --data OUT`.
    """
    from apps.speech import commands

    variant_list = {"all": "all", "none": None}.get(variants.strip().lower())
    if variant_list is None and variants.strip().lower() != "none":
        variant_list = [v.strip() for v in variants.split(",") if v.strip()]
    path, manifest = commands.synth(
        words, out, overwrite=overwrite, engines=engines, voices=voices, variants=variant_list,
        speeds=tuple(speeds), pitches=tuple(pitches), full_grid=full_grid, sample_rate=sample_rate,
        clip_seconds=clip_seconds,
    )
    click.echo(f"{manifest['clips']} clips of {len(manifest['words'])} words in "
               f"{len(manifest['speakers'])} voices written to {path}")


def main():
    cli(prog_name="seqcore-speech")
