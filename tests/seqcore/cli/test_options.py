import pytest
from click.testing import CliRunner

from seqcore.cli.main import cli


@pytest.mark.parametrize("task", ["sentiment", "forecast", "textgen", "speech"])
@pytest.mark.parametrize("momentum", ["1.0", "-0.1", "fast"])
def test_ema_outside_zero_to_one_is_refused_before_training(task, momentum, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, [task, "train", "--ema", momentum, "--out", str(out)])
    assert result.exit_code == 2
    assert "Invalid value for '--ema'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not out.with_name("run.partial").exists()
