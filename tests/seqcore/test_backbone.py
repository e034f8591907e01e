import itertools

import keras
import numpy as np
import pytest

from seqcore.backbone import RecurrentBackbone
from seqcore.testing import run_backbone_test

CELLS = ["rnn", "lstm", "gru"]
POOLINGS = ["last", "mean", "max", "attention"]
RNG = np.random.default_rng(7)
TOKENS = RNG.integers(1, 40, size=5)
OTHER_TOKENS = RNG.integers(1, 40, size=9)
FEATURES = RNG.normal(size=(5, 3)).astype("float32")
OTHER_FEATURES = RNG.normal(size=(9, 3)).astype("float32")


@pytest.mark.parametrize(
    "cell, bidirectional, num_layers, pooling",
    list(itertools.product(CELLS, [False, True], [1, 2], POOLINGS)),
)
def test_token_backbone_matrix(cell, bidirectional, num_layers, pooling):
    backbone = RecurrentBackbone(
        cell=cell, units=4, num_layers=num_layers, bidirectional=bidirectional,
        pooling=pooling, vocabulary_size=40, embedding_dim=3,
    )
    run_backbone_test(backbone, TOKENS, OTHER_TOKENS)


@pytest.mark.parametrize(
    "cell, bidirectional, pooling",
    list(itertools.product(CELLS, [False, True], POOLINGS)),
)
def test_feature_backbone_matrix(cell, bidirectional, pooling):
    backbone = RecurrentBackbone(
        cell=cell, units=4, num_layers=2, bidirectional=bidirectional,
        pooling=pooling, num_features=3,
    )
    run_backbone_test(backbone, FEATURES, OTHER_FEATURES)


@pytest.mark.parametrize("cell, bidirectional", itertools.product(CELLS, [False, True]))
def test_keras_file_round_trip(cell, bidirectional, tmp_path):
    backbone = RecurrentBackbone(
        cell=cell, units=4, bidirectional=bidirectional, pooling="attention",
        vocabulary_size=40, dropout=0.1,
    )
    run_backbone_test(backbone, TOKENS, OTHER_TOKENS, tmp_path=tmp_path)


def test_mixed_stack_round_trip(tmp_path):
    backbone = RecurrentBackbone(cell=["lstm", "gru"], units=4, bidirectional=True, num_features=3)
    assert [layer.name for layer in backbone.layers if "bidirectional" in layer.name] == [
        "bidirectional_lstm_0",
        "bidirectional_gru_1",
    ]
    assert backbone.get_config()["cell"] == ["lstm", "gru"]
    run_backbone_test(backbone, FEATURES, OTHER_FEATURES, tmp_path=tmp_path)


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_last_pooling_reads_true_ends(cell):
    """Forward half at the last real step, backward half at step 0, as Keras' own
    `Bidirectional(return_sequences=False)` gives on the unpadded sequence."""
    backbone = RecurrentBackbone(cell=cell, units=4, bidirectional=True, pooling="last", num_features=3)
    reference_layer = keras.layers.Bidirectional(
        {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell](4)
    )
    reference = keras.Sequential([keras.Input((None, 3)), reference_layer])
    reference_layer.set_weights(backbone.get_layer(f"bidirectional_{cell}_0").get_weights())
    padded = np.zeros((1, 8, 3), "float32")
    padded[0, :5] = FEATURES
    np.testing.assert_allclose(
        backbone(padded)["pooled_output"], reference(FEATURES[None]), atol=1e-5
    )


def test_feature_input_without_masking_reads_every_step():
    backbone = RecurrentBackbone(cell="gru", units=4, num_features=3, mask_value=None, pooling="mean")
    padded = np.zeros((1, 8, 3), "float32")
    padded[0, :5] = FEATURES
    assert not np.allclose(backbone(padded)["pooled_output"], backbone(FEATURES[None])["pooled_output"])


def test_recurrent_dropout_is_passed_to_every_layer():
    backbone = RecurrentBackbone(cell="lstm", units=4, num_layers=2, recurrent_dropout=0.2, num_features=3)
    rnn_layers = [layer for layer in backbone.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.recurrent_dropout for layer in rnn_layers] == [0.2, 0.2]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cell": "lstm"}, "exactly one input kind"),
        ({"cell": "lstm", "vocabulary_size": 9, "num_features": 3}, "exactly one input kind"),
        ({"cell": "transformer", "num_features": 3}, "Unknown cell.*transformer"),
        ({"cell": ["lstm", "gru"], "num_layers": 3, "num_features": 3}, "names 2 cells but `num_layers` is 3"),
        ({"cell": "gru", "pooling": "sum", "num_features": 3}, "Unknown pooling.*sum"),
        ({"cell": "gru", "units": 0, "num_features": 3}, "`units` must be positive"),
    ],
)
def test_invalid_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RecurrentBackbone(**kwargs)
