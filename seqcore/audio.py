"""Audio features as Keras layers (`tf.signal`), and the NumPy helpers around them.

`AudioFeatures` turns raw waveforms into log-mel or MFCC frames inside the
model, so an exported model takes raw audio. `SpecAugment` masks random time
and frequency bands of those frames while training. `fit_length` and
`resample` prepare waveforms in NumPy the same way the model would.

Example:

>>> import numpy as np
>>> features = AudioFeatures(sample_rate=8000, clip_samples=8000)
>>> features(np.zeros((2, 6000), "float32")).shape
TensorShape([2, 98, 20])
"""

import functools
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

FEATURE_KINDS = ("mfcc", "log-mel")


def fit_length(waveform, length):
    """Centres `waveform` (..., samples) in `length` samples: crops or zero-pads both ends.

    The same rule as `AudioFeatures`, so padding in NumPy first changes nothing.

    Example:

    >>> fit_length(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [2.0, 3.0]
    >>> fit_length(np.array([1.0, 2.0]), 5).tolist()
    [0.0, 1.0, 2.0, 0.0, 0.0]
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    samples = waveform.shape[-1]
    start = max(samples - length, 0) // 2
    waveform = waveform[..., start : start + length]
    missing = length - waveform.shape[-1]
    left = missing // 2
    widths = [(0, 0)] * (waveform.ndim - 1) + [(left, missing - left)]
    return np.pad(waveform, widths)


def resample(waveform, from_rate, to_rate, half_width=32, beta=8.6):
    """Band-limited resampling of a 1-D waveform (polyphase Kaiser-windowed sinc).

    Every output sample is a windowed-sinc interpolation of the input at its
    exact time, with the cut-off at the lower of the two Nyquist frequencies,
    so any pair of integer rates works (22,050 -> 16,000 included) without
    aliasing. The filter of each of the ratio's phases is computed once.

    Args:
        waveform: 1-D float array.
        from_rate: its sample rate in Hz.
        to_rate: the wanted sample rate in Hz.
        half_width: zero crossings of the sinc on each side.
        beta: Kaiser window shape.

    Returns:
        A float32 array of `round(len(waveform) * to_rate / from_rate)` samples.

    Example:

    >>> resample(np.ones(8000, "float32"), 8000, 16000).shape
    (16000,)
    """
    waveform = np.asarray(waveform, dtype=np.float64)
    from_rate, to_rate = int(from_rate), int(to_rate)
    if from_rate == to_rate:
        return waveform.astype(np.float32)
    divisor = math.gcd(from_rate, to_rate)
    up, down = to_rate // divisor, from_rate // divisor
    out_length = int(round(len(waveform) * to_rate / from_rate))
    kernels, taps = _polyphase_kernels(up, down, half_width, beta)
    padded = np.pad(waveform, (taps, taps + 1))
    output = np.empty(out_length, dtype=np.float64)
    offsets = np.arange(-taps + 1, taps + 1)
    for start in range(0, out_length, 16384):
        steps = np.arange(start, min(start + 16384, out_length), dtype=np.int64) * down
        base, phase = steps // up, steps % up
        index = base[:, None] + offsets[None, :] + taps
        output[start : start + len(steps)] = np.sum(padded[index] * kernels[phase], axis=1)
    return output.astype(np.float32)


@functools.lru_cache(maxsize=16)
def _polyphase_kernels(up, down, half_width, beta):
    """(up, 2 * taps) interpolation kernels, one per output phase, and `taps`."""
    cutoff = min(1.0, up / down)  # in units of the input Nyquist frequency
    taps = int(math.ceil(half_width / cutoff))
    offsets = np.arange(-taps + 1, taps + 1)
    distance = (np.arange(up) / up)[:, None] - offsets[None, :]
    position = np.clip(distance / taps, -1.0, 1.0)
    window = np.i0(beta * np.sqrt(1.0 - position**2)) / np.i0(beta)
    return cutoff * np.sinc(cutoff * distance) * window, taps


@keras.saving.register_keras_serializable(package="seqcore")
class AudioFeatures(keras.layers.Layer):
    """Raw waveforms -> log-mel or MFCC frames, computed with `tf.signal`.

    Clips are first centred in `clip_samples` samples (cropped or zero-padded
    at both ends), so every output has the same number of frames.

    Args:
        sample_rate: the waveform's sample rate in Hz.
        clip_samples: fixed clip length in samples.
        kind: `"mfcc"` or `"log-mel"`.
        frame_ms: STFT window length in milliseconds.
        hop_ms: STFT hop in milliseconds.
        num_mel_bins: mel filters.
        num_mfccs: cepstral coefficients kept (MFCC only).
        lower_hz: lowest mel filter edge.
        upper_hz: highest mel filter edge; defaults to the Nyquist frequency.
        log_offset: added to mel energies before the logarithm.
        mean_normalize: subtract each clip's mean log-mel spectrum (cepstral
            mean normalization), taken over the frames that are not all
            padding; all-padding frames become zeros. Removes the
            recording channel's colouring.

    Call arguments:
        inputs: float32 tensor `(batch, samples)`, values in [-1, 1].

    Returns:
        float32 tensor `(batch, num_frames, num_features)`.

    Example:

    >>> AudioFeatures(16000, 16000, kind="log-mel", num_mel_bins=40).num_features
    40
    """

    def __init__(
        self,
        sample_rate=16000,
        clip_samples=16000,
        kind="mfcc",
        frame_ms=30.0,
        hop_ms=10.0,
        num_mel_bins=40,
        num_mfccs=20,
        lower_hz=20.0,
        upper_hz=None,
        log_offset=1e-6,
        mean_normalize=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if kind not in FEATURE_KINDS:
            raise ValueError(
                f"Unknown feature kind; expected one of {', '.join(FEATURE_KINDS)}; "
                f"received: {kind!r}"
            )
        self.sample_rate = int(sample_rate)
        self.clip_samples = int(clip_samples)
        self.kind = kind
        self.frame_ms = float(frame_ms)
        self.hop_ms = float(hop_ms)
        self.num_mel_bins = int(num_mel_bins)
        self.num_mfccs = int(num_mfccs)
        self.lower_hz = float(lower_hz)
        self.upper_hz = None if upper_hz is None else float(upper_hz)
        self.log_offset = float(log_offset)
        self.mean_normalize = bool(mean_normalize)
        self.frame_length = int(round(self.sample_rate * self.frame_ms / 1000))
        self.frame_step = int(round(self.sample_rate * self.hop_ms / 1000))
        self.fft_length = 2 ** int(math.ceil(math.log2(self.frame_length)))
        nyquist = self.sample_rate / 2
        high = nyquist if self.upper_hz is None else self.upper_hz
        if not 0 <= self.lower_hz < high <= nyquist:
            raise ValueError(
                f"mel edges must satisfy 0 <= lower_hz < upper_hz <= {nyquist:g} "
                f"(half the sample rate); received: lower_hz={lower_hz}, upper_hz={upper_hz}"
            )
        if self.clip_samples < self.frame_length:
            raise ValueError(
                f"`clip_samples` must hold at least one frame ({self.frame_length} "
                f"samples); received: {clip_samples}"
            )
        if kind == "mfcc" and not 1 <= self.num_mfccs <= self.num_mel_bins:
            raise ValueError(
                f"`num_mfccs` must be between 1 and num_mel_bins ({self.num_mel_bins}); "
                f"received: {num_mfccs}"
            )
        self.mel_matrix = tf.signal.linear_to_mel_weight_matrix(
            self.num_mel_bins, self.fft_length // 2 + 1, self.sample_rate, self.lower_hz, high
        ).numpy()
        # The MFCCs' DCT-II as one matmul: `tf.signal.mfccs_from_log_mel_spectrograms`'
        # values (orthonormal scaling), and TensorFlow Lite builtins, which its FFT-based DCT is not.
        bins = np.arange(self.num_mel_bins)
        self.dct_matrix = (
            2.0 * np.cos(np.pi * bins[None, : self.num_mfccs] * (2 * bins[:, None] + 1) / (2 * self.num_mel_bins))
            / np.sqrt(2.0 * self.num_mel_bins)
        ).astype("float32")

    @property
    def num_frames(self):
        return 1 + (self.clip_samples - self.frame_length) // self.frame_step

    @property
    def num_features(self):
        return self.num_mfccs if self.kind == "mfcc" else self.num_mel_bins

    def fit_length(self, waveforms):
        """Centres `(batch, samples)` waveforms in `clip_samples` samples (in-graph `fit_length`)."""
        waveforms = tf.convert_to_tensor(waveforms, tf.float32)
        samples = tf.shape(waveforms)[1]
        start = tf.maximum(samples - self.clip_samples, 0) // 2
        waveforms = waveforms[:, start : start + self.clip_samples]
        missing = self.clip_samples - tf.shape(waveforms)[1]
        left = missing // 2
        waveforms = tf.pad(waveforms, [[0, 0], [left, missing - left]])
        return tf.ensure_shape(waveforms, [None, self.clip_samples])

    def call(self, inputs):
        waveforms = self.fit_length(tf.cast(inputs, tf.float32))
        spectrum = tf.abs(
            tf.signal.stft(
                waveforms,
                frame_length=self.frame_length,
                frame_step=self.frame_step,
                fft_length=self.fft_length,
            )
        )
        mel = tf.tensordot(spectrum, tf.constant(self.mel_matrix), 1)
        log_mel = tf.math.log(mel + self.log_offset)
        if self.mean_normalize:
            framed = tf.signal.frame(waveforms, self.frame_length, self.frame_step)
            real = tf.expand_dims(tf.cast(tf.reduce_any(framed != 0, axis=-1), log_mel.dtype), -1)
            mean = tf.reduce_sum(log_mel * real, axis=1, keepdims=True) / tf.maximum(
                tf.reduce_sum(real, axis=1, keepdims=True), 1.0
            )
            log_mel = (log_mel - mean) * real
        if self.kind == "log-mel":
            return log_mel
        return tf.tensordot(log_mel, tf.constant(self.dct_matrix), 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_frames, self.num_features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "clip_samples": self.clip_samples,
                "kind": self.kind,
                "frame_ms": self.frame_ms,
                "hop_ms": self.hop_ms,
                "num_mel_bins": self.num_mel_bins,
                "num_mfccs": self.num_mfccs,
                "lower_hz": self.lower_hz,
                "upper_hz": self.upper_hz,
                "log_offset": self.log_offset,
                "mean_normalize": self.mean_normalize,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="seqcore")
class SpecAugment(keras.layers.Layer):
    """SpecAugment-style masking: zeroes random time and frequency bands while training.

    Args:
        time_masks: bands of frames masked per example.
        time_mask_max: widest time band, in frames.
        freq_masks: bands of features masked per example.
        freq_mask_max: widest feature band.
        freq_warp: vocal-tract-length perturbation: each example's feature
            axis (log-mel bins) is stretched by a random factor in
            [1 - `freq_warp`, 1 + `freq_warp`] (linear interpolation, edges
            held), which moves formants like a longer or shorter vocal
            tract. 0 (the default) is off; meant for log-mel features.
        time_stretch: each example's frames are stretched around the clip
            centre by a random factor in [1 - `time_stretch`,
            1 + `time_stretch`]: slower or faster speech at the same pitch
            (speakers differ in tempo). 0 (the default) is off.
        seed: seed of the masks.

    Call arguments:
        inputs: float tensor `(batch, frames, features)`.
        training: masks only when True; otherwise the identity.

    Returns:
        A tensor of the input's shape.

    Example:

    >>> x = np.ones((1, 10, 4), "float32")
    >>> SpecAugment(time_masks=1, time_mask_max=3)(x, training=False).shape
    TensorShape([1, 10, 4])
    """

    def __init__(self, time_masks=2, time_mask_max=10, freq_masks=2, freq_mask_max=4, seed=None,
                 freq_warp=0.0, time_stretch=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("freq_warp", freq_warp), ("time_stretch", time_stretch)):
            if not 0.0 <= float(value) < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1); received: {value}")
        self.freq_warp = float(freq_warp)
        self.time_stretch = float(time_stretch)
        self.time_masks = int(time_masks)
        self.time_mask_max = int(time_mask_max)
        self.freq_masks = int(freq_masks)
        self.freq_mask_max = int(freq_mask_max)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _band_mask(self, batch, size, count, widest):
        """(batch, size) floats: 0 inside `count` random bands of width < `widest`, else 1."""
        keep = ops.ones((batch, size))
        positions = ops.expand_dims(ops.cast(ops.arange(size), "float32"), 0)
        size = ops.cast(size, "float32")
        for _ in range(count):
            width = ops.floor(
                keras.random.uniform((batch, 1), 0, widest + 1, seed=self.seed_generator)
            )
            start = ops.floor(
                keras.random.uniform((batch, 1), 0, 1, seed=self.seed_generator)
                * ops.maximum(size - width, 1.0)
            )
            inside = ops.logical_and(positions >= start, positions < start + width)
            keep = keep * (1.0 - ops.cast(inside, "float32"))
        return keep

    def _stretch(self, inputs, axis, amount, centre):
        """Stretches each example along `axis` (1: frames, 2: features) by its own random factor.

        Output position `p` reads the input at `c + (p - c) / factor` (linear
        interpolation, clamped to the edges), where `c` is the axis centre when
        `centre`, else 0; a factor above 1 stretches, below 1 squeezes.
        """
        shape = ops.shape(inputs)
        batch, size = shape[0], shape[axis]
        factor = keras.random.uniform((batch, 1), 1.0 - amount, 1.0 + amount, seed=self.seed_generator)
        top = ops.cast(size - 1, "float32")
        middle = top / 2.0 if centre else 0.0
        positions = ops.expand_dims(ops.cast(ops.arange(size), "float32"), 0)
        source = ops.clip(middle + (positions - middle) / factor, 0.0, top)
        low = ops.floor(source)
        fraction = ops.cast(ops.expand_dims(source - low, 3 - axis), inputs.dtype)
        low = ops.cast(low, "int32")
        high = ops.minimum(low + 1, size - 1)
        take = lambda index: ops.take_along_axis(
            inputs, ops.broadcast_to(ops.expand_dims(index, 3 - axis), shape), axis=axis
        )
        return take(low) * (1.0 - fraction) + take(high) * fraction

    def call(self, inputs, training=False):
        if not training or (self.time_masks == 0 and self.freq_masks == 0 and not self.freq_warp
                            and not self.time_stretch):
            return inputs
        if self.time_stretch:
            inputs = self._stretch(inputs, 1, self.time_stretch, centre=True)
        if self.freq_warp:
            inputs = self._stretch(inputs, 2, self.freq_warp, centre=False)
        shape = ops.shape(inputs)
        batch, frames, features = shape[0], shape[1], shape[2]
        time_keep = self._band_mask(batch, frames, self.time_masks, self.time_mask_max)
        freq_keep = self._band_mask(batch, features, self.freq_masks, self.freq_mask_max)
        keep = ops.expand_dims(time_keep, 2) * ops.expand_dims(freq_keep, 1)
        return inputs * ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "time_masks": self.time_masks,
                "time_mask_max": self.time_mask_max,
                "freq_masks": self.freq_masks,
                "freq_mask_max": self.freq_mask_max,
                "seed": self.seed,
                "freq_warp": self.freq_warp,
                "time_stretch": self.time_stretch,
            }
        )
        return config
