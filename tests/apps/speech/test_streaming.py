"""Streaming keyword spotting: the hop-by-hop model equals the clip model, detect, the stream signature."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from tests.apps.speech.speech_helpers import tone, write_pcm

import apps.speech.preprocessing  # noqa: F401  (registers the speech layers for .keras loading)
from apps.speech.cli import cli
from apps.speech.commands import load_run_model, resolve_config
from apps.speech.model import build_classifier, sample_audio
from apps.speech.streaming import StreamingKeywordSpotter, check_streamable, streamable_config
from seqcore.errors import SeqcoreError

TINY = ["--epochs", "1", "--units", "8", "--batch-size", "16", "--no-synthetic-voices", "--streamable"]

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="seqcore-speech", input=input)


def ok(result):
    assert result.exit_code == 0, (result.output, result.exc_info)
    return result


def fails(result, match):
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exc_info)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], result.output
    return lines[0]


def peaked(model, scale=25.0):
    """Scales the output layer so that the untrained model's probabilities are far from uniform."""
    head = model.get_layer("probabilities")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * scale, bias])
    return model


@pytest.fixture(scope="module")
def stacked():
    """A tiny LSTM-over-GRU streamable model at 8 kHz (untrained, peaked)."""
    import keras

    keras.utils.set_random_seed(0)
    config = streamable_config(resolve_config(cell="lstm,gru", layers=2, units=8))
    config["features"]["sample_rate"] = 8000
    audio = np.random.default_rng(0).normal(size=(4, 8000)).astype("float32") * 0.1
    return peaked(build_classifier(config, audio, ["_silence_", "a", "b"]))


def test_streaming_equals_the_clip_model_at_every_hop(stacked):
    spotter = StreamingKeywordSpotter(stacked, hop_ms=20)
    clips = sample_audio(8000, 8000, count=2)
    tail = spotter.tail_samples
    # The clip model's first frame starts at sample 0: stream from a state holding the
    # first `tail` samples, then hop over the rest.
    state = spotter.initial_state(2, prefix=clips[:, :tail])
    step = tf.function(spotter.step)
    streamed = []
    for start in range(tail, 8000, spotter.hop_samples):
        probabilities, state = step(clips[:, start : start + spotter.hop_samples], state)
        streamed.append(probabilities.numpy())
    assert len(streamed) == 49 and spotter.frames_per_hop == 2
    whole = stacked.predict(clips, verbose=0)
    np.testing.assert_allclose(streamed[-1], whole, atol=1e-5)
    assert np.abs(whole - 1 / 3).max() > 0.1  # peaked: a wrong state would show
    frames = stacked.preprocessor(clips)
    head = stacked.get_layer("probabilities")
    for hop in (0, 10, 30):  # every prefix: the clip model read up to that hop's last frame
        prefix = head(stacked.backbone(frames[:, : 2 * (hop + 1)])["pooled_output"]).numpy()
        np.testing.assert_allclose(streamed[hop], prefix, atol=1e-5)


def test_the_state_carries_the_context(stacked):
    spotter = StreamingKeywordSpotter(stacked)
    clip = sample_audio(8000, 8000, count=1)[0]
    carried, _ = spotter.run(clip)
    half = len(clip) // 2
    _, state = spotter.run(clip[:half])
    reset = {**state, **spotter.stepper.initial_state(1)}  # audio kept, recurrent state dropped
    restarted, _ = spotter.run(clip[half:], reset)
    hop = spotter.hop_samples
    _, after_reset = spotter.run(clip[half : half + hop], reset)
    _, after_carry = spotter.run(clip[: half + hop])
    for name in spotter.stepper.state_names:  # one hop later the dropped state still shows
        assert np.abs(after_reset[name].numpy() - after_carry[name].numpy()).max() > 1e-2, name
    assert restarted.shape == carried[half // hop :].shape
    resumed, _ = spotter.run(clip[half:], state)
    np.testing.assert_allclose(resumed, carried[half // spotter.hop_samples :], atol=1e-5)


def test_models_that_cannot_stream_say_why():
    crnn = build_classifier(resolve_config(units=8, conv_filters=[4]) | {"features": {
        "sample_rate": 8000, "clip_seconds": 1.0}}, np.zeros((2, 8000), "float32"), ["a", "b"])
    with pytest.raises(SeqcoreError) as error:
        check_streamable(crnn)
    message = str(error.value)
    assert "convolution front end" in message and "peak-normalize" in message
    assert "--streamable" in message and "\n" not in message
    with pytest.raises(SeqcoreError, match="whole number"):
        StreamingKeywordSpotter(stacked_model(), hop_ms=15)


def stacked_model():
    config = streamable_config(resolve_config(units=4))
    config["features"]["sample_rate"] = 8000
    return build_classifier(config, np.zeros((2, 8000), "float32"), ["a", "b"])


# The command line -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, fsdd_subset):
    run = tmp_path_factory.mktemp("streaming") / "run"
    ok(invoke("train", "--data", fsdd_subset, "--out", run, *TINY))
    return run


@pytest.fixture(scope="module")
def always_one(run_dir, tmp_path_factory):
    """A copy of the run whose model hears the digit 1 all the time (output bias)."""
    copy = tmp_path_factory.mktemp("always") / "run"
    shutil.copytree(run_dir, copy)
    model = load_run_model(copy)
    head = model.get_layer("probabilities")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 0, np.where(np.array(model.class_names) == "1", 20.0, 0.0)])
    model.save(copy / "model.keras")
    return copy


def test_train_streamable_writes_a_streamable_configuration(run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["front_end"] == {"kind": "none"}
    assert config["backbone"]["bidirectional"] is False and config["backbone"]["pooling"] == "last"
    assert config["features"]["peak_normalize"] is False and config["features"]["mean_normalize"] is False
    check_streamable(load_run_model(run_dir))


EXPECTED = ["0.060\t1\t1.000", "1.060\t1\t1.000", "2.060\t1\t1.000"]


def test_detect_prints_timestamped_keywords_smoothed_and_suppressed(always_one, tmp_path):
    wav = write_pcm(tmp_path / "long.wav", tone(3.0, 8000), 8000)
    # 150 hops of 20 ms: the window holds 3 hops at 60 ms, then 1 s of suppression each time.
    assert ok(invoke("detect", always_one, wav)).output.splitlines() == EXPECTED
    raw = (np.round(tone(3.0, 8000) * 32767).astype("<i2")).tobytes()
    assert ok(invoke("detect", always_one, "-", input=raw)).output.splitlines() == EXPECTED
    lines = ok(invoke("detect", always_one, wav, "--json", "--suppression-ms", "2000")).output.splitlines()
    assert [json.loads(line) for line in lines] == [{"time": 0.06, "label": "1", "score": 1.0},
                                                    {"time": 2.06, "label": "1", "score": 1.0}]


def test_export_has_a_checked_stream_signature_that_detect_uses(always_one, tmp_path):
    ok(invoke("export", always_one, tmp_path / "export"))
    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    stream = loaded.signatures["stream"]
    inputs = stream.structured_input_signature[1]
    assert sorted(inputs) == ["audio", "audio_tail", "gru_0_h"]
    assert inputs["audio"].shape.as_list() == [None, 160] and inputs["gru_0_h"].shape.as_list() == [None, 8]
    assert set(stream.structured_outputs) == {"probabilities", "audio_tail", "gru_0_h"}
    spotter = StreamingKeywordSpotter(load_run_model(always_one))
    hop = sample_audio(8000, 160, count=1)
    state = {k: v + 0.1 for k, v in spotter.initial_state(1).items()}
    expected, following = spotter.step(hop, state)
    outputs = stream(audio=tf.constant(hop), **state)
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
    np.testing.assert_allclose(outputs["gru_0_h"], following["gru_0_h"], atol=1e-5)
    metadata = {k: v.numpy() for k, v in loaded.signatures["metadata"]().items()}
    assert int(metadata["stream_hop_samples"]) == 160
    wav = write_pcm(tmp_path / "long.wav", tone(3.0, 8000), 8000)
    assert ok(invoke("detect", tmp_path / "export" / "1", wav)).output.splitlines() == EXPECTED


def test_detect_errors_are_one_line(run_dir, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    fails(invoke("detect", run_dir, text), "cannot decode")
    fails(invoke("detect", tmp_path / "missing", write_pcm(tmp_path / "a.wav", tone(0.5, 8000), 8000)),
          "model not found")
    fails(invoke("detect", run_dir, write_pcm(tmp_path / "b.wav", tone(0.5, 8000), 8000), "--threshold", "0.5",
                 "--hop-ms", "15"), "whole number")
    crnn = tmp_path / "crnn"
    shutil.copytree(run_dir, crnn)
    config = json.loads((crnn / "config.json").read_text())
    model = build_classifier(resolve_config(units=4, conv_filters=[4]) | {"features": config["features"]},
                             np.zeros((2, 8000), "float32"), config["class_names"])
    model.save(crnn / "model.keras")
    line = fails(invoke("detect", crnn, write_pcm(tmp_path / "c.wav", tone(0.5, 8000), 8000)),
                 "has no streaming form")
    assert "bidirectional" in line and "convolution" in line
