"""Text-to-speech voices in a recorded source's training split: where they fit, and adding them.

Every installed text-to-speech voice says each class's word (digits 0-9 as
words); the clips join the training split only, so that validation and test
stay real recordings (`train --synthetic-voices`).
"""

import dataclasses
import re

import numpy as np

from apps.speech.audio_splits import fit_clips
from apps.speech.clips import load_folder
from apps.speech.labels import SILENCE, UNKNOWN, spoken_word
from seqcore.errors import SeqcoreError


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

    Usage (a sketch; it needs FSDD and the TTS engines, so it is not run as a test)::

        splits = add_synthetic_voices(load_splits("../shared/data/fsdd/recordings"))
    """
    from apps.speech.synth import builtin_keywords

    words = {spoken_word(name): index for index, name in enumerate(splits.class_names)}
    words.pop(None, None)
    if not words:
        raise SeqcoreError("no class has a word to synthesize; expected labels such as yes or 7")
    voices = load_folder(builtin_keywords(sorted(words), progress=progress))
    audio = fit_clips(voices, splits.sample_rate, splits.clip_samples)
    labels = np.array([words[label] for label in voices.labels], dtype=np.int32)
    return dataclasses.replace(
        splits,
        train_audio=np.concatenate([splits.train_audio, audio]),
        train_labels=np.concatenate([splits.train_labels, labels]),
        speakers={**splits.speakers,
                  "train": splits.speakers["train"] + sorted(set(voices.speakers))},
    )


def with_synthetic_voices(splits, synthetic, verbose):
    """The splits with text-to-speech voices in training where `synthetic` (or "auto") asks.

    "auto" adds them where `synthetic_voices_apply` says they fit, and
    carries on without them, saying why, where they do not or the engines
    fail; an explicit True fails loudly instead.

    Returns:
        `(splits, synthetic)`, with `synthetic` settled to True or False.
    """
    say = (lambda line: print(line, flush=True)) if verbose else (lambda line: None)
    if synthetic == "auto":
        reason = synthetic_voices_apply(splits.class_names, explain=True)
        if reason:
            say(f"No text-to-speech voices added: {reason}")
            return splits, False
    elif not synthetic:
        return splits, False
    say("Adding every installed text-to-speech voice saying each class's word to the training "
        "split (synthesized on first use; --no-synthetic-voices: recordings only)")
    try:
        return add_synthetic_voices(splits), True
    except SeqcoreError as error:
        if synthetic is True:
            raise
        say(f"No text-to-speech voices added: {error}")
        return splits, False
