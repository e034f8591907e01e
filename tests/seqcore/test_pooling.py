import numpy as np
import pytest

from seqcore.pooling import SequencePooling

X = np.arange(24, dtype="float32").reshape(2, 3, 4) - 10.0
MASK = np.array([[True, True, False], [True, True, True]])


def test_mean_ignores_padded_steps():
    np.testing.assert_allclose(SequencePooling("mean")(X, mask=MASK)[0], X[0, :2].mean(axis=0))


def test_max_ignores_padded_steps():
    x = X.copy()
    x[0, 2] = 1000.0  # a large value at a padded step must not win
    np.testing.assert_allclose(SequencePooling("max")(x, mask=MASK)[0], X[0, :2].max(axis=0))


def test_last_reads_last_real_step():
    np.testing.assert_allclose(SequencePooling("last")(X, mask=MASK), [X[0, 1], X[1, 2]])


def test_last_with_backward_units_reads_step_zero_for_the_backward_half():
    pooled = SequencePooling("last", backward_units=2)(X, mask=MASK)
    np.testing.assert_allclose(pooled[0], np.concatenate([X[0, 1, :2], X[0, 0, 2:]]))


def test_attention_weights_sum_to_one_over_real_steps():
    layer = SequencePooling("attention")
    pooled = layer(X, mask=MASK).numpy()
    # The pooled vector is a convex combination of the real steps only.
    assert np.all(pooled[0] >= X[0, :2].min(axis=0) - 1e-4)
    assert np.all(pooled[0] <= X[0, :2].max(axis=0) + 1e-4)
    assert sorted(w.name for w in layer.trainable_weights) == ["bias", "kernel", "query"]


def test_no_mask_means_every_step_counts():
    np.testing.assert_allclose(SequencePooling("mean")(X), X.mean(axis=1))


@pytest.mark.parametrize("backward_units", [0, 2])
def test_last_without_a_mask_reads_the_last_step(backward_units):
    pooled = SequencePooling("last", backward_units=backward_units)(X)
    everywhere = SequencePooling("last", backward_units=backward_units)(X, mask=np.ones((2, 3), bool))
    np.testing.assert_array_equal(pooled, everywhere)
    np.testing.assert_array_equal(pooled[:, : 4 - backward_units], X[:, -1, : 4 - backward_units])


def test_unknown_mode_lists_valid_ones():
    with pytest.raises(ValueError, match="expected one of last, mean, max, attention; received: 'sum'"):
        SequencePooling("sum")


def test_config_round_trip():
    layer = SequencePooling("last", backward_units=3)
    assert SequencePooling.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("mode", ["last", "mean", "max", "attention"])
def test_a_row_with_no_real_step_pools_to_zeros(mode):
    x = np.full((2, 3, 4), 5.0, "float32")
    mask = np.array([[False, False, False], [True, False, False]])
    pooled = SequencePooling(mode)(x, mask=mask).numpy()
    np.testing.assert_array_equal(pooled[0], 0.0)
    np.testing.assert_allclose(pooled[1], 5.0, atol=1e-5)


@pytest.mark.parametrize("mode", ["max", "attention"])
def test_float16_masking_stays_finite(mode):
    layer = SequencePooling(mode, dtype="mixed_float16")
    pooled = layer(X.astype("float16"), mask=MASK).numpy()
    assert np.all(np.isfinite(pooled))
