"""Keyword detection on a long or live audio stream: posterior smoothing, a threshold, suppression.

`KeywordDetector` is TensorFlow's `speech_commands` `RecognizeCommands`
recipe over the streaming model's per-hop class probabilities: average them
over a short window, report the top class when it is a keyword (not
`_silence_` or `_unknown_`), its average reaches a threshold, and no
detection was reported within the suppression time before it.

`detect` runs a streamable model (a run directory or an export with a
`stream` signature) over a WAV file, or over raw 16-bit little-endian mono
PCM at the model's rate read from standard input as it arrives (`-`), e.g.
`arecord -f S16_LE -r 8000 -c 1 -t raw | seqcore speech detect MODEL -`.

Example:

>>> detector = KeywordDetector(["_silence_", "yes"], average_ms=40, threshold=0.6,
...                            suppression_ms=500, minimum_count=2)
>>> [detector.update(t, [0.1, 0.9]) for t in (20, 40, 60)]
[None, Detection(time_ms=40, label='yes', score=0.9), None]
"""

import dataclasses
import sys
from collections import deque
from pathlib import Path

import numpy as np

from seqcore.errors import SeqcoreError

from apps.speech.detection_settings import (  # noqa: F401  (re-exported)
    AVERAGE_MS, BACKGROUND, MINIMUM_COUNT, SUPPRESSION_MS, THRESHOLD)


@dataclasses.dataclass(frozen=True)
class Detection:
    """A keyword heard: the stream time (ms) of the hop that confirmed it, its label and averaged score."""

    time_ms: float
    label: str
    score: float


class KeywordDetector:
    """Smooths per-hop class probabilities and reports keywords once each (`RecognizeCommands`).

    Args:
        class_names: the model's classes.
        average_ms: window of the moving average of the probabilities.
        threshold: the averaged probability a keyword must reach.
        suppression_ms: after a detection, no other for this long.
        minimum_count: hops the window must hold before anything is reported.
        background: classes that are never reported.
    """

    def __init__(self, class_names, average_ms=AVERAGE_MS, threshold=THRESHOLD,
                 suppression_ms=SUPPRESSION_MS, minimum_count=MINIMUM_COUNT, background=BACKGROUND):
        if not 0.0 < float(threshold) <= 1.0:
            raise SeqcoreError(f"detection threshold must be in (0, 1]; received {threshold}")
        self.class_names = list(class_names)
        self.average_ms, self.threshold = float(average_ms), float(threshold)
        self.suppression_ms, self.minimum_count = float(suppression_ms), int(minimum_count)
        self.keyword = np.array([name not in background for name in self.class_names])
        self.window = deque()
        self.last_time = None

    def update(self, time_ms, probabilities):
        """Adds one hop's probabilities at `time_ms`; returns a `Detection` or None."""
        self.window.append((time_ms, np.asarray(probabilities, dtype=np.float64)))
        while self.window and self.window[0][0] <= time_ms - self.average_ms:
            self.window.popleft()
        if len(self.window) < self.minimum_count:
            return None
        average = np.mean([p for _, p in self.window], axis=0)
        top = int(np.argmax(average))
        if not self.keyword[top] or average[top] < self.threshold:
            return None
        if self.last_time is not None and time_ms - self.last_time < self.suppression_ms:
            return None
        self.last_time = time_ms
        return Detection(time_ms, self.class_names[top], round(float(average[top]), 4))


class StreamRunner:
    """A streamable model's step, from a run directory or an export's `stream` signature.

    Attributes:
        class_names, sample_rate, hop_samples: what the stream needs.
        step: `(hop (1, hop_samples) float32, state) -> (probabilities (classes,), state)`.
    """

    def __init__(self, model_path, hop_ms=None):
        import tensorflow as tf

        from seqcore.export import is_export, open_export

        path = Path(model_path)
        if not path.exists():
            raise SeqcoreError(f"model not found: {path}; expected a run or export directory")
        if is_export(path):
            if hop_ms is not None:
                raise SeqcoreError("--hop-ms applies to a run directory; an export streams at the hop "
                                   "it was exported with")
            loaded, metadata = open_export(path)
            if "stream" not in loaded.signatures:
                why = metadata.get("streaming")
                why = why.item().decode("utf-8") if why is not None else None
                raise SeqcoreError(f"export {path} has no stream signature" +
                                   (f" ({why})" if why else "") +
                                   "; expected an export of a model trained with --streamable")
            stream = loaded.signatures["stream"]
            self.class_names = [name.decode("utf-8") for name in metadata["class_names"]]
            self.sample_rate = int(metadata["sample_rate"])
            self.hop_samples = int(metadata["stream_hop_samples"])
            specs = stream.structured_input_signature[1]
            self.state_names = sorted(name for name in specs if name != "audio")
            self._initial = {name: np.zeros([1, *specs[name].shape[1:]], np.float32)
                             for name in self.state_names}

            def step(hop, state):
                outputs = stream(audio=tf.constant(hop), **state)
                return outputs["probabilities"].numpy()[0], {n: outputs[n] for n in self.state_names}
        else:
            from apps.speech.commands import load_run_model
            from apps.speech.streaming import DEFAULT_HOP_MS, StreamingKeywordSpotter, check_streamable

            model = load_run_model(path)
            check_streamable(model, f"the model of {path}")
            spotter = StreamingKeywordSpotter(model, DEFAULT_HOP_MS if hop_ms is None else hop_ms)
            self.class_names, self.sample_rate = spotter.class_names, spotter.sample_rate
            self.hop_samples = spotter.hop_samples
            self._initial = {k: v.numpy() for k, v in spotter.initial_state(1).items()}
            compiled = tf.function(spotter.step)

            def step(hop, state):
                probabilities, state = compiled(tf.constant(hop), state)
                return probabilities.numpy()[0], state
        self.step = step

    def initial_state(self):
        return dict(self._initial)


def wav_hops(path, sample_rate, hop_samples):
    """A WAV file at the model's rate (resampled), in hops; a last partial hop is zero-padded."""
    from apps.speech.audio_files import read_wav

    audio = read_wav(path, sample_rate)
    padded = np.pad(audio, (0, -len(audio) % hop_samples))
    for start in range(0, len(padded), hop_samples):
        yield padded[start : start + hop_samples]


def raw_hops(stream, hop_samples):
    """Raw 16-bit little-endian mono PCM from a binary stream, one hop at a time as it arrives."""
    size = 2 * hop_samples
    pending = b""
    while True:
        chunk = stream.read(size - len(pending))
        if not chunk:
            break
        pending += chunk
        if len(pending) == size:
            yield np.frombuffer(pending, "<i2").astype(np.float32) / 32768.0
            pending = b""
    if len(pending) >= 2:  # the stream ended inside a hop: pad it with silence
        samples = np.frombuffer(pending[: len(pending) // 2 * 2], "<i2").astype(np.float32) / 32768.0
        yield np.pad(samples, (0, hop_samples - len(samples)))


def detect(model_path, audio, hop_ms=None, stdin=None, **settings):
    """Yields `Detection`s of a streamable model over a WAV file or raw PCM on stdin (`audio="-"`).

    Args:
        model_path: a run directory or an export with a `stream` signature.
        audio: a WAV path, or `-` for raw 16-bit little-endian mono PCM at
            the model's rate on `stdin`.
        hop_ms: audio per step (run directories; default 20 ms).
        stdin: the binary stream `-` reads (default `sys.stdin.buffer`).
        settings: `KeywordDetector` settings.
    """
    if str(audio) != "-":
        from apps.speech.audio_files import decode_wav

        decode_wav(audio)  # an unreadable file fails before the model loads
    runner = StreamRunner(model_path, hop_ms)
    detector = KeywordDetector(runner.class_names, **settings)
    if str(audio) == "-":
        hops = raw_hops(stdin or sys.stdin.buffer, runner.hop_samples)
    else:
        hops = wav_hops(audio, runner.sample_rate, runner.hop_samples)
    state = runner.initial_state()
    hop_ms = 1000.0 * runner.hop_samples / runner.sample_rate
    for index, hop in enumerate(hops):
        probabilities, state = runner.step(hop[None].astype(np.float32), state)
        found = detector.update((index + 1) * hop_ms, probabilities)
        if found is not None:
            yield found


def format_detection(detection, as_json=False):
    """`12.340<TAB>seven<TAB>0.912` (seconds from the stream's start), or one JSON object."""
    if as_json:
        import json

        return json.dumps({"time": round(detection.time_ms / 1000, 3), "label": detection.label,
                           "score": detection.score})
    return f"{detection.time_ms / 1000:.3f}\t{detection.label}\t{detection.score:.3f}"
