"""seqcore: swappable recurrent backbones (RNN, LSTM, GRU) and task heads for Keras 3.

Importing `seqcore` is cheap; the Keras classes load on first use:

>>> import seqcore
>>> seqcore.__version__
'0.1.0'
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "RecurrentBackbone": "seqcore.backbone",
    "SequencePooling": "seqcore.pooling",
    "SequenceClassifier": "seqcore.classifier",
    "Task": "seqcore.task",
    "SeqcoreError": "seqcore.errors",
    "PRESETS": "seqcore.registry",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqcore' has no attribute {name!r}")
