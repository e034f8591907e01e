"""Spoken keywords synthesized offline with the text-to-speech engines Debian packages.

`synthesize` speaks every word in every installed English voice of
espeak-ng (with its voice variants), flite and festival, at several speeds
and pitches, and writes 1 s, 16 kHz, 16-bit clips in the Speech Commands
layout: `<out>/<word>/<speaker>_nohash_<variation>.wav`, where the speaker is
the engine and voice (`espeak-ng-en-us`), so a speaker-disjoint split never
puts one synthetic voice (in any variant, speed or pitch) in two splits.

Example:

>>> path = synthesize(["yes", "no"], "keywords", engines=["espeak-ng"])  # doctest: +SKIP
>>> sorted(p.name for p in path.iterdir())  # doctest: +SKIP
['no', 'synth.json', 'yes']
"""

import concurrent.futures
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from seqcore.atomic import atomic_folder, check_output
from seqcore.audio import fit_length, resample
from seqcore.errors import SeqcoreError
from seqcore.runs import cache_root
from seqcore.wav import write_wav

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
ENGINES = ("espeak-ng", "flite", "festival")
APT_PACKAGES = "espeak-ng flite festival festvox-kallpc16k"
#: espeak-ng speeds in words per minute and pitches (0-99); flite maps them to a
#: duration stretch and a mean pitch, festival to a duration stretch only.
SPEEDS = (130, 175, 220)
PITCHES = (30, 50, 70)
_FLITE_SKIP = {"awb_time"}  # a limited-domain voice: it only speaks times of day
_PITCHLESS = {"festival"}  # engines whose command sets no pitch: each speed is spoken once
#: Where Debian's festival voices live, and the folders of English ones in them
#: (`us` holds the HTS voices, such as festvox-us-slt-hts's).
FESTIVAL_ROOTS = (Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices"))
FESTIVAL_ENGLISH = ("english", "us")


def _binary(engine):
    return shutil.which("text2wave" if engine == "festival" else engine)


def installed_engines():
    """The engines found on PATH, in `ENGINES` order."""
    return [engine for engine in ENGINES if _binary(engine)]


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)


def engine_voices(engine):
    """English voice names of an engine (espeak-ng: language voices, not MBROLA ones)."""
    if engine == "espeak-ng":
        lines = _run(["espeak-ng", "--voices=en"]).stdout.splitlines()[1:]
        voices = []
        for line in lines:
            parts = line.split()
            if (len(parts) >= 5 and not parts[4].startswith(("mb/", "!v")) and parts[1] != "variant"
                    and parts[1] not in voices):
                voices.append(parts[1])
        return voices
    if engine == "flite":
        text = _run(["flite", "-lv"]).stdout
        return [v for v in text.split(":", 1)[-1].split() if v not in _FLITE_SKIP]
    if engine == "festival":
        return sorted({voice.name for root in FESTIVAL_ROOTS for language in FESTIVAL_ENGLISH
                       for voice in (root / language).glob("*") if voice.is_dir()})
    raise SeqcoreError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}")


def espeak_variants():
    """espeak-ng voice variants (`m1`, `f3`, `klatt`, ...)."""
    lines = _run(["espeak-ng", "--voices=variant"]).stdout.splitlines()[1:]
    variants = [line.split()[4].split("/", 1)[-1] for line in lines if len(line.split()) >= 5]
    return sorted(set(variants))


def _command(engine, voice, variant, speed, pitch, word, path):
    stretch = f"{175 / speed:.3f}"
    if engine == "espeak-ng":
        name = voice + (f"+{variant}" if variant else "")
        return ["espeak-ng", "-v", name, "-s", str(speed), "-p", str(pitch), "-w", str(path), word], None
    if engine == "flite":
        return ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}",
                "--setf", f"int_f0_target_mean={70 + 2 * pitch}", "-t", word, "-o", str(path)], None
    script = f"(voice_{voice})"
    return ["text2wave", "-o", str(path), "-eval", script,
            "-eval", f"(Parameter.set 'Duration_Stretch {stretch})"], word


def trim(waveform, threshold=0.02, margin=0):
    """Drops leading and trailing samples below `threshold` of the peak (keeping `margin`)."""
    loud = np.flatnonzero(np.abs(waveform) > threshold * max(np.abs(waveform).max(), 1e-9))
    if not len(loud):
        return waveform
    return waveform[max(loud[0] - margin, 0) : loud[-1] + 1 + margin]


def trim_and_fit(waveform, clip_samples, peak=0.5):
    """Trims near-silence, normalizes the peak, centres the clip in `clip_samples`."""
    waveform = trim(waveform)
    waveform = waveform * (peak / max(np.abs(waveform).max(), 1e-9))
    return fit_length(waveform, clip_samples)


def _speaker_id(engine, voice):
    return re.sub(r"[^A-Za-z0-9]+", "-", f"{engine}-{voice}").strip("-").lower()


def plan(words, engines=None, voices=None, variants="all", speeds=SPEEDS, pitches=PITCHES,
         full_grid=False, max_variants=None):
    """The list of clips to make: dicts of engine, voice, variant, speed, pitch, word.

    Every voice speaks every word. Without `full_grid`, the speed and pitch
    settings are cycled over the voice variants and words, so each value
    is used without multiplying the number of clips; with it, every
    combination is spoken.
    """
    engines = list(engines or installed_engines())
    if not engines:
        raise SeqcoreError(
            "no text-to-speech engine found; expected espeak-ng, flite or festival (text2wave) "
            f"on PATH; install them with: apt-get install {APT_PACKAGES}"
        )
    missing = [e for e in engines if e not in ENGINES or not _binary(e)]
    if missing:
        raise SeqcoreError(f"text-to-speech engine {missing[0]!r} is not installed; expected one of: "
                           f"{', '.join(installed_engines()) or 'none installed'}")
    settings = list(itertools.product(speeds, pitches))
    jobs = []
    for engine in engines:
        engine_voice_list = engine_voices(engine)
        if voices:
            engine_voice_list = [v for v in engine_voice_list if v in voices]
        variant_list = [None]
        if engine == "espeak-ng" and variants:
            extra = espeak_variants() if variants == "all" else list(variants)
            variant_list += extra[: max_variants] if max_variants is not None else extra
        for voice in engine_voice_list:
            for v_index, variant in enumerate(variant_list):
                for w_index, word in enumerate(words):
                    chosen = settings if full_grid else [settings[(v_index + w_index) % len(settings)]]
                    if engine in _PITCHLESS:
                        chosen = list(dict.fromkeys((speed, None) for speed, _ in chosen))
                    for speed, pitch in chosen:
                        jobs.append({"engine": engine, "voice": voice, "variant": variant,
                                     "speed": speed, "pitch": pitch, "word": word})
    if not jobs:
        raise SeqcoreError(f"no voice matches --voices {','.join(voices or [])}; expected names "
                           f"from: {', '.join(v for e in engines for v in engine_voices(e))}")
    return jobs


def _read_pcm(path):
    """A 16-bit mono WAV written by an engine: (float32 waveform, rate)."""
    with wave.open(str(path), "rb") as file:
        rate, channels = file.getframerate(), file.getnchannels()
        pcm = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
    return pcm.reshape(-1, channels).mean(axis=1).astype(np.float32) / 32768.0, rate


def _speak(job, folder, sample_rate, clip_samples):

    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        raw = Path(scratch) / "raw.wav"
        args, stdin = _command(job["engine"], job["voice"], job["variant"], job["speed"],
                               job["pitch"], job["word"], raw)
        result = _run(args, input=stdin)
        if result.returncode != 0 or not raw.is_file() or raw.stat().st_size <= 44:
            return None
        try:
            waveform, rate = _read_pcm(raw)
        except (wave.Error, EOFError, ValueError):
            return None
    if not waveform.size or not np.any(waveform):
        return None
    waveform = trim(waveform, margin=rate // 50)
    clip = trim_and_fit(resample(waveform, rate, sample_rate), clip_samples)
    pitch = "" if job["pitch"] is None else f"-p{job['pitch']}"
    variation = f"{job['variant'] or 'default'}-s{job['speed']}{pitch}"
    speaker = _speaker_id(job["engine"], job["voice"])
    target = folder / job["word"] / f"{speaker}_nohash_{re.sub(r'[^A-Za-z0-9-]+', '-', variation)}.wav"
    write_wav(target, clip, sample_rate)
    return speaker


def synthesize(words, out, *, sample_rate=16000, clip_seconds=1.0, overwrite=False, workers=None,
               progress=None, **plan_options):
    """Writes the synthesized keyword set to `out` atomically; returns its path.

    Args:
        words: the words to speak (folder names, so letters, digits, - and _).
        out: the folder to write.
        sample_rate: rate of the written clips.
        clip_seconds: length of every clip.
        overwrite: replace an existing `out`.
        workers: parallel engine processes (default: the CPU count).
        progress: optional callable `(done, total)`.
        plan_options: `engines`, `voices`, `variants`, `speeds`, `pitches`,
            `full_grid`, `max_variants` (see `plan`).
    """
    words = [w.strip().lower() for w in words if w.strip()]
    if not words:
        raise SeqcoreError("no words to synthesize; expected --words such as yes,no,up")
    bad = [w for w in words if not re.fullmatch(r"[a-z0-9][a-z0-9'_-]*", w)]
    if bad:
        raise SeqcoreError(f"cannot use {bad[0]!r} as a keyword; expected one word of letters, "
                           "digits, ' - or _")
    if len(set(words)) != len(words):
        raise SeqcoreError(f"repeated word in --words: {', '.join(words)}; expected each word once")
    out = Path(out)
    check_output(out, overwrite)
    jobs = plan(words, **plan_options)
    clip_samples = int(round(sample_rate * clip_seconds))
    with atomic_folder(out, overwrite) as work:
        for word in words:
            (work / word).mkdir()
        speakers, failed = set(), 0
        with concurrent.futures.ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
            futures = [pool.submit(_speak, job, work, sample_rate, clip_samples) for job in jobs]
            for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                speaker = future.result()
                failed += speaker is None
                speakers.add(speaker)
                if progress:
                    progress(done, len(jobs))
        speakers.discard(None)
        if failed == len(jobs):
            raise SeqcoreError("every text-to-speech call failed; expected the engines to write WAV "
                               "files (try: espeak-ng -w /tmp/t.wav yes)")
        manifest = {
            "words": words, "sample_rate": sample_rate, "clip_seconds": clip_seconds,
            "clips": len(jobs) - failed, "failed": failed, "speakers": sorted(speakers),
            "settings": {key: (list(value) if isinstance(value, tuple) else value)
                         for key, value in plan_options.items()},
        }
        (work / "synth.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


#: espeak-ng variants of the built-in keyword set (the `synth` command uses all of them).
BUILTIN_VARIANTS = 24


def builtin_keywords(words=KEYWORDS, progress=None):
    """The built-in keyword set's folder, synthesized into the cache on first use.

    Every installed English voice of every engine; espeak-ng voices with the
    first `BUILTIN_VARIANTS` variants; speeds and pitches cycled. About 2,000
    clips (1 s, 16 kHz) when all three engines are installed. The cached set
    is named by its recipe and voices, so installing a voice makes a new one.
    """
    engines = installed_engines()
    voices = {engine: engine_voices(engine) for engine in engines}  # a newly installed voice: a new set
    tag = hashlib.sha1(json.dumps([words, voices, SPEEDS, PITCHES, BUILTIN_VARIANTS, 1]).encode()).hexdigest()[:10]
    folder = cache_root() / "speech" / f"keywords-{tag}"
    if not (folder / "synth.json").is_file():
        synthesize(words, folder, overwrite=True, engines=engines, progress=progress,
                   max_variants=BUILTIN_VARIANTS)
    return folder
