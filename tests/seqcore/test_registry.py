import pytest

from seqcore.errors import SeqcoreError
from seqcore.registry import BACKBONES, PRESETS, Registry, preset_kwargs


def test_presets_cover_every_cell_a_bidirectional_and_a_mixed_stack():
    cells = {str(PRESETS.get(name)["cell"]) for name in PRESETS.names()}
    assert {"rnn", "lstm", "gru"} <= cells
    assert any(PRESETS.get(name).get("bidirectional") for name in PRESETS.names())
    assert PRESETS.get("lstm-gru")["cell"] == ["lstm", "gru"]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(SeqcoreError, match="unknown backbone preset 'lstn'; expected one of: bigru, bilstm, gru, lstm"):
        PRESETS.get("lstn")


def test_duplicates_are_refused():
    registry = Registry("thing")
    registry.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", 2)


def test_preset_overrides_skip_none_and_leave_the_preset_untouched():
    kwargs = preset_kwargs("bigru", units=16, dropout=None)
    assert kwargs == {"cell": "gru", "units": 16, "bidirectional": True}
    assert PRESETS.get("bigru")["units"] == 64


def test_every_preset_builds():
    from seqcore.backbone import RecurrentBackbone

    for name in PRESETS.names():
        assert RecurrentBackbone(num_features=2, **PRESETS.get(name)).count_params() > 0
    assert "recurrent" in BACKBONES


def test_a_list_of_cells_sets_the_depth():
    assert preset_kwargs("stacked-lstm", cell=["lstm", "gru", "rnn"])["num_layers"] == 3
    assert preset_kwargs("lstm", cell=["lstm", "gru"], num_layers=2)["num_layers"] == 2


def test_layers_that_contradict_the_cells_name_both_options():
    with pytest.raises(SeqcoreError, match="--layers 3 does not match the 2 cells lstm,gru; expected --layers 2"):
        preset_kwargs("lstm-gru", num_layers=3)
