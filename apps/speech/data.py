"""Labelled audio clips for the keyword model, read from several sources and split.

`load_splits` reads one source, brings every clip to the model's sample rate
(resampling) and fixed length (centring), and returns train, validation and
test splits. A source is one of:

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

Splits never share a speaker (a synthetic voice counts as a speaker) when
speakers are known. Bad input raises `SeqcoreError` with a one-line message.

Example:

>>> splits = load_splits("../shared/data/fsdd/recordings")  # doctest: +SKIP
>>> splits.class_names[:3], splits.sample_rate  # doctest: +SKIP
(['0', '1', '2'], 8000)
"""

import collections
import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from seqcore.audio import fit_length, resample
from seqcore.errors import SeqcoreError

DEFAULT_SOURCE = "keywords"
FSDD_PATTERN = "{label}_{speaker}_{index}.wav"
SPLIT_MODES = ("speaker", "random", "predefined")
SILENCE = "_silence_"
UNKNOWN = "_unknown_"
BACKGROUND_FOLDER = "_background_noise_"
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
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


@dataclasses.dataclass
class AudioSplits:
    """Fixed-length float32 waveforms `(n, clip_samples)` and int32 class indices per split."""

    train_audio: np.ndarray
    train_labels: np.ndarray
    validation_audio: np.ndarray
    validation_labels: np.ndarray
    test_audio: np.ndarray
    test_labels: np.ndarray
    class_names: list
    sample_rate: int
    clip_samples: int
    source: str
    split_by: str
    speakers: dict  # split name -> sorted speakers (empty when unknown)


# Reading and writing WAV --------------------------------------------------------------------------


def _first_line(error):
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
            f"cannot decode {path} as WAV ({_first_line(error)}); expected a 16-bit PCM WAV file"
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
    """WAV paths for `predict`: files as given, folders searched recursively.

    Example:

    >>> gather_audio_paths(["yes.wav", "more_clips/"])  # doctest: +SKIP
    [PosixPath('yes.wav'), PosixPath('more_clips/a.wav'), ...]
    """
    paths = []
    if not inputs:
        raise SeqcoreError("no input audio; expected WAV files or folders of WAV files")
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() == ".wav"
                           and not p.name.startswith("."))
            if not found:
                raise SeqcoreError(f"folder {item} has no audio; expected .wav files in it")
            paths += found
        elif item.is_file():
            paths.append(item)
        else:
            raise SeqcoreError(f"audio file not found: {item}; expected a WAV file or a folder")
    return paths


# Sources ------------------------------------------------------------------------------------------


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
    if not path.is_file():
        return set()
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise SeqcoreError(
            f"{path} is not valid UTF-8 (byte {error.start}); expected one file name per line"
        ) from None
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
        raise SeqcoreError(f"could not load {description}: {_first_line(error)}") from None
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


# Splitting ----------------------------------------------------------------------------------------


def class_order(labels):
    """Sorted class names: `_silence_` and `_unknown_` first, integers numerically."""
    names = sorted(set(labels))
    special = [name for name in (SILENCE, UNKNOWN) if name in names]
    rest = [name for name in names if name not in special]
    if rest and all(re.fullmatch(r"[+-]?\d+", name) for name in rest):
        rest.sort(key=int)
    return special + rest


def split_by_speaker(speakers, labels, *, seed=1337, validation_fraction=0.1, test_fraction=0.1,
                     test_speakers=None, validation_speakers=None):
    """Assigns each clip to train / validation / test so that no speaker is in two splits.

    Speakers are shuffled (fixed by `seed`) and taken whole into test, then
    validation, until each holds its fraction of the clips (at least one
    speaker each). Named `test_speakers` go to test; when only they are
    named, validation is a random stratified share of the other speakers'
    clips (so only test is speaker-disjoint from train).

    Returns:
        An array of split names, one per clip.

    Example:

    >>> split_by_speaker(["a", "a", "b", "c", "c"], [0, 1, 0, 0, 1], test_speakers=["b"]).tolist()
    ['validation', 'train', 'test', 'train', 'validation']
    """
    speakers = np.asarray(speakers, dtype=object)
    known = sorted(set(speakers))
    for named in (test_speakers or []), (validation_speakers or []):
        missing = sorted(set(named) - set(known))
        if missing:
            raise SeqcoreError(f"unknown speaker {missing[0]!r}; expected one of: {', '.join(known)}")
    result = np.full(len(speakers), "train", dtype=object)
    rng = np.random.default_rng(seed)
    if test_speakers:
        result[np.isin(speakers, list(test_speakers))] = "test"
        if validation_speakers:
            result[np.isin(speakers, list(validation_speakers))] = "validation"
        else:
            rest = np.flatnonzero(result == "train")
            chosen = _stratified(np.asarray(labels)[rest], rng, validation_fraction)
            result[rest[chosen]] = "validation"
        if not np.any(result == "train"):
            raise SeqcoreError("no speaker is left for training; expected fewer test/validation speakers")
        return result
    if len(known) < 3:
        raise SeqcoreError(
            f"too few speakers to split by speaker: received {len(known)} ({', '.join(known)}); "
            "expected at least 3 (one each for train, validation and test), or --split-by random"
        )
    order = [known[i] for i in rng.permutation(len(known))]
    counts = collections.Counter(speakers.tolist())
    remaining = list(order)
    for name, fraction, keep in (("test", test_fraction, 2), ("validation", validation_fraction, 1)):
        taken = 0
        while (taken == 0 or taken < fraction * len(speakers)) and len(remaining) > keep:
            speaker = remaining.pop(0)
            result[speakers == speaker] = name
            taken += counts[speaker]
    return result


def _stratified(labels, rng, fraction):
    """Indices of a stratified random `fraction` of `labels` (at least one per class with 2+)."""
    chosen = []
    for value in np.unique(labels):
        index = np.flatnonzero(labels == value)
        count = int(round(len(index) * fraction))
        if count == 0 and len(index) > 1 and fraction > 0:
            count = 1
        chosen += rng.permutation(index)[:count].tolist()
    return np.array(sorted(chosen), dtype=np.int64)


def split_random(labels, *, seed=1337, validation_fraction=0.1, test_fraction=0.1):
    """A stratified random split: split names, one per clip."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    result = np.full(len(labels), "train", dtype=object)
    test = _stratified(labels, rng, test_fraction)
    result[test] = "test"
    rest = np.flatnonzero(result == "train")
    result[rest[_stratified(labels[rest], rng, validation_fraction / (1 - test_fraction))]] = "validation"
    return result


def generated_noise(count, samples, rng, max_gain=0.1):
    """`count` clips of white, pink-ish or brown noise (and some digital silence) at random gains."""
    noise = np.zeros((count, samples), dtype=np.float32)
    for row in range(count):
        kind = rng.integers(4)
        if kind == 0:
            continue  # digital silence
        white = rng.normal(size=samples)
        if kind == 2:
            white = np.cumsum(white)
            white -= np.linspace(white[0], white[-1], samples)
        elif kind == 3:
            white = np.convolve(white, np.ones(8) / 8, mode="same")
        white /= max(np.abs(white).max(), 1e-9)
        noise[row] = white * max_gain * 10 ** rng.uniform(-2.5, 0)
    return noise


def _check_counts(labels, clips, min_clips=2):
    counts = collections.Counter(labels)
    for label in class_order(counts):
        if counts[label] < min_clips:
            where = ""
            if clips.names:
                where = " (" + next(n for n, l in zip(clips.names, clips.labels) if l == label) + ")"
            raise SeqcoreError(
                f"label {label!r} of {clips.description} has only {counts[label]} clip{where}; "
                f"expected at least {min_clips} clips per label"
            )
    if len(counts) < 2:
        raise SeqcoreError(f"{clips.description} has only one label ({next(iter(counts))!r}); "
                           "expected at least 2 labels")


def prepare(clips, sample_rate, clip_samples):
    """Resamples every clip to `sample_rate` and centres it in `clip_samples`: `(n, clip_samples)`."""
    audio = np.zeros((len(clips.waveforms), clip_samples), dtype=np.float32)
    for row, (waveform, rate) in enumerate(zip(clips.waveforms, clips.rates)):
        if rate != sample_rate:
            waveform = resample(waveform, rate, sample_rate)
        audio[row] = fit_length(waveform, clip_samples)
    return audio


def native_rate(clips):
    """The most common sample rate of a source's clips."""
    return collections.Counter(clips.rates).most_common(1)[0][0]


def load_splits(source=None, *, sample_rate=None, clip_seconds=1.0, split_by=None,
                test_speakers=None, validation_speakers=None, keywords=None, unknown=False,
                silence=False, pattern=FSDD_PATTERN, seed=1337, validation_fraction=0.1,
                test_fraction=0.1, clips=None):
    """Loads a source and splits it into fixed-length train / validation / test waveforms.

    Args:
        source: see the module docstring.
        sample_rate: the model's rate; default the source's most common rate.
        clip_seconds: fixed clip length.
        split_by: `"speaker"`, `"random"` or `"predefined"` (the source's own
            lists or TFDS splits); default: predefined where the source has
            one, else speaker where speakers are known, else random.
        test_speakers, validation_speakers: speakers to hold out by name.
        keywords: labels to keep as classes; the others become `_unknown_`
            with `unknown`, or are dropped.
        unknown: add the `_unknown_` class (needs `keywords`).
        silence: add a `_silence_` class of generated noise and silence.
        pattern: file-name pattern of flat folders.
        seed: seed of the split (fixed, so `evaluate` rebuilds the same test split).
        clips: already loaded `Clips` of `source` (skips reading).

    Returns:
        An `AudioSplits`.
    """
    clips = clips or load_source(source, pattern)
    _check_counts(clips.labels, clips)
    labels = list(clips.labels)
    keep = np.ones(len(labels), dtype=bool)
    if keywords:
        missing = sorted(set(keywords) - set(labels))
        if missing:
            raise SeqcoreError(f"keyword {missing[0]!r} is not a label of {clips.description}; "
                               f"expected some of: {', '.join(class_order(labels))}")
        for i, label in enumerate(labels):
            if label not in keywords:
                if unknown:
                    labels[i] = UNKNOWN
                else:
                    keep[i] = False
    elif unknown:
        raise SeqcoreError("the _unknown_ class needs --keywords: the labels to keep as classes")
    speakers = [s for s, k in zip(clips.speakers, keep) if k]
    labels = [l for l, k in zip(labels, keep) if k]
    has_speakers = all(s is not None for s in speakers)
    if split_by is None:
        split_by = "predefined" if clips.splits else ("speaker" if has_speakers else "random")
    if split_by == "predefined" and not clips.splits:
        raise SeqcoreError(f"{clips.description} has no predefined split; expected --split-by "
                           "speaker or random")
    if split_by == "speaker" and not has_speakers:
        raise SeqcoreError(f"the speakers of {clips.description} are unknown; expected "
                           "--split-by random (or file names that name the speaker)")
    if (test_speakers or validation_speakers) and split_by != "speaker":
        raise SeqcoreError("--test-speakers needs --split-by speaker")
    if split_by == "predefined":
        assignment = np.array([s for s, k in zip(clips.splits, keep) if k], dtype=object)
    elif split_by == "speaker":
        assignment = split_by_speaker(speakers, labels, seed=seed,
                                      validation_fraction=validation_fraction,
                                      test_fraction=test_fraction, test_speakers=test_speakers,
                                      validation_speakers=validation_speakers)
    elif split_by == "random":
        assignment = split_random(labels, seed=seed, validation_fraction=validation_fraction,
                                  test_fraction=test_fraction)
    else:
        raise SeqcoreError(f"unknown split {split_by!r}; expected one of: {', '.join(SPLIT_MODES)}")

    sample_rate = int(sample_rate or native_rate(clips))
    clip_samples = int(round(sample_rate * clip_seconds))
    kept = dataclasses.replace(
        clips,
        waveforms=[w for w, k in zip(clips.waveforms, keep) if k],
        rates=[r for r, k in zip(clips.rates, keep) if k],
    )
    audio = prepare(kept, sample_rate, clip_samples)
    labels = np.array(labels, dtype=object)
    rng = np.random.default_rng(seed + 1)
    parts = {}
    for name in ("train", "validation", "test"):
        index = np.flatnonzero(assignment == name)
        if len(index) == 0:
            raise SeqcoreError(f"the {name} split of {clips.description} is empty; expected at "
                               "least one clip in each split (use more clips or speakers)")
        part_audio, part_labels = audio[index], labels[index]
        if unknown:  # at most as many unknown clips as the average keyword
            is_unknown = part_labels == UNKNOWN
            quota = max(1, int(np.sum(~is_unknown) / max(len(keywords), 1)))
            drop = rng.permutation(np.flatnonzero(is_unknown))[quota:]
            part_audio, part_labels = np.delete(part_audio, drop, 0), np.delete(part_labels, drop)
        if silence:
            count = max(1, int(len(part_labels) / len(set(part_labels))))
            part_audio = np.concatenate([part_audio, generated_noise(count, clip_samples, rng)])
            part_labels = np.concatenate([part_labels, np.array([SILENCE] * count, dtype=object)])
        parts[name] = (part_audio, part_labels)
    class_names = class_order(np.concatenate([parts[n][1] for n in parts]).tolist())
    index_of = {name: i for i, name in enumerate(class_names)}
    missing = sorted(set(class_names) - set(parts["train"][1]))
    if missing:
        raise SeqcoreError(f"label {missing[0]!r} has no clip in the train split of "
                           f"{clips.description}; expected every label in train")

    def encode(name):
        return parts[name][0], np.array([index_of[l] for l in parts[name][1]], dtype=np.int32)

    speaker_sets = {name: sorted({s for s, a in zip(speakers, assignment) if a == name and s})
                    for name in ("train", "validation", "test")}
    return AudioSplits(*encode("train"), *encode("validation"), *encode("test"),
                       class_names=class_names, sample_rate=sample_rate, clip_samples=clip_samples,
                       source=clips.description, split_by=split_by, speakers=speaker_sets)


def spoken_word(label):
    """The word a text-to-speech engine should say for a class label, or None.

    Digits are spoken as words (FSDD labels its clips 0-9); `_silence_` and
    `_unknown_` have no word.

    Example:

    >>> spoken_word("7"), spoken_word("left"), spoken_word(UNKNOWN)
    ('seven', 'left', None)
    """
    if label in (SILENCE, UNKNOWN):
        return None
    if label.isdigit() and int(label) < 10:
        return DIGIT_WORDS[int(label)]
    return label.lower()


def synthetic_voices_apply(class_names, explain=False):
    """Whether `train` adds text-to-speech voices by default (`--synthetic-voices` auto).

    Yes where a text-to-speech engine is installed and every class other
    than `_silence_` and `_unknown_` is a digit 0-9 or a word an engine can
    say (letters and apostrophes). Labels such as `cmd_1` or `dog-bark`
    name something other than the spoken word, so they get none.

    Args:
        class_names: the classes of the recordings.
        explain: return the reason they do not apply (empty when they do)
            instead of a bool.

    Example:

    >>> synthetic_voices_apply(["cmd_1", "cmd_2"])
    False
    >>> synthetic_voices_apply(["cmd_1", "cmd_2"], explain=True)
    "label 'cmd_1' is not a word or a digit"
    """
    from apps.speech.synth import installed_engines

    spoken = [name for name in class_names if name not in (SILENCE, UNKNOWN)]
    others = [name for name in spoken if not re.fullmatch(r"[0-9]|[a-z][a-z']*", name.lower())]
    if not spoken:
        reason = "no class is a spoken word"
    elif others:
        reason = f"label {others[0]!r} is not a word or a digit"
    elif not installed_engines():
        reason = "no text-to-speech engine is installed (apt-get install espeak-ng)"
    else:
        reason = ""
    return reason if explain else not reason


def add_synthetic_voices(splits, progress=None):
    """Adds synthesized clips of every class's word to the training split only.

    The words are spoken by every installed text-to-speech voice (the
    built-in keyword recipe, cached after the first run), resampled to the
    splits' rate and fitted to their clip length. Validation and test keep
    only real recordings, so early stopping and the reported accuracy are
    judged on real speech.

    Args:
        splits: `AudioSplits` of a real source.
        progress: optional callable `(done, total)` while synthesizing.

    Returns:
        The splits with a larger `train_audio` / `train_labels`.

    Example:

    >>> # splits = add_synthetic_voices(load_splits("../shared/data/fsdd/recordings"))
    """
    from apps.speech.synth import builtin_keywords

    words = {spoken_word(name): index for index, name in enumerate(splits.class_names)}
    words.pop(None, None)
    if not words:
        raise SeqcoreError("no class has a word to synthesize; expected labels such as yes or 7")
    voices = load_folder(builtin_keywords(sorted(words), progress=progress))
    audio = prepare(voices, splits.sample_rate, splits.clip_samples)
    labels = np.array([words[label] for label in voices.labels], dtype=np.int32)
    return dataclasses.replace(
        splits,
        train_audio=np.concatenate([splits.train_audio, audio]),
        train_labels=np.concatenate([splits.train_labels, labels]),
        speakers={**splits.speakers,
                  "train": splits.speakers["train"] + sorted(set(voices.speakers))},
    )
