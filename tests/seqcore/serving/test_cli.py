"""`seqcore serve`'s command line: bad pairs and empty bases are one clear line."""

import click
import pytest
from click.testing import CliRunner

pytest.importorskip("waitress", reason="`seqcore serve` needs the `serve` extra: pip install -e '.[serve]'")

from seqcore.cli.group import SeqcoreGroup


@click.group(cls=SeqcoreGroup, lazy_subcommands={"serve": "seqcore.cli.serve:serve"})
def cli():
    pass


def test_help_lists_the_options():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--max-body-bytes", "--max-instances", "--timeout", "--max-batch"):
        assert option in result.output


def test_bad_pair_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "sentiment"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: bad model 'sentiment'; expected NAME=EXPORT_BASE, e.g. sentiment=exports/sentiment"]


def test_base_without_version_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["serve", f"sentiment={tmp_path}"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: no model version in {tmp_path}")
