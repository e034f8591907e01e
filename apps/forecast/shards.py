"""A forecast run's windows as TFRecord shards: `prepare` writes them, `Shards` streams them to training.

`seqcore forecast prepare OUT` cuts the windows `train` would cut and
writes them with `seqcore.tfrecords`; `train --data tfrecord:OUT` then
streams them (`apps.forecast.training_data.ShardTraining`) without the CSV.
"""

import numpy as np

from apps.forecast.commands import TASK
from apps.forecast.run_series import check_window, load_data, mase_scales, train_rows
from seqcore.errors import SeqcoreError

#: The options a `tfrecord:DIR` source fixes: option, key of the run's configuration, key of the manifest.
SHARD_OPTIONS = (
    ("--time-col", ("data", "time_column"), "time_column"),
    ("--target", ("data", "target"), "targets"),
    ("--features", ("data", "features"), "features"),
    ("--id-col", ("data", "id_column"), "id_column"),
    ("--season", ("data", "season"), "season"),
    ("--lookback", ("window", "lookback"), "lookback"),
    ("--horizon", ("window", "horizon"), "horizon"),
    ("--stride", ("window", "stride"), "stride"),
)


class Shards:
    """A run's windows streamed from `prepare`'s TFRecord shards (`--data tfrecord:DIR`).

    The manifest holds everything training and evaluation need without the
    CSV: the columns, time step, season, window sizes, the per-series MASE
    scales and the training rows' per-column mean and variance. The input
    scaling is adapted on two rows built to have exactly that mean and
    variance, so a model trained from shards scales its inputs as one
    trained from the CSV would, with no pass over the training windows.

    Usage (a sketch; it needs a CSV, so it is not run as a test)::

        prepare(out, resolve_config(data="demand.csv", target="load", lookback=24, horizon=6))
        shards = Shards("tfrecord:" + str(out)); shards.window["lookback"]  -> 24
    """

    def __init__(self, source, workers=1):
        from seqcore.tfrecords import read_manifest

        manifest = read_manifest(source, task=TASK)
        meta = manifest["metadata"]
        self.source_dir, self.workers, self.meta = manifest["directory"], workers, meta
        self.window = {name: int(meta[name]) for name in ("lookback", "horizon", "stride", "season")}
        self.scales = np.asarray(meta["scales"], dtype="float64")
        self.counts = {name: entry["count"] for name, entry in manifest["splits"].items()}

    def run_config(self, config):
        """`config` with the shards' data and window settings; refuses options that contradict them."""
        from seqcore.tfrecords import PREFIX

        meta = self.meta
        fixed = {**meta, "targets": meta["columns"][: meta["num_targets"]],
                 "features": meta["columns"][meta["num_targets"]:]}
        for option, (section, key), name in SHARD_OPTIONS:
            given = config[section].get(key)
            if given is not None and given != fixed[name]:
                shown = lambda value: ",".join(value) if isinstance(value, list) else value  # noqa: E731
                raise SeqcoreError(
                    f"{option} conflicts with the shards in {self.source_dir}, which fix it; expected "
                    f"no {option} (or {shown(fixed[name]) or 'none'}), received: {shown(given) or 'none'}"
                )
        return {
            **config,
            "data": {**config["data"], "source": PREFIX + self.source_dir, "time_column": meta["time_column"],
                     "target": fixed["targets"], "features": fixed["features"],
                     "id_column": meta["id_column"], "season": meta["season"], "future_features": []},
            "window": dict(self.window),
            "columns": meta["columns"],
            "num_targets": meta["num_targets"],
            "step": meta["step"],
            "num_future": 0,
            "calendar_step": None,
            "source": f"TFRecord shards in {self.source_dir} ({meta['source']})",
        }

    def adapt_rows(self):
        """Two rows whose mean and (population) variance are the training rows' own."""
        mean = np.asarray(self.meta["mean"], dtype="float64")
        std = np.sqrt(np.asarray(self.meta["variance"], dtype="float64"))
        return np.stack([mean - std, mean + std])

    def pairs(self, split, workers=1):
        from seqcore.tfrecords import read_split

        return read_split(self.source_dir, split, workers=workers).map(lambda e: (e["history"], e["future"]))

    def training_dataset(self, batch_size, seed, shuffle_buffer=10000):
        import tensorflow as tf

        dataset = self.pairs("train", self.workers).shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation_dataset(self, split, batch_size=256):
        return self.pairs(split, self.workers).batch(batch_size)

    def arrays(self, split):
        """A split's `(history, future, segment)` as NumPy arrays, streamed in batches."""
        from seqcore.tfrecords import read_split

        batches = list(read_split(self.source_dir, split).batch(1024).as_numpy_iterator())
        return tuple(np.concatenate([b[name] for b in batches]) for name in ("history", "future", "segment"))

    def report(self, model, split):
        """Metrics of the model and the naive baselines on a split, with the stored MASE scales."""
        from apps.forecast.evaluation import compare_forecasts, quantile_forecast

        history, truth, segments = self.arrays(split)
        quantiles = quantile_forecast(model, history)
        return compare_forecasts(model, self.scales, self.window, history, truth, segments, quantiles)


#: Seed of the order the training windows are written in.
SHARD_SEED = 1337


def window_examples(part_list, lookback, horizon, num_targets, stride=1, seed=None):
    """The windows `window_arrays` cuts, as shard examples; in a seeded random order when `seed` is given.

    Each window is a view of its series' values, so listing them copies nothing.
    """
    from apps.forecast.windows import window_count

    index = [(p, i) for p in part_list for i in range(window_count(len(p.values), lookback, horizon, stride))]
    order = np.random.default_rng(seed).permutation(len(index)) if seed is not None else range(len(index))
    examples = []
    for k in order:
        p, i = index[k]
        window = p.values[i * stride : i * stride + lookback + horizon]
        examples.append({"history": window[:lookback], "future": window[lookback:, :num_targets],
                         "segment": p.segment})
    return examples


def prepare(out, config, shards=8, overwrite=False, echo=None):
    """Writes the windows `train` would cut from `config`'s source as TFRecord shards; returns the manifest.

    Train windows are `stride` apart and written in a seeded random order
    (a stream then mixes series and seasons from its first batch);
    validation and test windows take every origin, in time order. Each
    example is `history` float32 `[lookback, columns]`, `future` float32
    `[horizon, targets]` and `segment` int64 (the series' index). The
    manifest's metadata holds the columns, step, season, window sizes,
    per-series MASE scales and the training rows' mean and variance;
    train on the shards with `--data tfrecord:OUT`.

    Usage (a sketch; it needs a CSV, so it is not run as a test)::

        config = resolve_config(data="demand.csv", time_column="time", target="load",
                                lookback=24, horizon=6)
        prepare("shards", config, shards=2)["splits"]["test"]["count"]
    """
    from apps.forecast.windows import parts
    from seqcore.tfrecords import is_tfrecord_source, write_shards

    if is_tfrecord_source(config["data"]["source"]):
        raise SeqcoreError(
            "prepare reads a CSV or built-in source; expected --data elecdemand, taylor, sunspots or a "
            f"file, received TFRecord shards: {config['data']['source']}"
        )
    if config["data"].get("future_features") or config["data"].get("country"):
        given = config["data"].get("future_features") or []
        raise SeqcoreError(
            "prepare writes windows of past covariates only; expected no --future-features or --country, "
            "received: " + ", ".join([*given, *([f"--country {config['data']['country']}"]
                                               if config["data"].get("country") else [])])
        )
    series = load_data(config["data"], past_only=True, echo=echo)
    window = {**config["window"], "season": series.season}
    check_window(window)
    lookback, horizon, stride = window["lookback"], window["horizon"], window["stride"]
    split = parts(series, lookback, horizon)
    rows = train_rows(series, split).astype("float64")
    targets = series.num_targets
    features = {"history": {"dtype": "float32", "shape": [lookback, len(series.columns)]},
                "future": {"dtype": "float32", "shape": [horizon, targets]},
                "segment": {"dtype": "int64", "shape": []}}
    data = config["data"]
    metadata = {
        "task": TASK, "columns": series.columns, "num_targets": targets, "step": series.step,
        "season": series.season, "source": series.source, "lookback": lookback, "horizon": horizon,
        "stride": stride, "time_column": data["time_column"], "id_column": data["id_column"],
        "scales": mase_scales(series, split, series.season).tolist(),
        "mean": rows.mean(axis=0).tolist(), "variance": rows.var(axis=0).tolist(),
    }
    return write_shards(
        out,
        {
            "train": window_examples(split["train"], lookback, horizon, targets, stride, seed=SHARD_SEED),
            "validation": window_examples(split["validation"], lookback, horizon, targets),
            "test": window_examples(split["test"], lookback, horizon, targets),
        },
        features,
        shards=shards,
        metadata=metadata,
        overwrite=overwrite,
    )


