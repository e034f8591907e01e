"""The speech app's settings that its command line and `commands.resolve_config` both read.

Declared once, here, in a module that imports nothing heavy, so that
`--help` stays fast and a default cannot differ between the two.
"""

#: Training defaults: the `--epochs`, `--batch-size`, `--patience` and `--ema` options.
TRAINING = {"epochs": 40, "batch_size": 64, "patience": 6, "ema": 0.995}

#: Feature defaults, the run's `"features"` section: the `--sample-rate` (None: the data's own rate),
#: `--clip-seconds`, `--features`, `--frame-ms`, `--hop-ms`, `--mel-bins` and `--mfccs` options.
FEATURES = {"sample_rate": None, "clip_seconds": 1.0, "features": "mfcc", "frame_ms": 30.0, "hop_ms": 10.0,
            "num_mel_bins": 40, "num_mfccs": 13}
