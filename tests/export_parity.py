"""Runs a SavedModel's signatures in a process that has TensorFlow and NumPy but cannot import the project.

The export tests compare these outputs by value with the Keras model's on
the same raw inputs. The process runs with `python -I` (no PYTHONPATH, no
user site) from a folder outside the repository, with only PATH and the
TensorFlow log level in its environment; because the project is installed
in the environment as an editable package, `seqcore` and `apps` are also
removed from its import system, and the process checks that `import seqcore`
fails and that nothing of the project was imported when it is done.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
sys.modules["seqcore"] = None  # the project is out of reach: loading must not need it
sys.modules["apps"] = None
try:
    import seqcore
except ImportError:
    pass
else:
    raise SystemExit("seqcore is importable in the TensorFlow-only process")
import numpy as np
import tensorflow as tf

export, calls, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
loaded = tf.saved_model.load(export)
results = {}
for number, (signature, inputs) in enumerate(calls):
    arrays = np.load(inputs) if inputs else {}
    outputs = loaded.signatures[signature](**{name: tf.constant(arrays[name]) for name in arrays})
    for name, value in outputs.items():
        value = np.asarray(value.numpy())
        if value.dtype == object or value.dtype.kind == "S":  # strings come back as bytes
            value = np.vectorize(lambda b: b.decode("utf-8"), otypes=[str])(value)
        results[f"{number}/{name}"] = value
np.savez(out, **results)
project = sorted(m for m in sys.modules if m.split(".")[0] in ("seqcore", "apps") and sys.modules[m] is not None)
assert not project, project
print("ok")
"""


def serve_with_tensorflow_alone(export_dir, *calls, timeout=240):
    """Calls signatures of the SavedModel at `export_dir` in a TensorFlow-only process.

    Args:
        export_dir: a SavedModel folder (an export's version folder).
        *calls: `(signature_name, inputs)` pairs, `inputs` a dict of NumPy
            arrays (of the signature's dtypes; strings as `str` arrays).

    Returns:
        One dict of NumPy arrays per call, string outputs as `str` arrays.

    Example:

    >>> # (served,) = serve_with_tensorflow_alone(path, ("serving_default", {"text": np.array(["hi"])}))
    """
    with tempfile.TemporaryDirectory(prefix="tf-alone-") as folder:
        folder = Path(folder)
        assert REPO not in folder.parents  # the process starts outside the repository
        files = []
        for number, (signature, inputs) in enumerate(calls):
            path = ""
            if inputs:
                path = str(folder / f"inputs{number}.npz")
                np.savez(path, **{name: np.asarray(value) for name, value in inputs.items()})
            files.append([signature, path])
        out = folder / "outputs.npz"
        result = subprocess.run(
            [sys.executable, "-I", "-c", SCRIPT, str(Path(export_dir).resolve()), json.dumps(files), str(out)],
            capture_output=True, text=True, cwd=folder, timeout=timeout,
            env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-4000:]
        with np.load(out) as saved:
            served = [{} for _ in calls]
            for key in saved.files:
                number, name = key.split("/", 1)
                served[int(number)][name] = saved[key]
    return served
