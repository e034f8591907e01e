import numpy as np
import pytest

from seqcore.compare import longrange
from seqcore.errors import SeqcoreError


@pytest.mark.parametrize("gap", [0, 1, 25])
def test_delayed_recall_layout(gap):
    x, y = longrange.delayed_recall(256, gap, num_symbols=5, seed=3)
    steps = gap + gap // 10 + 2
    assert x.shape == (256, steps, 11) and y.shape == (256,)
    assert x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(x.sum(-1), 1)  # one-hot: one thing per step
    symbol_steps = x[:, :, :5].sum(-1)
    np.testing.assert_array_equal(symbol_steps.sum(-1), 1)  # the symbol shows exactly once
    position = symbol_steps.argmax(-1)
    assert position.min() >= 0 and position.max() <= gap // 10
    np.testing.assert_array_equal(x[np.arange(256), position, :5].argmax(-1), y)
    np.testing.assert_array_equal(x[:, -1, -1], 1)  # recall marker last, and only there
    np.testing.assert_array_equal(x[:, :-1, -1], 0)
    # at least `gap` distractors between the symbol and the recall marker
    assert (steps - 2 - position).min() >= gap
    assert set(y.tolist()) <= set(range(5))


def test_symbol_position_varies_unless_fixed():
    x, _ = longrange.delayed_recall(500, 50, num_symbols=4, seed=0)
    assert len(np.unique(x[:, :, :4].sum(-1).argmax(-1))) == 6
    x, y = longrange.delayed_recall(50, 20, num_symbols=4, position=2)
    np.testing.assert_array_equal(x[:, 2, :4].argmax(-1), y)
    x, y = longrange.delayed_recall(50, 20, num_symbols=4, position=0)
    np.testing.assert_array_equal(x[:, 0, :4].argmax(-1), y)


def test_training_delays_cover_every_step_before_the_question():
    x, y = longrange.delayed_recall(4000, 20, num_symbols=4, seed=0, delays="any")
    position = x[:, :, :4].sum(-1).argmax(-1)
    assert set(position.tolist()) == set(range(x.shape[1] - 1))  # delays 1 .. steps - 1
    np.testing.assert_array_equal(x[np.arange(4000), position, :4].argmax(-1), y)
    np.testing.assert_array_equal(x[:, :, :4].sum((1, 2)), 1)
    with pytest.raises(SeqcoreError, match="delays must be"):
        longrange.delayed_recall(4, 20, delays="near")


def test_distractors_carry_no_answer():
    x, y = longrange.delayed_recall(4000, 20, num_symbols=4, seed=0)
    distractor_ids = x[:, :-1, 4:8].argmax(-1)[x[:, :-1, 4:8].sum(-1) == 1]
    assert set(np.unique(distractor_ids)) == {0, 1, 2, 3}
    counts = np.stack([(x[:, :-1, 4 + k].sum(-1)) for k in range(4)], -1)
    # The distractors are not more frequent for the answer than for any other symbol.
    assert abs((counts.argmax(-1) == y).mean() - 0.25) < 0.05


def test_seeded():
    a, b, c = (longrange.delayed_recall(16, 5, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("gap, symbols, position, words", [
    (-1, 4, None, "gap"), (3, 1, None, "num_symbols"), (40, 3, 5, "position must be in"),
])
def test_bad_settings(gap, symbols, position, words):
    with pytest.raises(SeqcoreError, match=words):
        longrange.delayed_recall(4, gap, num_symbols=symbols, position=position)


def test_gradient_reaches_only_the_last_step_without_recurrence():
    x, y = longrange.delayed_recall(8, 4, num_symbols=3)
    model = longrange.build_model("rnn", 4, num_features=7, num_symbols=3)
    layer = model.backbone.get_layer("rnn_0")
    kernel, recurrent, bias = layer.get_weights()
    layer.set_weights([kernel, np.zeros_like(recurrent), bias])
    norms = longrange.input_gradient_norms(model, x, y)
    assert norms.shape == (6,)
    np.testing.assert_array_equal(norms[:-1], 0)
    assert norms[-1] > 0


def test_gradient_flows_back_through_the_recurrence():
    x, y = longrange.delayed_recall(8, 6, num_symbols=3)
    model = longrange.build_model("lstm", 4, num_features=7, num_symbols=3)
    norms = longrange.input_gradient_norms(model, x, y)
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)


def test_run_one_is_reproducible_with_its_seed():
    settings = dict(train_examples=64, test_examples=32, units=4, epochs=2, num_symbols=3)
    first = longrange.run_one("gru", 4, seed=5, **settings)
    second = longrange.run_one("gru", 4, seed=5, **settings)
    assert first["accuracy"] == second["accuracy"]
    np.testing.assert_allclose(first["gradient_norms"]["trained"], second["gradient_norms"]["trained"])
    assert len(first["gradient_norms"]["init"]) == 4 + 0 + 2
    assert first["chance"] == pytest.approx(1 / 3)
    assert len(first["history"]["loss"]) == 2


def _rows(accuracies):
    return [{"backbone": b, "gap": g, "accuracy_mean": a, "chance": 0.125}
            for (b, g), a in accuracies.items()]


def test_verdict_reads_the_expected_shape():
    rows = _rows({("rnn", 10): 1.0, ("rnn", 100): 0.14, ("lstm", 10): 1.0, ("lstm", 100): 0.97,
                  ("gru", 10): 1.0, ("gru", 100): 1.0})
    result = longrange.verdict(rows)
    assert result["per_backbone"] == {"rnn": "collapses", "lstm": "holds", "gru": "holds"}
    assert result["expected_shape"] is True
    assert result["summary"].startswith("As expected")


def test_verdict_says_so_when_the_run_disagrees():
    rows = _rows({("rnn", 10): 1.0, ("rnn", 100): 1.0, ("gru", 10): 1.0, ("gru", 100): 0.5})
    result = longrange.verdict(rows)
    assert result["per_backbone"] == {"rnn": "holds", "gru": "degrades"}
    assert result["expected_shape"] is False
    assert "did NOT come out" in result["summary"]
    assert "rnn holds (expected: collapses)" in result["summary"]


def test_verdict_needs_two_gaps():
    assert longrange.verdict(_rows({("rnn", 10): 1.0}))["expected_shape"] is None
