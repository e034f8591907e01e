"""Run directories: written under `<out>.partial/`, renamed into place when done.

A run that is interrupted (Ctrl-C, SIGKILL, a crash) stays in
`<out>.partial/`, where `train --resume` finds it; `<out>/` only ever holds a
finished run, so nothing half-written is mistaken for a model.
"""

import datetime
import json
import os
import shutil
from pathlib import Path

from seqcore.atomic import atomic_file
from seqcore.errors import SeqcoreError

PARTIAL_SUFFIX = ".partial"
REQUIRED_FILES = ("model.keras", "config.json")


def cache_root():
    """Where seqcore caches what it built or measured: `$SEQCORE_CACHE`, else `~/.cache/seqcore`.

    For example, `cache_root() / "training_loops.json"` is
    `~/.cache/seqcore/training_loops.json` unless `SEQCORE_CACHE` is set.
    """
    return Path(os.environ.get("SEQCORE_CACHE") or Path.home() / ".cache" / "seqcore")


def write_json(path, data):
    """Writes JSON atomically: a temporary file in the same folder, then a rename.

    Example:

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_json(folder / "metrics.json", {"accuracy": 0.9})
    >>> read_json(folder / "metrics.json")
    {'accuracy': 0.9}
    """
    with atomic_file(path) as temporary, open(temporary, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2, sort_keys=True)
        file.write("\n")


def save_model_atomically(model, path):
    """Saves a Keras model to a temporary file beside `path`, then renames it.

    A failure mid-save leaves the previous file intact.
    """
    with atomic_file(path) as temporary:
        model.save(temporary)


def read_json(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


class RunDir:
    """A training run's directory: the finished `path` and its `work` area.

    Args:
        path: where the finished run will live.

    Example:

    >>> run = RunDir("runs/demo")
    >>> str(run.work)
    'runs/demo.partial'
    """

    #: Whether this process writes `path` (False for a non-chief worker of a cluster).
    is_chief = True
    #: The `seqcore.distribute.ClusterRole` of a multi-worker run, else None.
    cluster = None

    def __init__(self, path):
        self.path = Path(path)
        self.work = self.path.with_name(self.path.name + PARTIAL_SUFFIX)

    def check(self, resume=False, overwrite=False):
        """Raises `SeqcoreError` unless `start` with the same arguments can go ahead.

        Call it before slow work (loading data), so a wrong `--out` fails at once.
        """
        self.recover()
        if resume:
            if not (self.work / "config.json").is_file():
                raise SeqcoreError(
                    f"nothing to resume: {self.work} holds no interrupted run; "
                    f"expected the work folder of a killed `train --out {self.path}`"
                )
            return
        if self.path.exists() and not overwrite:
            raise SeqcoreError(
                f"run directory already exists: {self.path}; expected a new "
                "--out path, or --overwrite to replace it"
            )
        if self.work.exists() and not overwrite:
            raise SeqcoreError(
                f"an interrupted run is in {self.work}; expected --resume to "
                "finish it, or --overwrite to start again"
            )

    def start(self, resume=False, overwrite=False):
        """Prepares `work` for a fresh run, or checks there is one to resume."""
        self.check(resume=resume, overwrite=overwrite)
        if resume:
            return
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)

    def discard(self):
        """Deletes the work area of a run that failed for a reason other than a kill."""
        shutil.rmtree(self.work, ignore_errors=True)

    @property
    def replaced(self):
        """Where `finalize` parks the previous run while it moves the new one in."""
        return self.path.with_name(f".{self.path.name}.replaced")

    def recover(self):
        """Puts a parked previous run back if a kill hit `finalize` between its two renames."""
        if not self.path.exists() and self.replaced.is_dir():
            os.replace(self.replaced, self.path)

    def finalize(self):
        """Moves the finished run into place, replacing an older run at `path`."""
        previous = None
        if self.path.exists():
            previous = self.replaced
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(self.path, previous)
        os.replace(self.work, self.path)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        return self.path


class WorkerScratch(RunDir):
    """Where a non-chief worker of a multi-worker run trains: a scratch folder, never `path`.

    Every worker of `tf.distribute.MultiWorkerMirroredStrategy` saves its
    own checkpoints and backups (the standard Keras pattern); a non-chief
    keeps them in `.<name>.worker-<index>.partial` beside `path`, so it can
    resume after a restart, and `finalize` deletes that folder: only the
    chief writes `path`.

    Example:

    >>> str(WorkerScratch("runs/demo", 1).work)
    'runs/.demo.worker-1.partial'
    """

    is_chief = False

    def __init__(self, path, index):
        super().__init__(path)
        self.work = self.path.with_name(f".{self.path.name}.worker-{index}{PARTIAL_SUFFIX}")

    def check(self, resume=False, overwrite=False):
        if resume:
            super().check(resume=True)
        elif self.path.exists() and not overwrite:
            super().check(resume=False, overwrite=False)

    def start(self, resume=False, overwrite=False):
        self.check(resume=resume, overwrite=overwrite)
        if not resume:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work.mkdir(parents=True)

    def recover(self):
        """A worker never touches the chief's run."""

    def finalize(self):
        """Deletes the scratch folder; the chief moves the run into place."""
        shutil.rmtree(self.work, ignore_errors=True)
        return self.path


def default_run_dir(task):
    """`runs/<task>-<timestamp>`, with a suffix if that name is taken.

    Example:

    >>> str(default_run_dir("sentiment")).startswith("runs/sentiment-")
    True
    """
    return timestamped_path("runs", task, taken=lambda path: path.exists() or RunDir(path).work.exists())


def timestamped_path(folder, name, taken=Path.exists):
    """`<folder>/<name>-<timestamp>`, with a numbered suffix while `taken(path)` holds.

    Example:

    >>> str(timestamped_path("compare", "forecast")).startswith("compare/forecast-")
    True
    """
    stem = f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    path, number = Path(folder) / stem, 2
    while taken(path):
        path, number = Path(folder) / f"{stem}-{number}", number + 1
    return path


def prepare_run(out, task, resume=False, overwrite=False, strategy=None):
    """Checks where a training run will go, before any slow work.

    Args:
        out: the `--out` path, or None for `default_run_dir(task)`.
        task: the app's name, for the default path.
        resume: finish the interrupted run in `<out>.partial`.
        overwrite: replace an existing run at `out`.
        strategy: the `--strategy`; under `multi-worker` the cluster is read
            from `TF_CONFIG` (and checked) and a non-chief worker gets a
            `WorkerScratch` instead of the run directory.

    Returns:
        `(run, stored_config)`: a `RunDir` (not started yet) and, on
        `resume`, the interrupted run's own configuration (else None).

    Example:

    >>> run, stored = prepare_run("runs/new-demo", "sentiment")
    >>> str(run.path), stored
    ('runs/new-demo', None)
    """
    if resume and out is None:
        raise SeqcoreError(
            "--resume needs --out, the run directory to finish; received no --out"
        )
    role = None
    if strategy == "multi-worker":
        from seqcore.distribute import cluster_role

        role = cluster_role()
    path = out or default_run_dir(task)
    run = RunDir(path) if role is None or role.is_chief else WorkerScratch(path, role.task_index)
    run.cluster = role
    run.check(resume=resume, overwrite=overwrite)
    return run, (read_json(run.work / "config.json") if resume else None)


def open_run(path, task=None):
    """Checks that `path` is a finished run directory (of `task`, when given) and returns its config.

    Raises:
        SeqcoreError: when `path` is missing, unfinished, not a run, or
            another task's run.
    """
    path = Path(path)
    RunDir(path).recover()
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        hint = ""
        if Path(str(path) + PARTIAL_SUFFIX).is_dir():
            hint = f" (an interrupted run is in {path}{PARTIAL_SUFFIX}: finish it with train --resume)"
        raise SeqcoreError(
            f"not a run directory: {path}; expected {' and '.join(REQUIRED_FILES)} "
            f"written by `train`, missing: {', '.join(missing)}{hint}"
        )
    config = read_json(path / "config.json")
    if task is not None and config.get("task") != task:
        raise SeqcoreError(
            f"{path} is a {config.get('task')!r} run; expected a {task} run directory"
        )
    return config
