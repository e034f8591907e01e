import json
import subprocess
import sys
import zipfile

import pytest

from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.errors import SeqcoreError
from seqcore.saving import registering_modules


def test_modules_come_from_the_file(tmp_path):
    path = tmp_path / "model.keras"
    SequenceClassifier(RecurrentBackbone(cell="gru", units=2, num_features=1), ["a", "b"]).save(path)
    assert registering_modules(path) == ["seqcore.backbone", "seqcore.classifier"]


def test_untrusted_modules_are_never_imported(tmp_path):
    path = tmp_path / "evil.keras"
    config = {"module": "os", "class_name": "X", "config": {"inner": {"module": "seqcore.pooling"}}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    assert registering_modules(path) == ["seqcore.pooling"]


def test_a_file_that_is_not_a_model_is_named(tmp_path):
    (tmp_path / "model.keras").write_text("not a zip")
    with pytest.raises(SeqcoreError, match="cannot read model file .*model.keras"):
        registering_modules(tmp_path / "model.keras")


def test_fresh_process_loads_with_no_custom_objects(tmp_path):
    path = tmp_path / "model.keras"
    SequenceClassifier(RecurrentBackbone(cell="lstm", units=2, num_features=1), ["a", "b"]).save(path)
    code = (
        "from seqcore.saving import load_model\n"
        f"print(load_model({str(path)!r}).class_names)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "['a', 'b']", result.stderr


def test_a_model_that_needs_unsafe_deserialization_is_refused(tmp_path):
    import keras

    from seqcore.saving import load_model

    path = tmp_path / "lambda.keras"
    keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2)]).save(path)
    with pytest.raises(SeqcoreError, match="refusing to load .*lambda.keras: it needs unsafe deserialization"):
        load_model(path)
