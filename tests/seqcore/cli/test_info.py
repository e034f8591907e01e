import json
import subprocess
import sys

from click.testing import CliRunner

from seqcore.cli.main import cli
from seqcore.registry import PRESETS


def test_backbones_lists_every_preset_with_parameter_counts():
    result = CliRunner().invoke(cli, ["backbones", "--features", "8"])
    assert result.exit_code == 0, result.output
    for name in PRESETS.names():
        assert name in result.output
    # lstm preset, 64 units over 8 features: 4 * (64 * (8 + 64) + 64) parameters.
    assert f"{4 * (64 * 72 + 64):,}" in result.output


def test_info_reports_versions_devices_and_fast_path():
    result = CliRunner().invoke(cli, ["info", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["versions"]["tensorflow"]
    assert any(device.startswith("CPU") for device in report["devices"])
    rnn = report["fast_path"]["rnn"][0]
    assert rnn["eligible"] is False and "no cuDNN kernel" in rnn["reasons"][0]
    assert report["fast_path"]["lstm"][0]["eligible"] is True


def test_fast_path_report_names_recurrent_dropout():
    from seqcore.backbone import RecurrentBackbone
    from seqcore.fastpath import fast_path_report

    rows = fast_path_report(RecurrentBackbone(cell="gru", units=4, num_features=2, recurrent_dropout=0.1, bidirectional=True))
    assert len(rows) == 2
    assert all(row["reasons"] == ["recurrent_dropout=0.1"] for row in rows)


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from seqcore.cli.main import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='seqcore')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("False"), result.stdout + result.stderr
    assert "sentiment" in result.stdout


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["sentimnt"])
    assert result.exit_code == 2
    assert "No such command 'sentimnt'" in result.output
