"""A run's series as its configuration names them: loaded, checked against the window, cut into parts.

Training, evaluation and `prepare` all read a run's data the same way:
`load_data` (the run's source, or another with the same columns), the
window check, the rows the input scaling is fitted on, the per-series
MASE denominators, and the windows of one part as the model reads them.
"""

import numpy as np

from apps.forecast.data import BUILTIN_NAMES, builtin_defaults, load_series
from apps.forecast.time_index import step_seconds
from seqcore.errors import SeqcoreError


def load_data(data_config, source=None, future_rows=0, past_only=False, echo=None):
    """Loads the run's source (or `source` with the same columns), passing each data warning to `echo`.

    A run written before known-future covariates existed has no
    `future_features` in its configuration: its covariates are all past
    ones, as they were then (the built-in elecdemand's included).
    `past_only` reads the built-in default future covariates as past ones
    (for models that read no future inputs).
    """
    features, future = data_config["features"], data_config.get("future_features", "legacy")
    if future == "legacy" or (past_only and future is None):
        name = source or data_config["source"]
        if features is None and name in BUILTIN_NAMES:
            _, past, known = builtin_defaults(name)
            features = past + known
        future = ""
    series = load_series(
        source or data_config["source"], time_column=data_config["time_column"], target=data_config["target"],
        features=features, id_column=data_config["id_column"], season=data_config["season"],
        future_features=future, future_rows=future_rows, country=data_config.get("country"),
    )
    for warning in series.warnings:
        (echo or (lambda line: None))(warning)
    return series


def series_like_run(config, data=None, echo=None):
    """The run's series, or `data` read with the run's columns (refused when they differ)."""
    series = load_data(config["data"], source=data, past_only=config["head"]["kind"] != "direct", echo=echo)
    if series.columns != config["columns"]:
        raise SeqcoreError(
            f"the columns of {data} ({', '.join(series.columns)}) differ from the model's; "
            f"expected: {', '.join(config['columns'])}"
        )
    return series


def calendar_step(config, series):
    """Seconds between steps when the model reads calendar features, else None.

    On by default (`calendar` None) for the direct head wherever the series
    has a fixed time step; `calendar` True refuses a series without one.
    """
    wanted = config["head"].get("calendar")
    if wanted is False or config["head"]["kind"] != "direct":
        return None
    seconds = step_seconds(series.step) if series.segments[0].times is not None else None
    if wanted and seconds is None:
        raise SeqcoreError(
            "--calendar needs a time index with a fixed step (minutes, hours, days); expected "
            f"--time-col naming the timestamps; received: step {series.step or 'none (no --time-col)'}"
        )
    return seconds


def check_window(window):
    """Refuses a lookback shorter than the season (the seasonal naive forecast reads one season back)."""
    season = window["season"]
    if season > window["lookback"]:
        raise SeqcoreError(
            f"--lookback {window['lookback']} is shorter than the season of {season} steps; "
            "expected a lookback of at least one season (or a smaller --season)"
        )


def spans_two_years(series, split):
    """Whether a training part spans two years: else part of the day of year is never seen in training."""
    for segment, part in zip(series.segments, split["train"]):
        if segment.times is not None and segment.times[part.end - 1] - segment.times[0] >= np.timedelta64(730, "D"):
            return True
    return False


def train_rows(series, split):
    """Every series' rows up to the end of its train part: what the input scaling is fitted on."""
    return np.concatenate([s.values[: p.end] for s, p in zip(series.segments, split["train"])])


def mase_scales(series, split, season):
    """MASE denominators per series: the seasonal naive's in-sample MAE on its training part."""
    from apps.forecast.metrics import mase_scale

    return np.stack([
        mase_scale(segment.values[: p.end, : series.num_targets], season)
        for segment, p in zip(series.segments, split["train"])
    ])


def series_windows(series, split, part, window, stride=1, origins=None):
    """The `Windows` of one part (every origin, or `origins`), refusing a part with none."""
    from apps.forecast.windows import window_arrays

    windows = window_arrays(split[part], window["lookback"], window["horizon"], series.num_targets, stride,
                            origins=origins)
    if windows is None:
        raise SeqcoreError(f"the {part} part has no complete window; expected a longer series")
    return windows


def model_inputs(model, windows):
    """The inputs `model` reads from `Windows`: the history alone, or with future covariates and time."""
    return windows.inputs(getattr(model, "future_features", 0), bool(getattr(model, "calendar_step", None)))
