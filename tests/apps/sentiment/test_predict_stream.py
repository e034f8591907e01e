"""`predict --file` streams: the file is read line by line, exactly as `read_texts` would read it whole."""

import pytest

from apps.sentiment import prediction
from apps.sentiment.data import read_texts
from seqcore.errors import SeqcoreError

CASES = {
    "plain": b"great film\nawful film\n",
    "crlf-cr-blank": b"first\r\nsecond\rthird\n\n   \n  padded  \nlast",
    "bom": b"\xef\xbb\xbfwith a BOM\nnext\n",
    "unicode": "caf\u00e9 \u2028 still one line\n\u00fcber\n".encode(),
}
BAD = {
    "invalid-late": b"ok line\n" * 5 + b"bad \xff byte\n",
    "truncated-multibyte": b"fine\nends in \xc3\n",
    "empty": b"\n \n",
}


@pytest.mark.parametrize("name", CASES)
def test_streamed_lines_equal_the_whole_file_reader(tmp_path, name):
    path = tmp_path / "texts.txt"
    path.write_bytes(CASES[name])
    assert list(prediction.gather_texts(file=str(path))) == read_texts(path)


@pytest.mark.parametrize("name", BAD)
def test_streamed_errors_equal_the_whole_file_reader(tmp_path, name):
    path = tmp_path / "texts.txt"
    path.write_bytes(BAD[name])
    with pytest.raises(SeqcoreError) as expected:
        read_texts(path)
    with pytest.raises(SeqcoreError) as streamed:
        list(prediction.gather_texts(file=str(path)))
    assert str(streamed.value) == str(expected.value)


def test_a_file_is_read_lazily_and_arguments_are_checked_first(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_bytes(b"one\ntwo\n" + b"bad \xff\n")
    texts = prediction.gather_texts(["first"], file=str(path))
    assert [next(texts), next(texts), next(texts)] == ["first", "one", "two"]  # not read past here yet
    with pytest.raises(SeqcoreError, match="not valid UTF-8"):
        next(texts)
    with pytest.raises(SeqcoreError, match="input 2 is empty"):
        prediction.gather_texts(["ok", "  "], file=str(path))
    with pytest.raises(SeqcoreError, match="text file not found"):
        prediction.gather_texts(file=str(tmp_path / "missing.txt"))
