"""JSON <-> tensors for TensorFlow Serving's REST predict API, checked against a signature.

Request formats (as TensorFlow Serving):

- row: ``{"signature_name": ..., "instances": [...]}``; each instance is a
  bare value (single-input signatures) or an object of named inputs;
  answered ``{"predictions": [...]}``, one entry per instance: an object of
  named outputs, or the bare value when the signature has one output.
- columnar: ``{"inputs": {name: value}}`` or ``{"inputs": value}``;
  answered ``{"outputs": {name: value}}`` or the bare value for one output.
  Each input has the shape its signature gives it, so a scalar (rank-0)
  input is a bare JSON value (``"max_length": 200``) and inputs need not
  share a batch size, as in TensorFlow Serving.

A signature whose every input starts with a free batch dimension is
*batched*: its inputs must agree on the batch size, and requests to it may
be merged into one model call. The row format stacks one value per
instance, so it cannot carry a scalar input; a signature with one is
answered 400 naming the input and pointing to the columnar format.

Strings may be sent as ``{"b64": "..."}``. Every problem raises
`RequestError` with a message naming the input and what was wrong; the
server answers it with status 400.
"""

import base64
import json
import math

import numpy as np

#: TensorFlow dtype name -> (kind of JSON leaf, numpy dtype, DataType enum name).
_KINDS = {
    "string": ("string", object, "DT_STRING"),
    "float32": ("float", np.float32, "DT_FLOAT"),
    "float64": ("float", np.float64, "DT_DOUBLE"),
    "float16": ("float", np.float16, "DT_HALF"),
    "int32": ("int", np.int32, "DT_INT32"),
    "int64": ("int", np.int64, "DT_INT64"),
    "int16": ("int", np.int16, "DT_INT16"),
    "int8": ("int", np.int8, "DT_INT8"),
    "uint8": ("int", np.uint8, "DT_UINT8"),
    "bool": ("bool", np.bool_, "DT_BOOL"),
}


class RequestError(ValueError):
    """A bad request: answered with `status` (400 unless said) and ``{"error": message}``."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class InputSpec:
    """What one signature input accepts.

    Args:
        name: the input's name.
        dtype: TensorFlow dtype name (``"string"``, ``"float32"``, ...).
        shape: list of dims, None where free; None for unknown rank.
        fixed: optional dict axis -> (length, reason) checked beyond the
            signature (e.g. the clip length a speech model was trained on).
    """

    def __init__(self, name, dtype, shape, fixed=None):
        if dtype not in _KINDS:
            raise ValueError(f"unsupported input dtype {dtype!r} of input {name!r}")
        self.name = name
        self.dtype = dtype
        self.kind, self.numpy_dtype, self.enum = _KINDS[dtype]
        self.shape = None if shape is None else list(shape)
        self.fixed = dict(fixed or {})

    @property
    def batched(self):
        """True when the input's first dimension is a free batch dimension."""
        return self.shape is not None and len(self.shape) >= 1 and self.shape[0] is None

    def describe_shape(self):
        if self.shape is None:
            return "any shape"
        if not self.shape:
            return "[] (a scalar)"
        return "[" + ", ".join("batch" if i == 0 and d is None else ("-1" if d is None else str(d))
                               for i, d in enumerate(self.shape)) + "]"


class Limits:
    """Request limits: body bytes, instances (batch rows) per request, characters per string."""

    def __init__(self, max_body_bytes=10 * 2**20, max_instances=256, max_string_chars=100_000):
        self.max_body_bytes = int(max_body_bytes)
        self.max_instances = int(max_instances)
        self.max_string_chars = int(max_string_chars)


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _where(path):
    return "".join(f"[{i}]" for i in path)


def _walk(value, spec, limits, path, leaves):
    """Appends the leaves of nested lists to `leaves`; returns the shape."""
    if isinstance(value, list):
        if not value:
            return [0]
        shapes = [_walk(item, spec, limits, path + [i], leaves) for i, item in enumerate(value)]
        first = shapes[0]
        for i, shape in enumerate(shapes[1:], start=1):
            if shape != first:
                raise RequestError(
                    f"input '{spec.name}' is ragged: element {_where(path + [i])} has shape "
                    f"{shape}, element {_where(path + [0])} has shape {first}; every row "
                    "must have the same length"
                )
        return [len(value)] + first
    leaves.append(_leaf(value, spec, limits, path))
    return []


def _leaf(value, spec, limits, path):
    kind = spec.kind
    if kind == "string":
        if isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str):
            try:
                data = base64.b64decode(value["b64"], validate=True)
            except (ValueError, TypeError):
                raise RequestError(
                    f"input '{spec.name}' element {_where(path)}: 'b64' is not valid base64"
                ) from None
            size = len(data)
        elif isinstance(value, str):
            data, size = value, len(value)
        else:
            raise RequestError(
                f"input '{spec.name}' has the wrong dtype: expected a string ({spec.enum}), "
                f"element {_where(path)} is {_type_name(value)}: {_short(value)}"
            )
        if size > limits.max_string_chars:
            raise RequestError(
                f"input '{spec.name}' element {_where(path)} is a string of {size} characters; "
                f"the limit is {limits.max_string_chars} characters"
            )
        return data
    if kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise RequestError(
                    f"input '{spec.name}' element {_where(path)} is {value}: NaN and infinity "
                    "are not accepted; send finite numbers"
                )
            return value
    raise RequestError(
        f"input '{spec.name}' has the wrong dtype: expected {_expected(spec)} ({spec.enum}), "
        f"element {_where(path)} is {_type_name(value)}: {_short(value)}"
    )


def _expected(spec):
    return {"float": "a number", "int": "an integer", "bool": "a boolean"}[spec.kind]


def _short(value):
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= 40 else text[:37] + "..."


def to_array(value, spec, limits):
    """One input's JSON value (batch dimension included) -> numpy array, checked."""
    fast = None
    if spec.kind in ("float", "int") and isinstance(value, list):
        try:
            fast = np.asarray(value)
        except (ValueError, TypeError):
            fast = None
        if fast is not None and not (
            fast.dtype.kind == "i" or (spec.kind == "float" and fast.dtype.kind == "f")
        ):
            fast = None
        if fast is not None and fast.dtype.kind == "f" and not np.isfinite(fast).all():
            fast = None  # the walk names the element
    if fast is not None:
        array = fast.astype(spec.numpy_dtype)
    else:
        leaves = []
        shape = _walk(value, spec, limits, [], leaves)
        array = np.empty(len(leaves), dtype=spec.numpy_dtype)
        array[:] = leaves
        array = array.reshape(shape)
    if spec.shape is not None:
        if array.ndim != len(spec.shape):
            raise RequestError(
                f"input '{spec.name}' has the wrong rank: received rank {array.ndim} "
                f"(shape {list(array.shape)}), expected rank {len(spec.shape)} "
                f"(shape {spec.describe_shape()})"
            )
        for axis, (want, got) in enumerate(zip(spec.shape, array.shape)):
            if want is not None and want != got:
                raise RequestError(
                    f"input '{spec.name}' has the wrong shape: received {list(array.shape)}, "
                    f"expected {spec.describe_shape()} (dimension {axis} must be {want})"
                )
    for axis, (length, reason) in spec.fixed.items():
        if array.ndim > axis and array.shape[axis] != length:
            raise RequestError(
                f"input '{spec.name}' has the wrong length: dimension {axis} is "
                f"{array.shape[axis]}, expected {length} ({reason})"
            )
    if array.ndim == 0 and spec.shape is None:
        raise RequestError(f"input '{spec.name}' must have a batch dimension; received a scalar")
    return array


def is_batched(inputs):
    """True when every input of a signature (dict name -> `InputSpec`) has a batch dimension."""
    return bool(inputs) and all(spec.batched for spec in inputs.values())


def parse_json(body):
    """Request body bytes -> JSON object, or a 400 naming the parse error."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(f"JSON Parse error: body is not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(
            f"JSON Parse error: {error.msg} at line {error.lineno} column {error.colno} "
            f"(offset {error.pos})"
        ) from None
    except RecursionError:
        raise RequestError("JSON Parse error: nested too deeply") from None
    if not isinstance(data, dict):
        raise RequestError(f"JSON Parse error: the body must be a JSON object; received {_type_name(data)}")
    return data


def parse_predict(data, inputs, limits):
    """Decoded predict request -> ("row" | "columnar", {input name: array}).

    Args:
        data: the request's JSON object.
        inputs: dict name -> `InputSpec` of the chosen signature.
        limits: a `Limits`.
    """
    has_rows, has_columns = "instances" in data, "inputs" in data
    if has_rows and has_columns:
        raise RequestError("the request has both 'instances' and 'inputs'; send one of them")
    if not has_rows and not has_columns:
        raise RequestError(
            "missing 'instances' or 'inputs' key: send {\"instances\": [...]} (row format) "
            "or {\"inputs\": ...} (columnar format)"
        )
    names = sorted(inputs)
    if has_rows:
        scalars = [name for name in names if inputs[name].shape == []]
        if scalars:
            raise RequestError(
                f"the row format ('instances') cannot send the scalar input(s) {scalars}: the "
                "signature takes them with shape [] and the row format gives every input a batch "
                "dimension (one value per instance); use the columnar format, e.g. "
                '{"inputs": {' + ", ".join(
                    f'"{name}": ' + ("..." if name in scalars else "[...]") for name in names
                ) + "}}"
            )
        rows = data["instances"]
        if not isinstance(rows, list):
            raise RequestError(f"'instances' must be a list; received {_type_name(rows)}")
        if not rows:
            raise RequestError("'instances' is empty: send at least one instance")
        _check_count(len(rows), limits)
        named = all(isinstance(row, dict) and not _is_b64(row) for row in rows)
        if not named:
            if len(names) != 1:
                raise RequestError(
                    "each instance must be an object naming the inputs "
                    f"{names}, since the signature has {len(names)} inputs"
                )
            if any(isinstance(row, dict) and not _is_b64(row) for row in rows):
                raise RequestError("instances mix objects and bare values; send one kind")
            columns = {names[0]: rows}
        else:
            columns = {}
            for i, row in enumerate(rows):
                _check_names(set(row), inputs, f"instance {i}")
            for name in names:
                columns[name] = [row[name] for row in rows]
        fmt = "row"
    else:
        value = data["inputs"]
        if isinstance(value, dict) and not _is_b64(value):
            _check_names(set(value), inputs, "'inputs'")
            columns = value
        else:
            if len(names) != 1:
                raise RequestError(
                    f"'inputs' must be an object naming the inputs {names}, since the "
                    f"signature has {len(names)} inputs"
                )
            columns = {names[0]: value}
        fmt = "columnar"
    arrays = {name: to_array(columns[name], inputs[name], limits) for name in names}
    if is_batched(inputs):
        sizes = {name: array.shape[0] for name, array in arrays.items()}
        if len(set(sizes.values())) > 1:
            raise RequestError(f"inputs have different batch sizes: {sizes}")
        if not next(iter(sizes.values())):
            raise RequestError(f"input '{names[0]}' is empty: send at least one row")
    for array in arrays.values():
        if array.ndim:
            _check_count(array.shape[0], limits)
    return fmt, arrays


def _is_b64(value):
    return isinstance(value, dict) and set(value) == {"b64"}


def _check_count(count, limits):
    if count > limits.max_instances:
        raise RequestError(
            f"too many instances: {count}; the limit is {limits.max_instances} per request "
            "(split the request)"
        )


def _check_names(received, inputs, where):
    expected = set(inputs)
    if received != expected:
        extra, missing = sorted(received - expected), sorted(expected - received)
        parts = []
        if extra:
            parts.append(f"unknown input name(s) {extra}")
        if missing:
            parts.append(f"missing input(s) {missing}")
        raise RequestError(
            f"{where}: {' and '.join(parts)}; the signature's inputs are {sorted(expected)}"
        )


def _json_value(array, name):
    """numpy output -> JSON-ready nested lists (float32 written at float32 precision)."""
    array = np.asarray(array)
    if array.dtype.kind in "OSU":
        if name.endswith("_bytes"):
            convert = lambda v: {"b64": base64.b64encode(v if isinstance(v, bytes) else str(v).encode()).decode("ascii")}
        else:
            convert = lambda v: v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)
        flat = [convert(v) for v in array.ravel()]
        return _nest(flat, array.shape)
    if array.dtype == np.float32 or array.dtype == np.float16:
        # shortest text that reads back as the same float32, as TensorFlow Serving writes it
        flat = array.ravel().astype(str).astype(np.float64)
        return flat.reshape(array.shape).tolist()
    return array.tolist()


def _nest(flat, shape):
    if not shape:
        return flat[0]
    for size in reversed(shape[1:]):
        flat = [flat[i : i + size] for i in range(0, len(flat), size)]
    return flat


def encode_outputs(fmt, outputs):
    """Model outputs (dict name -> numpy) -> the response object of `fmt`."""
    names = sorted(outputs)
    values = {name: _json_value(outputs[name], name) for name in names}
    if fmt == "columnar":
        return {"outputs": values[names[0]] if len(names) == 1 else values}
    batch = {np.asarray(outputs[name]).shape[:1] for name in names}
    if len(batch) != 1 or () in batch:
        raise RequestError(
            "the signature's outputs do not share a batch dimension; use the columnar "
            "format ({\"inputs\": ...})",
            status=400,
        )
    count = next(iter(batch))[0]
    if len(names) == 1:
        return {"predictions": values[names[0]]}
    return {"predictions": [{name: values[name][i] for name in names} for i in range(count)]}
