"""Every tutorial runs, top to bottom, at tiny scale: a broken tutorial fails CI.

A tutorial's ```console blocks hold `$ command` lines; they run in order, in
one scratch folder, with the same code path as at full scale: only size
options are appended to the commands that the tutorial names in hidden
comments, one per command prefix:

    <!-- tiny: seqcore sentiment train | --limit 300 --epochs 1 -->

```python blocks run too, in the same folder. Other blocks (```text output,
```bash for things this machine cannot run, such as Docker) are shown, not run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

#: tutorials run with the automatic training loop (tests/conftest.py fixes one for the rest)
DEFAULT_LOOP = {"textgen"}
TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
BLOCK = re.compile(r"```(console|python)\n(.*?)```", re.S)
TINY = re.compile(r"<!--\s*tiny:\s*(.+?)\s*\|\s*(.+?)\s*-->")


def _steps(markdown):
    tiny = dict(TINY.findall(markdown))
    for kind, body in BLOCK.findall(markdown):
        if kind == "python":
            yield "python", body
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                for prefix, options in tiny.items():
                    if command.startswith(prefix):
                        command = f"{command} {options}"
                yield "shell", command


@pytest.mark.parametrize("tutorial", sorted(TUTORIALS.glob("*.md")), ids=lambda p: p.stem)
def test_tutorial_runs(tutorial, tmp_path):
    steps = list(_steps(tutorial.read_text()))
    assert steps, f"{tutorial.name} has no runnable steps"
    env = dict(os.environ)
    if tutorial.stem in DEFAULT_LOOP:  # as a reader runs it: the training loop chosen automatically
        env.pop("SEQCORE_TRAINING_LOOP", None)
        env["SEQCORE_CACHE"] = str(tmp_path / "cache")
    for kind, code in steps:
        argv = [sys.executable, "-c", code] if kind == "python" else ["bash", "-c", code]
        result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, f"{tutorial.name}: {code}\n{result.stdout}\n{result.stderr}"
