"""Loaded model versions per name, and the thread that watches each export base.

A version is loaded (and warmed up) completely before it is published; the
published table of a model is replaced in one assignment, so a request sees
either the old table or the new one, never a half-loaded model. A request
holds a reference to the version it started on, so unloading a version
never breaks a request already running on it.
"""

import logging
import threading
from pathlib import Path

import numpy as np

from seqcore.errors import SeqcoreError
from seqcore.serving.codec import InputSpec, RequestError, is_batched

log = logging.getLogger("seqcore.serving")


def parse_model_pairs(pairs):
    """``["NAME=EXPORT_BASE", ...]`` -> {name: Path}, with one-line errors.

    Example:

    >>> parse_model_pairs(["sentiment=exports/sentiment"])
    {'sentiment': PosixPath('exports/sentiment')}
    """
    models = {}
    for pair in pairs:
        name, sep, base = pair.partition("=")
        name, base = name.strip(), base.strip()
        if not sep or not name or not base:
            raise SeqcoreError(f"bad model {pair!r}; expected NAME=EXPORT_BASE, e.g. sentiment=exports/sentiment")
        if not all(c.isalnum() or c in "-_." for c in name):
            raise SeqcoreError(f"bad model name {name!r} in {pair!r}; use letters, digits, '-', '_' or '.'")
        if name in models:
            raise SeqcoreError(f"model name {name!r} given twice; each NAME must be unique")
        models[name] = Path(base)
    if not models:
        raise SeqcoreError("no model to serve; expected NAME=EXPORT_BASE, e.g. sentiment=exports/sentiment")
    return models


def list_versions(base):
    """Numeric version folders of `base` holding a saved_model.pb (hidden temporaries ignored)."""
    base = Path(base)
    if not base.is_dir():
        return {}
    return {
        int(p.name): p for p in base.iterdir()
        if p.name.isdigit() and (p / "saved_model.pb").is_file()
    }


def _signature_defs(path):
    """The SavedModel's SignatureDefs as TensorFlow Serving's metadata JSON writes them."""
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((Path(path) / "saved_model.pb").read_bytes())
    graph = next((m for m in proto.meta_graphs if "serve" in m.meta_info_def.tags), proto.meta_graphs[0])
    return {
        name: json_format.MessageToDict(sig, preserving_proto_field_name=True)
        for name, sig in graph.signature_def.items()
    }


class Signature:
    """One callable signature of a loaded version with its checked inputs."""

    def __init__(self, name, function, inputs, output_names):
        self.name = name
        self.function = function
        self.inputs = inputs  # name -> InputSpec
        self.output_names = output_names
        #: every input has a batch dimension: concurrent requests may share one call
        self.batched = is_batched(inputs)

    def __call__(self, arrays):
        import tensorflow as tf

        outputs = self.function(**{
            name: tf.constant(value, dtype=self.inputs[name].dtype) for name, value in arrays.items()
        })
        return {name: tensor.numpy() for name, tensor in outputs.items()}


class ModelVersion:
    """A loaded SavedModel version: its signatures, metadata values and SignatureDefs."""

    def __init__(self, name, version, path):
        import tensorflow as tf

        self.name, self.version, self.path = name, int(version), Path(path)
        self.loaded = tf.saved_model.load(str(path))
        self.signature_defs = _signature_defs(path)
        self.metadata = {}
        if "metadata" in self.loaded.signatures:
            try:
                self.metadata = {
                    key: value.numpy() for key, value in self.loaded.signatures["metadata"]().items()
                }
            except Exception:  # an input-taking signature of that name: not ours
                self.metadata = {}
        self.signatures = {}
        for sig_name, function in self.loaded.signatures.items():
            specs = function.structured_input_signature[1]
            try:
                inputs = {
                    key: InputSpec(key, spec.dtype.name, None if spec.shape.rank is None else spec.shape.as_list(),
                                   self._fixed(key, spec))
                    for key, spec in specs.items()
                }
            except ValueError as error:
                log.warning("%s/%s: signature %s not served: %s", name, version, sig_name, error)
                continue
            outputs = sorted(function.structured_outputs)
            self.signatures[sig_name] = Signature(sig_name, function, inputs, outputs)

    def _fixed(self, key, spec):
        """Lengths the metadata pins beyond the signature (speech: the clip length)."""
        if key == "audio" and "clip_samples" in self.metadata and spec.shape.rank == 2:
            samples = int(self.metadata["clip_samples"])
            rate = self.metadata.get("sample_rate")
            reason = f"clips of {samples} samples"
            if rate is not None:
                reason += f", {samples / float(rate):g} s at {int(rate)} Hz"
            return {1: (samples, reason)}
        return None

    def signature(self, name):
        name = name or "serving_default"
        if name not in self.signatures:
            raise RequestError(
                f"Serving signature name: \"{name}\" not found in signature def; "
                f"available: {sorted(self.signatures)}"
            )
        return self.signatures[name]

    def warm_up(self):
        """Runs `serving_default` once so the first request pays no graph optimisation."""
        signature = self.signatures.get("serving_default")
        if signature is None:
            return
        arrays = {}
        for key, spec in signature.inputs.items():
            shape = [1 if d is None else d for d in (spec.shape if spec.shape is not None else [1])]
            for axis, (length, _) in spec.fixed.items():
                shape[axis] = length
            if key == "history" and "lookback" in self.metadata and len(shape) == 3:
                shape[1] = int(self.metadata["lookback"])
            if spec.kind == "string":
                arrays[key] = np.full(shape, "warm up", dtype=object)
            else:
                arrays[key] = np.ones(shape, dtype=spec.numpy_dtype)  # 1 is a valid setting too
        try:
            signature(arrays)
        except Exception as error:  # a model that rejects dummy input still serves real input
            log.info("%s/%s: warm-up skipped: %s", self.name, self.version, error)


class ModelRegistry:
    """Versions of each served model, kept in step with its export base.

    Args:
        models: dict name -> export base.
        poll_interval: seconds between scans of the export bases.
    """

    def __init__(self, models, poll_interval=1.0):
        self.bases = {name: Path(base) for name, base in models.items()}
        self.poll_interval = float(poll_interval)
        self._tables = {name: {} for name in self.bases}  # name -> {version: ModelVersion}
        self._failed = {}  # (name, version) -> mtime of the folder that failed to load
        self._stop = threading.Event()
        self._thread = None
        self._scan_lock = threading.Lock()

    def load_initial(self):
        """Loads every version present; fails with one line for a base with no version."""
        for name, base in self.bases.items():
            if not list_versions(base):
                raise SeqcoreError(
                    f"no model version in {base} (model {name!r}); expected an export base "
                    "holding numbered versions written by `export`, e.g. exports/sentiment"
                )
        self.scan()
        for name, base in self.bases.items():
            if not self._tables[name]:
                raise SeqcoreError(f"no version of model {name!r} in {base} could be loaded; see the log")

    def scan(self):
        """One pass: loads new versions, unloads removed ones. Returns the changes made."""
        changes = []
        with self._scan_lock:
            for name, base in self.bases.items():
                present = list_versions(base)
                table = self._tables[name]
                for version in sorted(set(present) - set(table)):
                    path = present[version]
                    try:
                        stamp = path.stat().st_mtime
                    except OSError:
                        continue
                    if self._failed.get((name, version)) == stamp:
                        continue
                    try:
                        loaded = ModelVersion(name, version, path)
                        loaded.warm_up()
                    except Exception as error:
                        self._failed[(name, version)] = stamp
                        log.error("%s: could not load version %s from %s: %s", name, version, path, error)
                        continue
                    table = {**table, version: loaded}
                    self._tables[name] = table  # published in one assignment
                    changes.append(("loaded", name, version))
                    log.info("%s: version %s loaded from %s", name, version, path)
                for version in sorted(set(table) - set(present)):
                    table = {k: v for k, v in table.items() if k != version}
                    self._tables[name] = table
                    changes.append(("unloaded", name, version))
                    log.info("%s: version %s unloaded (folder removed)", name, version)
        return changes

    def start(self):
        """Starts the watcher thread (daemon); `stop()` ends it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="seqcore-serving-watcher", daemon=True)
            self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _watch(self):
        while not self._stop.wait(self.poll_interval):
            try:
                self.scan()
            except Exception:  # the watcher must outlive any one bad scan
                log.exception("scan of the export bases failed")

    def names(self):
        return sorted(self.bases)

    def versions(self, name):
        """{version: ModelVersion} now served for `name` (a snapshot)."""
        if name not in self._tables:
            raise RequestError(f"Servable not found for request: Latest({name})", status=404)
        return self._tables[name]

    def get(self, name, version=None):
        """The latest version of `name`, or `version`; 404 `RequestError` when none."""
        table = self._tables.get(name)
        if version is None:
            if not table:
                raise RequestError(f"Servable not found for request: Latest({name})", status=404)
            return table[max(table)]
        if not table or int(version) not in table:
            raise RequestError(f"Servable not found for request: Specific({name}, {version})", status=404)
        return table[int(version)]
