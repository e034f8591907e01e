"""Hostile files for the speech readers: `decode_wav` / `read_wav` (one WAV) and `load_folder` /
`load_splits` (a folder of WAVs).

Every outcome must be a valid waveform / dataset or one clean one-line `SeqcoreError`.
"""

import struct

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.speech.audio_files import decode_wav, read_wav
from apps.speech.audio_splits import load_splits
from apps.speech.clips import load_folder
from seqcore.wav import write_wav
from tests.hostile.helpers import HOSTILE, clean_error, fresh_dir, require_intact


def wav_bytes(channels=1, width=2, rate=8000, data=b"\0\0" * 100, fmt=1, claimed=None,
              fmt_size=16, extra_chunks=b"", riff_size=None):
    """A WAV file built by hand, so that every header field can lie."""
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate,
                            (rate * channels * width) & 0xFFFFFFFF,
                            (channels * width) & 0xFFFF, (width * 8) & 0xFFFF)
    fmt_chunk = (fmt_chunk + b"\0" * fmt_size)[:fmt_size]
    body = (b"WAVE" + b"fmt " + struct.pack("<I", fmt_size) + fmt_chunk + extra_chunks
            + b"data" + struct.pack("<I", len(data) if claimed is None else claimed) + data)
    size = len(body) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", size) + body


def check_waveform(result):
    if result is None:
        return
    waveform, rate = result
    assert waveform.dtype == np.float32 and waveform.ndim == 1 and len(waveform) >= 1
    assert np.all(np.isfinite(waveform)) and np.all(np.abs(waveform) <= 1.0)
    assert isinstance(rate, int)


def decode(path):
    return clean_error(lambda: decode_wav(path))


@pytest.mark.parametrize("data", [b"\x01\x01\x01\x80", b"RIFF\x10\x00\x00\x00W\xffVEfmt ",
                                  b"\xff\xd8\xff\xe0" + b"\0" * 40])
def test_non_utf8_header_bytes_give_seqcore_error(tmp_path, data):
    path = tmp_path / "clip.wav"
    path.write_bytes(data)
    assert clean_error(lambda: decode_wav(path)) is None


@given(data=st.binary(max_size=1000))
@example(data=b"")
@example(data=b"RIFF")
@example(data=b"RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff")
@settings(HOSTILE, max_examples=40)
def test_random_bytes(tmp_path_factory, data):
    path = fresh_dir(tmp_path_factory, "bytes") / "clip.wav"
    path.write_bytes(data)
    check_waveform(decode(path))


def test_the_hand_built_wav_loads(tmp_path):
    """The base of the hostile headers and folders, honest, decodes to its samples."""
    path = tmp_path / "clip.wav"
    samples = np.array([0, 16384, -16384, 32767], "<i2")
    path.write_bytes(wav_bytes(rate=16000, data=samples.tobytes()))
    waveform, rate = decode_wav(path)
    assert rate == 16000
    np.testing.assert_allclose(waveform, samples / 32768, atol=1e-4)


@given(prefix=st.sampled_from([b"", b"RIFF\x24\x00\x00\x00WAVE", wav_bytes()[:36]]),
       data=st.binary(max_size=300))
@settings(HOSTILE, max_examples=30)
def test_valid_prefix_then_random_bytes(tmp_path_factory, prefix, data):
    def intact():
        path = fresh_dir(tmp_path_factory, "prefix-intact") / "clip.wav"
        path.write_bytes(wav_bytes())
        return check_intact(decode_wav(path), np.zeros(100), 8000)

    require_intact("prefix", intact)
    path = fresh_dir(tmp_path_factory, "prefix") / "clip.wav"
    path.write_bytes(prefix + data)
    check_waveform(decode(path))


@given(cut=st.integers(0, 244))
@settings(HOSTILE, max_examples=30)
def test_truncated_valid_file(tmp_path_factory, cut):
    path = fresh_dir(tmp_path_factory, "trunc") / "clip.wav"
    write_wav(path, np.sin(np.linspace(0, 20, 100)), 8000)
    whole = path.read_bytes()
    assert len(whole) == 244
    require_intact("truncated", lambda: check_intact(decode_wav(path), np.sin(np.linspace(0, 20, 100)), 8000))
    path.write_bytes(whole[:cut])
    check_waveform(decode(path))


def check_intact(result, expected, rate):
    waveform, read_rate = result
    assert read_rate == rate
    np.testing.assert_allclose(waveform, expected, atol=1e-4)
    return result


@given(channels=st.sampled_from([0, 1, 2, 3, 255, 65535]),
       width=st.sampled_from([0, 1, 2, 3, 4, 8]),
       rate=st.sampled_from([0, 1, 8000, 16000, 2**31 - 1, 2**32 - 1]),
       fmt=st.sampled_from([1, 3, 0xFFFE, 0]),
       samples=st.integers(0, 64),
       claimed=st.sampled_from([None, 0, 1, 2**31, 2**32 - 1]),
       fmt_size=st.sampled_from([16, 14, 18, 40, 0]),
       odd=st.booleans())
@example(channels=0, width=2, rate=8000, fmt=1, samples=10, claimed=None, fmt_size=16, odd=False)
@example(channels=1, width=3, rate=8000, fmt=1, samples=10, claimed=None, fmt_size=16, odd=False)
@example(channels=1, width=4, rate=8000, fmt=3, samples=10, claimed=None, fmt_size=16, odd=False)
@example(channels=1, width=2, rate=8000, fmt=1, samples=10, claimed=2**31, fmt_size=16, odd=False)
@example(channels=1, width=2, rate=8000, fmt=1, samples=0, claimed=None, fmt_size=16, odd=False)
@example(channels=1, width=2, rate=16000, fmt=1, samples=12, claimed=None, fmt_size=16, odd=False)
@example(channels=2, width=2, rate=8000, fmt=1, samples=5, claimed=None, fmt_size=16, odd=False)
@settings(HOSTILE, max_examples=60)
def test_lying_headers(tmp_path_factory, channels, width, rate, fmt, samples, claimed, fmt_size, odd):
    data = b"\x01\x80" * samples * max(channels, 1) * max(width // 2, 1) + (b"\x07" if odd else b"")
    path = fresh_dir(tmp_path_factory, "header") / "clip.wav"
    path.write_bytes(wav_bytes(channels, width, rate, data, fmt, claimed, fmt_size))
    result = decode(path)
    check_waveform(result)
    honest = (channels in (1, 2) and width == 2 and rate in (8000, 16000) and fmt == 1 and samples > 0
              and claimed is None and fmt_size == 16 and not odd)
    if honest:  # every field true: the clip must load, sample for sample
        assert result is not None, "an honest header was refused"
        assert result[1] == rate and len(result[0]) == samples
        np.testing.assert_allclose(result[0], -32767 / 32768, atol=1e-4)


def test_zero_sample_rate_is_refused(tmp_path):
    path = tmp_path / "clip.wav"
    path.write_bytes(wav_bytes(rate=0))
    assert decode(path) is None


def test_zero_sample_rate_in_read_wav(tmp_path):
    """Whatever decode_wav says about 0 Hz, resampling it must not crash."""
    path = tmp_path / "clip.wav"
    path.write_bytes(wav_bytes(rate=0))
    result = clean_error(lambda: read_wav(path, sample_rate=16000))
    assert result is None or np.all(np.isfinite(result))


def test_huge_wav_and_directory(tmp_path):
    path = tmp_path / "big.wav"
    write_wav(path, np.zeros(1_500_000), 16000)  # ~3 MB
    waveform, rate = decode_wav(path)
    assert len(waveform) == 1_500_000 and rate == 16000
    assert decode(tmp_path) is None
    assert decode(tmp_path / "missing.wav") is None


def _good_folder(root, rate=8000):
    for label in ("yes", "no"):
        for speaker in ("ann", "bob", "cat"):
            write_wav(root / f"{label}_{speaker}_0.wav", np.sin(np.arange(400) * 0.1) * 0.5, rate)


@given(hostile=st.lists(st.tuples(
           st.sampled_from(["yes_dan_1.wav", "no_dan_1.wav", "odd.wav", "yes_eve_1.WAV", ".h.wav",
                            "notes.txt"]),
           st.one_of(st.binary(max_size=200),
                     st.builds(wav_bytes, channels=st.sampled_from([0, 1, 2]),
                               width=st.sampled_from([1, 2, 3]),
                               rate=st.sampled_from([8000, 16000, 44100]),  # 0 Hz: see above
                               data=st.binary(max_size=200)))), max_size=3),
       split=st.booleans())
@settings(HOSTILE, max_examples=25)
def test_flat_folder_with_hostile_files(tmp_path_factory, hostile, split):
    def intact():
        root = fresh_dir(tmp_path_factory, "flat-intact")
        _good_folder(root)
        clips = load_folder(root)
        assert sorted(clips.labels) == ["no"] * 3 + ["yes"] * 3 and set(clips.rates) == {8000}
        return clips

    require_intact("flat folder", intact)
    root = fresh_dir(tmp_path_factory, "flat")
    _good_folder(root)
    for name, data in hostile:
        (root / name).write_bytes(data)
    if split:
        result = clean_error(
            lambda: load_splits(str(root), clip_seconds=0.05, split_by="random"))
        if result is not None:
            assert result.train_audio.shape[1] == result.clip_samples >= 1
            assert np.all(np.isfinite(result.train_audio))
    else:
        clips = clean_error(lambda: load_folder(root))
        if clips is not None:
            assert len(clips.waveforms) == len(clips.labels) == len(clips.rates)


@given(listing=st.binary(max_size=200), encoding_bom=st.sampled_from([b"", b"\xff\xfe", b"\xef\xbb\xbf"]))
@example(listing="yes/ann_nohash_0.wav\n".encode("utf-16"), encoding_bom=b"")
@example(listing="yes/é_nohash_0.wav\n".encode("latin-1"), encoding_bom=b"")
@settings(HOSTILE, max_examples=20)
def test_label_folders_with_hostile_split_lists(tmp_path_factory, listing, encoding_bom):
    def label_folders(root):
        for label in ("yes", "no"):
            (root / label).mkdir()
            for speaker in ("ann", "bob", "cat"):
                write_wav(root / label / f"{speaker}_nohash_0.wav", np.zeros(100), 8000)
        return root

    def intact():  # the folders load, and so does an honest validation list
        root = label_folders(fresh_dir(tmp_path_factory, "lists-intact"))
        assert len(load_folder(root).labels) == 6
        (root / "validation_list.txt").write_text("yes/ann_nohash_0.wav\nno/ann_nohash_0.wav\n")
        return load_folder(root)

    require_intact("label folders", intact)
    root = label_folders(fresh_dir(tmp_path_factory, "lists"))
    (root / "validation_list.txt").write_bytes(encoding_bom + listing)
    clean_error(lambda: load_folder(root))
