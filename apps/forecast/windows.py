"""Sliding windows (history, future targets) over the chronological parts of a series.

Windows are cut with `keras.utils.timeseries_dataset_from_array`, one
`lookback + horizon` slice per origin, then split into the history (every
column, raw units) and the future of the target columns. A part's windows
take their history from up to `lookback` rows before the part, but their
targets lie inside it, so no target is seen by two parts.
"""

import dataclasses

import numpy as np

from apps.forecast.data import split_bounds
from apps.forecast.time_index import epoch_seconds

PARTS = ("train", "validation", "test")


@dataclasses.dataclass
class Part:
    """The rows of one part of one series that windows are cut from.

    `values[first_target - lookback : end]`: the windows' targets start at
    row `first_target` (of the whole series) and end before `end`.
    """

    segment: int
    values: np.ndarray
    first_target: int
    end: int
    #: Epoch seconds (float64) of each row of `values`, or None without a time index.
    times: np.ndarray = None


def parts(series, lookback, horizon):
    """`{part name: [Part per series]}` of a `Series`, split chronologically."""
    result = {name: [] for name in PARTS}
    for index, segment in enumerate(series.segments):
        where = f"series {segment.id!r}" if len(series.segments) > 1 else "the series"
        train_end, validation_end = split_bounds(len(segment.values), lookback, horizon, where)
        starts = {"train": lookback, "validation": train_end, "test": validation_end}
        ends = {"train": train_end, "validation": validation_end, "test": len(segment.values)}
        seconds = None if segment.times is None else epoch_seconds(segment.times)
        for name in PARTS:
            first, end = starts[name], ends[name]
            times = None if seconds is None else seconds[first - lookback : end]
            result[name].append(Part(index, segment.values[first - lookback : end], first, end, times))
    return result


def split_window(window, lookback, num_targets, num_future=0, calendar=False):
    """A `(batch, lookback + horizon, columns [+ time])` window -> `(model inputs, future targets)`.

    Without future covariates or calendar the inputs are the history alone;
    otherwise a dict of `history`, `future` (the known-future covariates
    over the horizon) and `time` (epoch seconds of the first forecast step,
    read from the extra last column the window then carries).
    """
    import tensorflow as tf

    columns = window.shape[-1] - (1 if calendar else 0)
    history = tf.cast(window[:, :lookback, :columns], tf.float32)
    targets = tf.cast(window[:, lookback:, :num_targets], tf.float32)
    if not num_future and not calendar:
        return history, targets
    inputs = {"history": history}
    if num_future:
        inputs["future"] = tf.cast(window[:, lookback:, columns - num_future : columns], tf.float32)
    if calendar:
        inputs["time"] = tf.cast(window[:, lookback, columns], tf.float64)
    return inputs, targets


def window_dataset(values, lookback, horizon, num_targets, stride=1, batch_size=64,
                   shuffle_seed=None, num_future=0, times=None):
    """A batched `tf.data.Dataset` of `(inputs, future)` windows over `values` `(steps, columns)`.

    Returns:
        history `(batch, lookback, columns)` and future
        `(batch, horizon, num_targets)`, float32, origins `stride` apart,
        in time order unless `shuffle_seed` is given. With `num_future`
        known-future covariates (the last columns) or `times` (epoch
        seconds per row, for calendar features) the inputs are a dict; see
        `split_window`.

    Example:

    >>> values = np.arange(20, dtype="float32").reshape(10, 2)
    >>> x, y = next(iter(window_dataset(values, lookback=3, horizon=2, num_targets=1)))
    >>> x.shape, y.shape, float(y[0, 0, 0])
    (TensorShape([6, 3, 2]), TensorShape([6, 2, 1]), 6.0)
    """
    import keras

    calendar = times is not None
    data = np.asarray(values, dtype="float32")
    if calendar:
        data = np.concatenate([data.astype("float64"), np.asarray(times, "float64")[:, None]], axis=-1)
    dataset = keras.utils.timeseries_dataset_from_array(
        data,
        targets=None,
        sequence_length=lookback + horizon,
        sequence_stride=stride,
        shuffle=shuffle_seed is not None,
        seed=shuffle_seed,
        batch_size=batch_size,
    )
    return dataset.map(lambda window: split_window(window, lookback, num_targets, num_future, calendar))


def training_dataset(part_list, lookback, horizon, num_targets, stride, batch_size, seed=None,
                     num_future=0, calendar=False):
    """Windows of every series' part as one dataset, shuffled (by window) when `seed` is given."""
    import tensorflow as tf

    datasets = [
        window_dataset(p.values, lookback, horizon, num_targets, stride, batch_size, seed,
                       num_future=num_future, times=p.times if calendar else None)
        for p in part_list
        if len(p.values) >= lookback + horizon
    ]
    if len(datasets) == 1:
        return datasets[0]
    unbatched = [d.unbatch() for d in datasets]
    if seed is None:
        combined = unbatched[0]
        for other in unbatched[1:]:
            combined = combined.concatenate(other)
    else:
        counts = [window_count(len(p.values), lookback, horizon, stride) for p in part_list]
        weights = [c / sum(counts) for c in counts]
        combined = tf.data.Dataset.sample_from_datasets(unbatched, weights, seed=seed)
    return combined.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def window_count(length, lookback, horizon, stride=1):
    """How many windows `window_dataset` cuts from `length` rows.

    Example:

    >>> window_count(10, 3, 2), window_count(10, 3, 2, stride=2)
    (6, 3)
    """
    span = lookback + horizon
    return 0 if length < span else (length - span) // stride + 1


@dataclasses.dataclass
class Windows:
    """Windows cut from parts, as NumPy arrays in time order.

    Attributes:
        history: `(n, lookback, columns)` raw history, every column.
        truth: `(n, horizon, num_targets)` the future targets.
        segment: `(n,)` the series index of each window.
        origin: `(n,)` the row (of its series) of each window's first target.
        future: `(n, horizon, columns)` every column over the horizon (the
            known-future covariates are its last columns).
        time: `(n,)` epoch seconds of the first target, or None.
    """

    history: np.ndarray
    truth: np.ndarray
    segment: np.ndarray
    origin: np.ndarray
    future: np.ndarray
    time: np.ndarray = None

    def __len__(self):
        return len(self.history)

    def take(self, chosen):
        """The windows at indices or mask `chosen`."""
        return Windows(self.history[chosen], self.truth[chosen], self.segment[chosen], self.origin[chosen],
                       self.future[chosen], None if self.time is None else self.time[chosen])

    def inputs(self, num_future=0, calendar=False):
        """The model's inputs: the history alone, or a dict with `future` and / or `time`."""
        if not num_future and not calendar:
            return self.history
        inputs = {"history": self.history}
        if num_future:
            inputs["future"] = self.future[..., self.future.shape[-1] - num_future :]
        if calendar:
            if self.time is None:
                raise ValueError("calendar features need a time index; these windows have none")
            inputs["time"] = self.time
        return inputs


def window_arrays(part_list, lookback, horizon, num_targets, stride=1, origins=None):
    """All windows of the parts (origins `stride` apart), or those at `origins`, as `Windows`.

    Args:
        origins: optional `{part index: rows of first targets}` choosing the windows.

    Returns:
        A `Windows`, or None when no part has a complete window.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    chosen = {name: [] for name in ("history", "truth", "segment", "origin", "future", "time")}
    for index, p in enumerate(part_list):
        count = window_count(len(p.values), lookback, horizon, stride)
        if not count:
            continue
        rows = p.first_target + stride * np.arange(count) if origins is None else np.asarray(origins[index])
        if not len(rows):
            continue
        starts = rows - p.first_target  # index into p.values of each window's first history row
        windows = sliding_window_view(p.values, lookback + horizon, axis=0)[starts].transpose(0, 2, 1)
        chosen["history"].append(windows[:, :lookback])
        chosen["truth"].append(windows[:, lookback:, :num_targets])
        chosen["future"].append(windows[:, lookback:])
        chosen["segment"].append(np.full(len(rows), p.segment))
        chosen["origin"].append(rows)
        if p.times is not None:
            chosen["time"].append(p.times[starts + lookback])
    if not chosen["history"]:
        return None
    joined = {name: np.concatenate(items) if items else None for name, items in chosen.items()}
    if joined["time"] is not None and len(joined["time"]) != len(joined["history"]):
        joined["time"] = None
    return Windows(**{name: (np.ascontiguousarray(value, dtype=value.dtype) if value is not None else None)
                      for name, value in joined.items()})
