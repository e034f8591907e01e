"""Corpora: the built-in plays, streaming chunks, held-out parts, windows, TFDS."""

import numpy as np
import pytest
import tensorflow as tf

from apps.textgen import corpus
from apps.textgen.preprocessing import TextTokenizer
from seqcore.errors import SeqcoreError


def test_strip_markdown_of_the_plays():
    markdown = (
        "# Macbeth\n\n## ACT I\n\n_Thunder and lightning. Enter three Witches_\n\n"
        "**First Witch**  \nWhen shall we three meet again  \nIn thunder\\--or in rain?\n"
    )
    assert corpus.strip_markdown(markdown) == (
        "Macbeth\n\nACT I\n\nThunder and lightning. Enter three Witches\n\n"
        "First Witch:\nWhen shall we three meet again\nIn thunder--or in rain?\n"
    )


def test_builtin_corpus_holds_out_whole_plays():
    plays = corpus.builtin_plays()
    assert len(plays) == 38
    shakespeare = corpus.resolve()
    train_files = {path for path, *_ in shakespeare.train.ranges}
    assert len(train_files) == 36
    assert str(plays["hamlet"]) not in train_files and str(plays["macbeth"]) not in train_files
    first = next(iter(corpus.text_dataset(shakespeare.test))).numpy().decode()
    assert first.startswith("Hamlet\n") and "**" not in first and "BERNARDO:\n" in first


def test_file_chunks_stream_the_exact_text_in_line_chunks(tmp_path):
    text = "".join(f"line {i} ünïcödé — {'x' * (i % 50)}\n" for i in range(3000))
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    chunks = list(corpus.file_chunks(path, 0, path.stat().st_size, chunk_bytes=1000))
    assert len(chunks) > 50 and "".join(chunks) == text
    assert all(chunk.endswith("\n") for chunk in chunks)


def test_a_byte_order_mark_is_not_read_as_text(tmp_path):
    path = tmp_path / "notepad.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "first line\nsecond line\n".encode() * 200)
    text = "".join(corpus.file_chunks(path, 0, path.stat().st_size, chunk_bytes=64))
    assert text == "first line\nsecond line\n" * 200
    parts = corpus.resolve(str(path), validation_fraction=0.1)
    train = "".join(s.numpy().decode() for s in corpus.text_dataset(parts.train))
    assert train.startswith("first line\n")


def test_user_files_hold_out_the_end_at_a_line_break(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text("".join(f"sentence number {i}.\n" for i in range(1000)), encoding="utf-8")
    parts = corpus.resolve(str(path), validation_fraction=0.1)
    (_, _, cut, _), = parts.train.ranges
    assert parts.validation.ranges[0][1] == cut and parts.test == parts.validation
    train = "".join(s.numpy().decode() for s in corpus.text_dataset(parts.train))
    held_out = "".join(s.numpy().decode() for s in corpus.text_dataset(parts.validation))
    assert train + held_out == path.read_text() and train.endswith("\n")
    assert 0.08 < len(held_out) / (len(train) + len(held_out)) < 0.12
    assert corpus.count_tokens(parts.validation, "char") == (len(held_out), len(held_out))


def test_folder_and_binary_sources(tmp_path):
    (tmp_path / "a.txt").write_text("hello\n" * 20)
    (tmp_path / ".hidden").write_text("skip me")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("world\n" * 20)
    assert [p.name for p in corpus.text_files(tmp_path)] == ["a.txt", "b.txt"]
    (tmp_path / "sub" / "c.bin").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(SeqcoreError, match=r"not a text file: .*c\.bin; expected UTF-8 text, found NUL bytes"):
        corpus.text_files(tmp_path)
    with pytest.raises(SeqcoreError, match="no such file or folder"):
        corpus.resolve(str(tmp_path / "missing"))


def test_windows_are_consecutive_next_token_pairs(tmp_path):
    text = "abcdefghij" * 30 + "\n"
    path = tmp_path / "t.txt"
    path.write_text(text)
    part = corpus.Part("all", ((str(path), 0, path.stat().st_size, False),))
    tokenizer = TextTokenizer("char", vocabulary=list("abcdefghij\n"))
    batches = list(corpus.windows(part, tokenizer, seq_len=9, batch_size=4))
    assert len(batches) == corpus.num_batches(len(text), 9, 4)
    inputs, targets = batches[0]
    assert inputs.shape == (4, 9) and targets.shape == (4, 9)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    decoded = tokenizer.detokenize(tf.concat([inputs[:, :1], targets], axis=1)).numpy()
    assert [d.decode() for d in decoded] == [text[i * 10 : i * 10 + 10] for i in range(4)]


def test_vocabulary_comes_from_the_training_part_most_frequent_first(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("aaab ab b\n" * 50 + "zzzz\n" * 3)
    parts = corpus.resolve(str(path), validation_fraction=0.1)
    vocabulary = corpus.build_vocabulary(parts.train, "char")
    assert vocabulary[:2] == ["a", "b"] and "z" not in vocabulary
    words = corpus.build_vocabulary(parts.train, "word")
    assert set(words) == {"aaab", "ab", "b", " ", "\n"}


def test_tfds_source_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=2):
        parts = corpus.resolve("tfds:tiny_shakespeare")
        tokens, characters = corpus.count_tokens(parts.train, "char")
        assert tokens == characters and tokens > 0
        vocabulary = corpus.build_vocabulary(parts.train, "char")
        assert vocabulary
    with pytest.raises(SeqcoreError, match="cannot load TFDS dataset 'no_such_dataset'"):
        list(corpus.text_dataset(corpus.resolve("tfds:no_such_dataset").train))


@pytest.mark.slow
def test_a_large_file_streams_with_flat_memory(tmp_path):
    """~200 MB of text: counting and windowing never hold the file in memory."""
    import resource

    line = "Now is the winter of our discontent made glorious summer by this sun of York;\n"
    path = tmp_path / "large.txt"
    with open(path, "w", encoding="utf-8") as file:
        block = line * 10000
        for _ in range(260):
            file.write(block)
    size = path.stat().st_size
    assert size > 200e6
    parts = corpus.resolve(str(path), validation_fraction=0.01)
    tokenizer = TextTokenizer("char", vocabulary=corpus.build_vocabulary(parts.train, "char", sample_chunks=4))
    for batch in corpus.windows(parts.validation, tokenizer, 100, 64).take(2):
        pass  # warm up TensorFlow before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tokens, _ = corpus.count_tokens(parts.train, "char")
    assert tokens > 0.98 * size
    for batch in corpus.windows(parts.train, tokenizer, 100, 64, shuffle_seed=0).take(400):
        assert batch[0].shape == (64, 100)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert grown < 0.25 * size, f"peak memory grew by {grown / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_an_empty_entry_in_a_file_list_is_refused(tmp_path):
    """`a.txt,,` must not read the working directory as the corpus."""
    from apps.textgen.corpus import resolve
    from seqcore.errors import SeqcoreError

    (tmp_path / "a.txt").write_text("some text\n" * 50, encoding="utf-8")
    with pytest.raises(SeqcoreError, match="empty path in --data"):
        resolve(f"{tmp_path / 'a.txt'},,")
