"""The speech app as the suite sees it (TensorFlow-free; found through the `seqcore.apps` entry point)."""

from seqcore.apps import TEST_ACCURACY, App


def sample_batch(model, config, size):
    """Raw waveforms of the model's clip length, as served."""
    from apps.speech.model import sample_audio

    pre = model.preprocessor
    return sample_audio(pre.sample_rate, pre.clip_samples, count=size), True


APP = App.in_package(__package__, "speech", **TEST_ACCURACY)
