"""Unlabelled text for pretraining: a split's texts as the classifier reads them, one per line.

`write_corpus` writes the training split's texts (never validation or test)
standardized like `TextPreprocessor` does (lower case, HTML and punctuation
removed), so a word-level language model trained on the file by
`seqcore textgen train --level word` learns the very words the classifier
sees; `sentiment train --init-from` that run then starts the classifier's
backbone from the language model's (`seqcore.transfer`).
"""

from pathlib import Path

import numpy as np

from seqcore.errors import SeqcoreError

#: Texts standardized per TensorFlow call.
BATCH = 512


def write_corpus(out, splits, split="train", overwrite=False):
    """Writes `split`'s texts of `splits` (an `apps.sentiment.data.TextSplits`) to `out`, one per line.

    The file appears whole or not at all.

    Returns:
        `(texts written, words written)`.

    Example:

    >>> import tempfile
    >>> from apps.sentiment.data import load_splits
    >>> out = Path(tempfile.mkdtemp()) / "train.txt"
    >>> write_corpus(out, load_splits("imdb", limit=20))[0]
    16
    >>> out.read_text(encoding="utf-8") == out.read_text(encoding="utf-8").lower()
    True
    """
    import tensorflow as tf

    from apps.sentiment.preprocessing import standardize_review
    from seqcore.atomic import atomic_file

    if split not in ("train",):
        raise SeqcoreError(f"unknown split {split!r}; expected: train (validation and test stay unseen)")
    out = Path(out)
    if out.exists() and not overwrite:
        raise SeqcoreError(f"output file already exists: {out}; expected a new path, or --overwrite to replace it")
    if not out.parent.is_dir():
        raise SeqcoreError(f"no folder {out.parent} for {out.name}; expected an existing folder")
    texts = getattr(splits, f"{split}_texts")
    count = words = 0
    with atomic_file(out) as temporary, open(temporary, "w", encoding="utf-8") as stream:
        for start in range(0, len(texts), BATCH):
            batch = np.array(texts[start:start + BATCH], dtype=object)
            for text in standardize_review(tf.constant(batch)).numpy():
                tokens = text.decode("utf-8").split()
                if tokens:
                    stream.write(" ".join(tokens) + "\n")
                    count, words = count + 1, words + len(tokens)
    return count, words
