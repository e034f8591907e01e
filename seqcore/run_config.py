"""The parts of a run's configuration that every task resolves the same way.

An app's `resolve_config` takes its own options by name and passes the
shared ones (the `backbone_options` and `training_options` of
`seqcore.cli.options`) through as keyword arguments; the two functions
here turn those into the `"backbone"` and `"training"` sections of the
run's `config.json`, so their names and defaults are written once.

Example:

>>> options = {"cell": "gru", "units": 32, "epochs": 3}
>>> backbone_config("lstm", {"dropout": 0.3}, options)
{'dropout': 0.3, 'cell': 'gru', 'units': 32}
>>> training_config(options, {"epochs": 10, "batch_size": 64, "patience": 2, "ema": 0.0})
{'epochs': 3, 'batch_size': 64, 'seed': 0, 'patience': 2, 'ema': 0.0}
"""

from seqcore.registry import preset_kwargs

#: Backbone option names (as `backbone_options` passes them) → `preset_kwargs` arguments.
BACKBONE_OPTIONS = {
    "cell": "cell",
    "units": "units",
    "layers": "num_layers",
    "bidirectional": "bidirectional",
    "dropout": "dropout",
    "recurrent_dropout": "recurrent_dropout",
    "pooling": "pooling",
    "embedding_dim": "embedding_dim",
}
#: Training option names; each missing one takes the task's default (seed: 0).
TRAINING_OPTIONS = ("epochs", "batch_size", "seed", "patience", "ema")


def backbone_config(preset, defaults, options):
    """The backbone's arguments: the task's `defaults`, then `preset`, then the options set.

    Args:
        preset: a backbone preset name (`seqcore backbones`).
        defaults: the task's own backbone values, which a preset overrides.
        options: keyword options; those named in `BACKBONE_OPTIONS` and not
            None override the preset.
    """
    overrides = {key: options.get(name) for name, key in BACKBONE_OPTIONS.items()}
    return preset_kwargs(preset, defaults=defaults, **overrides)


def training_config(options, defaults):
    """The `"training"` section: `options` over the task's `defaults` (its `settings.TRAINING`).

    A task whose defaults leave `epochs` or `patience` None resolves them
    from its data before training (the forecast app's step budget).
    """
    values = {"seed": 0, **defaults}
    values.update({name: options[name] for name in TRAINING_OPTIONS if options.get(name) is not None})
    return {
        "epochs": _optional_int(values["epochs"]),
        "batch_size": int(values["batch_size"]),
        "seed": int(values["seed"]),
        "patience": _optional_int(values["patience"]),
        "ema": float(values["ema"]),
    }


def _optional_int(value):
    return None if value is None else int(value)


def check_options(options, task_options=()):
    """Raises `TypeError` for a keyword that is neither shared nor one of the task's own.

    Example:

    >>> check_options({"units": 8, "epochs": 1})
    >>> check_options({"unit": 8})
    Traceback (most recent call last):
        ...
    TypeError: unexpected option(s): unit; expected backbone or training options, or one of: (none)
    """
    known = set(BACKBONE_OPTIONS) | set(TRAINING_OPTIONS) | set(task_options)
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"unexpected option(s): {', '.join(unknown)}; expected backbone or training options, "
            f"or one of: {', '.join(task_options) or '(none)'}"
        )

