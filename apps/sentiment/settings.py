"""The sentiment app's settings that its command line and `commands.resolve_config` both read.

Declared once, here, in a module that imports nothing heavy, so that
`--help` stays fast and a default cannot differ between the two.
"""

#: Training defaults: the `--epochs`, `--batch-size`, `--patience` and `--ema` options.
TRAINING = {"epochs": 3, "batch_size": 64, "patience": 2, "ema": 0.0}
