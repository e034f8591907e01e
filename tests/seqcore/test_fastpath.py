import keras
import pytest

from seqcore import fast_rnn, fastpath
from seqcore.backbone import RecurrentBackbone


def test_backbone_layers_take_the_seqcore_loop_on_cpu():
    backbone = RecurrentBackbone(cell=["rnn", "lstm", "gru"], units=4, bidirectional=True, num_features=2)
    rows = fastpath.fast_path_report(backbone)
    assert [row["kind"] for row in rows] == ["SimpleRNN"] * 2 + ["LSTM"] * 2 + ["GRU"] * 2
    assert all(row["path"] == "seqcore" and row["path_reasons"] == [] for row in rows)
    assert [row["eligible"] for row in rows] == [False] * 2 + [True] * 4


def test_recurrent_dropout_leaves_the_fast_loops():
    rows = fastpath.fast_path_report(RecurrentBackbone(cell="lstm", units=4, num_features=2, recurrent_dropout=0.1))
    assert rows[0]["path"] == "keras"
    assert rows[0]["path_reasons"] == ["recurrent_dropout=0.1"]
    assert rows[0]["reasons"] == ["recurrent_dropout=0.1"]


def test_plain_keras_layers_are_named_as_such():
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.GRU(3)])
    (row,) = fastpath.fast_path_report(model)
    assert row["path"] == "keras"
    assert "keras.layers.GRU" in row["path_reasons"][0]


@pytest.mark.parametrize("cell, path", [("lstm", "cudnn"), ("rnn", "keras")])
def test_with_a_gpu_cudnn_is_the_default(cell, path, monkeypatch):
    monkeypatch.setattr(fastpath.tf.config, "list_physical_devices", lambda kind=None: ["GPU:0"])
    monkeypatch.setattr(fast_rnn, "_gpu_visible", lambda: True)
    (row,) = fastpath.fast_path_report(RecurrentBackbone(cell=cell, units=4, num_features=2))
    assert row["path"] == path
    assert row["active"] is (path == "cudnn")
