"""Tests of `ConvRecurrentBackbone` (CRNN)."""

import numpy as np
import pytest

import seqcore.crnn  # noqa: F401  (registers the class before `.keras` files load)
from seqcore.classifier import SequenceClassifier
from seqcore.crnn import ConvRecurrentBackbone
from seqcore.saving import load_model
from seqcore.testing import run_backbone_test

FRAMES, FEATURES = 24, 12


def frames(batch=2, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, FRAMES, FEATURES)).astype("float32")


@pytest.mark.parametrize("kwargs, steps, width", [
    ({"conv_filters": [4, 8]}, FRAMES // 4, 8),
    ({"conv_filters": [4], "conv": "1d", "cell": "lstm"}, FRAMES // 2, 8),
    ({"conv_filters": [], "cell": "rnn"}, FRAMES, 8),
    ({"conv_filters": [4], "bidirectional": True, "pooling": "last"}, FRAMES // 2, 16),
    ({"conv_filters": "4,4", "cell": ["lstm", "gru"], "pooling": "attention"}, FRAMES // 4, 8),
    ({"conv_filters": [4], "freq_warp": 0.1, "time_stretch": 0.2}, FRAMES // 2, 8),
])
def test_shapes_gradients_and_config(kwargs, steps, width, tmp_path):
    backbone = ConvRecurrentBackbone(num_features=FEATURES, units=8, **kwargs)
    out = backbone(frames())
    assert tuple(out["sequence_output"].shape) == (2, steps, width)
    assert tuple(out["pooled_output"].shape) == (2, width) == (2, backbone.output_width)
    # Batching, gradients to every weight, config and `.keras` round trips: the shared battery.
    example, other = frames(seed=1)
    run_backbone_test(backbone, example, other, tmp_path, masked=False)


def test_variable_frame_count():
    backbone = ConvRecurrentBackbone(num_features=FEATURES, conv_filters=[4], units=8)
    assert backbone(np.zeros((1, 37, FEATURES), "float32"))["sequence_output"].shape == (1, 19, 8)


def test_spec_augment_only_in_training():
    backbone = ConvRecurrentBackbone(num_features=FEATURES, conv_filters=[4], units=8,
                                     time_masks=2, time_mask_max=6, freq_masks=2, freq_mask_max=3)
    plain = ConvRecurrentBackbone(num_features=FEATURES, conv_filters=[4], units=8)
    x = frames()
    backbone(x)
    plain(x)
    plain.set_weights(backbone.get_weights())
    assert backbone.get_layer("spec_augment") is not None
    # inference: the same output as the same weights with no augmentation at all
    np.testing.assert_allclose(backbone(x)["pooled_output"], plain(x)["pooled_output"], atol=1e-6)
    # training: masked, so the output differs
    trained = backbone(x, training=True)["pooled_output"]
    assert np.abs(trained - plain(x, training=True)["pooled_output"]).max() > 1e-4


def test_round_trip_in_a_classifier(tmp_path):
    backbone = ConvRecurrentBackbone(num_features=FEATURES, conv_filters=[4, 4], units=8,
                                     time_masks=1, freq_masks=1)
    model = SequenceClassifier(backbone, ["a", "b", "c"])
    model.save(tmp_path / "crnn.keras")
    reloaded = load_model(tmp_path / "crnn.keras")
    np.testing.assert_allclose(reloaded.predict(frames(3), verbose=0),
                               model.predict(frames(3), verbose=0), atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"conv": "3d"}, "Unknown conv"),
    ({"conv_filters": [4, 0]}, "positive integers"),
    ({"conv_filters": [4, 4, 4, 4], "num_features": 4}, "too narrow"),
    ({"pooling": "first"}, "Unknown pooling"),
    ({"cell": "transformer"}, "Unknown cell"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvRecurrentBackbone(**{"num_features": FEATURES, **kwargs})
