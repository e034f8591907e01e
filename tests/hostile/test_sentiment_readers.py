"""Hostile files for the sentiment readers: `load_splits` (CSV / TSV / JSONL / folders) and `read_texts`.

Every outcome must be a valid `TextSplits` (or text list) or one clean one-line `SeqcoreError`.
"""

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.sentiment.data import load_splits, read_texts
from tests.hostile.helpers import ENCODINGS, HOSTILE, NASTY_CELL, clean_error, encode, fresh_dir, require_intact

SUFFIXES = st.sampled_from([".csv", ".tsv", ".jsonl"])
GOOD_ROWS = [(f"text number {i} is {'good' if i % 2 else 'bad'}", str(i % 2)) for i in range(30)]


def check_splits(splits):
    """A `TextSplits` that is really usable: non-empty splits, labels within the classes."""
    if splits is None:
        return
    assert len(splits.class_names) >= 2
    for texts, labels in ((splits.train_texts, splits.train_labels),
                          (splits.validation_texts, splits.validation_labels),
                          (splits.test_texts, splits.test_labels)):
        assert len(texts) == len(labels) >= 1
        assert all(isinstance(t, str) and t for t in texts)
        assert labels.dtype == np.int32
        assert labels.min() >= 0 and labels.max() < len(splits.class_names)


def table_text(rows, suffix, header=("text", "label")):
    if suffix == ".jsonl":
        return "".join(json.dumps(dict(zip(header, row))) + "\n" for row in rows)
    buffer = io.StringIO()
    if suffix == ".tsv":
        buffer.write("\t".join(header) + "\n")
        buffer.writelines("\t".join(row) + "\n" for row in rows)
    else:
        csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


def is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def load(path):
    return clean_error(lambda: load_splits(str(path), limit=None))


def intact(tmp_path_factory, name, rows, suffix):
    """The file a test corrupts, intact, must load: every row, in two classes."""
    def read():
        path = fresh_dir(tmp_path_factory, "intact") / f"data{suffix}"
        path.write_text(table_text(rows, suffix), encoding="utf-8")
        splits = load_splits(str(path), limit=None)
        check_splits(splits)
        assert len(splits.train_texts) + len(splits.validation_texts) + len(splits.test_texts) == len(rows)
        return splits

    require_intact((name, suffix, len(rows)), read)


@given(data=st.binary(max_size=2000), suffix=SUFFIXES)
@example(data=b"", suffix=".csv")
@example(data=b"\x00" * 64, suffix=".jsonl")
@example(data=b"\xff\xfe\x00\x00", suffix=".tsv")
@settings(HOSTILE, max_examples=40)
def test_random_bytes(tmp_path_factory, data, suffix):
    path = fresh_dir(tmp_path_factory, "bytes") / f"data{suffix}"
    path.write_bytes(data)
    check_splits(load(path))


@given(suffix=SUFFIXES, cut=st.floats(0.0, 1.0))
@settings(HOSTILE, max_examples=30)
def test_truncated_valid_file(tmp_path_factory, suffix, cut):
    data = table_text(GOOD_ROWS, suffix).encode("utf-8")
    intact(tmp_path_factory, "truncated", GOOD_ROWS, suffix)
    path = fresh_dir(tmp_path_factory, "trunc") / f"data{suffix}"
    path.write_bytes(data[: int(len(data) * cut)])
    check_splits(load(path))


@given(suffix=SUFFIXES, encoding=ENCODINGS,
       extra=st.sampled_from(["café", "naïve", "日本語", "\ud800", "emoji 😀"]))
@settings(HOSTILE, max_examples=30)
def test_wrong_encodings(tmp_path_factory, suffix, encoding, extra):
    rows = GOOD_ROWS[:-1] + [(f"{extra} text", "1")]
    if extra != "\ud800":  # the same rows in UTF-8 load
        intact(tmp_path_factory, f"encodings {extra}", rows, suffix)
    path = fresh_dir(tmp_path_factory, "enc") / f"data{suffix}"
    path.write_bytes(encode(table_text(rows, suffix), encoding))
    splits = load(path)
    if not is_utf8(path.read_bytes()):
        assert splits is None, "non-UTF-8 bytes must be refused, not read as mojibake"
    check_splits(splits)


@given(suffix=st.sampled_from([".csv", ".tsv"]),
       garbage=st.lists(st.lists(NASTY_CELL, min_size=0, max_size=4), min_size=1, max_size=5),
       raw_lines=st.lists(st.text(alphabet='ab,\t"\x00\r\n\\ 1', max_size=30), max_size=3))
@settings(HOSTILE, max_examples=60)
def test_valid_header_then_garbage_rows(tmp_path_factory, suffix, garbage, raw_lines):
    text = table_text(GOOD_ROWS, suffix)
    intact(tmp_path_factory, "garbage", GOOD_ROWS, suffix)
    sep = "\t" if suffix == ".tsv" else ","
    text += "".join(sep.join(row) + "\n" for row in garbage) + "\n".join(raw_lines)
    path = fresh_dir(tmp_path_factory, "garbage") / f"data{suffix}"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    check_splits(load(path))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(lines=st.lists(st.one_of(
    st.fixed_dictionaries({"text": JSON_VALUES, "label": JSON_VALUES}).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.text(max_size=30),
    st.sampled_from(["{", "}", "[]", "null", '{"text": "a"}', '{"label": 1}', "NaN",
                     '{"text": "a", "label": NaN}', '{"text": "a", "label": Infinity}',
                     '{"text": "\\u0000", "label": 1}', '{"text": "a", "label": 1} trailing']),
), max_size=6))
@settings(HOSTILE, max_examples=60)
def test_jsonl_hostile_lines(tmp_path_factory, lines):
    intact(tmp_path_factory, "jsonl", GOOD_ROWS, ".jsonl")
    text = table_text(GOOD_ROWS, ".jsonl") + "\n".join(lines) + "\n"
    path = fresh_dir(tmp_path_factory, "jsonl") / "data.jsonl"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    check_splits(load(path))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_empty_and_blank_files(tmp_path, suffix):
    for content in (b"", b"\n\n\n", b"   \r\n\t", b"\xef\xbb\xbf"):
        path = tmp_path / f"data{suffix}"
        path.write_bytes(content)
        assert load(path) is None


@pytest.mark.parametrize("suffix", [
    ".csv",
    ".tsv",
    ".jsonl",
])
def test_huge_line(tmp_path, suffix):
    """A 3 MB review is a valid (if long) text: read it, or refuse it cleanly."""
    rows = GOOD_ROWS + [("x" * 3_000_000, "1")]
    path = tmp_path / f"data{suffix}"
    path.write_text(table_text(GOOD_ROWS, suffix), encoding="utf-8")
    check_splits(load(path))
    assert load(path) is not None  # the rows without the huge one load
    path.write_text(table_text(rows, suffix), encoding="utf-8")
    check_splits(load(path))


def test_huge_line_without_newline(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(table_text(GOOD_ROWS, ".jsonl").encode() + b"{\"text\": \"" + b"x" * 3_000_000)
    assert load(path) is None


def test_jsonl_deeply_nested_line(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(table_text(GOOD_ROWS, ".jsonl") + "[" * 100_000 + "\n", encoding="utf-8")
    assert load(path) is None


@given(files=st.lists(st.tuples(st.sampled_from(["pos", "neg", ".hidden", "unsup"]),
                                st.sampled_from(["a.txt", "b.txt", "c.TXT", "d.md", ".e.txt"]),
                                st.one_of(st.binary(max_size=50), st.text(max_size=30).map(
                                    lambda t: t.encode("utf-8", "surrogatepass")))),
                      max_size=8),
       train_test=st.booleans())
@settings(HOSTILE, max_examples=30)
def test_folder_of_hostile_txt_files(tmp_path_factory, files, train_test):
    def base_folder(root):
        # A valid base: 4 texts per class, so that a successful load has 3 splits.
        for label in ("pos", "neg"):
            for split in (("train", "test") if train_test else ("",)):
                for i in range(4):
                    folder = root / split / label
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"base{i}.txt").write_text(f"{label} text {i}", encoding="utf-8")
        return root

    require_intact(("folder", train_test),
                   lambda: load_splits(str(base_folder(fresh_dir(tmp_path_factory, "intact"))), limit=None))
    root = base_folder(fresh_dir(tmp_path_factory, "folder"))
    for label, name, data in files:
        folder = root / ("train" if train_test else "") / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    check_splits(load(root))


def intact_texts(tmp_path_factory):
    path = fresh_dir(tmp_path_factory, "texts-intact") / "texts.txt"
    path.write_bytes("\ufeffone\r\n two \n\nthree été\n".encode())
    texts = read_texts(path, required=True)
    assert texts == ["one", "two", "three été"], texts
    return texts


@given(data=st.binary(max_size=1000), required=st.booleans())
@example(data=b"", required=True)
@example(data="\ufeffone\r\ntwo\rthree\u2028four".encode(), required=True)
@settings(HOSTILE, max_examples=40)
def test_read_texts_random_bytes(tmp_path_factory, data, required):
    require_intact("read_texts", lambda: intact_texts(tmp_path_factory))
    path = fresh_dir(tmp_path_factory, "texts") / "texts.txt"
    path.write_bytes(data)
    texts = clean_error(lambda: read_texts(path, required=required))
    if texts is not None:
        assert all(isinstance(t, str) and t == t.strip() and t for t in texts)
        assert texts or not required


@given(encoding=ENCODINGS, text=st.text(max_size=100))
@settings(HOSTILE, max_examples=30)
def test_read_texts_encodings(tmp_path_factory, encoding, text):
    require_intact("read_texts encodings", lambda: intact_texts(tmp_path_factory))
    path = fresh_dir(tmp_path_factory, "texts-enc") / "texts.txt"
    path.write_bytes(encode(text, encoding))
    clean_error(lambda: read_texts(path))


def test_read_texts_huge_line_and_directory(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("short\n" + "y" * 4_000_000 + "\n", encoding="utf-8")
    texts = read_texts(path)
    assert len(texts) == 2 and len(texts[1]) == 4_000_000
    assert clean_error(lambda: read_texts(tmp_path)) is None
    assert clean_error(lambda: read_texts(tmp_path / "missing.txt")) is None
