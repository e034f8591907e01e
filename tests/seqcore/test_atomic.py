"""seqcore.atomic: a failed or interrupted write leaves the previous content, never half of the new."""

import pytest

from seqcore.atomic import atomic_file, atomic_folder
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


def test_a_failed_file_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
    assert target.read_text() == "old"


def test_a_file_write_replaces_the_file_and_keeps_its_suffix_while_writing(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("old")
    with atomic_file(target, mode=0o600) as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".keras"
        temporary.write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o600
