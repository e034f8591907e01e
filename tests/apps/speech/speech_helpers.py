"""Helpers of the speech tests: FSDD location and WAV writers."""

import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
FSDD = REPO.parent / "shared" / "data" / "fsdd" / "recordings"
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
