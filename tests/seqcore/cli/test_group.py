"""The lazy command group: TensorFlow's C++ log lines stay out of a command's output."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import os
from seqcore.cli.group import quiet_tensorflow
quiet_tensorflow()
print(os.environ["TF_CPP_MIN_LOG_LEVEL"])
"""


@pytest.mark.parametrize("given, expected", [(None, "3"), ("1", "1")])
def test_commands_hide_tensorflow_log_lines_unless_the_user_sets_the_level(given, expected):
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "SEQCORE_TF_LOGS")}
    if given is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = given
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    assert result.stdout.strip() == expected
    if given is None:
        assert result.stderr == ""  # not even the start-up lines printed before logging is set up
