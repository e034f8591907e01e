"""Name registries: backbone classes and backbone presets.

The command line takes its choices from these registries, so registering a
preset adds a `--backbone` choice everywhere.
"""

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


#: Backbone name -> "module:Class" (imported only when used).
BACKBONES = Registry("backbone")
BACKBONES.register("recurrent", "seqcore.backbone:RecurrentBackbone")

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

    Example:

    >>> preset_kwargs("bigru", defaults={"dropout": 0.3}, units=32)
    {'dropout': 0.3, 'cell': 'gru', 'units': 32, 'bidirectional': True}
    """
    kwargs = {**(defaults or {}), **PRESETS.get(name)}
    kwargs.update({key: value for key, value in overrides.items() if value is not None})
    return kwargs
