"""Helpers of the speech tests: FSDD location and WAV writers."""

import os
import wave
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
#: The Free Spoken Digit Dataset's recordings, when present (`SEQCORE_TEST_FSDD` overrides the
#: location; point it at a missing folder to run the tests as a fresh clone does, on generated clips).
FSDD = Path(os.environ.get("SEQCORE_TEST_FSDD") or REPO.parent / "shared" / "data" / "fsdd" / "recordings")
SPEAKERS = ["george", "jackson", "lucas", "nicolas", "yweweler"]


def write_pcm(path, samples, rate, channels=1, width=2):
    """Writes a PCM WAV file from float samples `(n,)` or `(n, channels)`."""
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), channels)
    if width == 2:
        data = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    else:  # 8-bit unsigned
        data = np.round((np.clip(samples, -1, 1) + 1) * 127.5).astype("u1").tobytes()
    with wave.open(str(path), "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(width)
        file.setframerate(rate)
        file.writeframes(data)
    return path


def tone(seconds, rate, frequency=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * frequency * t)


def write_voices(folder, words, voices=("en-us", "slt")):
    """A stand-in for the built-in TTS keywords: `folder/<word>/<voice>_nohash_0.wav`, 1 s tones at 16 kHz."""
    for word in words:
        (folder / word).mkdir(parents=True)
        for voice in voices:
            write_pcm(folder / word / f"{voice}_nohash_0.wav", tone(1.0, 16000), 16000)
    return folder


def generated_digit(digit, speaker, index, rate=8000):
    """A signal-generated stand-in for one FSDD recording of `digit` (0-9) by `speaker`.

    Each digit has its own pitch contour and vowel-like formant pair; each
    speaker its own pitch and speed; each take its own jitter and noise. The
    clip lasts 0.35 to 0.7 s, with a little silence around the voiced part,
    peaks near 0.5 and is deterministic.
    """
    rng = np.random.default_rng(zlib.crc32(f"{digit}/{speaker}/{index}".encode()))
    voice = np.random.default_rng(sum(map(ord, speaker)))
    pitch, speed = voice.uniform(95, 210), voice.uniform(0.8, 1.2)
    voiced = int(rate * (0.25 + 0.03 * digit) * speed * rng.uniform(0.9, 1.1))
    start, end = 1 + 0.15 * np.cos(digit), 1 + 0.15 * np.sin(2 * digit + 1)  # the digit's contour
    f0 = pitch * rng.uniform(0.95, 1.05) * np.linspace(start, end, voiced)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    formants = (300 + 70 * digit, 2300 - 150 * digit)
    signal = sum(np.sin(k * phase) / k * sum(np.exp(-((k * f0 - f) / 180) ** 2) for f in formants)
                 for k in range(1, 25))
    signal = signal * np.hanning(voiced) + rng.normal(0, 0.01, voiced)
    signal = 0.5 * signal / np.abs(signal).max()
    margin = np.zeros(int(rate * rng.uniform(0.03, 0.08)))
    return np.concatenate([margin, signal, margin]) + rng.normal(0, 0.002, 2 * len(margin) + voiced)


def write_generated_digits(folder, digits=range(3), speakers=SPEAKERS, takes=4, rate=8000):
    """Writes `<digit>_<speaker>_<take>.wav` clips in the FSDD layout (8 kHz, 16-bit) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for digit in digits:
        for speaker in speakers:
            for take in range(takes):
                write_pcm(folder / f"{digit}_{speaker}_{take}.wav", generated_digit(digit, speaker, take, rate), rate)
    return folder
