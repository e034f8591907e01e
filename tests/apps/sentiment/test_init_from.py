"""`train --init-from RUN`: the backbone starts from another run's, or one line says what differs."""

import numpy as np
import pytest
from click.testing import CliRunner

from seqcore.cli.main import cli

from tests.apps.sentiment.test_cli import TINY, two_class_rows, write_csv


def train(*args):
    return CliRunner().invoke(cli, ["sentiment", "train", *[str(a) for a in args]])


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("init_from")
    data = write_csv(folder / "reviews.csv", two_class_rows())
    result = train("--data", data, *TINY, "--out", folder / "source")
    assert result.exit_code == 0, result.output
    return folder, data


def test_backbone_starts_from_the_source_run(source, monkeypatch):
    from apps.sentiment import commands
    from seqcore.saving import load_model

    folder, data = source
    seen = {}
    original = commands._initialized

    def spy(model, init_from):
        model = original(model, init_from)
        seen["weights"] = [w.copy() for w in model.backbone.get_weights()]
        return model

    monkeypatch.setattr(commands, "_initialized", spy)
    result = train("--data", data, *TINY, "--init-from", folder / "source", "--out", folder / "target")
    assert result.exit_code == 0, result.output
    expected = load_model(folder / "source" / "model.keras").backbone.get_weights()
    for got, want in zip(seen["weights"], expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("options, named", [
    (["--units", "12"], "units 8 (expected 12)"),
    (["--cell", "gru"], "cell lstm (expected gru)"),
    (["--max-tokens", "30"], "vocabulary_size"),
])
def test_a_backbone_that_does_not_fit_stops_with_one_line(source, options, named):
    folder, data = source
    out = folder / f"bad-{options[0]}"
    args = [*TINY]
    for option, value in zip(options[::2], options[1::2]):
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    result = train("--data", data, *args, "--init-from", folder / "source", "--out", out)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert named in lines[-1] and "does not fit" in lines[-1]
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
