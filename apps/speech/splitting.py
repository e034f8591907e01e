"""Assigning clips to train / validation / test: by speaker (no speaker in two splits) or stratified at random.

Each function returns an array of split names, one per clip; `seed` fixes
the assignment, so `evaluate` rebuilds the same test split.
"""

import collections

import numpy as np

from seqcore.errors import SeqcoreError

#: The ways `load_splits` can split a source (`--split-by`).
SPLIT_MODES = ("speaker", "random", "predefined")


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
