import pytest

from seqcore.compare.backbones import BackboneChoice, parse_backbones
from seqcore.errors import SeqcoreError


def test_cells_list_with_a_mixed_stack():
    choices = parse_backbones("rnn,lstm,gru,lstm+gru")
    assert [c.name for c in choices] == ["rnn", "lstm", "gru", "lstm+gru"]
    assert choices[-1].cell == ["lstm", "gru"]
    assert choices[-1].train_args() == ["--cell", "lstm,gru", "--unidirectional"]


def test_both_directions_runs_each_backbone_twice():
    choices = parse_backbones("gru", "both")
    assert choices == [BackboneChoice(("gru",), False), BackboneChoice(("gru",), True)]
    assert choices[1].train_args()[-1] == "--bidirectional"


@pytest.mark.parametrize("cells, words", [
    ("rnn,transformer", "unknown cell 'transformer'"),
    ("lstm+", "unknown cell ''"),
    (" , ", "--cells is empty"),
    ("gru,gru", "listed twice"),
])
def test_bad_cells_name_the_problem(cells, words):
    with pytest.raises(SeqcoreError, match=words):
        parse_backbones(cells)


def test_bad_direction():
    with pytest.raises(SeqcoreError, match="--bidirectional must be one of uni, bi, both"):
        parse_backbones("gru", "sideways")
