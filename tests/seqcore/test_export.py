import numpy as np
import pytest
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.errors import SeqcoreError
from seqcore.export import export_saved_model, next_version, resolve_version_dir
from tests.export_parity import serve_with_tensorflow_alone

FEATURES = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
SIGNATURE = [tf.TensorSpec([None, None, 2], tf.float32, name="features")]


@pytest.fixture(scope="module")
def model():
    return SequenceClassifier(RecurrentBackbone(cell="gru", units=4, num_features=2), ["a", "b"])


def _export(model, base, expected=None, **kwargs):
    expected = model.predict(FEATURES, verbose=0) if expected is None else expected
    return export_saved_model(
        base,
        lambda features: {"probabilities": model(features, training=False)},
        SIGNATURE,
        sample_inputs={"features": FEATURES},
        expected_outputs={"probabilities": expected},
        track=[model],
        **kwargs,
    )


def test_versions_follow_tensorflow_serving_layout(model, tmp_path):
    assert _export(model, tmp_path) == tmp_path / "1"
    assert _export(model, tmp_path, metadata={"class_names": ["a", "b"]}) == tmp_path / "2"
    assert _export(model, tmp_path, version=7) == tmp_path / "7"
    assert next_version(tmp_path) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2", "7"]
    assert (tmp_path / "2" / "saved_model.pb").is_file() and (tmp_path / "2" / "variables").is_dir()
    assert resolve_version_dir(tmp_path) == tmp_path / "7"


def test_existing_version_is_refused_and_kept(model, tmp_path):
    _export(model, tmp_path, version=1)
    before = (tmp_path / "1" / "saved_model.pb").read_bytes()
    with pytest.raises(SeqcoreError, match="already exists.*next free: 2"):
        _export(model, tmp_path, version=1)
    assert (tmp_path / "1" / "saved_model.pb").read_bytes() == before


def test_mismatching_export_is_never_published(model, tmp_path):
    wrong = model.predict(FEATURES, verbose=0) + 0.5
    with pytest.raises(SeqcoreError, match="export check failed: output 'probabilities'"):
        _export(model, tmp_path, expected=wrong)
    assert list(tmp_path.iterdir()) == []  # no version, no hidden temporary folder


def test_export_runs_with_tensorflow_alone_and_equals_the_keras_model(tmp_path):
    """Served by TensorFlow alone, the export gives the Keras model's values (random non-zero weights)."""
    model = SequenceClassifier(RecurrentBackbone(cell="gru", units=4, num_features=2), ["a", "b"], dropout=0.0)
    model(FEATURES)
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(0, 0.8, size=w.shape).astype("float32") for w in model.get_weights()])
    assert all(np.all(w != 0) for w in model.get_weights())
    path = _export(model, tmp_path, metadata={"class_names": ["a", "b"]})
    features = rng.normal(size=(4, 7, 2)).astype("float32")  # another batch and length than the check's
    served, metadata = serve_with_tensorflow_alone(path, ("serving_default", {"features": features}), ("metadata", {}))
    expected = model.predict(features, verbose=0)
    assert np.ptp(expected[:, 0]) > 0.05  # the inputs give the model distinct answers
    np.testing.assert_allclose(served["probabilities"], expected, rtol=1e-5, atol=1e-6)
    assert metadata["class_names"].tolist() == ["a", "b"]


def test_not_an_export_is_named(tmp_path):
    with pytest.raises(SeqcoreError, match="not an export"):
        resolve_version_dir(tmp_path)


def test_is_export_tells_exports_from_runs(tmp_path):
    from seqcore.export import is_export

    version = tmp_path / "export" / "3"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"")
    (run / "1").mkdir()  # a run holding a numbered folder is still a run
    assert is_export(tmp_path / "export") and is_export(version)
    assert not is_export(run) and not is_export(tmp_path / "missing") and not is_export(version / "saved_model.pb")


def test_open_export_reads_the_metadata_signature(model, tmp_path):
    from seqcore.export import open_export

    _export(model, tmp_path, metadata={"class_names": ["a", "b"]})
    loaded, metadata = open_export(tmp_path)
    assert [name.decode() for name in metadata["class_names"]] == ["a", "b"]
    np.testing.assert_allclose(loaded.signatures["serving_default"](features=tf.constant(FEATURES))["probabilities"],
                               model.predict(FEATURES, verbose=0), atol=1e-5)
    with pytest.raises(SeqcoreError, match="not an export"):
        open_export(tmp_path / "1" / "variables")
