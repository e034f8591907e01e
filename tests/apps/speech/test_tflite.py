"""Speech TFLite: raw audio in, the features and the CRNN inside as builtins, Keras' probabilities out."""

import keras
import numpy as np
import pytest

from apps.speech.model import build_classifier
from apps.speech.tflite import tflite_models
from seqcore.tflite import FLOAT_ATOL, run, write_models

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("features, front_end", [("mfcc", "conv"), ("log-mel", "none")])
def test_audio_model_matches_keras(tmp_path, features, front_end):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    config = {"features": {"sample_rate": 8000, "clip_seconds": 0.5, "features": features},
              "front_end": {"kind": "conv", "conv_filters": [4]} if front_end == "conv" else {"kind": "none"},
              "backbone": {"cell": "gru", "units": 8}, "head": {"dropout": 0.0}}
    model = build_classifier(config, rng.normal(scale=0.1, size=(4, 4000)).astype("float32"), ["a", "b", "c"])
    audio = np.concatenate([0.3 * rng.normal(size=(2, 4000)), np.zeros((1, 4000))]).astype("float32")
    audio[1, :1500] = 0.0  # silence at the start: the mean normalization's masked frames
    models, files = tflite_models(model, audio)
    reports = write_models(tmp_path, models, quantize=True, files=files)
    assert reports[0].max_abs_difference <= FLOAT_ATOL and reports[1].max_abs_difference <= reports[1].tolerance
    assert "RFFT2D" in reports[0].ops  # the spectrogram runs inside the model
    assert (tmp_path / "labels.txt").read_text() == "a\nb\nc\n"
    one = run(tmp_path / "model.tflite", {"audio": audio[:1]})["probabilities"]
    np.testing.assert_allclose(one, model.predict(audio[:1], verbose=0), atol=FLOAT_ATOL)
