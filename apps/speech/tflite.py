"""Speech as TensorFlow Lite: raw audio in, class probabilities out, the features inside the model.

`model.tflite` takes `audio` float32 [batch, clip_samples], the waveform in
[-1, 1] at the model's sample rate, already centred to the clip length (the
SavedModel centres and pads any length; on a device the clip is the
recorder's window), and returns `probabilities` float32 [batch, classes].
The feature frontend (framing, window, FFT, mel filter bank, log, MFCCs,
normalization) runs inside the model as builtins, as do the convolutions and
the recurrent layers. `labels.txt` beside it lists the class names in output
order. The streaming form (one hop per call) is built by the speech app's
streaming model on the same converter (`seqcore.tflite`).
"""

import numpy as np
import tensorflow as tf

from apps.speech.model import sample_audio


def tflite_function(model):
    """`(fn, input_signature)` of the TFLite model: clip-length audio in, `probabilities` out."""
    clip = int(model.preprocessor.clip_samples)

    def run(audio):
        return {"probabilities": tf.cast(model(model.preprocessor(audio), training=False), tf.float32)}

    return run, [tf.TensorSpec([None, clip], tf.float32, name="audio")]


def tflite_models(model, audio=None):
    """`seqcore.tflite.write_models` arguments: the model on `audio` (default: the export's test chirps)."""
    pre = model.preprocessor
    fn, signature = tflite_function(model)
    audio = sample_audio(pre.sample_rate, pre.clip_samples) if audio is None else np.asarray(audio, "float32")
    expected = {"probabilities": np.asarray(model.predict(audio, verbose=0))}
    files = {"labels.txt": "".join(f"{name}\n" for name in model.class_names)}
    return {"model": (fn, signature, {"audio": audio}, expected)}, files
