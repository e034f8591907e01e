"""The forecast app's settings that its command line and `commands.resolve_config` both read.

Declared once, here, in a module that imports nothing heavy, so that
`--help` stays fast and a default cannot differ between the two.
"""

#: Window defaults: the `--lookback`, `--horizon` and `--stride` options (steps).
WINDOW = {"lookback": 336, "horizon": 48, "stride": 2}
#: Default forecast quantiles: the `--quantiles` option (0.5 is always added).
QUANTILES = (0.1, 0.5, 0.9)

#: Training defaults: the `--epochs`, `--batch-size`, `--patience` and `--ema` options.
TRAINING = {"epochs": 10, "batch_size": 64, "patience": 2, "ema": 0.0}
