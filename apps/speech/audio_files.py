"""Reading WAV files for the speech app: one file as a mono waveform, and finding the files to read.

Bad input raises `SeqcoreError` with a one-line message.
"""

import re
from pathlib import Path

import numpy as np

from seqcore.audio import resample
from seqcore.errors import SeqcoreError
from seqcore.input_files import input_files


def error_line(error):
    """The first line of a (TensorFlow) error's message, without its op and function-node noise."""
    text = getattr(error, "message", None) or str(error)
    text = re.sub(r"\s*\[Op:\w+\].*", "", text.strip())
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)
    return (text.splitlines() or [type(error).__name__])[0].strip()


def decode_wav(path):
    """Reads a 16-bit PCM WAV file: `(float32 mono waveform in [-1, 1], sample rate)`.

    Stereo (any number of channels) is mixed down by averaging.

    Raises:
        SeqcoreError: missing, empty, undecodable, or zero-length files.

    Example:

    >>> decode_wav("clip.wav")  # doctest: +SKIP
    (array([...], dtype=float32), 16000)
    """
    import tensorflow as tf

    path = Path(path)
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "missing"
        raise SeqcoreError(f"audio file not found: {path}; expected a WAV file, received {kind}")
    contents = path.read_bytes()
    if not contents:
        raise SeqcoreError(f"audio file {path} is empty (0 bytes); expected a 16-bit PCM WAV file")
    try:
        audio, rate = tf.audio.decode_wav(contents)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
        raise SeqcoreError(
            f"cannot decode {path} as WAV ({error_line(error)}); expected a 16-bit PCM WAV file"
        ) from None
    except UnicodeDecodeError:  # TensorFlow's message quotes the header's raw bytes
        raise SeqcoreError(
            f"cannot decode {path} as WAV (its header is not a WAV header); expected a 16-bit "
            "PCM WAV file"
        ) from None
    if int(rate.numpy()) <= 0:
        raise SeqcoreError(
            f"audio file {path} declares a sample rate of {int(rate.numpy())} Hz; expected a "
            "positive rate"
        )
    audio = audio.numpy()
    if audio.shape[0] == 0:
        raise SeqcoreError(
            f"audio file {path} is a clip of zero length; expected at least one sample"
        )
    return audio.mean(axis=1).astype(np.float32), int(rate.numpy())


def read_wav(path, sample_rate=None, allow_resample=True):
    """A WAV file as float32 mono at `sample_rate` (resampled, or refused when not allowed)."""
    waveform, rate = decode_wav(path)
    if sample_rate is None or rate == sample_rate:
        return waveform
    if not allow_resample:
        raise SeqcoreError(
            f"{path} is sampled at {rate} Hz; expected {sample_rate} Hz, the model's rate "
            "(resample it first, or allow resampling)"
        )
    return resample(waveform, rate, sample_rate)


def wav_files(folder):
    """Non-hidden `.wav` files directly in `folder`, sorted."""
    return [f for f in sorted(Path(folder).iterdir())
            if f.is_file() and f.suffix.lower() == ".wav" and not f.name.startswith(".")]


def gather_audio_paths(inputs):
    """WAV paths for `predict`: files as given, folders searched recursively (`seqcore.input_files`).

    Example:

    >>> gather_audio_paths(["yes.wav", "more_clips/"])  # doctest: +SKIP
    [PosixPath('yes.wav'), PosixPath('more_clips/a.wav'), ...]
    """
    if not inputs:
        raise SeqcoreError("no input audio; expected WAV files or folders of WAV files")
    return input_files(inputs, suffix=".wav", empty_folder="folder {folder} has no audio; expected .wav files in it",
                       missing="audio file not found: {path}; expected a WAV file or a folder")
