"""Files and folders written whole or not at all: a hidden temporary beside the target, then a rename.

A reader (or a later command) sees either the previous content or the
complete new one, never half of one, whatever interrupts the writer: an
error, Ctrl-C, SIGKILL or a full disk.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from seqcore.errors import SeqcoreError


@contextlib.contextmanager
def atomic_file(path, mode=0o644):
    """Yields a temporary path beside `path`, renamed to `path` when the block succeeds.

    The temporary keeps `path`'s suffix (Keras picks the format from it).
    On any error or interrupt it is deleted and `path` is untouched.

    Example:

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_file(target) as temporary:
    ...     _ = temporary.write_text("done", encoding="utf-8")
    >>> target.read_text(encoding="utf-8"), sorted(p.name for p in target.parent.iterdir())
    ('done', ['notes.txt'])
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_output(path, overwrite=False):
    """Raises `SeqcoreError` if `path` exists and may not be replaced (call before slow work)."""
    path = Path(path)
    if path.exists() and not (overwrite and path.is_dir()):
        raise SeqcoreError(
            f"output folder already exists: {path}; expected a new --out path, "
            "or --overwrite to replace it"
        )


@contextlib.contextmanager
def atomic_folder(path, overwrite=False):
    """Yields a hidden work folder beside `path`, renamed to `path` when the block succeeds.

    On any error or interrupt the work folder is deleted, so `path` holds
    either the previous result or the complete new one, never half of one.

    Raises:
        SeqcoreError: `path` exists and `overwrite` is not set (before the
            block runs).

    Example:

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "result"
    >>> with atomic_folder(target) as work:
    ...     _ = (work / "a.txt").write_text("done")
    >>> (target / "a.txt").read_text()
    'done'
    """
    path = Path(path)
    check_output(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.partial-"))
    os.chmod(work, 0o755)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    previous = None
    if path.exists():
        previous = path.with_name(f".{path.name}.replaced-{os.getpid()}")
        os.replace(path, previous)
    os.replace(work, path)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
