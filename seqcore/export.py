"""The one export routine: TensorFlow Serving layout, checked before it lands."""

import os
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqcore.errors import SeqcoreError


def next_version(export_base):
    """The version after the highest numeric folder in `export_base` (1 if none).

    Example:

    >>> next_version("/nonexistent/export/base")
    1
    """
    base = Path(export_base)
    versions = [int(p.name) for p in base.iterdir() if p.name.isdigit()] if base.is_dir() else []
    return max(versions, default=0) + 1


def is_export(path):
    """Whether `path` is an export rather than a run: a SavedModel folder, or a base of numbered versions.

    A run directory (it holds `model.keras`) is never an export.

    Example:

    >>> import pathlib, tempfile
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> is_export(base), (base / "1").mkdir(), is_export(base)
    (False, None, True)
    """
    path = Path(path)
    if not path.is_dir() or (path / "model.keras").is_file():
        return False
    return (path / "saved_model.pb").is_file() or any(
        child.name.isdigit() and child.is_dir() for child in path.iterdir()
    )


def resolve_version_dir(path):
    """Maps an export base (holding numeric versions) or a version folder to a SavedModel folder."""
    path = Path(path)
    if (path / "saved_model.pb").is_file():
        return path
    versions = sorted(
        (int(p.name) for p in path.iterdir() if p.name.isdigit() and (p / "saved_model.pb").is_file())
    ) if path.is_dir() else []
    if not versions:
        raise SeqcoreError(
            f"not an export: {path}; expected a SavedModel folder or an export "
            "base holding numbered versions written by `export`"
        )
    return path / str(versions[-1])


def open_export(path):
    """Loads an export (a version folder, or the newest version of a base) with TensorFlow alone.

    Returns:
        `(loaded, metadata)`: the `tf.saved_model.load` object and the
        outputs of its `metadata` signature as NumPy values (empty when it
        has none).

    Raises:
        SeqcoreError: `path` is not an export.
    """
    loaded = tf.saved_model.load(str(resolve_version_dir(path)))
    signature = loaded.signatures.get("metadata")
    metadata = {name: value.numpy() for name, value in signature().items()} if signature else {}
    return loaded, metadata


def _as_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _compare(name, expected, received, atol):
    expected, received = np.asarray(expected), np.asarray(received)
    if expected.shape != received.shape:
        problem = f"shape {received.shape}, expected {expected.shape}"
    elif expected.dtype.kind in "OSU":
        mismatches = sum(
            _as_text(e) != _as_text(r) for e, r in zip(expected.ravel(), received.ravel())
        )
        problem = f"{mismatches} differing values" if mismatches else None
    else:
        difference = float(np.max(np.abs(expected - received), initial=0.0))
        problem = f"max difference {difference:.2e} > atol {atol}" if difference > atol else None
    if problem:
        raise SeqcoreError(
            f"export check failed: output {name!r} of the reloaded SavedModel does not "
            f"match the Keras model on sample inputs: {problem}"
        )


def export_saved_model(
    export_base,
    serve_fn,
    input_signature,
    sample_inputs,
    expected_outputs,
    track=(),
    metadata=None,
    version=None,
    atol=1e-5,
    endpoints=None,
    extra_writer=None,
):
    """Writes `export_base/<version>/` for TensorFlow Serving, atomically.

    The SavedModel is written to a hidden temporary folder beside the target
    (TensorFlow Serving ignores non-numeric folders), reloaded with
    TensorFlow alone, run on `sample_inputs` and compared with
    `expected_outputs`; only then is it renamed to its version number.

    Args:
        export_base: the model's base folder, as given to TensorFlow Serving.
        serve_fn: the `serving_default` function (raw inputs -> dict of outputs).
        input_signature: list of `tf.TensorSpec`, one per argument, named.
        sample_inputs: dict input name -> value for the check.
        expected_outputs: dict output name -> what the Keras model gives.
        track: Keras models / layers the function uses (lookup layers too).
        metadata: optional dict name -> constant (e.g. class names), served
            by a second, input-less signature named `metadata`.
        version: integer version; the next free one when None.
        atol: tolerance of the numeric comparison.
        endpoints: optional dict name -> `(fn, input_signature, sample_inputs,
            expected_outputs)` of more signatures (e.g. a single-step
            signature for streaming), each checked like `serving_default`.
        extra_writer: optional function called with the temporary version
            folder once the SavedModel is checked, before it is renamed into
            place (e.g. `seqcore.tflite.write_models` for TFLite models
            beside it); if it raises, nothing is published.

    Returns:
        The path of the written version folder.

    Usage (a sketch; it needs an exported model, so it is not run as a test)::

        export_saved_model("exports/sentiment", serve, [tf.TensorSpec([None], tf.string, name="text")],
                           {"text": ["great"]}, {"probabilities": probs}, track=[model])
    """
    base = Path(export_base)
    version = next_version(base) if version is None else int(version)
    if version < 1:
        raise SeqcoreError(f"export version must be a positive integer; received: {version}")
    target = base / str(version)
    if target.exists():
        raise SeqcoreError(
            f"export version already exists: {target}; expected a new version "
            f"(next free: {next_version(base)})"
        )
    created_base = not base.exists()
    base.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{version}.tmp-", dir=base))
    published = False
    try:
        archive = keras.export.ExportArchive()
        for resource in track:
            archive.track(resource)
        archive.add_endpoint(
            name="serving_default", fn=serve_fn, input_signature=input_signature
        )
        for name, (fn, signature, _, _) in (endpoints or {}).items():
            archive.add_endpoint(name=name, fn=fn, input_signature=signature)
        if metadata:
            constants = {name: tf.constant(value) for name, value in metadata.items()}
            archive.add_endpoint(name="metadata", fn=lambda: constants, input_signature=[])
        archive.write_out(str(temporary), verbose=False)
        reloaded = tf.saved_model.load(str(temporary))
        signature = reloaded.signatures["serving_default"]
        outputs = signature(
            **{name: tf.constant(value) for name, value in sample_inputs.items()}
        )
        for name, expected in expected_outputs.items():
            _compare(name, expected, outputs[name].numpy(), atol)
        for endpoint, (_, _, inputs, expected_outputs) in (endpoints or {}).items():
            outputs = reloaded.signatures[endpoint](
                **{name: tf.constant(value) for name, value in inputs.items()}
            )
            for name, expected in expected_outputs.items():
                _compare(f"{endpoint}/{name}", expected, outputs[name].numpy(), atol)
        if extra_writer is not None:
            extra_writer(temporary)
        os.chmod(temporary, 0o755)  # TensorFlow Serving may run as another user
        os.replace(temporary, target)
        published = True
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
        if created_base and not published:
            shutil.rmtree(base, ignore_errors=True)
    return target


def classifier_outputs(model, inputs):
    """What a classifier task's `serving_default` gives for `inputs`: `probabilities` and `label`.

    Args:
        model: a classifier task with `class_names` (e.g. `seqcore.classifier.SequenceClassifier`).
        inputs: a batch of the model's raw inputs.

    Returns:
        `{"probabilities": (batch, classes) array, "label": the most probable class name per input}`.
    """
    probabilities = model.predict(inputs, verbose=0)
    return {"probabilities": probabilities, "label": [model.class_names[i] for i in probabilities.argmax(axis=-1)]}


def export_classifier(export_base, model, serve_fn, input_signature, sample_inputs, metadata=None, **options):
    """`export_saved_model` for a classifier task with a `preprocessor`.

    The export is checked against `classifier_outputs` on the one input of
    `sample_inputs`, tracks the model and its preprocessor, and serves
    `class_names` beside `metadata` in the `metadata` signature.

    Args:
        export_base, serve_fn, input_signature, sample_inputs: as for `export_saved_model`.
        model: the classifier task.
        metadata: optional further constants for the `metadata` signature.
        **options: `version`, `atol`, `endpoints`, `extra_writer` of `export_saved_model`.

    Returns:
        The path of the written version folder.
    """
    (inputs,) = sample_inputs.values()
    return export_saved_model(
        export_base, serve_fn, input_signature, sample_inputs, classifier_outputs(model, inputs),
        track=[model, model.preprocessor], metadata={"class_names": model.class_names, **(metadata or {})}, **options,
    )
