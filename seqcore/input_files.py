"""The files a command is given: files as they are, folders searched recursively, hidden ones skipped.

Example:

>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("a.wav", "b/c.wav", "b/notes.txt", ".hidden/d.wav"):
...     (root / name).parent.mkdir(parents=True, exist_ok=True)
...     _ = (root / name).write_bytes(b"")
>>> [p.relative_to(root).as_posix() for p in input_files([root], suffix=".wav",
...  empty_folder="no audio in {folder}", missing="not found: {path}")]
['a.wav', 'b/c.wav']
"""

from pathlib import Path

from seqcore.errors import SeqcoreError


def visible_files(folder, suffix=None):
    """Files below `folder`, sorted, none hidden or inside a hidden folder; only `suffix` ones if given."""
    folder = Path(folder)
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and (suffix is None or path.suffix.lower() == suffix)
    )


def input_files(items, *, empty_folder, missing, suffix=None):
    """Files as given and the `visible_files` of folders, in order.

    Args:
        items: paths of files and folders (`~` is expanded).
        empty_folder: the error for a folder with no such file; `{folder}`
            names it.
        missing: the error for a path that is neither; `{path}` names it.
        suffix: keep only files in folders that end so (e.g. `.wav`).

    Raises:
        SeqcoreError: an empty folder or a missing path.
    """
    paths = []
    for item in items:
        item = Path(item).expanduser()
        if item.is_dir():
            found = visible_files(item, suffix)
            if not found:
                raise SeqcoreError(empty_folder.format(folder=item))
            paths += found
        elif item.is_file():
            paths.append(item)
        else:
            raise SeqcoreError(missing.format(path=item))
    return paths
