"""Raw waveforms -> normalized MFCC (or log-mel) frames: the speech model's preprocessor."""

import keras
import numpy as np
import tensorflow as tf

from seqcore.audio import AudioFeatures

#: Settings the preprocessor hands to its `AudioFeatures` as they are (and saves in its config).
EXTRACTOR_SETTINGS = ("frame_ms", "hop_ms", "num_mel_bins", "num_mfccs", "lower_hz", "upper_hz", "log_offset",
                      "mean_normalize")


@keras.saving.register_keras_serializable(package="seqcore")
class SpeechPreprocessor(keras.layers.Layer):
    """Centres each clip in a fixed length, computes features, standardizes them.

    The feature settings are constructor arguments, so they are saved with
    the model; the per-feature mean and standard deviation are weights
    learned by `adapt` on the training split only.

    Args:
        sample_rate: the model's sample rate in Hz; served audio must use it.
        clip_seconds: fixed clip length; clips are cropped or zero-padded
            at both ends to it.
        features: `"mfcc"` or `"log-mel"`.
        frame_ms, hop_ms, num_mel_bins, num_mfccs, lower_hz, upper_hz,
            log_offset: as in `seqcore.audio.AudioFeatures`. The default
            offset, 0.01, floors the log so that recorded room noise and
            digital silence (padding) look alike.
        peak_normalize: scale each clip (after centring) to a peak of 1,
            so the model does not depend on recording level.
        mean_normalize: per-clip cepstral mean normalization (see
            `AudioFeatures`), so it depends less on the microphone.

    Call arguments:
        inputs: float32 waveforms `(batch, samples)` in [-1, 1].

    Returns:
        float32 `(batch, frames, features)`.

    Example:

    >>> pre = SpeechPreprocessor(sample_rate=8000, clip_seconds=1.0)
    >>> pre.adapt(np.random.default_rng(0).normal(size=(4, 8000)).astype("float32"))
    >>> pre(np.zeros((1, 4000), "float32")).shape
    TensorShape([1, 98, 20])
    """

    def __init__(
        self,
        sample_rate=16000,
        clip_seconds=1.0,
        features="mfcc",
        frame_ms=30.0,
        hop_ms=10.0,
        num_mel_bins=40,
        num_mfccs=20,
        lower_hz=20.0,
        upper_hz=None,
        log_offset=0.01,
        peak_normalize=True,
        mean_normalize=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.clip_seconds = float(clip_seconds)
        self.features = features
        self.frame_ms = float(frame_ms)
        self.hop_ms = float(hop_ms)
        self.num_mel_bins = int(num_mel_bins)
        self.num_mfccs = int(num_mfccs)
        self.lower_hz = float(lower_hz)
        self.upper_hz = None if upper_hz is None else float(upper_hz)
        self.log_offset = float(log_offset)
        self.peak_normalize = bool(peak_normalize)
        self.mean_normalize = bool(mean_normalize)
        self.extractor = AudioFeatures(
            sample_rate=self.sample_rate,
            clip_samples=self.clip_samples,
            kind=features,
            name="features",
            **{name: getattr(self, name) for name in EXTRACTOR_SETTINGS},
        )

    @property
    def clip_samples(self):
        return int(round(self.sample_rate * self.clip_seconds))

    @property
    def num_frames(self):
        return self.extractor.num_frames

    @property
    def num_features(self):
        return self.extractor.num_features

    def build(self, input_shape=None):
        if self.built:
            return
        self.mean = self.add_weight(
            name="feature_mean", shape=(self.num_features,), initializer="zeros", trainable=False
        )
        self.std = self.add_weight(
            name="feature_std", shape=(self.num_features,), initializer="ones", trainable=False
        )
        self.built = True

    def raw_features(self, waveforms):
        """Features before standardization (of peak-normalized clips, when asked)."""
        waveforms = self.extractor.fit_length(waveforms)
        if self.peak_normalize:
            peak = tf.reduce_max(tf.abs(waveforms), axis=1, keepdims=True)
            waveforms = waveforms / tf.maximum(peak, 1e-3)
        return self.extractor(waveforms)

    def adapt(self, waveforms, batch_size=256):
        """Learns the per-feature mean and standard deviation from training waveforms."""
        self.build()
        total, squares, count = 0.0, 0.0, 0
        for start in range(0, len(waveforms), batch_size):
            frames = self.raw_features(np.asarray(waveforms[start : start + batch_size])).numpy()
            frames = frames.reshape(-1, frames.shape[-1]).astype(np.float64)
            total = total + frames.sum(axis=0)
            squares = squares + (frames**2).sum(axis=0)
            count += len(frames)
        mean = total / max(count, 1)
        std = np.sqrt(np.maximum(squares / max(count, 1) - mean**2, 0.0))
        self.mean.assign(mean.astype("float32"))
        self.std.assign(np.maximum(std, 1e-3).astype("float32"))

    def call(self, inputs):
        return (self.raw_features(tf.cast(inputs, tf.float32)) - self.mean) / self.std

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_frames, self.num_features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "clip_seconds": self.clip_seconds,
                "features": self.features,
                **{name: getattr(self, name) for name in EXTRACTOR_SETTINGS},
                "peak_normalize": self.peak_normalize,
            }
        )
        return config
