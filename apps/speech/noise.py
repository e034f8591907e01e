"""Generated background noise: the `_silence_` class's clips and the noise that training mixes in."""

import numpy as np


def generated_noise(count, samples, rng, max_gain=0.1):
    """`count` clips of white, pink-ish or brown noise (and some digital silence) at random gains.

    Example:

    >>> generated_noise(3, 800, np.random.default_rng(0)).shape
    (3, 800)
    """
    noise = np.zeros((count, samples), dtype=np.float32)
    for row in range(count):
        kind = rng.integers(4)
        if kind == 0:
            continue  # digital silence
        white = rng.normal(size=samples)
        if kind == 2:
            white = np.cumsum(white)
            white -= np.linspace(white[0], white[-1], samples)
        elif kind == 3:
            white = np.convolve(white, np.ones(8) / 8, mode="same")
        white /= max(np.abs(white).max(), 1e-9)
        noise[row] = white * max_gain * 10 ** rng.uniform(-2.5, 0)
    return noise
