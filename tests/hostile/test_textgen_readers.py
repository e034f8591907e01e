"""Hostile files for the textgen corpus reader (`apps/textgen/corpus.py`).

`resolve` (file / comma-separated files / folder, checked as UTF-8 text), the streaming
`file_chunks` and the token counts `train` checks (`apps.textgen.commands._check_corpus`)
must give a usable corpus or one clean one-line `SeqcoreError`.
"""

import codecs

from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.textgen import corpus as corpus_lib
from apps.textgen.commands import _check_corpus
from tests.hostile.helpers import ENCODINGS, HOSTILE, clean_error, encode, fresh_dir, require_intact

TEXT = "".join(f"Line {i}: to be, or not to be, that is the question.\n" for i in range(40))


def read_all(corpus):
    """Streams every byte range of the corpus like `train` does, in small chunks."""
    texts = []
    for part in (corpus.train, corpus.validation):
        for path, start, end, markdown in part.ranges:
            assert 0 <= start <= end
            chunks = list(corpus_lib.file_chunks(path, start, end, markdown, chunk_bytes=64))
            assert all(isinstance(chunk, str) for chunk in chunks)
            texts.append("".join(chunks))
    return "".join(texts)


def intact(tmp_path_factory, name, data, fraction=0.2):
    """The corpus a test corrupts, intact, must load and read back whole."""
    def read():
        path = fresh_dir(tmp_path_factory, "intact") / "corpus.txt"
        path.write_bytes(data)
        corpus = corpus_lib.resolve(str(path), validation_fraction=fraction)
        text = data.decode("utf-8").removeprefix("\ufeff")
        assert read_all(corpus) == text.replace("\r\n", "\n")  # read with universal newlines
        return corpus

    require_intact((name, data, fraction), read)


def resolve_and_read(source, fraction=0.2):
    corpus = clean_error(lambda: corpus_lib.resolve(str(source), validation_fraction=fraction))
    if corpus is not None:
        read_all(corpus)
    return corpus


@given(data=st.binary(max_size=3000), fraction=st.sampled_from([0.05, 0.5, 0.95]))
@example(data=b"", fraction=0.05)
@example(data=b"\n", fraction=0.5)
@example(data=b"\xef\xbb\xbf", fraction=0.5)
@example(data=b"a" * 9000 + b"\xff", fraction=0.5)  # bad byte past the 8 KB sniff
@settings(HOSTILE, max_examples=60)
def test_random_bytes(tmp_path_factory, data, fraction):
    path = fresh_dir(tmp_path_factory, "bytes") / "corpus.txt"
    path.write_bytes(data)
    corpus = resolve_and_read(path, fraction)
    if b"\x00" in data[: corpus_lib.SNIFF_BYTES]:
        assert corpus is None, "NUL bytes in the first 8 KB must be refused"


@given(cut=st.integers(0, len(TEXT.encode())), extra=st.sampled_from(["é", "日本", "😀", "\r\n"]))
@settings(HOSTILE, max_examples=40)
def test_truncated_file_cut_mid_character(tmp_path_factory, cut, extra):
    data = (TEXT + extra * 50).encode()
    intact(tmp_path_factory, "truncated", data)
    path = fresh_dir(tmp_path_factory, "trunc") / "corpus.txt"
    path.write_bytes(data[:cut])
    resolve_and_read(path)


@given(encoding=ENCODINGS, text=st.text(min_size=1, max_size=300))
@settings(HOSTILE, max_examples=40)
def test_wrong_encodings(tmp_path_factory, encoding, text):
    data = encode(TEXT + text, encoding)
    intact(tmp_path_factory, "encodings", TEXT.encode())
    path = fresh_dir(tmp_path_factory, "enc") / "corpus.txt"
    path.write_bytes(data)
    corpus = resolve_and_read(path)
    if encoding == "utf-16":
        assert corpus is None, "UTF-16 (NUL bytes) must be refused"


@given(files=st.lists(st.tuples(st.sampled_from(["a.txt", "b.md", ".hidden", "sub/c.txt", ".git/x", "d"]),
                                st.binary(max_size=200)), max_size=5),
       comma=st.booleans())
@settings(HOSTILE, max_examples=30)
def test_folders_and_comma_lists(tmp_path_factory, files, comma):
    def intact():  # a folder of two texts, and the same two files as a comma list
        folder = fresh_dir(tmp_path_factory, "folder-intact")
        names = [_written(folder / "a.txt", TEXT.encode()), _written(folder / "b.md", b"# Act\n" + TEXT.encode())]
        for source in (str(folder), ",".join(map(str, names))):
            corpus = corpus_lib.resolve(source, validation_fraction=0.2)
            assert len(read_all(corpus)) > 2 * len(TEXT) - 10
        return corpus

    require_intact(("folder", comma), intact)
    root = fresh_dir(tmp_path_factory, "folder")
    written = []
    for name, data in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(str(path))
    source = ",".join(written + [str(root / "missing.txt")][: 1 - bool(written)]) if comma else root
    resolve_and_read(source)


def _written(path, data):
    path.write_bytes(data)
    return path


def test_huge_lines(tmp_path):
    """A 3 MB line without a newline, and one with newlines only at the end, stream fine."""
    for data in (b"x" * 3_000_000, b"y" * 3_000_000 + b"\n" * 3, "é".encode() * 1_500_000):
        path = tmp_path / "corpus.txt"
        path.write_bytes(data)
        corpus = corpus_lib.resolve(str(path), validation_fraction=0.1)
        assert corpus.train.num_bytes + corpus.validation.num_bytes == len(data)
        assert len(read_all(corpus)) == len(data.decode())


def test_empty_files_and_missing_paths(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    corpus = corpus_lib.resolve(str(empty))
    assert clean_error(lambda: _check_corpus(corpus, "char", 8)) is None
    (tmp_path / "folder").mkdir()
    assert clean_error(lambda: corpus_lib.resolve(str(tmp_path / "folder"))) is None
    assert clean_error(lambda: corpus_lib.resolve(str(tmp_path / "nope.txt"))) is None
    assert clean_error(lambda: corpus_lib.resolve(f"{empty},,")) is None


@given(data=st.one_of(st.binary(max_size=600), st.text(max_size=300).map(
           lambda t: (TEXT + t).encode("utf-8", "surrogatepass"))),
       level=st.sampled_from(["char", "word"]))
@example(data=codecs.BOM_UTF8 + TEXT.encode(), level="word")
@example(data=("\u2028".join(TEXT.split("\n"))).encode(), level="char")
@settings(HOSTILE, max_examples=12)
def test_token_counts_as_train_checks_them(tmp_path_factory, data, level):
    """The TensorFlow half of the reader: chunks -> tokens -> the length checks of `train`."""
    require_intact(("tokens", level), lambda: _check_corpus(
        corpus_lib.resolve(str(_written(fresh_dir(tmp_path_factory, "intact") / "corpus.txt", TEXT.encode())),
                           validation_fraction=0.3), level, 8))
    path = fresh_dir(tmp_path_factory, "tokens") / "corpus.txt"
    path.write_bytes(data)
    corpus = resolve_and_read(path, 0.3)
    if corpus is not None:
        counts = clean_error(lambda: _check_corpus(corpus, level, 8))
        if counts is not None:
            assert min(counts) >= 9
