"""Name registries: backbone classes and backbone presets.

The command line takes its choices from these registries, so registering a
preset adds a `--backbone` choice everywhere.
"""

import importlib

from seqcore.errors import SeqcoreError


class Registry:
    """A name -> value mapping that refuses duplicates and lists names on a miss.

    Args:
        kind: what the registry holds, used in error messages.

    Example:

    >>> colors = Registry("color")
    >>> colors.register("red", "#f00")
    >>> colors.get("red")
    '#f00'
    >>> colors.get("blue")
    Traceback (most recent call last):
    ...
    seqcore.errors.SeqcoreError: unknown color 'blue'; expected one of: red
    """

    def __init__(self, kind):
        self.kind = kind
        self._entries = {}

    def register(self, name, value):
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = value

    def get(self, name):
        if name not in self._entries:
            raise SeqcoreError(
                f"unknown {self.kind} {name!r}; expected one of: {', '.join(self.names())}"
            )
        return self._entries[name]

    def names(self):
        return sorted(self._entries)

    def __contains__(self, name):
        return name in self._entries


#: Recurrent cell names, and how a sequence is pooled into one vector.
CELL_TYPES = ("rnn", "lstm", "gru")
POOLING_MODES = ("last", "mean", "max", "attention")
#: How a `seqcore.forecaster.Forecaster` emits its horizon: all steps at once, or one at a time.
FORECAST_HEADS = ("direct", "autoregressive")

#: Backbone name -> "module:Class" (imported only when used, so that this
#: module and the command line's help stay free of TensorFlow).
BACKBONES = Registry("backbone")
BACKBONES.register("recurrent", "seqcore.backbone:RecurrentBackbone")
BACKBONES.register("crnn", "seqcore.crnn:ConvRecurrentBackbone")


def backbone_class(name):
    """Imports and returns a registered backbone class.

    Example:

    >>> backbone_class("recurrent").__name__
    'RecurrentBackbone'
    """
    module_name, class_name = BACKBONES.get(name).split(":")
    return getattr(importlib.import_module(module_name), class_name)

#: Preset name -> plain keyword arguments of `RecurrentBackbone`.
PRESETS = Registry("backbone preset")

_PRESETS = {
    "rnn": {"cell": "rnn", "units": 64},
    "lstm": {"cell": "lstm", "units": 64},
    "gru": {"cell": "gru", "units": 64},
    "stacked-lstm": {"cell": "lstm", "units": 64, "num_layers": 2},
    "stacked-gru": {"cell": "gru", "units": 64, "num_layers": 2},
    "bilstm": {"cell": "lstm", "units": 64, "bidirectional": True},
    "bigru": {"cell": "gru", "units": 64, "bidirectional": True},
    "lstm-gru": {"cell": ["lstm", "gru"], "units": 64},
}
for _name, _kwargs in _PRESETS.items():
    PRESETS.register(_name, _kwargs)


def preset_kwargs(name, defaults=None, **overrides):
    """A preset's backbone arguments: task defaults, then the preset, then non-None overrides.

    A list of cells sets the depth unless `num_layers` is given too, in
    which case the two must agree.

    Example:

    >>> preset_kwargs("bigru", defaults={"dropout": 0.3}, units=32)
    {'dropout': 0.3, 'cell': 'gru', 'units': 32, 'bidirectional': True}
    >>> preset_kwargs("stacked-lstm", cell=["lstm", "gru", "rnn"])["num_layers"]
    3
    """
    kwargs = {**(defaults or {}), **PRESETS.get(name)}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if isinstance(overrides.get("cell"), (list, tuple)) and "num_layers" not in overrides:
        kwargs.pop("num_layers", None)
    kwargs.update(overrides)
    cells = kwargs.get("cell")
    if isinstance(cells, (list, tuple)):
        kwargs.setdefault("num_layers", len(cells))
        if kwargs["num_layers"] != len(cells):
            raise SeqcoreError(
                f"--layers {kwargs['num_layers']} does not match the {len(cells)} cells "
                f"{','.join(cells)}; expected --layers {len(cells)}, or one cell name "
                "repeated over every layer"
            )
    return kwargs
