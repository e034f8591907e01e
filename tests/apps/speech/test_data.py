"""Tests of the speech app's data loading: WAV decoding, folder layouts, splits, TFDS."""

import re

import numpy as np
import pytest

from apps.speech import commands
from apps.speech.audio_files import decode_wav, gather_audio_paths, read_wav
from apps.speech.audio_splits import load_splits
from apps.speech.clips import load_folder, load_source, load_tfds, pattern_regex
from apps.speech.labels import SILENCE, UNKNOWN
from apps.speech.synthetic_voices import add_synthetic_voices, synthetic_voices_apply
from seqcore.errors import SeqcoreError
from seqcore.wav import write_wav
from tests.apps.speech.speech_helpers import SPEAKERS, tone, write_pcm, write_voices


# Decoding ---------------------------------------------------------------------------------------

def test_decode_mono_16_bit(tmp_path):
    path = write_pcm(tmp_path / "a.wav", tone(0.25, 8000), 8000)
    waveform, rate = decode_wav(path)
    assert rate == 8000 and waveform.shape == (2000,) and waveform.dtype == np.float32
    np.testing.assert_allclose(waveform, tone(0.25, 8000), atol=1e-4)


def test_stereo_is_mixed_down(tmp_path):
    left, right = tone(0.1, 8000), np.zeros(800)
    path = write_pcm(tmp_path / "s.wav", np.stack([left, right], axis=1), 8000, channels=2)
    waveform, _ = decode_wav(path)
    np.testing.assert_allclose(waveform, left / 2, atol=1e-4)


def test_other_rates_are_resampled_or_refused(tmp_path):
    path = write_pcm(tmp_path / "r.wav", tone(0.5, 22050), 22050)
    waveform = read_wav(path, sample_rate=16000)
    assert waveform.shape == (8000,)
    np.testing.assert_allclose(waveform[300:-300], tone(0.5, 16000)[300:-300], atol=2e-3)
    with pytest.raises(SeqcoreError, match="sampled at 22050 Hz; expected 16000 Hz"):
        read_wav(path, sample_rate=16000, allow_resample=False)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty (0 bytes)"),
    (b"this is not a wav file at all, just text" * 3, "cannot decode"),
    ("zero", "a clip of zero length"),
    ("8bit", "cannot decode"),
])
def test_bad_wav_files(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if content == "zero":
        write_pcm(path, np.zeros(0), 8000)
    elif content == "8bit":
        write_pcm(path, tone(0.1, 8000), 8000, width=1)
    else:
        path.write_bytes(content)
    with pytest.raises(SeqcoreError, match=re.escape(message)) as error:
        decode_wav(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_write_wav_round_trip(tmp_path):
    write_wav(tmp_path / "w.wav", tone(0.2, 16000), 16000)
    waveform, rate = decode_wav(tmp_path / "w.wav")
    assert rate == 16000
    np.testing.assert_allclose(waveform, tone(0.2, 16000), atol=1e-4)


# Folder layouts ---------------------------------------------------------------------------------

def test_fsdd_layout(fsdd_subset):
    clips = load_folder(fsdd_subset)
    assert len(clips.labels) == 60 and set(clips.labels) == {"0", "1", "2"}
    assert set(clips.speakers) == set(SPEAKERS) and set(clips.rates) == {8000}
    assert clips.splits is None


def label_folders(root, words=("no", "yes"), speakers=("ann", "bob", "cy", "dee"), rate=16000):
    for w_index, word in enumerate(words):
        (root / word).mkdir(parents=True)
        for s_index, speaker in enumerate(speakers):
            for n in range(2):
                write_pcm(root / word / f"{speaker}_nohash_{n}.wav",
                          tone(0.3, rate, 300 + 200 * w_index + 10 * s_index + n), rate)
    return root


def test_speech_commands_layout_with_lists(tmp_path):
    root = label_folders(tmp_path / "sc")
    (root / "_background_noise_").mkdir()
    write_pcm(root / "_background_noise_" / "white.wav", np.random.default_rng(0).normal(0, .1, 4000), 16000)
    (root / "validation_list.txt").write_text("yes/ann_nohash_0.wav\nno/ann_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("yes/bob_nohash_1.wav\nno/bob_nohash_1.wav\n")
    clips = load_folder(root)
    assert sorted(set(clips.labels)) == ["no", "yes"] and len(clips.labels) == 16
    assert set(clips.speakers) == {"ann", "bob", "cy", "dee"}
    splits = load_splits(str(root))
    assert splits.split_by == "predefined"
    assert (len(splits.train_labels), len(splits.validation_labels), len(splits.test_labels)) == (12, 2, 2)


def test_pattern_option(tmp_path):
    for label in ("on", "off"):
        for n in range(2):
            write_pcm(tmp_path / f"spk{n}-{label}.wav", tone(0.2, 8000), 8000)
    clips = load_folder(tmp_path, pattern="{speaker}-{label}.wav")
    assert sorted(clips.labels) == ["off", "off", "on", "on"]
    with pytest.raises(SeqcoreError, match="does not match the pattern"):
        load_folder(tmp_path)
    with pytest.raises(SeqcoreError, match="bad file-name pattern"):
        pattern_regex("{speaker}.wav")


def test_folder_with_no_audio(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeqcoreError, match="has no audio"):
        load_source(str(tmp_path))


def test_label_with_one_file(tmp_path):
    root = label_folders(tmp_path / "sc")
    (root / "up").mkdir()
    write_pcm(root / "up" / "ann_nohash_0.wav", tone(0.2, 16000), 16000)
    with pytest.raises(SeqcoreError, match="label 'up' .* has only 1 clip .*up/ann_nohash_0.wav"):
        load_splits(str(root))


def test_missing_source(tmp_path):
    with pytest.raises(SeqcoreError, match="data folder not found"):
        load_source(str(tmp_path / "nope"))


def test_split_lists_are_utf8_with_or_without_a_byte_order_mark(tmp_path):
    root = label_folders(tmp_path / "sc")
    (root / "validation_list.txt").write_bytes(b"\xef\xbb\xbfyes/ann_nohash_0.wav\n")
    assert load_folder(root).splits.count("validation") == 1  # the first name is not lost to the mark
    (root / "validation_list.txt").write_bytes(b"yes/ann_nohash_0.wav\n\xff\n")
    with pytest.raises(SeqcoreError, match=r"validation_list.txt is not valid UTF-8: invalid byte 0xff at byte "
                       r"offset 21; expected one file name per line"):
        load_folder(root)


def test_predict_inputs_are_files_and_visible_wavs_in_folders(tmp_path):
    for name in ("a.wav", "sub/b.WAV", "sub/notes.txt", ".hidden/c.wav", "sub/.d.wav"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        write_pcm(tmp_path / name, tone(0.1, 8000), 8000)
    found = gather_audio_paths([tmp_path, tmp_path / "sub" / "notes.txt"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.wav", "sub/b.WAV", "sub/notes.txt"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeqcoreError, match="folder .*empty has no audio; expected .wav files in it"):
        gather_audio_paths([tmp_path / "empty"])
    with pytest.raises(SeqcoreError, match="audio file not found: .*nope.wav; expected a WAV file or a folder"):
        gather_audio_paths([tmp_path / "nope.wav"])


# Splits -----------------------------------------------------------------------------------------

def test_speaker_split_is_disjoint(fsdd_subset):
    splits = load_splits(str(fsdd_subset))
    assert splits.split_by == "speaker" and splits.sample_rate == 8000
    groups = [set(splits.speakers[name]) for name in ("train", "validation", "test")]
    assert all(groups) and set().union(*groups) == set(SPEAKERS)
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert splits.train_audio.shape[1] == 8000 and splits.class_names == ["0", "1", "2"]
    total = len(splits.train_labels) + len(splits.validation_labels) + len(splits.test_labels)
    assert total == 60


def test_named_test_speaker(fsdd_subset):
    clips = load_folder(fsdd_subset)
    splits = load_splits(clips=clips, test_speakers=["lucas"])
    assert splits.speakers["test"] == ["lucas"] and len(splits.test_labels) == 12
    assert "lucas" not in splits.speakers["train"] + splits.speakers["validation"]
    with pytest.raises(SeqcoreError, match="unknown speaker 'zed'"):
        load_splits(clips=clips, test_speakers=["zed"])


def test_split_is_deterministic_and_resamples(fsdd_subset):
    clips = load_folder(fsdd_subset)
    a = load_splits(clips=clips, sample_rate=16000, clip_seconds=0.5)
    b = load_splits(clips=clips, sample_rate=16000, clip_seconds=0.5)
    assert a.train_audio.shape[1] == 8000 and a.sample_rate == 16000
    np.testing.assert_array_equal(a.test_audio, b.test_audio)


def test_random_split_without_speakers(tmp_path):
    for label in ("a", "b"):
        for n in range(10):
            write_pcm(tmp_path / f"{label}_{n}.wav", tone(0.1, 8000, 200 + n), 8000)
    clips = load_folder(tmp_path, pattern="{label}_{index}.wav")
    splits = load_splits(clips=clips)
    assert splits.split_by == "random"
    assert len(splits.test_labels) == 2 and sorted(splits.test_labels) == [0, 1]
    with pytest.raises(SeqcoreError, match="speakers of .* are unknown"):
        load_splits(clips=clips, split_by="speaker")


def test_silence_and_unknown_classes(fsdd_subset):
    clips = load_folder(fsdd_subset)
    splits = load_splits(clips=clips, keywords=["1", "2"], unknown=True, silence=True)
    assert splits.class_names == ["_silence_", "_unknown_", "1", "2"]
    counts = np.bincount(splits.train_labels, minlength=4)
    assert counts[1] <= counts[2] and counts[0] > 0
    silence = splits.train_audio[splits.train_labels == 0]
    assert np.abs(silence).max() <= 0.1 + 1e-6
    dropped = load_splits(clips=clips, keywords=["1", "2"])
    assert dropped.class_names == ["1", "2"]
    with pytest.raises(SeqcoreError, match="keyword '7' is not a label"):
        load_splits(clips=clips, keywords=["7"])


# TFDS -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["spoken_digit", "speech_commands"])
def test_tfds_sources_with_mock_data(name):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        clips = load_tfds(name)
    assert len(clips.labels) >= 12
    assert all(w.dtype == np.float32 and np.abs(w).max() <= 1.0 for w in clips.waveforms)
    rate = {"spoken_digit": 8000, "speech_commands": 16000}[name]
    assert set(clips.rates) == {rate}


def test_synthetic_voices_join_the_training_split_only(fsdd_subset, tmp_path, monkeypatch):
    asked = []

    def fake_builtin_keywords(words, progress=None):
        asked.append(words)
        return write_voices(tmp_path / "voices", words)

    monkeypatch.setattr("apps.speech.synth.builtin_keywords", fake_builtin_keywords)
    real = load_splits(str(fsdd_subset))
    mixed = add_synthetic_voices(real)
    assert asked == [["one", "two", "zero"]]  # digits 0-2, spoken as words
    added = len(mixed.train_labels) - len(real.train_labels)
    assert added == 6 and mixed.train_audio.shape == (len(mixed.train_labels), 8000)
    assert sorted(mixed.train_labels[-added:].tolist()) == [0, 0, 1, 1, 2, 2]
    assert set(mixed.speakers["train"]) - set(real.speakers["train"]) == {"en-us", "slt"}
    np.testing.assert_array_equal(mixed.test_audio, real.test_audio)
    np.testing.assert_array_equal(mixed.validation_labels, real.validation_labels)


def test_synthetic_voices_need_recorded_data():
    with pytest.raises(SeqcoreError, match="synthetic already"):
        commands.resolve_config(synthetic=True)
    with pytest.raises(SeqcoreError, match="received TFRecord shards"):
        commands.resolve_config(data="tfrecord:shards", synthetic=True)
    assert commands.resolve_config(data="recordings", synthetic=True)["data"]["synthetic"] is True


def test_synthetic_voices_by_default_only_where_they_fit(tmp_path, monkeypatch):
    # Settled while configuring: nothing to add to synthetic or streamed data.
    assert commands.resolve_config()["data"]["synthetic"] is False
    assert commands.resolve_config(data="tfrecord:shards")["data"]["synthetic"] is False
    (tmp_path / "synth.json").write_text("{}")  # a folder `seqcore speech synth` wrote
    assert commands.resolve_config(data=str(tmp_path))["data"]["synthetic"] is False
    assert commands.resolve_config(data="recordings")["data"]["synthetic"] == "auto"
    assert commands.resolve_config(data="recordings", synthetic=1)["data"]["synthetic"] is True
    with pytest.raises(SeqcoreError, match="which `synth` wrote"):
        commands.resolve_config(data=str(tmp_path), synthetic=True)  # its test voices would join training
    with pytest.raises(SeqcoreError, match="expected auto, True or False"):
        commands.resolve_config(data="recordings", synthetic="yes")
    # Settled by `train` once the labels are known: words and digits, where an engine is installed.
    monkeypatch.setattr("apps.speech.synth.installed_engines", lambda: ["espeak-ng"])
    assert synthetic_voices_apply(["0", "1", "two"])
    assert synthetic_voices_apply(["yes", "don't", UNKNOWN, SILENCE])
    assert not synthetic_voices_apply(["cmd_1", "cmd_2"])
    assert not synthetic_voices_apply(["10", "11"]) and not synthetic_voices_apply(["'tis"])
    assert synthetic_voices_apply([UNKNOWN, SILENCE], explain=True) == "no class is a spoken word"
    assert synthetic_voices_apply(["yes", "dog-bark"], explain=True) == "label 'dog-bark' is not a word or a digit"
    assert synthetic_voices_apply(["yes", "no"], explain=True) == ""
    monkeypatch.setattr("apps.speech.synth.installed_engines", lambda: [])
    assert "no text-to-speech engine is installed" in synthetic_voices_apply(["yes", "no"], explain=True)
