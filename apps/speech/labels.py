"""The speech app's class labels: the special `_silence_` and `_unknown_` classes, their order, digits as words.

Example:

>>> class_order(["up", UNKNOWN, "down", SILENCE])
['_silence_', '_unknown_', 'down', 'up']
"""

import re

from seqcore.errors import SeqcoreError

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def class_order(labels):
    """Sorted class names: `_silence_` and `_unknown_` first, integers numerically.

    Example:

    >>> class_order(["10", "9", "1"])
    ['1', '9', '10']
    """
    names = sorted(set(labels))
    special = [name for name in (SILENCE, UNKNOWN) if name in names]
    rest = [name for name in names if name not in special]
    if rest and all(re.fullmatch(r"[+-]?\d+", name) for name in rest):
        rest.sort(key=int)
    return special + rest


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


def map_labels(clips, class_names):
    """Maps a source's labels onto a model's classes, or refuses an unknown label.

    Digits map to the digit words (`7` -> `seven`) when the model knows the
    words and not the digits; any other label maps to `_unknown_` when the
    model has that class.

    Args:
        clips: `apps.speech.clips.Clips`; its `labels` are replaced.
        class_names: the model's classes.

    Returns:
        `clips`, relabelled.
    """
    known = set(class_names)
    digit_words = not known & set("0123456789") and set(DIGIT_WORDS) & known
    mapped = []
    for label in clips.labels:
        if label not in known and digit_words and label.isdigit() and int(label) < 10:
            label = DIGIT_WORDS[int(label)]
        if label not in known:
            if UNKNOWN not in known:
                raise SeqcoreError(
                    f"label {label!r} of {clips.description} is not a class of the model; "
                    f"expected one of: {', '.join(class_names)}"
                )
            label = UNKNOWN
        mapped.append(label)
    clips.labels = mapped
    return clips
