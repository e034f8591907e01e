"""Raw labelled clips read from one source, each at its own sample rate: `load_source` returns `Clips`.

A source is one of:

* `None` or `"keywords"`: the built-in keyword set, synthesized offline with
  the installed text-to-speech engines (see `apps.speech.synth`) into a cache
  folder on first use.
* `"tfds:speech_commands"` or `"tfds:spoken_digit"` (any `tfds:NAME` with
  `audio` and `label` features): TensorFlow Datasets, for machines with a
  network.
* a folder of WAV files labelled by sub-folder (the Speech Commands layout,
  `<label>/<speaker>_nohash_<n>.wav`; its `validation_list.txt` and
  `testing_list.txt` are honoured), or a flat folder whose file names follow
  a pattern (default the FSDD layout `{label}_{speaker}_{index}.wav`).

Speakers are kept where every clip names one (a synthetic voice counts as a
speaker), so that `apps.speech.audio_splits.load_splits` can split by
speaker. Bad input raises `SeqcoreError` with a one-line message.

Example:

>>> clips = load_source("../shared/data/fsdd/recordings")  # doctest: +SKIP
>>> sorted(set(clips.labels))[:3], clips.rates[0]  # doctest: +SKIP
(['0', '1', '2'], 8000)
"""

import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from apps.speech.audio_files import decode_wav, error_line, wav_files
from seqcore.errors import SeqcoreError
from seqcore.text import decode_utf8

DEFAULT_SOURCE = "keywords"
FSDD_PATTERN = "{label}_{speaker}_{index}.wav"
#: Speech Commands' folder of long noise recordings, which is not a label.
BACKGROUND_FOLDER = "_background_noise_"
_FIELDS = ("label", "speaker", "index")


@dataclasses.dataclass
class Clips:
    """Raw clips of one source: waveforms at their own rates, labels, speakers, fixed splits."""

    waveforms: list
    rates: list
    labels: list
    speakers: list  # None where a clip's speaker is unknown
    splits: list  # "train" / "validation" / "test" per clip, or None
    description: str
    names: list = None  # file names, for messages


def pattern_regex(pattern):
    """`{label}_{speaker}_{index}.wav` -> a regex with named groups (each field at most once).

    Example:

    >>> pattern_regex(FSDD_PATTERN).fullmatch("7_jackson_32.wav").group("speaker")
    'jackson'
    """
    fields = re.findall(r"\{(\w+)\}", pattern)
    unknown = sorted(set(fields) - set(_FIELDS))
    if "label" not in fields or unknown or len(fields) != len(set(fields)):
        raise SeqcoreError(
            f"bad file-name pattern {pattern!r}; expected each of {{label}} (required), "
            f"{{speaker}} and {{index}} at most once, e.g. {FSDD_PATTERN}"
        )
    parts = re.split(r"(\{\w+\})", pattern)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+?)" if re.fullmatch(r"\{\w+\}", p) else re.escape(p)
                    for p in parts)
    return re.compile(regex, re.IGNORECASE)


def _label_folders(path):
    return [d for d in sorted(path.iterdir()) if d.is_dir() and not d.name.startswith(".")
            and d.name != BACKGROUND_FOLDER and wav_files(d)]


def _read_list(path):
    """The file names listed in `path` (Speech Commands' split lists), or none where it is absent."""
    if not path.is_file():
        return set()
    text = decode_utf8(path.read_bytes(), path, expected="one file name per line")
    return {line.strip() for line in text.splitlines() if line.strip()}


def load_folder(path, pattern=FSDD_PATTERN):
    """Reads a folder of WAV files labelled by sub-folder or by file-name pattern."""
    path = Path(path)
    if not path.is_dir():
        raise SeqcoreError(f"data folder not found: {path}")
    folders = _label_folders(path)
    entries = []  # (file, label, speaker)
    if folders:
        for folder in folders:
            for file in wav_files(folder):
                speaker = file.stem.split("_nohash_")[0] if "_nohash_" in file.stem else None
                entries.append((file, folder.name, speaker))
        layout = "label folders"
    else:
        files = wav_files(path)
        if not files:
            raise SeqcoreError(
                f"folder {path} has no audio; expected .wav files in one sub-folder per label "
                f"(Speech Commands layout) or named like {FSDD_PATTERN} (FSDD layout)"
            )
        regex = pattern_regex(pattern)
        for file in files:
            match = regex.fullmatch(file.name)
            if match is None:
                raise SeqcoreError(
                    f"file name {file.name} in {path} does not match the pattern {pattern!r}; "
                    "expected every .wav file to follow it (or one sub-folder per label)"
                )
            fields = match.groupdict()
            entries.append((file, fields["label"], fields.get("speaker")))
        layout = "files named " + pattern
    if any(speaker is None for _, _, speaker in entries):
        entries = [(file, label, None) for file, label, _ in entries]

    validation, testing = _read_list(path / "validation_list.txt"), _read_list(path / "testing_list.txt")
    splits = None
    if validation or testing:
        splits = []
        for file, _, _ in entries:
            relative = file.relative_to(path).as_posix()
            splits.append("validation" if relative in validation
                          else "test" if relative in testing else "train")

    waveforms, rates = [], []
    for file, _, _ in entries:
        waveform, rate = decode_wav(file)
        waveforms.append(waveform)
        rates.append(rate)
    return Clips(waveforms, rates, [label for _, label, _ in entries],
                 [speaker for _, _, speaker in entries], splits,
                 f"WAV folder {path} ({layout})", [str(file) for file, _, _ in entries])


def load_tfds(name):
    """Reads a TFDS audio dataset (`speech_commands`, `spoken_digit`, ...) into `Clips`."""
    import tensorflow_datasets as tfds

    description = f"TFDS dataset {name}"
    try:
        builder = tfds.builder(name)
        info = builder.info
        available = list(info.splits) or ["train"]
        builder.download_and_prepare()
        datasets = {split: builder.as_dataset(split=split) for split in available}
    except tfds.core.registered.DatasetNotFoundError:
        raise SeqcoreError(
            f"unknown TFDS dataset {name!r}; expected tfds:NAME with audio and label features, "
            "e.g. tfds:speech_commands or tfds:spoken_digit"
        ) from None
    except Exception as error:  # download or preparation problems: keep the first line
        raise SeqcoreError(f"could not load {description}: {error_line(error)}") from None
    for key in ("audio", "label"):
        if key not in info.features:
            raise SeqcoreError(f"{description} has no {key!r} feature; found features: "
                               f"{', '.join(info.features.keys())}")
    rate = int(getattr(info.features["audio"], "sample_rate", None) or 16000)
    label_feature = info.features["label"]
    names = getattr(label_feature, "names", None)
    regex = pattern_regex(FSDD_PATTERN)
    clips = Clips([], [], [], [], [], description)
    for split, dataset in datasets.items():
        kind = {"validation": "validation", "test": "test"}.get(split, "train")
        for example in tfds.as_numpy(dataset):
            audio = np.asarray(example["audio"], dtype=np.float32)
            if audio.ndim == 2:
                audio = audio.mean(axis=-1)
            if np.issubdtype(np.asarray(example["audio"]).dtype, np.integer):
                audio = audio / 32768.0
            if audio.size == 0:
                continue
            label = int(example["label"])
            clips.waveforms.append(audio.astype(np.float32))
            clips.rates.append(rate)
            clips.labels.append(names[label] if names else str(label))
            filename = example.get("audio/filename")
            match = regex.fullmatch(os.path.basename(filename.decode())) if filename else None
            clips.speakers.append(match.group("speaker") if match else None)
            clips.splits.append(kind)
    if not clips.waveforms:
        raise SeqcoreError(f"{description} has no audio clips; expected at least one")
    if any(s is None for s in clips.speakers):
        clips.speakers = [None] * len(clips.labels)
    if len(set(clips.splits)) < 3:
        clips.splits = None  # e.g. spoken_digit: one train split only
    return clips


def load_source(source=None, pattern=FSDD_PATTERN):
    """`Clips` from a source name, `tfds:NAME` or folder (see the module docstring)."""
    source = DEFAULT_SOURCE if source is None else str(source)
    if source == DEFAULT_SOURCE:
        from apps.speech.synth import builtin_keywords

        return load_folder(builtin_keywords())
    if source.startswith("tfds:"):
        return load_tfds(source[5:])
    path = Path(source)
    if path.is_file():
        raise SeqcoreError(f"expected a folder of WAV files, 'keywords' or tfds:NAME as --data; "
                           f"received a file: {source}")
    if not path.exists():
        raise SeqcoreError(f"data folder not found: {source}; expected a folder of WAV files, "
                           "'keywords' (built-in) or tfds:NAME")
    return load_folder(path, pattern)
