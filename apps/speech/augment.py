"""Waveform augmentation for training: speed perturbation, time shift and background noise.

Speed perturbation (as in Kaldi: a clip played 0.85-1.15x as fast, which
moves pitch and formants together) stands in for more speakers; shift and
noise mixing are the Speech Commands recipe.

SpecAugment (time and frequency masks on the features) lives in the model,
in `seqcore.crnn.ConvRecurrentBackbone` (`time_masks`, `freq_masks`), and is
active only while training.
"""

import numpy as np
import tensorflow as tf

from apps.speech.noise import generated_noise


def noise_bank(clip_samples, count=64, seed=0, background=None):
    """Background noise clips `(count, clip_samples)`: generated noise, plus crops of `background`.

    Args:
        background: optional list of long noise waveforms (e.g. Speech
            Commands' `_background_noise_` at the model's rate).
    """
    rng = np.random.default_rng(seed)
    bank = [generated_noise(count, clip_samples, rng, max_gain=1.0)]
    for waveform in background or []:
        if len(waveform) < clip_samples:
            continue
        starts = rng.integers(0, len(waveform) - clip_samples + 1, size=8)
        bank.append(np.stack([waveform[s : s + clip_samples] for s in starts]))
    bank = np.concatenate(bank).astype(np.float32)
    peaks = np.maximum(np.abs(bank).max(axis=1, keepdims=True), 1e-6)
    return bank / peaks  # peak 1; the mixing volume is drawn per example


def change_speed(audio, factor):
    """Plays a 1-D clip `factor` times as fast around its centre (linear interpolation)."""
    size = tf.shape(audio)[0]
    positions = tf.range(size, dtype=tf.float32)
    centre = tf.cast(size - 1, tf.float32) / 2
    positions = centre + (positions - centre) * factor
    low = tf.floor(positions)
    fraction = positions - low
    low = tf.cast(low, tf.int32)

    def take(index):
        inside = tf.cast((index >= 0) & (index < size), tf.float32)
        return tf.gather(audio, tf.clip_by_value(index, 0, size - 1)) * inside

    return take(low) * (1 - fraction) + take(low + 1) * fraction


def augmenter(clip_samples, sample_rate, shift_ms=100.0, noise_probability=0.8,
              noise_volume=0.1, speed=0.15, noise=None, seed=0):
    """A `tf.data` map function `(audio, label) -> (audio, label)` for single examples.

    Changes each clip's speed by a factor in [1 - `speed`, 1 + `speed`],
    shifts it by up to `shift_ms` either way (zero-filled) and, with
    `noise_probability`, mixes in a random noise clip at a volume drawn
    from [0, `noise_volume`].

    Example:

    >>> augment = augmenter(8000, 8000)
    >>> audio, label = augment(tf.zeros([8000]), 3)
    >>> audio.shape
    TensorShape([8000])
    """
    max_shift = int(sample_rate * shift_ms / 1000)
    bank = tf.constant(noise if noise is not None else noise_bank(clip_samples, seed=seed))
    generator = tf.random.Generator.from_seed(seed)

    def augment(audio, label):
        if speed:
            audio = change_speed(audio, generator.uniform([], 1.0 - speed, 1.0 + speed))
        if max_shift:
            shift = generator.uniform([], -max_shift, max_shift + 1, dtype=tf.int32)
            padded = tf.pad(audio, [[max_shift, max_shift]])
            audio = padded[max_shift - shift : max_shift - shift + clip_samples]
        if noise_probability > 0:
            pick = generator.uniform([], 0, tf.shape(bank)[0], dtype=tf.int32)
            volume = generator.uniform([], 0.0, noise_volume)
            use = tf.cast(generator.uniform([]) < noise_probability, tf.float32)
            audio = tf.clip_by_value(audio + use * volume * bank[pick], -1.0, 1.0)
        return tf.ensure_shape(audio, [clip_samples]), label

    return augment
