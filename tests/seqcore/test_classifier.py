import numpy as np
import pytest

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.testing import run_task_test


def test_feature_classifier_fits_predicts_and_round_trips(tmp_path):
    features = np.random.default_rng(0).normal(size=(8, 6, 3)).astype("float32")
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    backbone = RecurrentBackbone(cell="gru", units=4, num_features=3, bidirectional=True)
    model = SequenceClassifier(backbone, class_names=["a", "b", "c"])
    reloaded = run_task_test(model, features, labels, tmp_path)
    assert reloaded.class_names == ["a", "b", "c"]
    assert reloaded.backbone.get_config() == backbone.get_config()
    probabilities = reloaded.predict(features, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)


def test_output_stays_float32_under_mixed_precision():
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        backbone = RecurrentBackbone(cell="lstm", units=4, num_features=3)
        model = SequenceClassifier(backbone, class_names=["a", "b"])
        assert model.output.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_one_class_is_refused():
    backbone = RecurrentBackbone(cell="lstm", units=4, num_features=3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        SequenceClassifier(backbone, class_names=["only"])
