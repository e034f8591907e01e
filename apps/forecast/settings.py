"""The forecast app's settings that its command line and `commands.resolve_config` both read.

Declared once, here, in a module that imports nothing heavy, so that
`--help` stays fast and a default cannot differ between the two.
"""

#: Window defaults: the `--lookback`, `--horizon` and `--stride` options (steps).
WINDOW = {"lookback": 336, "horizon": 48, "stride": 2}
#: The naive forecast the direct head corrects, and how the history is read: the
#: `--base-seasons` and `--window-level` options (`seqcore.forecaster.Forecaster`).
BASE = {"base_seasons": 8, "window_level": True}
#: Default forecast quantiles: the `--quantiles` option (0.5 is always added).
QUANTILES = (0.1, 0.5, 0.9)

#: Training defaults: the `--epochs`, `--batch-size`, `--patience` and `--ema` options. Epochs and
#: patience left unset follow `STEP_BUDGET` once the training windows are counted.
TRAINING = {"epochs": None, "batch_size": 64, "patience": None, "ema": 0.99}
#: The default training length (`apps.forecast.step_budget`): `epochs` epochs, early-stopped with
#: `patience`, both stretched on a short series so that training takes at least `min_steps`
#: gradient steps (elecdemand's ten epochs).
STEP_BUDGET = {"epochs": 10, "patience": 2, "min_steps": 930}
#: Help of the training options whose default `STEP_BUDGET` sets.
TRAINING_HELP = {
    "epochs": f"[default: {STEP_BUDGET['epochs']}, more on a short series: at least "
              f"{STEP_BUDGET['min_steps']} gradient steps]",
    "patience": f"[default: {STEP_BUDGET['patience']}, stretched as the epochs are]",
}
