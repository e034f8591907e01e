"""Shared fixtures of the speech tests: a few FSDD recordings, or generated clips where they are absent."""

import shutil

import pytest
from tests.apps.speech.speech_helpers import FSDD, SPEAKERS, write_generated_digits


@pytest.fixture(scope="session")
def fsdd():
    """The real FSDD recordings (tests that need real speech skip without them)."""
    if not FSDD.is_dir():
        pytest.skip(f"FSDD recordings not found at {FSDD} (expected ../shared/data/fsdd/recordings)")
    return FSDD


@pytest.fixture(scope="session")
def fsdd_subset(tmp_path_factory):
    """A flat FSDD-layout folder: digits 0-2, five speakers, 4 clips each (60 files).

    Copied from the FSDD recordings when they are present (`speech_helpers.FSDD`),
    otherwise signal-generated clips of the same names, rate and layout, so
    the tests run in a fresh clone.
    """
    folder = tmp_path_factory.mktemp("fsdd") / "recordings"
    if not FSDD.is_dir():
        return write_generated_digits(folder)
    folder.mkdir()
    for digit in range(3):
        for speaker in SPEAKERS:
            for index in range(4):
                name = f"{digit}_{speaker}_{index}.wav"
                shutil.copy(FSDD / name, folder / name)
    return folder
