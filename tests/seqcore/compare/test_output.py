import pytest

from seqcore.compare.output import atomic_folder
from seqcore.errors import SeqcoreError


def test_failure_leaves_nothing_behind(tmp_path):
    target = tmp_path / "cmp"
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as work:
            (work / "results.json").write_text("{}")
            raise RuntimeError("training failed")
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite(tmp_path):
    target = tmp_path / "cmp"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(SeqcoreError, match="already exists"):
        with atomic_folder(target):
            pass
    with atomic_folder(target, overwrite=True) as work:
        (work / "new.txt").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]
    assert [p.name for p in target.iterdir()] == ["new.txt"]
