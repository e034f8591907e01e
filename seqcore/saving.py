"""Loading `.keras` files written by seqcore, with no `custom_objects`.

Keras finds a registered class only once the module that registers it has
been imported. A `.keras` file names, for every object, the module that
defines it; `load_model` imports those modules (seqcore's and its
registered apps' only, see `seqcore.apps`) and then lets Keras load the file.
"""

import importlib
import json
import zipfile
from pathlib import Path

import keras

from seqcore.apps import trusted_packages
from seqcore.errors import SeqcoreError


def registering_modules(path):
    """The seqcore / app modules that a `.keras` file's objects come from.

    Example:

    >>> import tempfile, numpy as np
    >>> from seqcore.backbone import RecurrentBackbone
    >>> path = tempfile.mkdtemp() + "/backbone.keras"
    >>> RecurrentBackbone(cell="gru", units=2, num_features=1).save(path)
    >>> registering_modules(path)
    ['seqcore.backbone']
    """
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise SeqcoreError(
            f"cannot read model file {path}: {error}; expected a .keras file written by seqcore"
        ) from None
    found = set()
    trusted = trusted_packages()

    def walk(node):
        if isinstance(node, dict):
            module = node.get("module")
            if isinstance(module, str) and module.split(".")[0] in trusted:
                found.add(module)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return sorted(found)


def load_model(path, compile=False):
    """Loads a seqcore `.keras` model file, for inference unless `compile=True`.

    Loading runs in Keras' safe mode: a file that would need code to be
    deserialized (a `Lambda` layer holding Python bytecode) is refused with
    `SeqcoreError`. The optimizer state is not restored by default; call
    `model.compile()` (a task's defaults) before training further.

    Example:

    >>> import tempfile, numpy as np
    >>> from seqcore.backbone import RecurrentBackbone
    >>> path = tempfile.mkdtemp() + "/backbone.keras"
    >>> RecurrentBackbone(cell="lstm", units=2, num_features=1).save(path)
    >>> load_model(path)(np.ones((1, 3, 1), "float32"))["pooled_output"].shape
    TensorShape([1, 2])
    """
    for module in registering_modules(path):
        importlib.import_module(module)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as error:
        if "safe_mode" not in str(error):
            raise
        raise SeqcoreError(
            f"refusing to load {path}: it needs unsafe deserialization (code in a Lambda "
            "layer); expected a model made only of registered layers"
        ) from None


def load_run(run_dir, task, compile=False):
    """A finished run's best model and its configuration, refusing another task's run.

    Args:
        run_dir: the run directory written by `train`.
        task: the app's name; a run of any other task is refused.
        compile: restore the optimizer state as well (to train further).

    Returns:
        `(model, config)`.

    Raises:
        SeqcoreError: `run_dir` is not a finished run of `task`.
    """
    from seqcore.runs import open_run

    config = open_run(run_dir, task)
    return load_model(Path(run_dir) / "model.keras", compile=compile), config
