"""The output folder of a comparison, written whole or not at all."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from seqcore.errors import SeqcoreError


def default_output(task):
    """`compare/<task>-<timestamp>`, with a suffix if that name is taken.

    Example:

    >>> str(default_output("sentiment")).startswith("compare/sentiment-")
    True
    """
    from seqcore.runs import timestamped_path

    return timestamped_path("compare", task)


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
