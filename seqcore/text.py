"""Decoding user text files: UTF-8, with or without a byte-order mark, or one clear error.

Example:

>>> decode_utf8(b"\\xef\\xbb\\xbfcaf\\xc3\\xa9", "notes.txt")
'café'
>>> decode_utf8(b"ok \\xff", "notes.txt")
Traceback (most recent call last):
    ...
seqcore.errors.SeqcoreError: notes.txt is not valid UTF-8: invalid byte 0xff at byte offset 3; expected UTF-8 text
"""

from seqcore.errors import SeqcoreError

BOM = b"\xef\xbb\xbf"


def decode_utf8(data, name, offset=0, expected="UTF-8 text"):
    """`data` decoded as UTF-8, a leading byte-order mark dropped.

    Args:
        data: the bytes (a whole file, or one piece of it).
        name: what the bytes are, for the error (usually the file's path).
        offset: where `data` starts in the file; a byte-order mark is only
            dropped at offset 0, and the error counts from the file's start.
        expected: what the file should hold, for the error.

    Raises:
        SeqcoreError: naming the first invalid byte and its offset in the file.
    """
    skip = len(BOM) if offset == 0 and data.startswith(BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        raise SeqcoreError(
            f"{name} is not valid UTF-8: invalid byte 0x{error.object[error.start]:02x} "
            f"at byte offset {offset + skip + error.start}; expected {expected}"
        ) from None
