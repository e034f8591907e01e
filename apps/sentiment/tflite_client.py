"""The client side of a sentiment TFLite model: raw text -> its inputs, in plain Python and NumPy.

TensorFlow Lite builtins have no string ops, so the text preprocessing that
the SavedModel runs inside the graph runs in the client instead, with the
vocabularies shipped beside the model (`export --format tflite` writes them
into `<version>/tflite/`): `vocabulary.txt` (line i is token id i; line 0 is
padding, line 1 `[UNK]`), and for a wide & deep model `ngrams.txt` (line i is
n-gram id i; line 0 `[UNK]`, which collects unknown n-grams), plus
`preprocessing.json` (sequence length, longest n-gram, class names). This
module is that recipe, with no TensorFlow import, so it runs on a device with
only `ai_edge_litert` and NumPy; port it line for line to Kotlin / Swift /
C++. It equals the model's own preprocessing on the texts it is checked on at
every export (the export feeds the TFLite model through this module and
compares with the Keras model on the raw texts).

Steps: lower-case; every HTML tag becomes a space; every character that is
not a letter, a digit, ASCII whitespace or `'` is dropped; split on
whitespace. Token ids: each word's line number in `vocabulary.txt` (unknown:
1), the first `sequence_length` (all when null), right-padded with 0 to the
longest text of the batch. N-grams: every run of 1 to `ngrams` consecutive
words, joined by one space, mapped to its line in `ngrams.txt` (unknown: 0);
the model takes each distinct id once with its count (with `ngram_values`
"presence", NBSVM's, with 1), padded with id 0 and count 0.

Example:

>>> client = TextClient(["", "[UNK]", "good", "film"], ["[UNK]", "good", "film", "good film"],
...                     sequence_length=None, ngrams=2)
>>> features = client.features(["Good film!", "<b>bad</b>"])
>>> features["token_ids"].tolist(), features["ngram_ids"].tolist(), features["ngram_counts"].tolist()
([[2, 3], [1, 0]], [[1, 2, 3], [0, 0, 0]], [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
"""

import collections
import json
import re
import unicodedata
from pathlib import Path

import numpy as np

_TAG = re.compile(r"<\s*/?\s*[a-z][^<>]*>")
_ASCII_WHITESPACE = "\t\n\f\r "  # RE2's \s, which the model's standardization keeps


def standardize(text):
    """Lower-cases, turns HTML tags into spaces, drops punctuation (`apps.sentiment.preprocessing.standardize_review`).

    Example:

    >>> standardize("Great!<br />Très bien.")
    'great très bien'
    """
    text = _TAG.sub(" ", text.lower())
    return "".join(
        c for c in text if c in _ASCII_WHITESPACE or c == "'" or unicodedata.category(c)[0] in "LN"
    )


class TextClient:
    """Turns raw texts into a sentiment TFLite model's inputs.

    Args:
        vocabulary: the token vocabulary, id order (`vocabulary.txt`).
        ngram_vocabulary: the n-gram vocabulary, id order (`ngrams.txt`), or
            None for a model without the wide path.
        sequence_length: keep the first this many tokens; None keeps all.
        ngrams: longest n-gram counted.
        ngram_values: `"count"` (how often each n-gram occurs, TF-IDF models)
            or `"presence"` (1 for each distinct n-gram, NBSVM models).
    """

    def __init__(self, vocabulary, ngram_vocabulary=None, sequence_length=None, ngrams=2, ngram_values="count"):
        self.token_ids = {token: index for index, token in enumerate(vocabulary) if index >= 2}
        self.ngram_ids = None if ngram_vocabulary is None else {
            gram: index for index, gram in enumerate(ngram_vocabulary) if index >= 1
        }
        self.sequence_length = sequence_length
        self.ngrams = int(ngrams)
        self.presence = ngram_values == "presence"

    @classmethod
    def from_folder(cls, folder):
        """Reads `vocabulary.txt`, `ngrams.txt` (if present) and `preprocessing.json` from a model's folder."""
        folder = Path(folder)
        settings = json.loads((folder / "preprocessing.json").read_text(encoding="utf-8"))

        def lines(name):
            return (folder / name).read_text(encoding="utf-8").split("\n")[:-1]

        ngrams = lines("ngrams.txt") if (folder / "ngrams.txt").is_file() else None
        return cls(lines("vocabulary.txt"), ngrams, settings["sequence_length"], settings.get("ngrams", 2),
                   settings.get("ngram_values", "count"))

    def features(self, texts):
        """A dict of NumPy inputs for a batch of texts: `token_ids`, and `ngram_ids` / `ngram_counts` (wide)."""
        words = [standardize(text).split() for text in texts]
        ids = [[self.token_ids.get(word, 1) for word in text] for text in words]
        if self.sequence_length is not None:
            ids = [row[: self.sequence_length] for row in ids]
        steps = max(1, max(len(row) for row in ids))
        result = {"token_ids": np.array([row + [0] * (steps - len(row)) for row in ids], "int32")}
        if self.ngram_ids is not None:
            counts = [self._ngram_counts(text) for text in words]
            width = max(1, max(len(row) for row in counts))
            result["ngram_ids"] = np.array(
                [list(row) + [0] * (width - len(row)) for row in counts], "int32")
            result["ngram_counts"] = np.array(
                [list(row.values()) + [0.0] * (width - len(row)) for row in counts], "float32")
        return result

    def _ngram_counts(self, words):
        counts = collections.Counter()
        for n in range(1, self.ngrams + 1):
            for start in range(len(words) - n + 1):
                counts[self.ngram_ids.get(" ".join(words[start:start + n]), 0)] += 1
        return {key: (1 if self.presence else count) for key, count in sorted(counts.items())}
