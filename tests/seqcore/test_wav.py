"""seqcore.wav: the WAV files the speech app and its synthesizer write."""

import wave

import numpy as np

from seqcore.wav import write_wav


def test_writes_mono_16_bit_pcm_and_clips_out_of_range_values(tmp_path):
    path = tmp_path / "clip.wav"
    write_wav(path, [0.0, 0.5, -0.5, 1.5, -2.0], 16000)
    with wave.open(str(path)) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 16000)
        samples = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    np.testing.assert_array_equal(samples, [0, 16384, -16384, 32767, -32767])
