"""Tests of `seqcore.audio`: features against a NumPy reference, resampling, SpecAugment."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqcore.audio import AudioFeatures, SpecAugment, fit_length, resample


def reference_features(waveform, layer):
    """log-mel / MFCC in float64 NumPy, written from the definitions (hann STFT, DCT-II)."""
    x = np.asarray(fit_length(waveform, layer.clip_samples), np.float64)
    size, step = layer.frame_length, layer.frame_step
    count = 1 + (len(x) - size) // step
    frames = np.stack([x[i * step : i * step + size] for i in range(count)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)  # periodic Hann
    spectrum = np.abs(np.fft.rfft(frames * window, layer.fft_length))
    log_mel = np.log(spectrum @ layer.mel_matrix.astype(np.float64) + layer.log_offset)
    if layer.mean_normalize:
        real = np.any(frames != 0, axis=1)[:, None]
        log_mel = (log_mel - log_mel[real[:, 0]].mean(axis=0)) * real
    if layer.kind == "log-mel":
        return log_mel
    bins = log_mel.shape[-1]
    k, n = np.arange(bins)[:, None], np.arange(bins)[None, :]
    dct = 2 * np.cos(np.pi * k * (2 * n + 1) / (2 * bins))
    return (log_mel @ dct.T / np.sqrt(2 * bins))[:, : layer.num_mfccs]


def speech_like(samples, rate, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / rate
    tone = sum(np.sin(2 * np.pi * f * t) / (i + 1) for i, f in enumerate((180, 360, 720, 1500)))
    return (0.3 * tone * np.hanning(samples) + 0.01 * rng.normal(size=samples)).astype("float32")


@pytest.mark.parametrize("kind, length, mean_normalize", [
    ("mfcc", 5000, False), ("log-mel", 9300, False), ("mfcc", 5000, True), ("log-mel", 8000, True)])
def test_features_match_numpy_reference(kind, length, mean_normalize):
    layer = AudioFeatures(sample_rate=8000, clip_samples=8000, kind=kind, mean_normalize=mean_normalize)
    clip = speech_like(length, 8000)
    got = layer(clip[None]).numpy()[0]
    expected = reference_features(clip, layer)
    assert got.shape == (layer.num_frames, layer.num_features) == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_feature_shapes_and_config_round_trip():
    layer = AudioFeatures(16000, 16000, kind="log-mel", num_mel_bins=32, frame_ms=25, hop_ms=10)
    assert (layer.frame_length, layer.frame_step, layer.fft_length) == (400, 160, 512)
    assert layer(np.zeros((3, 100), "float32")).shape == (3, 98, 32)
    restored = AudioFeatures.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "spectrogram"}, "Unknown feature kind"),
    ({"upper_hz": 9000}, "mel edges"),
    ({"clip_samples": 10}, "at least one frame"),
    ({"num_mfccs": 50}, "num_mfccs"),
])
def test_feature_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AudioFeatures(**{"sample_rate": 8000, "clip_samples": 8000, **kwargs})


@pytest.mark.parametrize("length, target", [(7, 4), (8, 4), (3, 6), (0, 4), (5, 5)])
def test_fit_length_matches_the_layer(length, target):
    waveform = np.arange(1, length + 1, dtype="float32")
    expected = fit_length(waveform, target)
    assert expected.shape == (target,)
    layer = AudioFeatures(8000, max(target, 240))
    layer.clip_samples = target
    np.testing.assert_array_equal(layer.fit_length(waveform[None]).numpy()[0], expected)


@pytest.mark.parametrize("source, target", [(22050, 16000), (8000, 16000)])
def test_resample_keeps_tones_below_nyquist(source, target):
    seconds = 0.5
    t = np.arange(int(source * seconds)) / source
    out = resample(np.sin(2 * np.pi * 440 * t), source, target)
    assert out.shape == (int(round(len(t) * target / source)),) and out.dtype == np.float32
    expected = np.sin(2 * np.pi * 440 * np.arange(len(out)) / target)
    np.testing.assert_allclose(out[200:-200], expected[200:-200], atol=1e-3)


def test_resample_removes_tones_above_the_new_nyquist():
    t = np.arange(22050) / 22050
    out = resample(np.sin(2 * np.pi * 10000 * t), 22050, 16000)  # above 8 kHz
    assert np.abs(out[200:-200]).max() < 1e-2


def test_spec_augment_masks_only_while_training():
    layer = SpecAugment(time_masks=2, time_mask_max=5, freq_masks=2, freq_mask_max=3, seed=3)
    x = np.ones((4, 50, 20), "float32")
    np.testing.assert_array_equal(layer(x), x)
    masked = layer(x, training=True).numpy()
    assert masked.shape == x.shape
    assert set(np.unique(masked)) <= {0.0, 1.0} and masked.mean() < 1.0
    # A masked feature band is masked at every frame; a masked time band at every feature.
    for example in masked:
        zero_columns = np.all(example == 0, axis=0)
        zero_rows = np.all(example == 0, axis=1)
        assert np.all((example == 0) == (zero_columns[None, :] | zero_rows[:, None]))
    assert SpecAugment.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("axis, kwargs", [(2, {"freq_warp": 0.2}), (1, {"time_stretch": 0.3})])
def test_spec_augment_stretches_an_axis_only_while_training(axis, kwargs):
    layer = SpecAugment(time_masks=0, freq_masks=0, seed=5, **kwargs)
    ramp = np.arange(20, dtype="float32")
    x = np.broadcast_to(ramp[None, :, None] if axis == 1 else ramp[None, None, :], (6, 20, 20)).copy()
    np.testing.assert_array_equal(layer(x), x)
    out = layer(x, training=True).numpy()
    assert out.shape == x.shape and np.isfinite(out).all()
    lines = out[:, :, 0] if axis == 1 else out[:, 0, :]
    # Each example is a monotone resampling of the ramp, within its edges, by its own factor.
    assert np.all(np.diff(lines, axis=1) >= -1e-5) and lines.min() >= 0 and lines.max() <= 19
    assert len({round(float(line[3]), 4) for line in lines}) > 1
    if axis == 1:  # stretched around the centre
        np.testing.assert_allclose(lines[:, 9:11].mean(axis=1), 9.5, atol=1.5)
    else:  # the lowest bin stays where it is
        np.testing.assert_allclose(lines[:, 0], 0.0)
    assert SpecAugment.from_config(layer.get_config()).get_config() == layer.get_config()


def test_spec_augment_rejects_a_bad_stretch():
    with pytest.raises(ValueError, match="freq_warp"):
        SpecAugment(freq_warp=1.5)


def test_layers_survive_a_keras_round_trip(tmp_path):
    inputs = keras.Input((None,))
    outputs = SpecAugment(1, 3, 1, 2)(AudioFeatures(8000, 4000, num_mfccs=13)(inputs))
    model = keras.Model(inputs, outputs)
    clip = speech_like(4000, 8000)[None]
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(reloaded(clip), model(clip), atol=1e-6)
    assert tf.reduce_all(tf.math.is_finite(reloaded(np.zeros((1, 4000), "float32"))))
