"""Helpers every command-line test uses: run a command, and assert success or a one-line error."""

import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from seqcore.cli.main import cli as seqcore_cli


def invoke(*args, input=None, app=seqcore_cli, prog_name="seqcore"):
    """Runs `prog_name ARGS` (by default `seqcore ARGS`) in-process; returns click's result."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input, prog_name=prog_name)


def ok(result):
    """Fails the test with the command's output (and traceback) unless it exited with 0."""
    if result.exit_code != 0:
        detail = ""
        if result.exc_info and not isinstance(result.exception, SystemExit):
            detail = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"exit code {result.exit_code}\n{result.output}\n{detail}")
    return result


def fails(result, match):
    """Asserts a clean one-line `Error: ...` failure containing `match`; returns the line."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exc_info)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and match in lines[0], lines[0]
    return lines[0]


def listing(path):
    """The sorted names in folder `path` (hidden temporaries included)."""
    return sorted(p.name for p in Path(path).iterdir())
