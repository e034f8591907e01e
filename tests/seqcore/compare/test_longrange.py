import numpy as np
import pytest

from seqcore.compare import longrange
from seqcore.errors import SeqcoreError


@pytest.mark.parametrize("gap", [0, 1, 25])
def test_delayed_recall_layout(gap):
    x, y = longrange.delayed_recall(64, gap, num_symbols=5, seed=3)
    assert x.shape == (64, gap + 2, 7) and y.shape == (64,)
    assert x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(x.sum(-1)[:, 0], 2)  # symbol + remember marker
    np.testing.assert_array_equal(x.sum(-1)[:, 1:], 1)  # one symbol, or the recall marker
    np.testing.assert_array_equal(x[:, 0, :5].argmax(-1), y)
    np.testing.assert_array_equal(x[:, 0, 5], 1)
    np.testing.assert_array_equal(x[:, 1:, 5], 0)
    np.testing.assert_array_equal(x[:, -1, 6], 1)
    np.testing.assert_array_equal(x[:, -1, :6], 0)
    np.testing.assert_array_equal(x[:, :-1, 6], 0)
    assert set(y.tolist()) <= set(range(5))


def test_distractors_use_the_same_alphabet_and_carry_no_answer():
    x, y = longrange.delayed_recall(4000, 20, num_symbols=4, seed=0)
    distractors = x[:, 1:-1, :4].argmax(-1)
    assert set(np.unique(distractors)) == {0, 1, 2, 3}
    # The answer cannot be read off the distractors: they match it at chance rate.
    agreement = (distractors == y[:, None]).mean()
    assert abs(agreement - 0.25) < 0.01


def test_seeded():
    a, b, c = (longrange.delayed_recall(16, 5, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("gap, symbols, words", [(-1, 4, "gap"), (3, 1, "num_symbols")])
def test_bad_settings(gap, symbols, words):
    with pytest.raises(SeqcoreError, match=words):
        longrange.delayed_recall(4, gap, num_symbols=symbols)


def test_gradient_reaches_only_the_last_step_without_recurrence():
    x, y = longrange.delayed_recall(8, 6, num_symbols=3)
    model = longrange.build_model("rnn", 4, num_features=5, num_symbols=3)
    layer = model.backbone.get_layer("rnn_0")
    kernel, recurrent, bias = layer.get_weights()
    layer.set_weights([kernel, np.zeros_like(recurrent), bias])
    norms = longrange.input_gradient_norms(model, x, y)
    assert norms.shape == (8,)
    np.testing.assert_array_equal(norms[:-1], 0)
    assert norms[-1] > 0


def test_gradient_flows_back_through_the_recurrence():
    x, y = longrange.delayed_recall(8, 6, num_symbols=3)
    model = longrange.build_model("lstm", 4, num_features=5, num_symbols=3)
    norms = longrange.input_gradient_norms(model, x, y)
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)


def test_run_one_is_reproducible_with_its_seed():
    settings = dict(train_examples=64, test_examples=32, units=4, epochs=2, num_symbols=3)
    first = longrange.run_one("gru", 4, seed=5, **settings)
    second = longrange.run_one("gru", 4, seed=5, **settings)
    assert first["accuracy"] == second["accuracy"]
    np.testing.assert_allclose(first["gradient_norms"]["trained"], second["gradient_norms"]["trained"])
    assert len(first["gradient_norms"]["init"]) == 6
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
