"""Writing WAV files: mono 16-bit PCM, the format every speech tool reads (TensorFlow-free)."""

import wave

import numpy as np


def write_wav(path, waveform, sample_rate):
    """Writes a mono 16-bit PCM WAV file (values clipped to [-1, 1]).

    Example:

    >>> import tempfile, wave
    >>> path = tempfile.mkdtemp() + "/tone.wav"
    >>> write_wav(path, np.sin(np.arange(800) * 0.1), 8000)
    >>> with wave.open(path) as file:
    ...     file.getnframes(), file.getframerate(), file.getsampwidth()
    (800, 8000, 2)
    """
    pcm = np.round(np.clip(np.asarray(waveform, np.float64), -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(int(sample_rate))
        file.writeframes(pcm.tobytes())
