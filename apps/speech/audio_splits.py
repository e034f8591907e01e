"""A source's clips as fixed-length train / validation / test waveforms: `load_splits` returns `AudioSplits`.

`load_splits` reads one source (`apps.speech.clips`), chooses the classes
(keywords, `_unknown_`, generated `_silence_`), assigns the clips to splits
(`apps.speech.splitting`: never sharing a speaker where speakers are known)
and brings every clip to the model's sample rate (resampling) and fixed
length (centring). Bad input raises `SeqcoreError` with a one-line message.

Example:

>>> splits = load_splits("../shared/data/fsdd/recordings")  # doctest: +SKIP
>>> splits.class_names[:3], splits.sample_rate  # doctest: +SKIP
(['0', '1', '2'], 8000)
"""

import collections
import dataclasses

import numpy as np

from apps.speech.clips import FSDD_PATTERN, load_source
from apps.speech.labels import SILENCE, UNKNOWN, class_order
from apps.speech.noise import generated_noise
from apps.speech.splitting import SPLIT_MODES, split_by_speaker, split_random
from seqcore.audio import fit_length, resample
from seqcore.errors import SeqcoreError


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


def fit_clips(clips, sample_rate, clip_samples):
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
        source: see `apps.speech.clips`.
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
    audio = fit_clips(kept, sample_rate, clip_samples)
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
