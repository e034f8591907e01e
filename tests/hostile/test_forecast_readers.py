"""Hostile files for the forecast reader: `load_series` / `read_table` on CSV and TSV files.

Every outcome must be a valid `Series` or one clean one-line `SeqcoreError`.
"""

import datetime

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.forecast.data import load_series
from tests.hostile.helpers import ENCODINGS, HOSTILE, NASTY_CELL, clean_error, encode, fresh_dir, require_intact

SUFFIXES = st.sampled_from([".csv", ".tsv"])


def good_text(sep=",", rows=40, start="2020-01-01"):
    first = datetime.date.fromisoformat(start)
    lines = [sep.join(["time", "load", "temp", "site"])]
    for i in range(rows):
        day = first + datetime.timedelta(days=i)
        lines.append(sep.join([day.isoformat(), f"{10 + i % 7}.5", f"{i % 5}", "a" if i < rows // 2 else "b"]))
    return "\n".join(lines) + "\n"


def check_series(series):
    if series is None:
        return
    assert series.columns and series.segments
    for segment in series.segments:
        assert segment.values.dtype == np.float32
        assert segment.values.ndim == 2 and segment.values.shape[1] == len(series.columns)
        assert len(segment.values) >= 1
        assert np.all(np.isfinite(segment.values)), "a loaded series must hold no NaN / inf"
        if segment.times is not None:
            assert len(segment.times) == len(segment.values)
    assert series.season >= 1


OPTIONS = st.sampled_from([
    dict(target="load"),
    dict(target="load", features="temp"),
    dict(target="load,temp", time_column="time"),
    dict(target="load", time_column="time", id_column="site"),
])


def load(path, options):
    return clean_error(lambda: load_series(str(path), **options))


def intact(tmp_path_factory, name, data, suffix, options):
    """The file a test corrupts, intact, must load: 40 rows of the columns `options` names."""
    def read():
        path = fresh_dir(tmp_path_factory, "intact") / f"series{suffix}"
        path.write_bytes(data)
        series = load_series(str(path), **options)
        assert sum(len(segment.values) for segment in series.segments) == 40
        return series

    require_intact((name, data, suffix, repr(sorted(options.items()))), read)


@given(data=st.binary(max_size=2000), suffix=SUFFIXES, options=OPTIONS)
@example(data=b"", suffix=".csv", options=dict(target="load"))
@example(data=b"load\n\x00\n", suffix=".csv", options=dict(target="load"))
@settings(HOSTILE, max_examples=40)
def test_random_bytes(tmp_path_factory, data, suffix, options):
    path = fresh_dir(tmp_path_factory, "bytes") / f"series{suffix}"
    path.write_bytes(data)
    check_series(load(path, options))


@given(suffix=SUFFIXES, cut=st.floats(0.0, 1.0), options=OPTIONS)
@settings(HOSTILE, max_examples=30)
def test_truncated_valid_file(tmp_path_factory, suffix, cut, options):
    data = good_text("\t" if suffix == ".tsv" else ",").encode()
    intact(tmp_path_factory, "truncated", data, suffix, options)
    path = fresh_dir(tmp_path_factory, "trunc") / f"series{suffix}"
    path.write_bytes(data[: int(len(data) * cut)])
    check_series(load(path, options))


@given(encoding=ENCODINGS, options=OPTIONS, extra=st.sampled_from(["Zürich", "東京", "\ud800", "ok"]))
@settings(HOSTILE, max_examples=25)
def test_wrong_encodings(tmp_path_factory, encoding, options, extra):
    text = good_text().replace(",a\n", f",{extra}\n")
    if extra != "\ud800":  # the same text in UTF-8 loads
        intact(tmp_path_factory, "encodings", text.encode(), ".csv", options)
    path = fresh_dir(tmp_path_factory, "enc") / "series.csv"
    path.write_bytes(encode(text, encoding))
    check_series(load(path, options))


@given(suffix=SUFFIXES, options=OPTIONS,
       garbage=st.lists(st.lists(NASTY_CELL, min_size=0, max_size=5), min_size=1, max_size=4),
       where=st.integers(0, 40))
@settings(HOSTILE, max_examples=60)
def test_valid_header_then_garbage_rows(tmp_path_factory, suffix, options, garbage, where):
    sep = "\t" if suffix == ".tsv" else ","
    lines = good_text(sep).splitlines()
    intact(tmp_path_factory, "garbage", good_text(sep).encode(), suffix, options)
    lines[1 + where:1 + where] = [sep.join(row) for row in garbage]
    path = fresh_dir(tmp_path_factory, "garbage") / f"series{suffix}"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    check_series(load(path, options))


NUMBERS = st.one_of(
    # float32-sized: larger finite values hit the float32 overflow bug (test_value_beyond_float32).
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["", "NA", "nan", "NaN", "-", "null", "1e400", "-1e400", "inf", "1,5", "1.2.3",
                     "0x1p3", "1_0", "\u0661", "½", "1e-400", " 7 ", "+3", "True"]),
)
TIMES = st.one_of(
    st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)).map(
        lambda d: d.isoformat()),
    st.sampled_from(["", "2020-13-01", "2020-02-30", "24:00", "2020-01-01T25:00", "20200101",
                     "2020-01-01 00:00:00.123456789", "2020-W01-1", "2020-01-01Z",
                     "2020-01-01T00:00:00+23:59"]),  # year 1 / 9999 with offsets: see below
)


@given(values=st.lists(NUMBERS, min_size=1, max_size=30), times=st.lists(TIMES, min_size=1, max_size=30),
       use_time=st.booleans())
@settings(HOSTILE, max_examples=60)
def test_hostile_values_and_times(tmp_path_factory, values, times, use_time):
    rows = [f'"{t}","{v}"' for t, v in zip(times, values)]
    path = fresh_dir(tmp_path_factory, "values") / "series.csv"
    path.write_text("time,load\n" + "\n".join(rows) + "\n", encoding="utf-8")
    intact(tmp_path_factory, "times", good_text().encode(), ".csv", dict(target="load", time_column="time"))
    check_series(load(path, dict(target="load", time_column="time" if use_time else None)))


@pytest.mark.parametrize("stamp", [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:00:00-05:00",
    "2020-01-01T00:00:00+05:00",
])
def test_timezone_at_the_edges_of_time(tmp_path, stamp):
    path = tmp_path / "series.csv"
    path.write_text(f"time,load\n{stamp},1\n", encoding="utf-8")
    check_series(load(path, dict(target="load", time_column="time")))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_value_beyond_float32(tmp_path_factory, tmp_path):
    intact(tmp_path_factory, "ones", b"load\n" + b"1\n" * 40, ".csv", dict(target="load"))
    path = tmp_path / "series.csv"
    path.write_text("load\n" + "1\n" * 30 + "1e39\n", encoding="utf-8")
    check_series(load(path, dict(target="load")))


def test_empty_and_blank_files(tmp_path):
    for content in (b"", b"\n", b"\r\n\r\n", b"\xef\xbb\xbf", b"load\n", b"load\n,\n\n"):
        path = tmp_path / "series.csv"
        path.write_bytes(content)
        assert load(path, dict(target="load")) is None


def test_huge_line(tmp_path_factory, tmp_path):
    intact(tmp_path_factory, "ones", b"load\n" + b"1\n" * 40, ".csv", dict(target="load"))
    path = tmp_path / "series.csv"
    path.write_text("load\n" + "1\n" * 30 + "9" * 3_000_000 + "\n", encoding="utf-8")
    check_series(load(path, dict(target="load")))


def test_huge_header_line_of_many_columns(tmp_path):
    """A few MB of short cells (no single field over csv's limit) reads or fails cleanly."""
    columns = [f"c{i}" for i in range(300_000)]
    path = tmp_path / "series.csv"
    path.write_text(",".join(columns) + "\n" + ",".join("1" for _ in columns) + "\n", encoding="utf-8")
    check_series(load(path, dict(target="c0")))
