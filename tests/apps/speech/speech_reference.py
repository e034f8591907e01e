"""A NumPy reference of `seqcore.audio.AudioFeatures`, written from the definitions."""

import numpy as np

from seqcore.audio import fit_length


def reference_features(waveform, layer):
    """log-mel / MFCC in float64 NumPy, written from the definitions (hann STFT, DCT-II)."""
    x = np.asarray(fit_length(waveform, layer.clip_samples), np.float64)
    size, step = layer.frame_length, layer.frame_step
    count = 1 + (len(x) - size) // step
    frames = np.stack([x[i * step : i * step + size] for i in range(count)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)  # periodic Hann
    spectrum = np.abs(np.fft.rfft(frames * window, layer.fft_length))
    log_mel = np.log(spectrum @ layer.mel_matrix.astype(np.float64) + layer.log_offset)
    if layer.mean_normalize:
        real = np.any(frames != 0, axis=1)[:, None]
        log_mel = (log_mel - log_mel[real[:, 0]].mean(axis=0)) * real
    if layer.kind == "log-mel":
        return log_mel
    bins = log_mel.shape[-1]
    k, n = np.arange(bins)[:, None], np.arange(bins)[None, :]
    dct = 2 * np.cos(np.pi * k * (2 * n + 1) / (2 * bins))
    return (log_mel @ dct.T / np.sqrt(2 * bins))[:, : layer.num_mfccs]
