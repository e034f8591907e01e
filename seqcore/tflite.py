"""TensorFlow Lite export: convert, reload with the interpreter, check against Keras, write atomically.

One routine for every app (and for streaming models): `write_tflite(path,
fn, input_signature, sample_inputs, expected_outputs, quantize=...)` traces
`fn` (a function of named tensors returning a dict of tensors, typically a
Keras model call), converts it to TensorFlow Lite **builtin ops only**, reloads
the result with the TFLite interpreter, runs it on `sample_inputs`, and
compares every output with `expected_outputs` (what the Keras model gives).
Only when the maximum absolute difference is within the tolerance is the file
renamed into place; otherwise nothing is written and `SeqcoreError` says by
how much it missed.

How recurrent layers convert: `fn` is traced inside
`seqcore.step_loop.step_loop_tracing()`, so every `seqcore.fast_rnn` layer
(LSTM, GRU, SimpleRNN, plain or in `Bidirectional`) becomes a TFLite `WHILE`
op whose body runs one cell step (see `seqcore.step_loop`). A state-in /
state-out step model (one token or one frame per call) is simply an `fn` that
calls `seqcore.step_loop.cell_step` (or the model's own step) once.

Variables are frozen into constants before conversion (the converter keeps
Keras 3 variables as uninitialized resource variables otherwise), and output
names are kept: the TFLite model has one signature, `serving_default`, with
the input names of `input_signature` and the output keys of `fn`.

`quantize=True` applies dynamic-range quantization (`tf.lite.Optimize.DEFAULT`
with no representative data set): weights are stored as int8, activations stay
float32. The check then uses `quantized_tolerance(expected)` unless `atol` is
given.

The interpreter is `tf.lite.Interpreter` from the installed TensorFlow: the
same TFLite kernels as the standalone `ai-edge-litert` package, with no
extra dependency. A device runs the file with LiteRT (`ai_edge_litert`
in Python, the Java/Kotlin/C++ interpreter on Android / iOS).

Usage:

    from seqcore.tflite import write_tflite
    report = write_tflite(
        "exports/x/1/tflite/model.tflite",
        lambda features: {"probabilities": model(features, training=False)},
        [tf.TensorSpec([None, None, 13], tf.float32, name="features")],
        sample_inputs={"features": x},                       # NumPy arrays
        expected_outputs={"probabilities": model.predict(x)},
        quantize=False,                                      # True: int8 weights
    )
    print(report.line())   # path, size, tolerance and measured max abs difference

Example:

>>> import keras, numpy as np, tempfile, os
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> x = np.ones((1, 3), "float32")
>>> path = os.path.join(tempfile.mkdtemp(), "model.tflite")
>>> report = write_tflite(path, lambda x: {"y": model(x)}, [tf.TensorSpec([None, 3], tf.float32, name="x")],
...                       {"x": x}, {"y": model.predict(x, verbose=0)})
>>> report.max_abs_difference <= report.tolerance, os.path.getsize(path) == report.size_bytes
(True, True)
"""

import dataclasses
import os
import re

import keras
import numpy as np
import tensorflow as tf

from seqcore.atomic import atomic_file
from seqcore.errors import SeqcoreError
from seqcore.step_loop import step_loop_tracing

#: Float32 TFLite models must match Keras within this (max absolute difference).
FLOAT_ATOL = 1e-4

#: Dynamic-range int8 models: allowed max absolute difference as a fraction of
#: the largest expected magnitude (at least 1: probabilities are within 0.05).
QUANTIZED_RELATIVE_ATOL = 0.05


def quantized_tolerance(expected_outputs):
    """The int8 check's tolerance: `QUANTIZED_RELATIVE_ATOL` x max(1, largest |expected value|).

    Example:

    >>> quantized_tolerance({"y": np.array([0.2, 0.8])})
    0.05
    """
    largest = max(float(np.max(np.abs(np.asarray(v, "float64")), initial=0.0))
                  for v in expected_outputs.values())
    return QUANTIZED_RELATIVE_ATOL * max(1.0, largest)


@dataclasses.dataclass
class TFLiteReport:
    """What `write_tflite` wrote and measured.

    Attributes:
        path: the written file.
        size_bytes: its size on disk.
        quantized: dynamic-range int8 weights (True) or float32.
        tolerance: the allowed max absolute difference against Keras.
        max_abs_difference: the measured one, over every output.
        differences: output name -> its max absolute difference.
        ops: the TFLite builtin ops the model uses (sorted).
    """

    path: str
    size_bytes: int
    quantized: bool
    tolerance: float
    max_abs_difference: float
    differences: dict
    ops: list

    def line(self):
        """One line for the command line: file, size, tolerance and measured difference."""
        kind = "int8 dynamic-range" if self.quantized else "float32"
        return (f"TFLite {kind}: {self.path} ({self.size_bytes / 1024:.1f} KiB), max abs difference "
                f"against Keras on sample inputs {self.max_abs_difference:.2e} (tolerance {self.tolerance:.0e})")


def _frozen_function(fn, input_signature):
    """Traces `fn` with the step loop, freezes its variables and restores its output names."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # A stateless scope drops variable writes (e.g. a dropout cell advancing its
    # seed generator even at inference), which frozen graphs cannot hold.
    with step_loop_tracing(), keras.StatelessScope():
        concrete = tf.function(fn, input_signature=input_signature).get_concrete_function()
    structure = concrete.structured_outputs
    if not isinstance(structure, dict):
        raise SeqcoreError(
            f"TFLite export needs a function returning a dict of named outputs; received: {type(structure).__name__}"
        )
    names = list(structure)
    keys = sorted(names)  # the frozen function returns the outputs flattened, in key order
    frozen = convert_variables_to_constants_v2(concrete)

    def named(*args):
        outputs = frozen(*args)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        by_key = dict(zip(keys, outputs))
        return {name: tf.identity(by_key[name], name=name) for name in names}

    return tf.function(named, input_signature=input_signature).get_concrete_function()


_OP_PATTERN = re.compile(r"'(tf\.\w+)' op (.*?)(?:\\n|$|\n)")
_LOC_PATTERN = re.compile(r'loc\((?:callsite\()?fused\["\w+:", (?:callsite\()?"([^"@]+)')


def conversion_problem(message):
    """One line from a TFLite converter error: which layer (name scope), which op, and why.

    Example:

    >>> conversion_problem('loc(fused["BlockLSTMV2:", "model/lstm_0/BlockLSTMV2@f"]): '
    ...                    "error: 'tf.BlockLSTMV2' op is neither a custom op nor a flex op")
    "layer 'model/lstm_0' (op tf.BlockLSTMV2): the op is neither a custom op nor a flex op"
    """
    op = _OP_PATTERN.search(message)
    location = None
    for match in _LOC_PATTERN.finditer(message):
        if op is None or op.start() > match.start():
            location = match.group(1)
    layer = location.rsplit("/", 1)[0] if location and "/" in location else location
    if op:
        reason = op.group(2).strip().rstrip(".")
        return f"layer {layer!r} (op {op.group(1)}): the op {reason}" if layer else f"op {op.group(1)}: {reason}"
    lines = [line.strip() for line in message.splitlines() if "error:" in line]
    reason = lines[0].split("error:", 1)[1].strip() if lines else message.strip().splitlines()[-1]
    return f"layer {layer!r}: {reason}" if layer else reason


def convert(fn, input_signature, quantize=False):
    """Converts `fn` (named tensors -> dict of tensors) to a TFLite flatbuffer of builtin ops only.

    Args:
        fn: the function to convert, e.g. `lambda x: {"y": model(x, training=False)}`.
        input_signature: list of named `tf.TensorSpec`, one per argument.
        quantize: dynamic-range int8 weights (activations stay float32).

    Returns:
        The model as bytes.

    Raises:
        SeqcoreError: the conversion failed; the message names the layer
            (TensorFlow name scope) and op, and why, on one line.
    """
    concrete = _frozen_function(fn, input_signature)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as error:  # ConverterError, or a lowering error raised by MLIR as another type
        raise SeqcoreError(
            f"TFLite conversion failed at {_problem(error)}; expected TensorFlow Lite builtin ops only"
        ) from None


def _problem(error):
    """`conversion_problem` of a converter exception, from its structured errors where it has them."""
    for data in getattr(error, "errors", None) or []:
        names = [call.name for call in data.location.call if call.name]
        if data.operator.name and names:
            scope = names[0].split("@", 1)[0]
            layer = scope.rsplit("/", 1)[0] if "/" in scope else scope
            reason = data.error_message.splitlines()[0].split(" op ", 1)[-1].strip().rstrip(".")
            return f"layer {layer!r} (op {data.operator.name}): the op {reason}"
    return conversion_problem(str(error))


def interpreter(model):
    """A `tf.lite.Interpreter` for `model` (bytes or a path), tensors allocated."""
    if isinstance(model, (bytes, bytearray)):
        loaded = tf.lite.Interpreter(model_content=bytes(model))
    else:
        loaded = tf.lite.Interpreter(model_path=str(model))
    loaded.allocate_tensors()
    return loaded


def run(model, inputs, signature="serving_default"):
    """Runs a TFLite model (bytes, a path or an interpreter) on named NumPy inputs; returns its named outputs.

    Usage (a sketch; it needs an exported model, so it is not run as a test)::

        run("exports/sentiment/1/tflite/model.tflite", {"token_ids": ids, "ngrams": tfidf})["probabilities"]
    """
    loaded = model if isinstance(model, tf.lite.Interpreter) else interpreter(model)
    runner = loaded.get_signature_runner(signature)
    return {name: np.asarray(value) for name, value in runner(**{k: np.asarray(v) for k, v in inputs.items()}).items()}


def ops(model):
    """The sorted names of the ops in every subgraph of a TFLite model (bytes or a path)."""
    loaded = model if isinstance(model, tf.lite.Interpreter) else interpreter(model)
    return sorted({detail["op_name"] for detail in loaded._get_ops_details()} - {"DELEGATE"})


def differences(model, sample_inputs, expected_outputs):
    """Output name -> max absolute difference between the TFLite model and `expected_outputs`."""
    outputs = run(model, sample_inputs)
    result = {}
    for name, expected in expected_outputs.items():
        expected = np.asarray(expected, "float64")
        received = np.asarray(outputs[name], "float64")
        if expected.shape != received.shape:
            raise SeqcoreError(
                f"TFLite check failed: output {name!r} has shape {received.shape}; expected {expected.shape}"
            )
        result[name] = float(np.max(np.abs(expected - received), initial=0.0))
    return result


def write_tflite(path, fn, input_signature, sample_inputs, expected_outputs, quantize=False, atol=None):
    """Converts `fn`, checks the reloaded model against `expected_outputs`, then writes `path` atomically.

    Args:
        path: the `.tflite` file to write (its folder is created).
        fn, input_signature, quantize: as for `convert`.
        sample_inputs: dict input name -> NumPy array for the check.
        expected_outputs: dict output name -> what the Keras model gives on them.
        atol: allowed max absolute difference; `FLOAT_ATOL` for float32,
            `quantized_tolerance(expected_outputs)` for int8 when None.

    Returns:
        A `TFLiteReport` (its `line()` is what the export commands print).

    Raises:
        SeqcoreError: the conversion failed, or the difference exceeds the
            tolerance; nothing is written then.
    """
    model = convert(fn, input_signature, quantize=quantize)
    tolerance = atol if atol is not None else (quantized_tolerance(expected_outputs) if quantize else FLOAT_ATOL)
    found = differences(model, sample_inputs, expected_outputs)
    worst = max(found.values(), default=0.0)
    if not worst <= tolerance:  # also refuses NaN
        name = max(found, key=lambda key: (np.nan_to_num(found[key], nan=np.inf)))
        raise SeqcoreError(
            f"TFLite check failed: output {name!r} of the reloaded {'int8' if quantize else 'float32'} model "
            f"differs from the Keras model on sample inputs by {worst:.2e}; expected at most {tolerance:.0e}"
        )
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_file(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(model)
    return TFLiteReport(
        path=str(path), size_bytes=len(model), quantized=bool(quantize), tolerance=float(tolerance),
        max_abs_difference=worst, differences=found, ops=ops(model),
    )


#: The folder of TFLite models inside an export version (beside `saved_model.pb`).
FOLDER = "tflite"

#: The per-folder record of what was written and measured (read back by the export command).
REPORT = "report.json"


def write_models(folder, models, quantize=False, files=None):
    """Writes each model as float32 `NAME.tflite` (and `NAME.int8.tflite` with `quantize`), checked, plus `files`.

    Used by the apps' `export --format tflite` on the temporary version folder
    before it is renamed into place, so the SavedModel and its TFLite models
    land together or not at all.

    Args:
        folder: the folder to write into (created).
        models: dict name -> `(fn, input_signature, sample_inputs, expected_outputs)`,
            optionally with a fifth item: the float32 tolerance (default
            `FLOAT_ATOL`; e.g. scaled for outputs in large raw units).
        quantize: also write the dynamic-range int8 model of each.
        files: optional dict file name -> text written beside the models
            (vocabularies a client needs).

    Returns:
        The list of `TFLiteReport`, also recorded in `folder/report.json`.
    """
    import json

    os.makedirs(folder, exist_ok=True)
    reports = []
    for name, (fn, signature, inputs, expected, *atol) in models.items():
        for quantized in (False, True) if quantize else (False,):
            path = os.path.join(folder, f"{name}.int8.tflite" if quantized else f"{name}.tflite")
            tolerance = atol[0] if atol and not quantized else None
            reports.append(write_tflite(path, fn, signature, inputs, expected, quantize=quantized, atol=tolerance))
    for file_name, text in (files or {}).items():
        with atomic_file(os.path.join(folder, file_name)) as temporary:
            temporary.write_text(text, encoding="utf-8")
    record = {
        os.path.basename(report.path): {
            "size_bytes": report.size_bytes, "quantized": report.quantized, "tolerance": report.tolerance,
            "max_abs_difference": report.max_abs_difference, "differences": report.differences,
            "ops": report.ops,
        }
        for report in reports
    }
    with atomic_file(os.path.join(folder, REPORT)) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return reports


def report_lines(version_folder):
    """The one-line summaries of the TFLite models recorded in `version_folder/tflite/report.json` (none: [])."""
    import json

    path = os.path.join(str(version_folder), FOLDER, REPORT)
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as file:
        record = json.load(file)
    return [
        TFLiteReport(path=os.path.join(str(version_folder), FOLDER, name), ops=entry["ops"],
                     size_bytes=entry["size_bytes"], quantized=entry["quantized"], tolerance=entry["tolerance"],
                     max_abs_difference=entry["max_abs_difference"], differences=entry["differences"]).line()
        for name, entry in record.items()
    ]


def extra_writer(build, quantize=False):
    """An `export_saved_model(extra_writer=...)` that writes `<version>/tflite/` with `write_models`.

    Args:
        build: a function returning `(models, files)` as `write_models` takes
            them; called only once the SavedModel has been checked.
        quantize: also the int8 model of each.
    """

    def write(version_folder):
        models, files = build()
        write_models(os.path.join(str(version_folder), FOLDER), models, quantize=quantize, files=files)

    return write
