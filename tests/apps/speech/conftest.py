"""Shared fixtures of the speech tests: a few real FSDD recordings."""

import shutil

import pytest
from tests.apps.speech.speech_helpers import FSDD, SPEAKERS


@pytest.fixture(scope="session")
def fsdd():
    if not FSDD.is_dir():
        pytest.skip(f"FSDD recordings not found at {FSDD} (expected ../shared/data/fsdd/recordings)")
    return FSDD


@pytest.fixture(scope="session")
def fsdd_subset(fsdd, tmp_path_factory):
    """A flat FSDD-layout folder: digits 0-2, five speakers, 4 clips each (60 files)."""
    folder = tmp_path_factory.mktemp("fsdd") / "recordings"
    folder.mkdir()
    for digit in range(3):
        for speaker in SPEAKERS:
            for index in range(4):
                name = f"{digit}_{speaker}_{index}.wav"
                shutil.copy(fsdd / name, folder / name)
    return folder
