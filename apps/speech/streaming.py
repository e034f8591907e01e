"""The keyword model in streaming form: short hops of audio in, class probabilities out, state kept.

`StreamingKeywordSpotter` turns a trained, streamable keyword classifier into
a step function over hops of raw audio (20 ms by default). Each call takes
one hop and an explicit state, and returns the class probabilities at the
hop's last frame and the next state, so each hop costs one recurrent step
per feature frame instead of a re-run over a one-second window. The state
is:

* `audio_tail`: the last `frame_length - frame_step` samples, which the next
  hop's first feature frame overlaps (the STFT framing across hops);
* one tensor per recurrent layer (two for an LSTM), from
  `seqcore.streaming.RecurrentStepper`.

The features are the model's own (STFT magnitude, log-mel, MFCC,
standardization with the training statistics), framed by hand over the
carried tail and the hop, so the step converts to TensorFlow Lite builtins
(`RFFT2D`, `COMPLEX_ABS`; the mel filter bank and the DCT are matrices, the
DCT's computed from `tf.signal` itself). Streamed over a clip
from the state `initial_state(prefix=...)`, the last hop's probabilities
equal the non-streaming model's on that clip (tested).

A model streams when its backbone can (`seqcore.streaming.streaming_blockers`:
unidirectional, last-step pooling, no convolution front end) and its
features are causal: per-clip peak normalization and cepstral mean
normalization need the whole clip, so `train --streamable` turns them off.

Usage (a sketch; it needs a streamable run, so it is not run as a test)::

    spotter = StreamingKeywordSpotter(load_run_model("runs/digits-stream"))
    state = spotter.initial_state()
    probabilities, state = spotter.step(hop_of_160_samples[None], state)
"""

import numpy as np
import tensorflow as tf

from apps.speech.detection_settings import HOP_MS as DEFAULT_HOP_MS
from seqcore.errors import SeqcoreError
from seqcore.streaming import RecurrentStepper, streaming_blockers

#: What `train --streamable` changes in a run's configuration.
STREAMABLE_BACKBONE = {"bidirectional": False, "pooling": "last"}
STREAMABLE_FEATURES = {"peak_normalize": False, "mean_normalize": False}


def streamable_config(config):
    """A resolved speech configuration changed so that the trained model can stream.

    No convolution front end, a unidirectional stack pooled at its last step,
    and causal features (no per-clip peak or mean normalization).

    Example:

    >>> from apps.speech.commands import resolve_config
    >>> config = streamable_config(resolve_config(units=16))
    >>> config["front_end"], config["backbone"]["bidirectional"], config["features"]["peak_normalize"]
    ({'kind': 'none'}, False, False)
    """
    return {
        **config,
        "front_end": {"kind": "none"},
        "backbone": {**config["backbone"], **STREAMABLE_BACKBONE},
        "features": {**config["features"], **STREAMABLE_FEATURES},
    }


def refuse_unstreamable_options(front_end=None, bidirectional=None, pooling=None, **_):
    """Raises a one-line `SeqcoreError` when `train --streamable` is given options that cannot stream.

    Example:

    >>> refuse_unstreamable_options(front_end="conv")
    Traceback (most recent call last):
    ...
    seqcore.errors.SeqcoreError: --streamable trains without a convolution front end, bidirectional layers or pooling other than last; received --front-end conv
    """
    import click

    context = click.get_current_context(silent=True)

    def given(name):  # on the command line, not a default
        if context is None:
            return True
        source = context.get_parameter_source(name)
        return source is not None and source.name == "COMMANDLINE"

    clashes = []
    if front_end == "conv" and given("front_end"):
        clashes.append("--front-end conv")
    if bidirectional and given("bidirectional"):
        clashes.append("--bidirectional")
    if pooling not in (None, "last") and given("pooling"):
        clashes.append(f"--pooling {pooling}")
    if clashes:
        raise SeqcoreError("--streamable trains without a convolution front end, bidirectional layers "
                           f"or pooling other than last; received {', '.join(clashes)}")


def model_blockers(model):
    """Why a keyword classifier has no streaming form: a list of reasons, empty when it has one."""
    reasons = []
    pre = model.preprocessor
    if pre is None:
        return ["it has no audio preprocessor"]
    if pre.peak_normalize:
        reasons.append("its features peak-normalize each whole clip, which a stream never has")
    if pre.mean_normalize:
        reasons.append("its features subtract each whole clip's mean spectrum")
    return streaming_blockers(model.backbone) + reasons


def check_streamable(model, what="the model"):
    """Raises a one-line `SeqcoreError` naming why `model` cannot stream (retrain with --streamable)."""
    reasons = model_blockers(model)
    if reasons:
        raise SeqcoreError(f"{what} has no streaming form: {'; '.join(reasons)}; expected a model "
                           "trained with `seqcore speech train --streamable`")


def _feature_matrices(extractor):
    """The STFT window, and the mel and DCT matrices of `extractor` (DCT None for log-mel)."""
    window = tf.signal.hann_window(extractor.frame_length, periodic=True).numpy()
    mel = np.asarray(extractor.mel_matrix, dtype=np.float32)
    dct = None
    if extractor.kind == "mfcc":  # the DCT is linear: its matrix is its image of the identity
        eye = tf.eye(extractor.num_mel_bins, dtype=tf.float32)[None]
        dct = tf.signal.mfccs_from_log_mel_spectrograms(eye)[0, :, : extractor.num_mfccs].numpy()
    return window, mel, dct


class StreamingKeywordSpotter(tf.Module):
    """A streamable keyword classifier as a step over hops of audio with an explicit state.

    Args:
        model: a trained `SequenceClassifier` with its `SpeechPreprocessor`
            (see `model_blockers` for what can stream).
        hop_ms: audio per call; a whole number of the features' hops
            (10 ms by default, so 10, 20, 30 ... ms).

    Raises:
        SeqcoreError: the model cannot stream, or the hop is not a whole
            number of feature hops.
    """

    def __init__(self, model, hop_ms=DEFAULT_HOP_MS):
        super().__init__(name="streaming_keyword_spotter")
        check_streamable(model)
        pre = model.preprocessor
        extractor = pre.extractor
        self.class_names = list(model.class_names)
        self.sample_rate = pre.sample_rate
        self.frame_length, self.frame_step = extractor.frame_length, extractor.frame_step
        self.hop_samples = int(round(self.sample_rate * float(hop_ms) / 1000))
        if self.hop_samples < self.frame_step or self.hop_samples % self.frame_step:
            raise SeqcoreError(
                f"a streaming hop must be a whole number of the features' {pre.hop_ms:g} ms hops; "
                f"received {hop_ms:g} ms ({self.hop_samples} samples, frames step "
                f"{self.frame_step} samples)")
        self.hop_ms = 1000.0 * self.hop_samples / self.sample_rate
        self.frames_per_hop = self.hop_samples // self.frame_step
        self.tail_samples = self.frame_length - self.frame_step
        self.log_offset = pre.log_offset
        window, mel, dct = _feature_matrices(extractor)
        self.window, self.mel = tf.constant(window), tf.constant(mel)
        self.dct = None if dct is None else tf.constant(dct)
        self.fft_length = extractor.fft_length
        self.mean = tf.constant(pre.mean.numpy())
        self.std = tf.constant(pre.std.numpy())
        self.stepper = RecurrentStepper(model.backbone)
        self.head = model.get_layer("probabilities")
        self.model = model

    @property
    def state_names(self):
        """`audio_tail`, then the recurrent state tensors."""
        return ["audio_tail"] + self.stepper.state_names

    def state_shapes(self):
        """State name -> shape without the batch axis."""
        return {"audio_tail": (self.tail_samples,), **self.stepper.state_shapes()}

    def initial_state(self, batch_size=1, prefix=None):
        """The state before a stream: silence, or the last samples of `prefix` as the audio tail.

        Args:
            batch_size: streams processed side by side.
            prefix: optional `(batch, tail_samples)` audio heard just before
                the stream (the non-streaming model's first frame starts
                there; the default is silence).
        """
        state = self.stepper.initial_state(batch_size)
        tail = tf.zeros([batch_size, self.tail_samples]) if prefix is None else (
            tf.convert_to_tensor(np.asarray(prefix, np.float32)[:, -self.tail_samples:]))
        return {"audio_tail": tail, **state}

    def features(self, audio, tail):
        """Standardized feature frames of one hop `(batch, frames_per_hop, features)`, and the new tail."""
        buffer = tf.concat([tail, tf.cast(audio, tf.float32)], axis=1)
        frames = tf.stack([buffer[:, i * self.frame_step : i * self.frame_step + self.frame_length]
                           for i in range(self.frames_per_hop)], axis=1)
        magnitude = tf.abs(tf.signal.rfft(frames * self.window, [self.fft_length]))
        features = tf.math.log(tf.matmul(magnitude, self.mel) + self.log_offset)
        if self.dct is not None:
            features = tf.matmul(features, self.dct)
        features = (features - self.mean) / self.std
        return features, buffer[:, -self.tail_samples :]

    def step(self, audio, state):
        """One hop: `audio` `(batch, hop_samples)` and `state` -> `(probabilities, next state)`.

        The probabilities `(batch, classes)` are the model's at the hop's last
        feature frame: its reading of everything heard so far.
        """
        frames, tail = self.features(audio, state["audio_tail"])
        outputs, recurrent = self.stepper.step(
            frames, {name: state[name] for name in self.stepper.state_names})
        probabilities = self.head(outputs[:, -1])
        return probabilities, {"audio_tail": tail, **recurrent}

    def stream_function(self):
        """`stream` signature: `audio` and each state tensor in, `probabilities` and the next state out."""

        def stream(audio, **state):
            probabilities, following = self.step(audio, state)
            return {"probabilities": probabilities, **following}

        return stream

    def input_signature(self, batch_size=None):
        """`tf.TensorSpec`s of `stream`'s inputs: `audio` `(batch, hop_samples)`, then the state."""
        specs = {"audio": tf.TensorSpec([batch_size, self.hop_samples], tf.float32, name="audio")}
        for name, shape in self.state_shapes().items():
            specs[name] = tf.TensorSpec([batch_size, *shape], tf.float32, name=name)
        return specs

    def concrete_function(self, batch_size=1):
        """The `stream` step traced for a fixed batch (what TensorFlow Lite converts)."""
        stream = self.stream_function()
        return tf.function(lambda **kwargs: stream(**kwargs)).get_concrete_function(
            **self.input_signature(batch_size))

    def run(self, audio, state=None):
        """Streams a 1-D waveform hop by hop: `(probabilities per hop (hops, classes), final state)`.

        Trailing samples short of a whole hop are left out.
        """
        audio = np.asarray(audio, dtype=np.float32)
        state = state or self.initial_state(1)
        step = tf.function(self.step)
        rows = []
        for start in range(0, len(audio) - self.hop_samples + 1, self.hop_samples):
            probabilities, state = step(audio[None, start : start + self.hop_samples], state)
            rows.append(probabilities[0].numpy())
        return np.asarray(rows, np.float32).reshape(-1, len(self.class_names)), state


def _stream_check(spotter, batch_size, hops=30):
    """Sample inputs and expected outputs of one `stream` call, from a state that is not zero."""
    from apps.speech.model import sample_audio

    names = spotter.state_names
    audio = sample_audio(spotter.sample_rate, spotter.hop_samples * (hops + 1), count=batch_size)
    state = spotter.initial_state(batch_size)
    step = tf.function(spotter.step)
    for index in range(hops):
        _, state = step(audio[:, index * spotter.hop_samples : (index + 1) * spotter.hop_samples], state)
    last = audio[:, hops * spotter.hop_samples :]
    probabilities, following = step(last, state)
    sample_inputs = {"audio": last, **{name: state[name].numpy() for name in names}}
    expected = {"probabilities": probabilities.numpy(), **{n: following[n].numpy() for n in names}}
    return sample_inputs, expected


def _positional(spotter):
    """`stream` with positional arguments (`audio`, then the state in `state_names` order)."""
    names, stream = spotter.state_names, spotter.stream_function()

    def fn(audio, *state):
        return stream(audio, **dict(zip(names, state)))

    return fn


def stream_endpoint(model, hop_ms=DEFAULT_HOP_MS):
    """The export's `stream` signature and its check, or the reason the model has none.

    Returns:
        `(endpoint, metadata)`: `endpoint` is `(fn, input_signature,
        sample_inputs, expected_outputs)` for `seqcore.export.export_saved_model`
        (None when the model cannot stream) and `metadata` the constants the
        export's `metadata` signature adds: `stream_hop_samples` and the
        state names, or `streaming`, the reason it has no stream.
    """
    reasons = model_blockers(model)
    if reasons:
        return None, {"streaming": "no streaming form: " + "; ".join(reasons)}
    spotter = StreamingKeywordSpotter(model, hop_ms)
    specs = spotter.input_signature(None)
    sample_inputs, expected = _stream_check(spotter, 3)
    metadata = {"stream_hop_samples": spotter.hop_samples, "stream_state": spotter.state_names}
    return (_positional(spotter), list(specs.values()), sample_inputs, expected), metadata


def stream_tflite_model(spotter):
    """`seqcore.tflite.write_tflite` arguments of the stream step for one stream (batch 1).

    Returns:
        `(fn, input_signature, sample_inputs, expected_outputs)`.
    """
    sample_inputs, expected = _stream_check(spotter, 1)
    return _positional(spotter), list(spotter.input_signature(1).values()), sample_inputs, expected


def with_stream_tflite(model, models, files, hop_ms=DEFAULT_HOP_MS):
    """Adds `stream` (the streaming step, `stream.tflite`) to an export's TFLite models when the model streams."""
    if model_blockers(model):
        return models, files
    return {**models, "stream": stream_tflite_model(StreamingKeywordSpotter(model, hop_ms))}, files
