"""End-to-end tests of the speech command line: `seqcore-speech` (apps.speech.cli:cli).

One tiny CRNN is trained per module on 60 FSDD recordings (signal-generated clips
in the FSDD layout where the recordings are absent) and shared by the
evaluate / predict / export tests.
"""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tests import cli_helpers
from tests.apps.speech.speech_helpers import SPEAKERS, tone, write_pcm, write_voices
from tests.cli_helpers import fails, listing, ok
from tests.export_parity import serve_with_tensorflow_alone

import apps.speech.preprocessing  # noqa: F401  (registers the speech layers for .keras loading)
import seqcore.crnn  # noqa: F401
from apps.speech import commands
from apps.speech.audio_files import decode_wav, read_wav
from apps.speech.cli import cli
from apps.speech.clips import load_folder
from seqcore.audio import fit_length
from seqcore.errors import SeqcoreError

TINY = ["--epochs", "2", "--units", "8", "--conv-filters", "4", "--batch-size", "16",
        "--mfccs", "13", "--no-synthetic-voices"]
RUN_FILES = {"model.keras", "config.json", "metrics.json", "history.csv", "logs"}

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def invoke(*args):
    return cli_helpers.invoke(*args, app=cli, prog_name="seqcore-speech")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("speech_cli")


@pytest.fixture(scope="module")
def trained(work, fsdd_subset):
    run = work / "runs" / "tiny"
    result = ok(invoke("train", "--data", fsdd_subset, "--out", run, *TINY))
    return run, result


@pytest.fixture(scope="module")
def run_dir(trained):
    return trained[0]


@pytest.fixture(scope="module")
def exported(work, run_dir):
    base = work / "exports" / "speech"
    result = ok(invoke("export", run_dir, base))
    return base / "1", result


# train ------------------------------------------------------------------------------------------

def test_train_writes_a_finished_run(trained, fsdd_subset):
    run, result = trained
    assert set(listing(run)) == RUN_FILES and listing(run.parent) == ["tiny"]
    assert result.output.strip().splitlines()[-1].endswith(f"run written to {run}")
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "speech" and config["class_names"] == ["0", "1", "2"]
    assert config["features"]["sample_rate"] == 8000  # FSDD's own rate, stored with the run
    assert config["front_end"]["kind"] == "conv" and config["front_end"]["conv_filters"] == [4]
    assert config["backbone"]["cell"] == "gru" and config["backbone"]["units"] == 8
    split = config["split"]
    assert split["by"] == "speaker"
    groups = [set(split["speakers"][name]) for name in ("train", "validation", "test")]
    assert set().union(*groups) == set(SPEAKERS) and sum(map(len, groups)) == 5
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.array(metrics["test"]["confusion_matrix"]).sum() == split["clips"]["test"]


def test_train_adds_synthetic_voices_to_recordings_by_default(fsdd_subset, tmp_path, monkeypatch):
    monkeypatch.setattr("apps.speech.synth.installed_engines", lambda: ["espeak-ng"])
    monkeypatch.setattr("apps.speech.synth.builtin_keywords",
                        lambda words, progress=None: write_voices(tmp_path / "voices", words))
    tiny = [option for option in TINY if option != "--no-synthetic-voices"] + ["--epochs", "1"]
    result = ok(invoke("train", "--data", fsdd_subset, "--out", tmp_path / "run", *tiny))
    assert "text-to-speech voice" in result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["synthetic"] is True  # stored resolved, so --resume does the same
    assert {"en-us", "slt"} <= set(config["split"]["speakers"]["train"])
    assert config["split"]["clips"]["train"] == 36 + 6  # 3 of the 5 speakers' 12 clips each + 2 voices x 3 words

    result = ok(invoke("train", "--data", fsdd_subset, "--out", tmp_path / "real", *TINY))
    assert "text-to-speech" not in result.output
    assert json.loads((tmp_path / "real" / "config.json").read_text())["data"]["synthetic"] is False


def test_synthetic_voices_by_default_carry_on_without_failing_engines(fsdd_subset, tmp_path, monkeypatch):
    def failing_builtin_keywords(words, progress=None):
        raise SeqcoreError("every text-to-speech call failed; expected the engines to write WAV files")

    monkeypatch.setattr("apps.speech.synth.installed_engines", lambda: ["festival"])
    monkeypatch.setattr("apps.speech.synth.builtin_keywords", failing_builtin_keywords)
    tiny = [option for option in TINY if option != "--no-synthetic-voices"] + ["--epochs", "1"]
    result = ok(invoke("train", "--data", fsdd_subset, "--out", tmp_path / "run", *tiny))
    assert "No text-to-speech voices added: every text-to-speech call failed" in result.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["synthetic"] is False
    # Asked for explicitly, the failure stops the run, and nothing is written.
    result = invoke("train", "--data", fsdd_subset, "--out", tmp_path / "asked", *tiny, "--synthetic-voices")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: every text-to-speech call failed")
    assert listing(tmp_path) == ["run"]


def test_model_stores_feature_settings(run_dir):
    model = commands.load_run_model(run_dir)
    pre = model.preprocessor
    assert (pre.sample_rate, pre.clip_samples, pre.features, pre.num_mfccs) == (8000, 8000, "mfcc", 13)
    assert type(model.backbone).__name__ == "ConvRecurrentBackbone"


# evaluate ---------------------------------------------------------------------------------------

def test_evaluate_json_and_text(run_dir):
    metrics = json.loads(ok(invoke("evaluate", run_dir, "--json")).output)
    saved = json.loads((run_dir / "metrics.json").read_text())["test"]
    assert metrics["confusion_matrix"] == saved["confusion_matrix"]
    assert set(metrics["per_class"]) == {"0", "1", "2"}
    assert all("recall" in row for row in metrics["per_class"].values())
    text = ok(invoke("evaluate", run_dir)).output
    assert text.startswith("accuracy ") and "confusion matrix" in text


def test_evaluate_other_data(run_dir, fsdd_subset):
    metrics = json.loads(ok(invoke("evaluate", run_dir, "--data", fsdd_subset, "--json")).output)
    assert metrics["examples"] == 60


def test_evaluate_unknown_label(run_dir, tmp_path):
    for label in ("0", "9"):
        for n in range(2):
            write_pcm(tmp_path / f"{label}_ann_{n}.wav", tone(0.3, 8000), 8000)
    fails(invoke("evaluate", run_dir, "--data", tmp_path), "label '9' of WAV folder")


# predict ----------------------------------------------------------------------------------------

def test_predict_files_and_folders(run_dir, fsdd_subset, tmp_path):
    files = [fsdd_subset / "0_george_0.wav", fsdd_subset / "2_lucas_1.wav"]
    lines = ok(invoke("predict", run_dir, *files)).output.strip().splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, files):
        label, probability, shown = line.split("\t")
        assert label in ("0", "1", "2") and 0 < float(probability) <= 1 and shown == str(path)
    out = [json.loads(l) for l in ok(invoke("predict", run_dir, "--json", fsdd_subset)).output.splitlines()]
    assert len(out) == 60
    for p in out:
        assert sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_predict_resamples_and_mixes_down(run_dir, fsdd_subset, tmp_path):
    waveform, _ = decode_wav(fsdd_subset / "1_nicolas_2.wav")
    from seqcore.audio import resample

    stereo = np.stack([resample(waveform, 8000, 16000)] * 2, axis=1)
    write_pcm(tmp_path / "stereo16k.wav", stereo, 16000, channels=2)
    native = json.loads(ok(invoke("predict", run_dir, "--json", fsdd_subset / "1_nicolas_2.wav")).output)
    converted = json.loads(ok(invoke("predict", run_dir, "--json", tmp_path / "stereo16k.wav")).output)
    np.testing.assert_allclose(list(converted["probabilities"].values()),
                               list(native["probabilities"].values()), atol=0.02)
    fails(invoke("predict", run_dir, "--no-resample", tmp_path / "stereo16k.wav"),
          "sampled at 16000 Hz; expected 8000 Hz")


# export -----------------------------------------------------------------------------------------

def test_export_matches_the_keras_model_on_raw_audio(exported, run_dir, fsdd_subset):
    version, result = exported
    assert result.output.splitlines()[0] == f"exported to {version}"
    model = commands.load_run_model(run_dir)
    clips = [read_wav(fsdd_subset / f"{d}_{s}_3.wav") for d, s in ((0, "george"), (2, "yweweler"))]
    audio = np.stack([fit_length(c, 8000) for c in clips])
    loaded = tf.saved_model.load(str(version))
    served = loaded.signatures["serving_default"](audio=tf.constant(audio))
    np.testing.assert_allclose(served["probabilities"].numpy(), model.predict(audio, verbose=0), atol=1e-4)
    labels = [model.class_names[i] for i in model.predict(audio, verbose=0).argmax(-1)]
    assert [l.decode() for l in served["label"].numpy()] == labels
    compiled = loaded.signatures["serving_xla"](audio=tf.constant(audio))
    np.testing.assert_allclose(compiled["probabilities"].numpy(), served["probabilities"].numpy(), atol=1e-4)
    assert [l.decode() for l in compiled["label"].numpy()] == labels
    # Unpadded clips of another length are centred inside the export exactly as in Python.
    raw = fit_length(clips[0], 5000)[None]
    np.testing.assert_allclose(loaded.signatures["serving_default"](audio=tf.constant(raw))["probabilities"],
                               model.predict(fit_length(raw, 8000), verbose=0), atol=1e-4)
    metadata = {k: v.numpy() for k, v in loaded.signatures["metadata"]().items()}
    assert [c.decode() for c in metadata["class_names"]] == ["0", "1", "2"]
    assert int(metadata["sample_rate"]) == 8000 and int(metadata["clip_samples"]) == 8000


def test_features_inside_an_export_equal_python_features(run_dir, fsdd_subset, tmp_path):
    import keras

    from tests.apps.speech.speech_reference import reference_features

    pre = commands.load_run_model(run_dir).preprocessor
    archive = keras.export.ExportArchive()
    archive.track(pre)
    archive.add_endpoint("features", lambda audio: {"features": pre(audio)},
                         input_signature=[tf.TensorSpec([None, None], tf.float32, name="audio")])
    archive.write_out(str(tmp_path / "features"), verbose=False)
    clip = read_wav(fsdd_subset / "1_jackson_2.wav")
    served = tf.saved_model.load(str(tmp_path / "features")).signatures["features"](
        audio=tf.constant(clip[None]))["features"].numpy()[0]
    clip = fit_length(clip, pre.clip_samples)
    normalized = clip / max(np.abs(clip).max(), 1e-3)  # peak normalization
    expected = (reference_features(normalized, pre.extractor) - pre.mean.numpy()) / pre.std.numpy()
    np.testing.assert_allclose(served, expected, atol=1e-4)
    np.testing.assert_allclose(pre(clip[None]).numpy()[0], expected, atol=1e-4)


def test_predict_from_export_matches_run(exported, run_dir, fsdd_subset):
    version, _ = exported
    files = [fsdd_subset / "0_jackson_1.wav", fsdd_subset / "1_george_3.wav"]
    from_run = [json.loads(l) for l in ok(invoke("predict", run_dir, "--json", *files)).output.splitlines()]
    for model in (version, version.parent):
        from_export = [json.loads(l) for l in ok(invoke("predict", model, "--json", *files)).output.splitlines()]
        assert [p["label"] for p in from_export] == [p["label"] for p in from_run]


def test_export_runs_with_tensorflow_alone_and_equals_the_keras_model(exported, run_dir, fsdd_subset):
    """Raw audio in, the trained Keras model's probabilities out, in a process that cannot import seqcore."""
    version, _ = exported
    model = commands.load_run_model(run_dir)
    clips = [read_wav(fsdd_subset / f"{d}_{s}_2.wav") for d, s in ((0, "lucas"), (1, "george"), (2, "jackson"))]
    audio = np.stack([fit_length(c, 8000) for c in clips])
    short = fit_length(clips[1], 5000)[None]  # unpadded: centred inside the export as in Python
    served, unpadded, metadata = serve_with_tensorflow_alone(
        version, ("serving_default", {"audio": audio}), ("serving_default", {"audio": short}), ("metadata", {}))
    expected = model.predict(audio, verbose=0)
    assert np.ptp(expected, axis=0).max() > 1e-3  # trained weights: the clips get different answers
    np.testing.assert_allclose(served["probabilities"], expected, rtol=1e-4, atol=1e-5)
    assert served["label"].tolist() == [model.class_names[i] for i in expected.argmax(-1)]
    np.testing.assert_allclose(unpadded["probabilities"], model.predict(fit_length(short, 8000), verbose=0),
                               rtol=1e-4, atol=1e-5)
    assert metadata["class_names"].tolist() == ["0", "1", "2"] and int(metadata["sample_rate"]) == 8000


# Bad input --------------------------------------------------------------------------------------

def bad_folder(tmp_path, case):
    folder = tmp_path / "data"
    folder.mkdir()
    good = [("0", "ann"), ("0", "bob"), ("1", "ann"), ("1", "bob"), ("0", "cy"), ("1", "cy")]
    for label, speaker in good:
        write_pcm(folder / f"{label}_{speaker}_0.wav", tone(0.3, 8000), 8000)
    if case == "undecodable":
        (folder / "1_dee_0.wav").write_bytes(b"RIFF....WAVEjunk" * 4)
        return folder, "cannot decode"
    if case == "empty_file":
        (folder / "1_dee_0.wav").write_bytes(b"")
        return folder, "is empty (0 bytes)"
    if case == "zero_length":
        write_pcm(folder / "1_dee_0.wav", np.zeros(0), 8000)
        return folder, "a clip of zero length"
    if case == "no_audio":
        for file in folder.iterdir():
            file.unlink()
        (folder / "readme.txt").write_text("nothing here")
        return folder, "has no audio"
    if case == "one_file_label":
        write_pcm(folder / "2_ann_0.wav", tone(0.3, 8000), 8000)
        return folder, "label '2'"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["undecodable", "empty_file", "zero_length", "no_audio", "one_file_label"])
def test_train_bad_data(case, tmp_path, monkeypatch):
    folder, message = bad_folder(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    fails(invoke("train", "--data", folder, "--out", "run", *TINY), message)
    fails(invoke("train", "--data", folder, *TINY), message)
    assert listing(tmp_path) == ["data"]  # no run, run.partial or runs/ left


@pytest.mark.parametrize("case", ["undecodable", "empty_file", "zero_length", "no_audio"])
def test_predict_bad_audio(case, run_dir, tmp_path):
    folder, message = bad_folder(tmp_path, case)
    target = folder if case == "no_audio" else folder / "1_dee_0.wav"
    fails(invoke("predict", run_dir, target), message)
    assert listing(tmp_path) == ["data"]


def test_commands_on_a_folder_that_is_not_a_run(tmp_path, fsdd_subset):
    folder = tmp_path / "notarun"
    folder.mkdir()
    fails(invoke("evaluate", folder), "not a run directory")
    fails(invoke("predict", folder, fsdd_subset / "0_george_0.wav"), "not a run directory")
    fails(invoke("export", folder, tmp_path / "base"), "not a run directory")
    assert listing(tmp_path) == ["notarun"]


# synth ------------------------------------------------------------------------------------------

needs_tts = pytest.mark.skipif(
    not any(shutil.which(b) for b in ("espeak-ng", "flite", "text2wave")),
    reason="no text-to-speech engine installed (apt-get install espeak-ng flite festival "
           "festvox-kallpc16k); CI installs them")


@needs_tts
def test_synth_writes_decodable_clips(tmp_path):
    out = tmp_path / "kw"
    result = ok(invoke("synth", out, "--words", "yes,no", "--variants", "m3,f2", "--voices",
                       "en-us,en-gb,slt,kal16,kal_diphone"))
    assert "clips of 2 words" in result.output
    manifest = json.loads((out / "synth.json").read_text())
    assert manifest["failed"] == 0 and manifest["clips"] >= 4
    assert sorted(p.name for p in out.iterdir()) == ["no", "synth.json", "yes"]
    files = list(out.rglob("*.wav"))
    assert len(files) == manifest["clips"]
    for file in files:
        waveform, rate = decode_wav(file)
        assert rate == 16000 and waveform.shape == (16000,)
        assert 0.1 < np.abs(waveform).max() <= 1.0
        assert "_nohash_" in file.name
    # Speakers are voices: a speaker split keeps every variant of a voice together.
    clips = load_folder(out)
    assert all(s.count("-") >= 1 for s in clips.speakers)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    fails(invoke("synth", out, "--words", "yes"), "already exists")
    fails(invoke("synth", tmp_path / "x", "--words", "two words"), "cannot use 'two words'")


def test_default_model_and_augmentation_settings():
    config = commands.resolve_config()
    assert config["front_end"]["conv_filters"] == [48, 96]
    assert config["backbone"] == {"pooling": "max", "cell": "gru", "units": 128, "bidirectional": True}
    assert "freq_warp" not in config["front_end"] and "time_stretch" not in config["front_end"]
    assert config["training"]["ema"] == 0.995  # the weights' moving average is validated and kept
    assert commands.resolve_config(ema=0.0)["training"]["ema"] == 0.0
    # The command line has the same defaults.
    defaults = {param.name: param.default for param in cli.commands["train"].params}
    assert defaults["ema"] == config["training"]["ema"] and defaults["conv_filters"] == "48,96"
    assert defaults["synthetic_voices"] is None  # auto
    # Options still win over the default model; other presets keep their own widths.
    assert commands.resolve_config(units=8, bidirectional=False)["backbone"]["units"] == 8
    assert commands.resolve_config(backbone="lstm")["backbone"].get("bidirectional") is not True
    # Vocal-tract-length warping applies to log-mel features only; tempo stretch to either.
    warped = commands.resolve_config(features="log-mel", freq_warp=0.1, time_stretch=0.2, speed=0.3)
    assert warped["front_end"]["freq_warp"] == 0.1 and warped["front_end"]["time_stretch"] == 0.2
    assert warped["augment"]["speed"] == 0.3
    assert "freq_warp" not in commands.resolve_config(freq_warp=0.1)["front_end"]
