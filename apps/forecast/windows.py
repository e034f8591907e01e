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


def parts(series, lookback, horizon):
    """`{part name: [Part per series]}` of a `Series`, split chronologically."""
    result = {name: [] for name in PARTS}
    for index, segment in enumerate(series.segments):
        where = f"series {segment.id!r}" if len(series.segments) > 1 else "the series"
        train_end, validation_end = split_bounds(len(segment.values), lookback, horizon, where)
        starts = {"train": lookback, "validation": train_end, "test": validation_end}
        ends = {"train": train_end, "validation": validation_end, "test": len(segment.values)}
        for name in PARTS:
            first, end = starts[name], ends[name]
            result[name].append(Part(index, segment.values[first - lookback : end], first, end))
    return result


def window_dataset(values, lookback, horizon, num_targets, stride=1, batch_size=64,
                   shuffle_seed=None):
    """A batched `tf.data.Dataset` of `(history, future)` windows over `values` `(steps, columns)`.

    Returns:
        history `(batch, lookback, columns)` and future
        `(batch, horizon, num_targets)`, float32, origins `stride` apart,
        in time order unless `shuffle_seed` is given.

    Example:

    >>> values = np.arange(20, dtype="float32").reshape(10, 2)
    >>> x, y = next(iter(window_dataset(values, lookback=3, horizon=2, num_targets=1)))
    >>> x.shape, y.shape, float(y[0, 0, 0])
    (TensorShape([6, 3, 2]), TensorShape([6, 2, 1]), 6.0)
    """
    import keras

    dataset = keras.utils.timeseries_dataset_from_array(
        np.asarray(values, dtype="float32"),
        targets=None,
        sequence_length=lookback + horizon,
        sequence_stride=stride,
        shuffle=shuffle_seed is not None,
        seed=shuffle_seed,
        batch_size=batch_size,
    )
    return dataset.map(lambda window: (window[:, :lookback], window[:, lookback:, :num_targets]))


def training_dataset(part_list, lookback, horizon, num_targets, stride, batch_size, seed=None):
    """Windows of every series' part as one dataset, shuffled (by window) when `seed` is given."""
    import tensorflow as tf

    datasets = [
        window_dataset(p.values, lookback, horizon, num_targets, stride, batch_size, seed)
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


def window_arrays(part_list, lookback, horizon, num_targets, stride=1):
    """All windows of the parts as NumPy arrays, in time order.

    Returns:
        `(history, future, segment, origin)`: history `(n, lookback, columns)`,
        future `(n, horizon, num_targets)`, the series index of each window
        and the row (of its series) of its first target.
    """
    histories, futures, segments, origins = [], [], [], []
    for p in part_list:
        count = window_count(len(p.values), lookback, horizon, stride)
        if not count:
            continue
        for x, y in window_dataset(p.values, lookback, horizon, num_targets, stride, batch_size=1024):
            histories.append(x.numpy())
            futures.append(y.numpy())
        segments.append(np.full(count, p.segment))
        origins.append(p.first_target + stride * np.arange(count))
    if not histories:
        return None
    return (
        np.concatenate(histories),
        np.concatenate(futures),
        np.concatenate(segments),
        np.concatenate(origins),
    )
