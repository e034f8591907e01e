"""Speech quality benchmark: cross-speaker accuracy on FSDD, and synthetic -> real transfer.

1. FSDD (five speakers, 2,500 real recordings of the digits 0-9): train the
   default model on four speakers and test on the fifth, for each speaker in
   turn; report the mean and the worst accuracy and the training time.
2. Synthesize the words zero..nine with the installed TTS engines, train the
   default model on them only, and evaluate it on all 2,500 FSDD recordings
   (digit labels mapped to the words).

Prints one JSON object. Run from the repository root:

    python benchmarks/speech_quality.py [--fsdd ../shared/data/fsdd/recordings] [--speakers george,...]
    python benchmarks/speech_quality.py --skip-synthetic --no-synthetic-voices   # recordings only
    python benchmarks/speech_quality.py --skip-synthetic --pooling mean   # the default before max pooling
    python benchmarks/speech_quality.py --skip-synthetic --units 96 --conv-filters 32,64 --pooling mean --ema 0 --no-synthetic-voices   # the earliest default
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from seqcore.registry import POOLING_MODES  # noqa: E402  (after the repository joins the path)


def describe(config, flags):
    """One line naming the model the rotations trained: the default, or the default with `flags`."""
    features, front, backbone = config["features"], config["front_end"], config["backbone"]
    inputs = (f"{features['num_mfccs']} MFCCs" if features["features"] == "mfcc"
              else f"{features['num_mel_bins']} log-mels")
    conv = ",".join(str(f) for f in front.get("conv_filters", []))
    recurrent = f"{'bi' if backbone.get('bidirectional') else ''}{backbone.get('cell', 'gru')} {backbone.get('units')}"
    rate = f"{features['sample_rate']} Hz" if features["sample_rate"] else "the source's rate"
    warp = f", VTLP {front['freq_warp']:g}" if front.get("freq_warp") else ""
    training = config["training"]
    ema = f", weights averaged (EMA {training['ema']:g})" if training.get("ema") else ""
    voices = ", TTS voices in training" if config["data"]["synthetic"] else ", recordings only"
    return (f"default{' with ' + ' '.join(flags) if flags else ''} (CRNN: conv blocks {conv} over {inputs} "
            f"at {rate}, {recurrent.upper()}, {backbone.get('pooling')} pooling{warp}{ema}{voices}, "
            f"{training['epochs']} epochs)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", default=str(REPO.parent / "shared" / "data" / "fsdd" / "recordings"))
    parser.add_argument("--speakers", help="Comma-separated speakers to rotate (default: all).")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--no-synthetic-voices", action="store_true",
                        help="Train each rotation with `train --no-synthetic-voices` (recordings only; "
                        "by default TTS voices join the training split, as `train` does).")
    parser.add_argument("--units", type=int, help="Recurrent units of the rotations' model (default: the app's).")
    parser.add_argument("--conv-filters", help="Comma-separated conv filters of the rotations' model, e.g. 48,96.")
    parser.add_argument("--pooling", choices=POOLING_MODES,
                        help="Pooling of the rotations' model over time (default: the app's).")
    parser.add_argument("--ema", type=float,
                        help="Train the rotations with `train --ema` (moving average of the weights; "
                        "0: off; default: the app's).")
    parser.add_argument("--seed", type=int, default=0, help="Training seed of every run (the splits stay fixed).")
    parser.add_argument("--skip-fsdd", action="store_true")
    parser.add_argument("--work", help="Folder for runs and synthesized clips (default: a temporary one).")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from apps.speech import commands
    from apps.speech.clips import load_source
    from apps.speech.labels import DIGIT_WORDS
    from apps.speech.synth import installed_engines

    fsdd = Path(args.fsdd)
    if not fsdd.is_dir():
        sys.exit(f"Error: FSDD not found at {fsdd}; expected ../shared/data/fsdd/recordings")
    work = Path(args.work or tempfile.mkdtemp(prefix="speech-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    clips = load_source(str(fsdd))
    speakers = args.speakers.split(",") if args.speakers else sorted(set(clips.speakers))
    report = {
        "benchmark": "speech_quality",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "tensorflow": tf.__version__, "keras": keras.__version__,
                    "tts_engines": installed_engines()},
        "data": {"fsdd": str(fsdd), "clips": len(clips.labels), "speakers": sorted(set(clips.speakers))},
    }
    options = {"units": args.units, "conv_filters": args.conv_filters, "pooling": args.pooling, "ema": args.ema}
    options = {name: value for name, value in options.items() if value is not None}
    flags = [f"--{name.replace('_', '-')} {value}" for name, value in options.items()]
    flags += ["--no-synthetic-voices"] if args.no_synthetic_voices else []
    flags += [f"--seed {args.seed}"] if args.seed else []
    model = {**options, **({"conv_filters": [int(f) for f in args.conv_filters.split(",")]}
                           if args.conv_filters else {})}
    if not args.skip_fsdd:
        rotations = {}
        for speaker in speakers:
            config = commands.resolve_config(data=str(fsdd), test_speakers=[speaker], epochs=args.epochs,
                                             seed=args.seed, **model,
                                             synthetic=False if args.no_synthetic_voices else "auto")
            started = time.time()
            run, metrics = commands.train(config, out=work / f"fsdd-{speaker}", overwrite=True,
                                          verbose=0, clips=clips)
            config = json.loads((run / "config.json").read_text())  # as resolved, TTS voices included
            rotations[speaker] = {
                "accuracy": round(metrics["test"]["accuracy"], 4),
                "worst_class_recall": round(min(c["recall"] for c in metrics["test"]["per_class"].values()), 4),
                "train_seconds": metrics["train_seconds"],
                "wall_seconds": round(time.time() - started, 1),
            }
            print(json.dumps({speaker: rotations[speaker]}), file=sys.stderr, flush=True)
        accuracies = [r["accuracy"] for r in rotations.values()]
        report["fsdd_cross_speaker"] = {
            "model": describe(config, flags),
            "config": {key: config[key] for key in ("features", "front_end", "backbone", "head", "augment", "training")},
            "rotations": rotations,
            "mean_accuracy": round(sum(accuracies) / len(accuracies), 4),
            "worst_accuracy": min(accuracies),
            "max_train_seconds": max(r["train_seconds"] for r in rotations.values()),
        }
    if not args.skip_synthetic:
        from apps.speech.synth import BUILTIN_VARIANTS, synthesize

        started = time.time()
        folder = synthesize(DIGIT_WORDS, work / "synthetic-digits", overwrite=True,
                            max_variants=BUILTIN_VARIANTS)
        synth_seconds = round(time.time() - started, 1)
        manifest = json.loads((folder / "synth.json").read_text())
        config = commands.resolve_config(data=str(folder), sample_rate=8000, epochs=args.epochs, seed=args.seed)
        run, metrics = commands.train(config, out=work / "synthetic", overwrite=True, verbose=0)
        on_fsdd = commands.evaluate(run, data=str(fsdd))
        report["synthetic_to_fsdd"] = {
            "train_data": f"{manifest['clips']} synthesized clips of zero..nine, "
                          f"{len(manifest['speakers'])} voices, resampled to 8 kHz",
            "synth_seconds": synth_seconds,
            "train_seconds": metrics["train_seconds"],
            "synthetic_test_accuracy": round(metrics["test"]["accuracy"], 4),
            "fsdd_accuracy": round(on_fsdd["accuracy"], 4),
            "fsdd_per_class_recall": {k: round(v["recall"], 4) for k, v in on_fsdd["per_class"].items()},
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
