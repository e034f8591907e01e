import pytest

from seqcore.errors import SeqcoreError
from seqcore.runs import RunDir, open_run, read_json, write_json


def test_write_json_is_atomic_and_readable(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    write_json(tmp_path / "a.json", {"x": 2})
    assert read_json(tmp_path / "a.json") == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_run_lives_in_partial_until_finalized(tmp_path):
    run = RunDir(tmp_path / "run")
    run.start()
    assert run.work.is_dir() and not run.path.exists()
    write_json(run.work / "config.json", {})
    run.finalize()
    assert run.path.is_dir() and not run.work.exists()


def test_existing_run_needs_overwrite(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(SeqcoreError, match="already exists.*--overwrite"):
        RunDir(tmp_path / "run").start()
    RunDir(tmp_path / "run").start(overwrite=True)


def test_interrupted_run_must_be_resumed_or_overwritten(tmp_path):
    RunDir(tmp_path / "run").start()
    with pytest.raises(SeqcoreError, match="interrupted run.*--resume"):
        RunDir(tmp_path / "run").start()


def test_resume_without_interrupted_run_fails(tmp_path):
    with pytest.raises(SeqcoreError, match="nothing to resume"):
        RunDir(tmp_path / "run").start(resume=True)


def test_open_run_names_missing_files_and_hints_at_partial(tmp_path):
    RunDir(tmp_path / "run").start()
    with pytest.raises(SeqcoreError, match="not a run directory.*missing: model.keras, config.json.*--resume"):
        open_run(tmp_path / "run")


def test_open_run_refuses_another_tasks_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"")
    write_json(run / "config.json", {"task": "speech"})
    assert open_run(run, "speech") == {"task": "speech"}
    with pytest.raises(SeqcoreError, match=r"run is a 'speech' run; expected a textgen run directory"):
        open_run(run, "textgen")
