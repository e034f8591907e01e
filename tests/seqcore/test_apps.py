"""The app registry: apps are found through entry points, and a new task needs no edit to seqcore/.

The fake task below is a package written to a temporary folder with its
own distribution metadata (`fakeapp-0.1.dist-info/entry_points.txt`), the
way `pip install` of a separate project would leave it. Nothing in seqcore
names it.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from seqcore import apps
from seqcore.errors import SeqcoreError

FAKE_APP = '''
from seqcore.apps import App


def sample_batch(model, config, size):
    import numpy as np

    return np.zeros((size, 5, 2), "float32"), False


APP = App("fakeapp", "fakeapp.cli:cli", ("test", "mae"), "test MAE", False, "fakeapp.app:sample_batch")
'''

FAKE_CLI = '''
import json
from pathlib import Path

import click


@click.group()
def cli():
    """A fake task: a tiny regression on random numbers."""


@click.command()
@click.option("--out", default="run")
@click.option("--cell", default="gru")
@click.option("--bidirectional/--unidirectional", default=False)
@click.option("--units", type=int, default=4)
@click.option("--seed", type=int, default=0)
@click.option("--epochs", type=int, default=1)
def train(out, cell, bidirectional, units, seed, epochs):
    """Train on random data and write a run directory."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    layer = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell](units)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    model = keras.Sequential([keras.Input((5, 2)), layer, keras.layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    x, y = np.random.default_rng(seed).normal(size=(2, 32, 5, 2)).astype("float32")
    history = model.fit(x, y[:, 0, :1], epochs=epochs, verbose=0)
    run = Path(out)
    run.mkdir(parents=True)
    model.save(run / "model.keras")
    mae = float(model.evaluate(x, y[:, 0, :1], verbose=0)[1])
    (run / "metrics.json").write_text(json.dumps({"test": {"mae": mae}}))
    (run / "config.json").write_text(json.dumps({"task": "fakeapp", "environment": {}}))
    rows = ["epoch,loss"] + [f"{i},{loss}" for i, loss in enumerate(history.history["loss"])]
    (run / "history.csv").write_text("\\n".join(rows) + "\\n")
    click.echo(f"test MAE {mae:.4f}")


cli.add_command(train)
'''


@pytest.fixture
def fake_app_path(tmp_path, monkeypatch):
    """A folder holding the fake app's package and its distribution metadata, on sys.path."""
    package = tmp_path / "fakeapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(textwrap.dedent(FAKE_APP))
    (package / "cli.py").write_text(textwrap.dedent(FAKE_CLI))
    info = tmp_path / "fakeapp-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeapp\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[seqcore.apps]\nfakeapp = fakeapp.app:APP\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    apps._entry_point_apps.cache_clear()
    yield tmp_path
    apps._entry_point_apps.cache_clear()


def _seqcore(args, path, cwd):
    """Runs the `seqcore` command line in a fresh process that also sees `path`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", "from seqcore.cli.main import main; main()", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False,
    )


def test_the_four_apps_are_found_through_their_entry_points():
    found = apps.installed_apps()
    assert {"sentiment", "forecast", "textgen", "speech"} <= set(found)
    assert found["sentiment"].cli == "apps.sentiment.cli:cli"
    assert apps.trusted_packages() == ("seqcore", "apps")


def test_an_installed_fake_app_is_found_and_trusted(fake_app_path):
    app = apps.get_app("fakeapp")
    assert app.metric_name == "test MAE"
    assert "fakeapp" in apps.trusted_packages()
    assert "train" in app.click_group().commands


def test_an_unknown_task_names_the_known_ones():
    with pytest.raises(SeqcoreError, match=r"unknown task 'nope'; expected one of: forecast, sentiment"):
        apps.get_app("nope")


def test_an_entry_point_that_is_not_an_app_is_refused(tmp_path, monkeypatch):
    (tmp_path / "notanapp.py").write_text("APP = 42\n")
    info = tmp_path / "notanapp-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: notanapp\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[seqcore.apps]\nnotanapp = notanapp:APP\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    apps._entry_point_apps.cache_clear()
    try:
        with pytest.raises(SeqcoreError, match=r"must name a seqcore.apps.App called 'notanapp'; received 42"):
            apps.installed_apps()
    finally:
        apps._entry_point_apps.cache_clear()


def test_register_adds_an_app_for_this_process_only():
    demo = apps.App("demo", "demo.cli:cli", ("test", "accuracy"), "accuracy", True, "demo.app:sample_batch")
    apps.register(demo)
    try:
        assert apps.get_app("demo") is demo
    finally:
        apps.unregister("demo")
    assert "demo" not in apps.installed_apps()
    with pytest.raises(SeqcoreError, match="must be a seqcore.apps.App; received dict"):
        apps.register({"name": "demo"})


def test_a_new_task_trains_and_compares_through_the_seqcore_command_line(fake_app_path, tmp_path):
    help_text = _seqcore(["--help"], fake_app_path, tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert "fakeapp" in help_text.stdout and "A fake task" in help_text.stdout

    trained = _seqcore(["fakeapp", "train", "--out", "run"], fake_app_path, tmp_path)
    assert trained.returncode == 0, trained.stderr
    mae = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]["mae"]
    assert f"test MAE {mae:.4f}" in trained.stdout

    compared = _seqcore(["compare", "fakeapp", "--cells", "gru,lstm", "--out", "cmp"], fake_app_path, tmp_path)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    results = json.loads((tmp_path / "cmp" / "results.json").read_text())
    assert results["metric"] == {"name": "test MAE", "higher_is_better": False}
    assert [row["backbone"] for row in results["rows"]] == ["gru", "lstm"]
    assert all(run["parameters"] > 0 and run["latency_ms_per_example"] > 0 for run in results["runs"])
