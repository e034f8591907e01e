"""Training augmentation: speed, shift and noise keep a clip's length and label, and speed keeps it centred."""

import numpy as np
import tensorflow as tf

from apps.speech.augment import augmenter, change_speed

RATE = 8000


def word(start=0.3, stop=0.7):
    """A 1 s clip: silence, then a 300 Hz tone from `start` to `stop` s, then silence."""
    t = np.arange(RATE) / RATE
    return (np.sin(2 * np.pi * 300 * t) * ((t >= start) & (t < stop))).astype(np.float32)


def loud_span(audio, threshold=0.5):
    """First and last time (s) louder than `threshold`."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    return loud[0] / RATE, loud[-1] / RATE


def test_augmenter_keeps_the_clip_length_and_label():
    augment = augmenter(RATE, RATE, seed=3)
    for _ in range(5):
        audio, label = augment(tf.constant(word()), 7)
        assert audio.shape == (RATE,) and int(label) == 7
        assert np.abs(audio.numpy()).max() <= 1.0  # noise mixing is clipped to [-1, 1]


def test_augmenter_draws_a_new_shift_for_each_clip():
    augment = augmenter(RATE, RATE, shift_ms=100, noise_probability=0, speed=0, seed=1)
    starts = [loud_span(augment(tf.constant(word()), 0)[0].numpy())[0] for _ in range(10)]
    assert all(0.2 - 0.002 <= start <= 0.4 + 0.002 for start in starts)  # within 100 ms of 0.3 s
    assert len({round(start, 3) for start in starts}) > 5


def test_change_speed_shortens_the_word_around_the_clip_centre():
    faster = change_speed(tf.constant(word()), 1.25).numpy()
    start, stop = loud_span(faster)
    assert abs((stop - start) - 0.4 / 1.25) < 0.005
    assert abs((start + stop) / 2 - 0.5) < 0.005
