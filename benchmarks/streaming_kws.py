"""Streaming keyword spotting on a long generated stream of held-out FSDD speakers.

Like TensorFlow's `speech_commands` `test_streaming_accuracy`:

1. Train (or reuse, `--run`) a streamable digits model (`train --streamable`:
   unidirectional GRU, last-step pooling, causal features) with the product's
   trainer on FSDD with the built-in speaker split: test speaker `nicolas`,
   validation speaker `lucas`, the other three train. `_silence_` (generated
   noise, `--silence`) and `_unknown_` speech join the training split: a
   quarter of the built-in TTS command words (yes, no, up, ...) and 1 s
   windows of TTS sentences other than the streams' sentences; and, as
   `train` does on digits, the TTS voices saying the digits.
2. Generate two long streams (default 10 minutes each) at the model's rate:
   one from the validation speaker's clips (to choose the detection
   threshold) and one from the test speaker's clips (reported). Each is
   continuous background noise (white, pink-ish, brown; its level drifts)
   with, in random order, the speaker's digit clips and non-keyword speech:
   English sentences with no digit word in them, spoken by every espeak-ng
   and flite voice installed (different words from the training `_unknown_`
   words), separated by 0.6-2 s gaps.
3. Export the model (SavedModel with the `stream` signature) and convert the
   stream step to TensorFlow Lite float32 and dynamic-range int8; run each
   over the test stream one 20 ms hop at a time, and score detections.

A keyword is one spoken digit clip. A detection is a hit when it carries
that clip's digit and falls between the clip's start and 1 s after its end;
every other detection (outside any keyword's window, a wrong digit, or a
second detection of the same clip) is a false accept. The detection
threshold is the lowest one (of a grid) at which the validation stream has
at most `--max-fa-per-hour` false accepts per hour; the test stream is then
scored at that threshold (and, for the record, at every threshold of the
grid).

Per-hop latency is the median wall time of one step (state in, probabilities
and state out) over the test stream, pinned to one CPU core
(`os.sched_setaffinity`) with the TFLite interpreter on one thread.

Prints one JSON object. Run from the repository root:

    python benchmarks/streaming_kws.py                     # train, then measure (about 20 minutes on 2 cores)
    python benchmarks/streaming_kws.py --run runs/kws-stream --minutes 10   # reuse a trained run
    python benchmarks/streaming_kws.py --tiny              # seconds: a smoke run of the whole path
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

DIGIT_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh",
               "to", "too", "for", "fore", "won", "ate", "ten", "tree", "free", "sex", "fine", "wine"}
#: Non-keyword speech of the streams: no digit word, nor a word that sounds like one.
SENTENCES = [
    "the weather is warm and the sky is clear this morning",
    "please turn off the lights in the kitchen when you leave",
    "she bought bread and cheese at the market yesterday",
    "a quick brown fox jumps over the lazy dog",
    "we should meet again next week and talk about the plan",
    "the river runs slowly through the quiet valley",
    "could you open the window a little bit",
    "my brother likes playing chess in the evening",
    "the train was late because of the heavy snow",
    "this book tells the story of a brave young sailor",
    "remember water the plants on the balcony",
    "he painted the fence green last summer",
    "the children laughed at the funny little puppy",
    "coffee tastes better with a little milk",
    "our neighbours are moving house at the end of the month",
    "the museum is closed on mondays",
    "listen carefully and repeat after me",
    "a cold wind blew across the empty beach",
    "they walked along the path until it was dark",
    "the doctor said he needs plenty of rest",
    "good morning everybody and welcome back",
    "the cat is sleeping on the soft blue blanket",
    "turn left at the bank and go straight ahead",
    "what time does the shop close today",
    "i would like a cup of tea please",
    "the garden is full of roses and tulips",
    "music was playing loudly in the hall",
    "an apple a day keeps the doctor away",
]
#: Other sentences, cut into 1 s windows, are the training split's `_unknown_` speech.
TRAIN_SENTENCES = [
    "she sells sea shells by the sea shore",
    "the old man walked his dog in the park",
    "a bright red kite flew high above the hill",
    "dinner is ready so please wash your hands",
    "the library has many books about history",
    "we planted carrots and beans in the spring",
    "the pilot landed the plane safely in the storm",
    "please call me back when you get home",
    "the baker makes fresh bread every morning",
    "snow covered the roofs of the little village",
    "my sister paints pictures of horses and birds",
    "the meeting starts right after lunch",
    "he forgot his umbrella at the station",
    "the band played a slow song at the wedding",
    "clean your room before your friends arrive",
    "the mountain road was narrow and steep",
]
ESPEAK_VOICES = ["en-us", "en-gb", "en-029", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc"]
FLITE_VOICES = ["slt", "rms", "awb", "kal"]


def log(message):
    print(message, file=sys.stderr, flush=True)


# Data ---------------------------------------------------------------------------------------------


def merged_clips(fsdd, unknown_words=None):
    """FSDD's clips, plus `_unknown_` speech: the built-in TTS command words and sentence windows.

    The `_unknown_` clips are labelled so directly (not through `--unknown`,
    whose quota keeps as many as the average keyword), each TTS voice a
    speaker, so they all land in the training split.
    """
    import dataclasses

    from apps.speech.clips import load_folder, load_source
    from apps.speech.synth import builtin_keywords

    clips = load_source(fsdd)
    words = load_folder(builtin_keywords())
    keep = [i for i, label in enumerate(words.labels)  # a quarter: _unknown_ near a digit's size x 2
            if (not unknown_words or label in unknown_words) and i % 4 == 0]
    if keep:
        words = dataclasses.replace(words, **{k: [getattr(words, k)[i] for i in keep]
                                              for k in ("waveforms", "rates", "labels", "speakers")},
                                    names=None)
    rate = 8000
    windows = []
    with tempfile.TemporaryDirectory() as folder:
        for audio in tts_sentences(rate, folder, sentences=TRAIN_SENTENCES):
            for start in range(0, max(len(audio) - rate, 0) + 1, rate // 2):
                windows.append(audio[start : start + rate])
    return dataclasses.replace(
        clips,
        waveforms=clips.waveforms + words.waveforms + windows,
        rates=clips.rates + words.rates + [rate] * len(windows),
        labels=clips.labels + ["_unknown_"] * (len(words.labels) + len(windows)),
        speakers=clips.speakers + words.speakers + [f"tts-sentences-{i % 10}" for i in range(len(windows))],
        splits=None, names=None,
        description=f"{clips.description} + TTS command words and sentence windows as _unknown_")


def speaker_clips(fsdd, speaker, rate):
    """`[(digit label, waveform at rate)]` of one FSDD speaker."""
    from apps.speech.audio_files import decode_wav, wav_files
    from apps.speech.clips import FSDD_PATTERN, pattern_regex
    from seqcore.audio import resample

    regex = pattern_regex(FSDD_PATTERN)
    clips = []
    for file in wav_files(fsdd):
        match = regex.fullmatch(file.name)
        if match and match.group("speaker") == speaker:
            audio, file_rate = decode_wav(file)
            clips.append((match.group("label"), resample(audio, file_rate, rate)))
    return clips


def tts_sentences(rate, folder, limit=None, sentences=SENTENCES):
    """A third of the sentence x voice grid of the installed espeak-ng / flite voices (waveforms at `rate`)."""
    from apps.speech.audio_files import decode_wav
    from seqcore.audio import resample

    for sentence in sentences:
        bad = set(sentence.split()) & DIGIT_WORDS
        assert not bad, f"sentence has a digit-like word {bad}: {sentence}"
    jobs = []
    if shutil.which("espeak-ng"):
        jobs += [["espeak-ng", "-v", voice, "-s", str(speed), "-w", "{out}", "{text}"]
                 for voice, speed in zip(ESPEAK_VOICES, [150, 170, 190, 160, 180, 175])]
    if shutil.which("flite"):
        jobs += [["flite", "-voice", voice, "-t", "{text}", "-o", "{out}"] for voice in FLITE_VOICES]
    if not jobs:
        raise SystemExit("no text-to-speech engine (espeak-ng or flite) is installed; "
                         "apt-get install espeak-ng flite")
    speech = []
    for index, sentence in enumerate(sentences[:limit]):
        for number, job in enumerate(jobs):
            if (index + number) % 3:  # a third of the voice x sentence grid is plenty
                continue
            out = Path(folder) / f"s{index}_{number}.wav"
            args = [a.format(out=out, text=sentence) for a in job]
            if subprocess.run(args, capture_output=True, timeout=60).returncode or not out.is_file():
                continue
            audio, file_rate = decode_wav(out)
            speech.append(resample(audio, file_rate, rate))
    return speech


def noise_bed(samples, rate, rng):
    """Continuous background noise whose colour and level drift every few seconds."""
    from apps.speech.noise import generated_noise

    piece = 4 * rate
    beds = []
    for _ in range(samples // piece + 1):
        chunk = generated_noise(1, piece, rng, max_gain=1.0)[0]
        if not np.any(chunk):
            chunk = rng.normal(size=piece).astype(np.float32) * 0.3
        chunk = chunk / max(np.abs(chunk).max(), 1e-9)
        beds.append(chunk * 10 ** rng.uniform(-2.3, -1.3))  # peak 0.005-0.05
    bed = np.concatenate(beds)[:samples]
    fade = np.convolve(bed, np.ones(64) / 64, mode="same")  # soften the seams a little
    return (0.5 * bed + 0.5 * fade).astype(np.float32)


def make_stream(digits, sentences, rate, minutes, seed, speech_fraction=0.25):
    """A long waveform and its keywords `[(start s, end s, label)]`.

    Digit clips (trimmed, random gain) and non-keyword sentences in random
    order over a noise bed, 0.6 to 2 s of noise between them.
    """
    from apps.speech.synth import trim

    rng = np.random.default_rng(seed)
    total = int(minutes * 60 * rate)
    events, position = [], int(rng.uniform(0.5, 1.5) * rate)
    order = rng.permutation(len(digits))
    used = 0
    while True:
        if sentences and rng.uniform() < speech_fraction:
            audio, label = sentences[rng.integers(len(sentences))], None
        else:
            label, audio = digits[order[used % len(order)]]
            used += 1
        audio = trim(np.asarray(audio, np.float32), threshold=0.05)
        audio = audio / max(np.abs(audio).max(), 1e-9) * 10 ** rng.uniform(-0.9, -0.2)  # peak 0.13-0.63
        if position + len(audio) + rate > total:
            break
        events.append((position, audio, label))
        position += len(audio) + int(rng.uniform(0.6, 2.0) * rate)
    stream = noise_bed(total, rate, rng)
    keywords = []
    for start, audio, label in events:
        stream[start : start + len(audio)] += audio
        if label is not None:
            keywords.append((start / rate, (start + len(audio)) / rate, label))
    return np.clip(stream, -1, 1).astype(np.float32), keywords


# Scoring ------------------------------------------------------------------------------------------


def score(detections, keywords, duration_s, tolerance_s=1.0):
    """Hits, misses and false accepts of `[(time s, label)]` against `[(start, end, label)]`."""
    hit = [False] * len(keywords)
    false_accepts, wrong = 0, 0
    starts = np.array([k[0] for k in keywords])
    for time_s, label in detections:
        match = None
        for i in np.flatnonzero(starts <= time_s)[::-1][:3]:
            start, end, truth = keywords[i]
            if start <= time_s <= end + tolerance_s:
                match = i
                break
        if match is not None and keywords[match][2] == label and not hit[match]:
            hit[match] = True
            continue
        false_accepts += 1
        if match is not None and keywords[match][2] != label:
            wrong += 1
    hours = duration_s / 3600
    return {"keywords": len(keywords), "hits": int(sum(hit)), "hit_rate": round(sum(hit) / max(len(keywords), 1), 4),
            "false_accepts": false_accepts, "wrong_digit": wrong,
            "false_accepts_per_hour": round(false_accepts / hours, 2)}


def detections_at(probabilities, class_names, hop_ms, threshold, **settings):
    from apps.speech.detect import KeywordDetector

    detector = KeywordDetector(class_names, threshold=threshold, **settings)
    found = []
    for index, row in enumerate(probabilities):
        hit = detector.update((index + 1) * hop_ms, row)
        if hit is not None:
            found.append((hit.time_ms / 1000, hit.label))
    return found


# Runners ------------------------------------------------------------------------------------------


def pin_one_core():
    """Runs this process on one CPU core from here on; returns the core."""
    core = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {core})
    return core


def run_hops(step, state, audio, hop):
    """Streams `audio` through `step(hop, state) -> (probabilities, state)`; per-hop times too."""
    rows, times = [], []
    for start in range(0, len(audio) - hop + 1, hop):
        chunk = audio[None, start : start + hop]
        began = time.perf_counter()
        probabilities, state = step(chunk, state)
        times.append(time.perf_counter() - began)
        rows.append(probabilities)
    return np.asarray(rows), np.asarray(times)


def saved_model_step(export_path):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(export_path))
    stream = loaded.signatures["stream"]
    names = sorted(n for n in stream.structured_input_signature[1] if n != "audio")
    specs = stream.structured_input_signature[1]
    state = {n: tf.zeros([1, *specs[n].shape[1:]]) for n in names}

    def step(chunk, state):
        outputs = stream(audio=tf.constant(chunk), **state)
        return outputs["probabilities"].numpy()[0], {n: outputs[n] for n in names}

    return step, state, loaded


def tflite_step(path):
    """A step over the export's `stream.tflite` (or int8), the interpreter on one thread."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    runner = interpreter.get_signature_runner("serving_default")
    names = sorted(n for n in runner.get_input_details() if n != "audio")
    state = {n: np.zeros(runner.get_input_details()[n]["shape"], np.float32) for n in names}

    def step(chunk, state):
        outputs = runner(audio=chunk, **state)
        return outputs["probabilities"][0], {n: outputs[n] for n in names}

    return step, state


def folder_size(path):
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# Main ---------------------------------------------------------------------------------------------


def train_model(args, out):
    from apps.speech import commands
    from apps.speech.streaming import streamable_config

    config = streamable_config(commands.resolve_config(
        data=args.fsdd, silence=True,
        test_speakers=[args.test_speaker], validation_speakers=[args.validation_speaker],
        backbone="gru", units=args.units, layers=args.layers, epochs=args.epochs,
        batch_size=args.batch_size, features=args.features, seed=args.seed, clip_seconds=args.clip_seconds,
        patience=args.patience))
    log(f"training the streamable model into {out} ...")
    started = time.time()
    path, metrics = commands.train(config, out=str(out), overwrite=True, verbose=args.verbose,
                                   clips=merged_clips(args.fsdd, args.unknown_words))
    return Path(path), metrics, round(time.time() - started, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", default=str(REPO.parent / "shared" / "data" / "fsdd" / "recordings"))
    parser.add_argument("--run", help="Reuse this trained streamable run instead of training.")
    parser.add_argument("--out", default=None, help="Where to write the run, exports and TFLite files "
                        "(default: a temporary folder).")
    parser.add_argument("--test-speaker", default="nicolas")
    parser.add_argument("--validation-speaker", default="lucas")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--features", default="mfcc")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--clip-seconds", type=float, default=0.75,
                        help="Training clip length: the word ends closer to the last frame the GRU answers at.")
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hop-ms", type=float, default=20.0)
    parser.add_argument("--max-fa-per-hour", type=float, default=2.0)
    parser.add_argument("--unknown-words", default=None,
                        help="Comma-separated built-in command words for _unknown_ (default: all ten).")
    parser.add_argument("--tiny", action="store_true", help="A smoke run: 1 epoch, 8 units, 1-minute streams.")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    if args.unknown_words:
        args.unknown_words = args.unknown_words.split(",")
    if args.tiny:
        args.minutes, args.units, args.layers, args.epochs = 1.0, 8, 1, 1

    import tensorflow as tf

    from apps.speech.commands import export, load_run_model
    from apps.speech.detect import AVERAGE_MS, MINIMUM_COUNT, SUPPRESSION_MS
    from apps.speech.streaming import StreamingKeywordSpotter

    work = Path(args.out or tempfile.mkdtemp(prefix="streaming-kws-"))
    work.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "streaming_kws", "python": platform.python_version(), "tensorflow": tf.__version__,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs)"}
    if args.run:
        run, metrics, seconds = Path(args.run), None, None
    else:
        run, metrics, seconds = train_model(args, work / "run")
    config = json.loads((run / "config.json").read_text())
    model = load_run_model(run)
    spotter = StreamingKeywordSpotter(model, args.hop_ms)
    rate, hop = spotter.sample_rate, spotter.hop_samples
    report["model"] = {
        "run": str(run), "classes": model.class_names, "split": config.get("split", {}).get("speakers"),
        "backbone": config["backbone"], "features": config["features"], "train_seconds": seconds,
        "test_accuracy_clips": (metrics or json.loads((run / "metrics.json").read_text()))["test"]["accuracy"]
        if (metrics or (run / "metrics.json").is_file()) else None,
        "parameters": int(model.count_params()),
    }

    log("building the streams ...")
    with tempfile.TemporaryDirectory() as folder:
        sentences = tts_sentences(rate, folder, limit=4 if args.tiny else None)
    streams = {}
    for name, speaker, seed in (("validation", args.validation_speaker, 11), ("test", args.test_speaker, 12)):
        audio, keywords = make_stream(speaker_clips(args.fsdd, speaker, rate), sentences, rate,
                                      args.minutes, seed)
        streams[name] = (audio, keywords)
        report.setdefault("streams", {})[name] = {
            "speaker": speaker, "minutes": round(len(audio) / rate / 60, 2), "keywords": len(keywords),
            "sentences_available": len(sentences)}

    log("exporting: SavedModel with the stream signature, stream.tflite and stream.int8.tflite ...")
    export_path = Path(export(str(run), str(work / "export"), format="tflite", quantize=True))
    tflite = {"tflite_float32": export_path / "tflite" / "stream.tflite",
              "tflite_int8": export_path / "tflite" / "stream.int8.tflite"}
    report["tflite_parity"] = {name: {k: entry[k] for k in ("max_abs_difference", "tolerance", "size_bytes")}
                               for name, entry in json.loads((export_path / "tflite" / "report.json")
                                                             .read_text()).items() if name.startswith("stream")}

    core = pin_one_core()
    report["latency_core"] = core
    settings = {"average_ms": AVERAGE_MS, "suppression_ms": SUPPRESSION_MS, "minimum_count": MINIMUM_COUNT}
    thresholds = [round(t, 2) for t in np.arange(0.5, 0.991, 0.05)] + [0.995]
    results = {}
    runners = {"saved_model": lambda: saved_model_step(export_path)[:2],
               **{kind: (lambda p=path: tflite_step(p)) for kind, path in tflite.items()}}
    for kind, make in runners.items():
        log(f"streaming {kind} ...")
        entry = {"size_bytes": folder_size(export_path if kind == "saved_model" else tflite[kind])}
        if kind == "saved_model":
            entry["size_note"] = "the whole SavedModel folder (serving_default, serving_xla, stream; TFLite files excluded)"
            entry["size_bytes"] -= folder_size(export_path / "tflite")
        per_stream = {}
        for name, (audio, keywords) in streams.items():
            step, state = make()
            probabilities, times = run_hops(step, state, audio, hop)
            per_stream[name] = probabilities
            if name == "test":
                entry["per_hop_ms"] = {"median": round(1000 * float(np.median(times)), 4),
                                       "p90": round(1000 * float(np.percentile(times, 90)), 4),
                                       "hops": len(times)}
        duration = {name: len(a) / rate for name, (a, _) in streams.items()}
        sweep = {}
        for threshold in thresholds:
            sweep[threshold] = {
                name: score(detections_at(per_stream[name], model.class_names, spotter.hop_ms, threshold,
                                          **settings), streams[name][1], duration[name])
                for name in streams}
        allowed = [t for t in thresholds if sweep[t]["validation"]["false_accepts_per_hour"] <= args.max_fa_per_hour]
        chosen = allowed[0] if allowed else thresholds[-1]
        entry.update({"threshold": chosen, "test": sweep[chosen]["test"],
                      "validation": sweep[chosen]["validation"],
                      "test_sweep": {str(t): [sweep[t]["test"]["hit_rate"], sweep[t]["test"]["false_accepts_per_hour"]]
                                     for t in thresholds}})
        results[kind] = entry
    report["detection"] = {"hop_ms": spotter.hop_ms, **settings, "tolerance_s": 1.0,
                           "threshold_rule": f"lowest threshold with <= {args.max_fa_per_hour} false accepts "
                                             "per hour on the validation speaker's stream"}
    report["results"] = results
    best = results["tflite_float32"]
    report["bars"] = {
        "hit_rate_ge_0.90_at_le_2_false_accepts_per_hour": best["test"]["hit_rate"] >= 0.90
        and best["test"]["false_accepts_per_hour"] <= 2.0,
        "test_hit_rate_at_chosen_threshold": best["test"]["hit_rate"],
        "test_false_accepts_per_hour_at_chosen_threshold": best["test"]["false_accepts_per_hour"],
        "tflite_per_hop_lt_1ms": best["per_hop_ms"]["median"] < 1.0,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
