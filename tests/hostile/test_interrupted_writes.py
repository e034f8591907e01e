"""Disk full or a killed process during `train` / `export` leaves the previous run / export intact.

One tiny sentiment run and one export (`BASE/1`) are made per module; each test works on its
own copy. Disk full is simulated by monkeypatching a save to raise ENOSPC part-way through
writing; a kill is a real SIGKILL of a `python -m seqcore ...` subprocess.
"""

import csv
import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest
from click.testing import CliRunner

from seqcore.cli.main import cli as seqcore_cli

TINY = ["--epochs", "2", "--units", "8", "--sequence-length", "16", "--max-tokens", "200",
        "--batch-size", "16"]
ENOSPC = OSError(errno.ENOSPC, "No space left on device")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def invoke(*args):
    return CliRunner().invoke(seqcore_cli, ["sentiment", *map(str, args)], prog_name="seqcore")


def ok(result):
    if result.exit_code != 0:
        import traceback

        detail = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        pytest.fail(f"exit code {result.exit_code}\n{result.output}\n{detail}")
    return result


def snapshot(folder):
    """Relative path -> (sha256, mtime_ns) of every file under `folder` (mtimes of files only)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(result, *words):
    """A clean failure: exit status 1, no traceback, one `Error: ...` line naming `words`."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}")
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]


def copy_run(source, folder):
    target = Path(folder) / "run"
    shutil.copytree(source, target)  # copy2: keeps mtimes, so snapshots compare exactly
    return target


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("interrupted")


@pytest.fixture(scope="module")
def data_file(work):
    """A 60-row, two-class CSV."""
    words = {"1": ["great", "loved", "wonderful", "fun"], "0": ["awful", "boring", "bad", "dull"]}
    path = work / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for i in range(60):
            label = str(i % 2)
            writer.writerow([f"a {words[label][i % 4]} film number {i}, {words[label][(i + 1) % 4]}", label])
    return path


@pytest.fixture(scope="module")
def finished_run(work, data_file):
    run = work / "runs" / "tiny"
    ok(invoke("train", "--data", data_file, "--out", run, *TINY))
    assert (run / "model.keras").is_file() and (run / "metrics.json").is_file()
    return run


@pytest.fixture(scope="module")
def export_base(work, finished_run):
    base = work / "exports" / "sentiment"
    ok(invoke("export", finished_run, base))
    assert (base / "1" / "saved_model.pb").is_file()
    return base


def copy_export(base, folder):
    target = Path(folder) / "export"
    shutil.copytree(base, target)
    return target


# --- train: disk full ----------------------------------------------------------------------------


def _disk_full_on_second_save(monkeypatch):
    """`keras.Model.save` works once (initial.keras), then fills the disk half-way through a save."""
    calls = []
    original = keras.Model.save

    def save(self, filepath, *args, **kwargs):
        calls.append(str(filepath))
        if len(calls) == 1:
            return original(self, filepath, *args, **kwargs)
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")  # what a full disk leaves behind
        raise OSError(ENOSPC.errno, ENOSPC.strerror)

    monkeypatch.setattr(keras.Model, "save", save)
    return calls


def test_disk_full_during_train_keeps_previous_run(tmp_path, monkeypatch, finished_run, data_file):
    run = copy_run(finished_run, tmp_path)
    before = snapshot(run)
    calls = _disk_full_on_second_save(monkeypatch)
    result = invoke("train", "--data", data_file, "--out", run, "--overwrite", *TINY)
    assert result.exit_code != 0
    assert len(calls) >= 2, f"the disk never filled: saves were {calls}"
    assert snapshot(run) == before, "the previous run changed"
    assert not Path(f"{run}.partial").exists(), "a failed (not killed) run must not leave .partial"
    assert not list(tmp_path.glob(".run*")), list(tmp_path.iterdir())


def test_disk_full_during_train_is_one_clear_line(tmp_path, monkeypatch, finished_run, data_file):
    run = copy_run(finished_run, tmp_path)
    _disk_full_on_second_save(monkeypatch)
    result = invoke("train", "--data", data_file, "--out", run, "--overwrite", *TINY)
    one_line_error(result, "no space left")


def test_kill_between_the_renames_of_finalize_keeps_a_run_at_out(tmp_path, monkeypatch, finished_run,
                                                                  data_file):
    import seqcore.runs

    run = copy_run(finished_run, tmp_path)
    real_replace = os.replace
    calls = []

    def replace(source, target):
        calls.append((str(source), str(target)))
        if str(source) == str(run):  # old run moved aside: the process dies right after
            real_replace(source, target)
            raise KeyboardInterrupt  # stands in for SIGKILL: nothing else of finalize runs
        return real_replace(source, target)

    monkeypatch.setattr(seqcore.runs.os, "replace", replace)
    invoke("train", "--data", data_file, "--out", run, "--overwrite", *TINY)
    monkeypatch.undo()
    assert any(source == str(run) for source, _ in calls), calls
    # The previous run is parked, not lost: the next command that opens OUT restores it.
    seqcore.runs.open_run(run)
    assert (run / "model.keras").is_file(), f"no run at OUT; left: {sorted(os.listdir(tmp_path))}"


# --- train: SIGKILL ------------------------------------------------------------------------------


def _spawn(*args):
    return subprocess.Popen([sys.executable, "-m", "seqcore", "sentiment", *map(str, args)],
                            cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def _wait_for(process, condition, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _kill(process):
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)  # only the process this test started
    process.wait(timeout=30)
    process.stderr.close()


def test_sigkill_during_train_keeps_previous_run(tmp_path, finished_run, data_file):
    run = copy_run(finished_run, tmp_path)
    before = snapshot(run)
    partial = Path(f"{run}.partial")
    history = partial / "history.csv"
    # Many epochs, so the kill lands mid-training (after the first epoch is logged).
    process = _spawn("train", "--data", data_file, "--out", run, "--overwrite", *TINY[2:],
                     "--epochs", "60", "--patience", "60")
    try:
        started = _wait_for(process, lambda: history.is_file() and history.read_text().count("\n") >= 2)
    finally:
        _kill(process)
    assert started, f"training never reached epoch 1 (exit {process.returncode})"
    assert process.returncode == -signal.SIGKILL
    assert snapshot(run) == before, "the previous run changed"
    assert (partial / "config.json").is_file(), ".partial is kept for --resume"


# --- export: disk full ---------------------------------------------------------------------------


def _disk_full_in_write_out(monkeypatch):
    calls = []

    def write_out(self, filepath, *args, **kwargs):
        calls.append(filepath)
        Path(filepath).mkdir(parents=True, exist_ok=True)
        (Path(filepath) / "saved_model.pb").write_bytes(b"\x08\x01 half a proto")
        (Path(filepath) / "variables").mkdir(exist_ok=True)
        raise OSError(ENOSPC.errno, ENOSPC.strerror)

    # `ExportArchive()` returns a backend subclass (Keras 3.1x), which has its own write_out.
    for cls in {keras.export.ExportArchive, type(keras.export.ExportArchive())}:
        monkeypatch.setattr(cls, "write_out", write_out)
    return calls


def test_disk_full_during_export_keeps_previous_export(tmp_path, monkeypatch, finished_run, export_base):
    base = copy_export(export_base, tmp_path)
    before = snapshot(base)
    calls = _disk_full_in_write_out(monkeypatch)
    result = invoke("export", finished_run, base)
    assert result.exit_code != 0 and calls
    assert snapshot(base) == before, "the previous export changed"
    assert sorted(os.listdir(base)) == ["1"], f"left behind: {sorted(os.listdir(base))}"


def test_disk_full_during_first_export_leaves_no_base(tmp_path, monkeypatch, finished_run):
    base = tmp_path / "new" / "sentiment"
    _disk_full_in_write_out(monkeypatch)
    result = invoke("export", finished_run, base)
    assert result.exit_code != 0
    assert not base.exists()


def test_disk_full_during_export_is_one_clear_line(tmp_path, monkeypatch, finished_run, export_base):
    base = copy_export(export_base, tmp_path)
    _disk_full_in_write_out(monkeypatch)
    one_line_error(invoke("export", finished_run, base), "no space left")


# --- export: SIGKILL -----------------------------------------------------------------------------


def test_sigkill_during_export_keeps_previous_export(tmp_path, finished_run, export_base):
    base = copy_export(export_base, tmp_path)
    before = snapshot(base)
    process = _spawn("export", finished_run, base)
    try:
        # Kill once TensorFlow has started writing the new version's hidden folder.
        started = _wait_for(process, lambda: any(p.name.startswith(".2.tmp-") and any(p.iterdir())
                                                 for p in base.iterdir()))
    finally:
        _kill(process)
    assert started, f"export never started writing (exit {process.returncode})"
    assert {k: v for k, v in snapshot(base).items() if k.startswith("1/")} == before, "BASE/1 changed"
    names = sorted(os.listdir(base))
    assert not [n for n in names if n.isdigit() and n != "1"], f"a killed version was published: {names}"
    assert all(n == "1" or n.startswith(".2.tmp-") for n in names), names
    # By design a hidden temporary folder may stay (TensorFlow Serving ignores it); the next
    # export still takes version 2 and leaves BASE/1 alone.
    stale = [n for n in names if n.startswith(".")]
    ok(invoke("export", finished_run, base))
    assert (base / "2" / "saved_model.pb").is_file()
    assert snapshot(base / "1") == {k[2:]: v for k, v in before.items() if k.startswith("1/")}
    if stale:
        assert all((base / n).exists() for n in stale)  # not cleaned today: see the report
