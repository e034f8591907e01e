"""`--plot out.png`: history, truth, forecast and its interval, one panel per target.

Matplotlib is imported only here, only when a plot is asked for; it comes
with the `plot` extra (`pip install -e ".[plot]"`).
"""

from pathlib import Path

import numpy as np

from seqcore.atomic import atomic_file
from seqcore.errors import SeqcoreError


def plot_forecast(path, history, quantiles, levels, targets, times=None, truth=None, title=None):
    """Writes a PNG: history `(lookback, targets)`, forecast quantiles `(horizon, targets, Q)`.

    Args:
        path: the `.png` file to write (atomically).
        levels: the quantile levels of the last axis; 0.5 is the forecast
            line, the outermost pair the shaded interval.
        targets: the target names, one panel each.
        times: timestamps of history and forecast steps together, or None
            to number the steps.
        truth: the actual future values `(horizon, targets)`, if known.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise SeqcoreError(
            '--plot needs matplotlib, which is not installed; run: pip install -e ".[plot]"'
        ) from None
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise SeqcoreError(f"--plot writes a PNG image; expected a .png path; received: {path}")
    if not path.parent.is_dir():
        raise SeqcoreError(f"cannot write {path}: folder {path.parent} does not exist")
    lookback, horizon = len(history), len(quantiles)
    if times is None:
        x_past, x_future = np.arange(-lookback + 1, 1), np.arange(1, horizon + 1)
    else:
        x_past, x_future = times[:lookback], times[lookback : lookback + horizon]
    median = list(levels).index(0.5)
    figure, axes = plt.subplots(len(targets), 1, figsize=(10, 3.2 * len(targets)), squeeze=False)
    for t, (axis, name) in enumerate(zip(axes[:, 0], targets)):
        axis.plot(x_past, history[:, t], color="0.3", linewidth=1, label="history")
        if truth is not None:
            axis.plot(x_future, truth[:, t], color="black", linewidth=1.5, label="truth")
        if len(levels) > 1:
            axis.fill_between(
                x_future, quantiles[:, t, 0], quantiles[:, t, -1], color="tab:blue", alpha=0.25,
                label=f"{levels[0]:.0%} - {levels[-1]:.0%} interval",
            )
        axis.plot(x_future, quantiles[:, t, median], color="tab:blue", linewidth=1.5, label="forecast")
        axis.set_ylabel(name)
        axis.legend(loc="upper left", fontsize="small")
    if title:
        axes[0, 0].set_title(title)
    figure.autofmt_xdate()
    figure.tight_layout()
    try:
        with atomic_file(path) as temporary:
            figure.savefig(temporary, dpi=100)
    finally:
        plt.close(figure)
    return path
