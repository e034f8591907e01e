"""Loading, repairing and splitting series; windows; baselines and metrics on hand-made data."""

import numpy as np
import pytest

from apps.forecast.data import load_series, split_bounds
from apps.forecast.metrics import (compare, forecast_metrics, mase_scale, naive_forecast,
                                   seasonal_naive_forecast)
from apps.forecast.time_index import infer_season
from apps.forecast.windows import parts, window_arrays, window_count
from seqcore.errors import SeqcoreError


def write_csv(path, header, rows):
    path.write_text(header + "\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def hourly(n, start=0, value=lambda i: f"{i % 24 + 0.5}"):
    return [f"2024-01-{1 + (start + i) // 24:02d} {(start + i) % 24:02d}:00,{value(i)},{i}" for i in range(n)]


def raises(match, fn, *args, **kwargs):
    with pytest.raises(SeqcoreError, match=match) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# Sources -----------------------------------------------------------------------------------

def test_builtin_sources():
    elec = load_series()
    assert elec.columns == ["Demand", "Temperature", "WorkDay"] and elec.num_targets == 1
    assert (elec.step, elec.season) == ("30min", 48)
    assert elec.segments[0].values.shape == (17520, 3)
    assert str(elec.segments[0].times[1]) == "2014-01-01T00:30"
    sun = load_series("sunspots")
    assert (sun.step, sun.season, sun.columns) == ("1M", 12, ["sunspots"])
    assert str(sun.segments[0].times[-1])[:7] == "1983-12"
    taylor = load_series("taylor", features="")
    assert taylor.columns == ["demand"] and taylor.segments[0].values.shape == (4032, 1)


def test_csv_with_time_targets_features_and_ids(tmp_path):
    rows = [f"a,{r}" for r in hourly(30)] + [f"b,{r}" for r in hourly(30)]
    path = write_csv(tmp_path / "s.csv", "id,time,y,x", rows)
    series = load_series(path, time_column="time", target="y", features="x", id_column="id")
    assert [s.id for s in series.segments] == ["a", "b"]
    assert series.columns == ["y", "x"] and series.step == "1h" and series.season == 24
    assert series.segments[1].values.shape == (30, 2) and series.segments[1].values.dtype == np.float32


def test_nan_gaps_and_skipped_timestamps_are_interpolated_with_a_warning(tmp_path):
    rows = hourly(100, value=lambda i: f"{i}.0")
    rows[10] = rows[10].replace(",10.0,", ",,")
    rows[11] = rows[11].replace(",11.0,", ",NaN,")
    del rows[50]  # a missing timestamp
    series = load_series(write_csv(tmp_path / "g.csv", "time,y,x", rows), time_column="time",
                         target="y", features="x")
    values = series.segments[0].values
    assert len(values) == 100
    np.testing.assert_allclose(values[:, 0], np.arange(100), atol=1e-4)
    assert len(series.warnings) == 3 and "interpolated 3 missing values in column 'y'" in series.warnings[1]
    assert "1 timestamps missing" in series.warnings[0]


@pytest.mark.parametrize("case, match", [
    ("missing column", "has no column 'nope'; expected columns"),
    ("non-numeric", "line 4: column 'y' holds 'abc'; expected a number"),
    ("too many NaN", "missing values of 40 .*expected at most 5% missing"),
    ("irregular", "irregular time index at line 4: 90min after the previous row"),
    ("goes back", "the time index goes back at line 4"),
    ("bad time", "expected an ISO 8601"),
    ("no target", "--target is required"),
    ("not found", "data file not found"),
    ("not csv", "expected a .csv or .tsv file"),
])
def test_bad_files(tmp_path, case, match):
    rows = hourly(40)
    target, time_column = "y", "time"
    if case == "missing column":
        target = "nope"
    elif case == "non-numeric":
        rows[2] = rows[2].replace(",2.5,", ",abc,")
    elif case == "too many NaN":
        for i in range(0, 40, 8):
            rows[i] = rows[i].replace(f",{i % 24 + 0.5},", ",,")
    elif case == "irregular":
        rows[2] = rows[2].replace(" 02:00", " 02:30")
    elif case == "goes back":
        rows[1], rows[2] = rows[2], rows[1]
    elif case == "bad time":
        rows[5] = "05/01/2024" + rows[5][16:]
    elif case == "no target":
        target = None
    path = write_csv(tmp_path / "bad.csv", "time,y,x", rows)
    if case == "not found":
        path = tmp_path / "missing.csv"
    if case == "not csv":
        path = write_csv(tmp_path / "bad.txt", "time,y,x", rows)
    raises(match, load_series, path, time_column=time_column, target=target)


def test_infer_season():
    assert [infer_season(s) for s in ("30min", "15min", "1h", "1D", "7D", "1M", "3M", None)] == [
        48, 96, 24, 7, 52, 12, 4, 1]


# Split and windows ---------------------------------------------------------------------------

def test_split_too_short_and_bounds():
    assert split_bounds(1000, 48, 12) == (700, 850)
    raises("has 50 steps, shorter than --lookback \\+ --horizon = 48 \\+ 12", split_bounds, 50, 48, 12)
    raises("too few for a chronological 70/15/15 split", split_bounds, 70, 48, 12)


def test_windows_never_leak_targets_across_the_split():
    values = np.arange(300, dtype="float32")[:, None] * np.array([[1.0, -1.0]], "float32")
    series = type("S", (), {})()
    series.segments = [type("Seg", (), {"values": values, "id": "s", "times": None})()]
    lookback, horizon = 24, 6
    split = parts(series, lookback, horizon)
    train_end, validation_end = split_bounds(300, lookback, horizon)
    targets = {}
    for name in ("train", "validation", "test"):
        windows = window_arrays(split[name], lookback, horizon, 1)
        history, future, origin = windows.history, windows.truth, windows.origin
        # The window's history is the `lookback` steps right before its first target.
        np.testing.assert_array_equal(history[:, -1, 0] + 1, future[:, 0, 0])
        np.testing.assert_array_equal(future[:, 0, 0], origin)
        np.testing.assert_array_equal(history[:, 0, 1], -(origin - lookback))
        targets[name] = future[..., 0]
        assert len(future) == window_count(len(split[name][0].values), lookback, horizon)
    assert targets["train"].max() == train_end - 1 < targets["validation"].min() == train_end
    assert targets["validation"].max() == validation_end - 1 < targets["test"].min() == validation_end
    assert targets["test"].max() == 299  # the last step is a target


# Baselines and metrics --------------------------------------------------------------------

def test_baselines_on_a_hand_made_series():
    history = np.array([[[1.0], [2.0], [3.0], [10.0], [20.0], [30.0]]])
    assert naive_forecast(history, 4)[0, :, 0].tolist() == [30.0] * 4
    assert seasonal_naive_forecast(history, 4, season=3)[0, :, 0].tolist() == [10.0, 20.0, 30.0, 10.0]
    assert seasonal_naive_forecast(history, 2, season=1)[0, :, 0].tolist() == [30.0, 30.0]


def test_metrics_by_hand():
    truth = np.array([[[1.0], [3.0]]])
    forecast = np.array([[[2.0], [1.0]]])
    m = forecast_metrics(truth, forecast, scale=np.array([[2.0]]),
                         lower=forecast - 0.5, upper=forecast + 0.5)
    assert m["mae"] == pytest.approx(1.5)
    assert m["rmse"] == pytest.approx(np.sqrt(2.5))
    assert m["smape"] == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert m["mase"] == pytest.approx(0.75)
    assert m["coverage"] == 0.0
    assert forecast_metrics(truth, truth, np.array([1.0]), truth, truth)["coverage"] == 1.0
    assert mase_scale(np.array([[1.0], [5.0], [2.0], [6.0]]), season=2).tolist() == [1.0]


def test_compare_picks_the_better_baseline():
    season = 4
    pattern = np.tile([0.0, 10.0, 20.0, 10.0], 4)[:, None]
    history, truth = pattern[None, :12], pattern[None, 12:]
    report = compare(truth, history, truth + 1.0, season, scale=np.array([1.0]))
    assert report["seasonal_naive"]["mae"] == 0.0 and report["skill"]["baseline"] == "seasonal_naive"
    report = compare(truth, history, truth + 1.0, 3, scale=np.array([1.0]))
    assert report["skill"]["baseline"] == "naive"
    assert report["skill"]["mae"] == pytest.approx(1 - 1.0 / report["naive"]["mae"])
