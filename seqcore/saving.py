"""Loading `.keras` files written by seqcore, with no `custom_objects`.

Keras finds a registered class only once the module that registers it has
been imported; `load_model` imports them all first.
"""

import importlib

import keras

#: Modules whose import registers Keras-serializable classes and functions.
#: A task app adds its preprocessing module here.
REGISTERING_MODULES = [
    "seqcore.pooling",
    "seqcore.backbone",
    "seqcore.classifier",
    "seqcore.forecaster",
    "apps.sentiment.preprocessing",
]


def load_model(path, compile=False):
    """Loads a seqcore `.keras` model file, for inference unless `compile=True`.

    The optimizer state is not restored by default; call `model.compile()`
    (a task's defaults) before training further.

    Example:

    >>> # model = load_model("runs/sentiment/model.keras")
    >>> # model.predict(["What a great film!"])
    """
    for module in REGISTERING_MODULES:
        importlib.import_module(module)
    return keras.saving.load_model(path, compile=compile)
