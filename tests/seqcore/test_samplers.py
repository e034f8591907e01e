"""Samplers: registry lookups, filtering, greedy limits and seeded reproducibility."""

import numpy as np
import pytest
import tensorflow as tf

from seqcore import samplers
from seqcore.errors import SeqcoreError

LOGITS = tf.constant([[1.0, 3.0, 2.0, 0.5], [0.0, -1.0, 4.0, 3.9]])


@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("greedy", samplers.GreedySampler),
        ("top_p", samplers.TopPSampler),
        ({"class_name": "top_k", "config": {"k": 3, "temperature": 0.5}}, samplers.TopKSampler),
        (samplers.TemperatureSampler(0.7), samplers.TemperatureSampler),
    ],
)
def test_get_accepts_a_name_a_config_or_an_object(identifier, cls):
    sampler = samplers.get(identifier)
    assert isinstance(sampler, cls)
    again = samplers.get(samplers.serialize(sampler))
    assert type(again) is cls and again.get_config() == sampler.get_config()


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(SeqcoreError, match="unknown sampler 'beam'; expected one of: greedy, temperature, top_k, top_p"):
        samplers.get("beam")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": -1.0}, "temperature must be a number >= 0"),
        ({"temperature": float("nan")}, "temperature must be a number >= 0"),
        ({"top_p": 0.0}, r"top_p must be in \(0, 1\]"),
        ({"top_p": 1.5}, r"top_p must be in \(0, 1\]"),
        ({"top_k": -2}, "top_k must be >= 0"),
    ],
)
def test_settings_out_of_range_are_refused(kwargs, message):
    with pytest.raises(SeqcoreError, match=message):
        samplers.TopPSampler(**kwargs)


@pytest.mark.parametrize(
    "sampler",
    [
        samplers.GreedySampler(),
        samplers.TopPSampler(temperature=0.0),
        samplers.TopKSampler(k=1),
        samplers.TopPSampler(top_p=1e-6),
    ],
)
def test_greedy_limits_pick_the_most_likely_token(sampler):
    for seed in range(5):
        assert sampler(LOGITS, seed=(seed, 0)).numpy().tolist() == [1, 2]


def test_top_k_and_top_p_never_pick_excluded_tokens():
    top_k = samplers.TopKSampler(k=2, temperature=5.0)
    top_p = samplers.TopPSampler(temperature=1.0, top_p=0.6)
    for seed in range(30):
        assert top_k(LOGITS, seed=(seed, 1)).numpy()[0] in (1, 2)
        assert top_p(LOGITS, seed=(seed, 1)).numpy()[1] in (2, 3)
    # Nearly flat logits: probabilities 0.289, 0.261, 0.236, 0.214, so top_p=0.5 keeps tokens 0 and 1
    # and excludes 45 % of the mass; a filter that did nothing would pick 2 or 3 in about 900 of
    # 2,000 draws.
    flat = tf.tile(tf.constant([[2.0, 1.9, 1.8, 1.7]]), [2000, 1])
    drawn = samplers.TopPSampler(temperature=1.0, top_p=0.5)(flat, seed=(3, 1)).numpy()
    assert set(drawn.tolist()) == {0, 1}


def test_a_seed_makes_draws_reproducible_and_follow_the_distribution():
    sampler = samplers.TemperatureSampler(1.0)
    rows = tf.tile(LOGITS[:1], [2000, 1])  # 2,000 independent draws from one distribution
    first = sampler(rows, seed=(7, 0)).numpy()
    np.testing.assert_array_equal(first, sampler(rows, seed=(7, 0)).numpy())
    assert not np.array_equal(first, sampler(rows, seed=(8, 0)).numpy())
    expected = tf.nn.softmax(LOGITS[0]).numpy()
    observed = np.bincount(first, minlength=4) / len(first)
    np.testing.assert_allclose(observed, expected, atol=0.04)


def test_filters_work_with_tensor_settings_inside_a_function():
    @tf.function
    def sample(temperature, k, p):
        return samplers.TopPSampler(temperature, k, p)(LOGITS, seed=tf.constant([1, 2], tf.int64))

    assert sample(tf.constant(0.0), tf.constant(0), tf.constant(1.0)).numpy().tolist() == [1, 2]
    assert sample(tf.constant(1.0), tf.constant(1), tf.constant(1.0)).numpy().tolist() == [1, 2]


def test_repetition_penalty_lowers_seen_tokens_only():
    seen = tf.constant([[False, True, False, False], [False, False, True, False]])
    penalized = samplers.apply_repetition_penalty(LOGITS, seen, 2.0).numpy()
    assert penalized[0].tolist() == [1.0, 1.5, 2.0, 0.5]
    assert penalized[1].tolist() == pytest.approx([0.0, -1.0, 2.0, 3.9])
    np.testing.assert_array_equal(samplers.apply_repetition_penalty(LOGITS, seen, 1.0), LOGITS)
