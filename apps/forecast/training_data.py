"""A forecast run's training data as `seqcore.train_flow` hooks: a series in memory, or TFRecord shards.

`open_training_data` chooses once, from the run's source: `SeriesTraining`
cuts windows from a built-in series or a CSV (and calibrates the quantiles
on the validation part), `ShardTraining` streams the windows `prepare`
wrote. Both complete the run's configuration from the data (columns,
window, step, and the epochs and patience left unset, from the step budget
of `apps.forecast.step_budget`) and answer the same methods.
"""

from apps.forecast.run_series import calendar_step, check_window, load_data, spans_two_years, train_rows
from apps.forecast.step_budget import resolve_training
from seqcore.train_flow import TrainingData

#: Batch size of the validation windows.
VALIDATION_BATCH = 256


def _global_batch(config, distribution):
    batch_size = config["training"]["batch_size"]
    return distribution.global_batch_size(batch_size) if distribution is not None else batch_size


def open_training_data(config, distribution, echo=None):
    """The `TrainingData` of the run's source: TFRecord shards or a series in memory."""
    from seqcore.tfrecords import is_tfrecord_source

    if is_tfrecord_source(config["data"]["source"]):
        return ShardTraining(config, distribution)
    return SeriesTraining(config, distribution, echo)


class SeriesTraining(TrainingData):
    """Windows cut from a series in memory (a built-in source or a CSV), split 70 / 15 / 15 in time.

    Args:
        config: the run's configuration (`resolve_config`).
        distribution: the `seqcore.distribute` strategy wrapper: its global
            batch size counts the steps of an epoch (a series in memory is
            not sharded); None counts one replica.
        echo: called with each data warning (interpolated gaps).
    """

    def __init__(self, config, distribution=None, echo=None):
        from apps.forecast.windows import parts, window_count

        series = load_data(config["data"], past_only=config["head"]["kind"] != "direct", echo=echo)
        window = {**config["window"], "season": series.season}
        check_window(window)
        self.series, self.window = series, window
        self.split = parts(series, window["lookback"], window["horizon"])
        windows = sum(window_count(len(part.values), window["lookback"], window["horizon"], window["stride"])
                      for part in self.split["train"])
        super().__init__({
            **config,
            "training": resolve_training(config["training"], windows, _global_batch(config, distribution)),
            "window": window,
            "columns": series.columns,
            "num_targets": series.num_targets,
            "num_future": series.num_future,
            "calendar_step": calendar_step(config, series),
            "calendar_year": spans_two_years(series, self.split),
            "step": series.step,
            "source": series.source,
        })

    def build_model(self):
        from apps.forecast.model import build_forecaster

        return build_forecaster(self.config, train_rows(self.series, self.split))

    def _dataset(self, part, stride, batch_size, seed=None):
        from apps.forecast.windows import training_dataset

        window = self.window
        return training_dataset(self.split[part], window["lookback"], window["horizon"], self.series.num_targets,
                                stride, batch_size, seed=seed, num_future=self.series.num_future,
                                calendar=bool(self.config["calendar_step"]))

    def train_dataset(self, global_batch_size, seed):
        return self._dataset("train", self.window["stride"], global_batch_size, seed)

    def validation_dataset(self):
        return self._dataset("validation", 1, VALIDATION_BATCH)

    def report(self, model, run):
        """Calibrates the quantiles on the validation part (saving the model again), then scores both parts."""
        from apps.forecast.evaluation import part_report

        if getattr(model, "calibrated", False):
            from apps.forecast.calibration import calibrate
            from apps.forecast.run_series import model_inputs, series_windows
            from seqcore.runs import save_model_atomically

            held_out = series_windows(self.series, self.split, "validation", self.window)
            calibrate(model, model_inputs(model, held_out), held_out.truth)
            save_model_atomically(model, run.work / "model.keras")
        return {part: part_report(model, self.series, self.split, part, self.window) for part in ("test", "validation")}


class ShardTraining(TrainingData):
    """Windows streamed from `prepare`'s TFRecord shards (`--data tfrecord:DIR`), which fix the data options."""

    def __init__(self, config, distribution):
        from apps.forecast.shards import Shards

        self.shards = Shards(config["data"]["source"], distribution.workers)
        run_config = self.shards.run_config(config)
        run_config["training"] = resolve_training(config["training"], self.shards.counts["train"],
                                                  _global_batch(config, distribution))
        super().__init__(run_config)

    def build_model(self):
        from apps.forecast.model import build_forecaster

        return build_forecaster(self.config, self.shards.adapt_rows())

    def train_dataset(self, global_batch_size, seed):
        return self.shards.training_dataset(global_batch_size, seed)

    def validation_dataset(self):
        return self.shards.evaluation_dataset("validation")

    def report(self, model, run):
        return {part: self.shards.report(model, part) for part in ("test", "validation")}
