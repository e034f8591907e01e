"""Reading a user's CSV / TSV file: its header and rows, numbers and timestamps, checked.

`read_table` returns the rows as text with their line numbers;
`load_file` turns the named columns into float arrays (a missing cell
becomes NaN, for `apps.forecast.missing_values` to fill or refuse), the
time column into `datetime64[s]` (UTC where a timestamp has an offset) and
the id column into names. Every refusal names the file, line and column.

Example:

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "demand.csv"
>>> _ = path.write_text("time,load\\n2020-01-01 00:00,1.5\\n2020-01-01 01:00,NA\\n", encoding="utf-8")
>>> table, times, ids, lines, description = load_file(str(path), "time", ["load"], [], None)
>>> table["load"].tolist(), str(times[1]), lines.tolist()
([1.5, nan], '2020-01-01T01:00:00', [2, 3])
"""

import csv
import datetime
import io
import pathlib

import numpy as np

from seqcore.errors import SeqcoreError
from seqcore.text import decode_utf8

# A row may be long; the csv module's default cap is 128 KiB a field.
csv.field_size_limit(2**31 - 1)

#: Cells read as a missing value (case-insensitive).
MISSING_TOKENS = {"", "na", "nan", "null", "none", "n/a", "-"}
#: File suffix -> field delimiter.
FILE_KINDS = {".csv": ",", ".tsv": "\t"}


def read_table(source, required=()):
    """Reads a CSV / TSV file: `(header, rows, line numbers)`, checked for the `required` columns.

    Rows are lists of stripped cells; blank rows are skipped, so each row's
    file line number comes with it.
    """
    path = pathlib.Path(source)
    if not path.is_file():
        if path.is_dir():
            raise SeqcoreError(f"{source} is a directory; expected a .csv or .tsv file")
        raise SeqcoreError(f"data file not found: {source}")
    suffix = path.suffix.lower()
    if suffix not in FILE_KINDS:
        raise SeqcoreError(
            f"unsupported data file {source}; expected a .csv or .tsv file; "
            f"received a {suffix or 'extension-less'} file"
        )
    text = decode_utf8(path.read_bytes(), source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=FILE_KINDS[suffix])
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise SeqcoreError(f"data file {source} is empty; expected a header row and data rows") from None
    rows, lines = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SeqcoreError(
                f"{source} line {reader.line_num} has {len(row)} fields; expected "
                f"{len(header)}, as in the header"
            )
        rows.append([cell.strip() for cell in row])
        lines.append(reader.line_num)
    for name in required:
        if name and name not in header:
            raise SeqcoreError(
                f"{source} has no column {name!r}; expected columns "
                f"{', '.join(n for n in required if n)}; found columns: {', '.join(header) or 'none'}"
            )
    if not rows:
        raise SeqcoreError(f"data file {source} has no data rows; expected rows after the header")
    return header, rows, np.array(lines)


def parse_number(text, source, line, column):
    """One cell as a float: NaN for a missing-value token, a one-line error for anything else."""
    if text.lower() in MISSING_TOKENS:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise SeqcoreError(
            f"{source} line {line}: column {column!r} holds {text!r}; expected a number "
            "(or an empty cell / NA for a missing value)"
        ) from None
    if np.isinf(value):
        raise SeqcoreError(f"{source} line {line}: column {column!r} holds {text!r}; expected a finite number")
    return value


def parse_time(text, source, line, column):
    """One ISO 8601 cell as `datetime64[s]`, converted to UTC (offset dropped) when it has one."""
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise SeqcoreError(
            f"{source} line {line}: column {column!r} holds {text!r}; expected an ISO 8601 "
            "date or time such as 2014-01-01 or 2014-01-01 00:30"
        ) from None
    if value.tzinfo is not None:
        try:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise SeqcoreError(
                f"{source} line {line}: column {column!r} holds {text!r}, outside the years "
                "1-9999 in UTC; expected a date within them"
            ) from None
    return np.datetime64(value, "s")


def load_file(source, time_column, targets, covariates, id_column, future_columns=()):
    """The named columns of a file: `(table, times, ids, line numbers, description)`.

    `table` maps each target and covariate to its float values; `times` is
    None without `time_column`, `ids` None without `id_column`.
    """
    header, rows, lines = read_table(source, required=[time_column, *targets, *covariates, id_column])
    missing = [name for name in future_columns if name not in header]
    if missing:
        raise SeqcoreError(
            f"{source} has no column {missing[0]!r} named in --future-features; expected columns "
            f"{', '.join(future_columns)}; found columns: {', '.join(header)}"
        )
    index = {name: position for position, name in enumerate(header)}
    table = {}
    for name in dict.fromkeys(targets + covariates):
        column = index[name]
        table[name] = np.array(
            [parse_number(row[column], source, line, name) for row, line in zip(rows, lines)]
        )
    times = None
    if time_column:
        column = index[time_column]
        times = np.array(
            [parse_time(row[column], source, line, time_column) for row, line in zip(rows, lines)]
        )
    ids = [row[index[id_column]] for row in rows] if id_column else None
    return table, times, ids, lines, f"file {source}"

