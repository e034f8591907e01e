"""Shared pieces of the hostile-input tests: bounded Hypothesis settings and the outcome check."""

import codecs
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis import strategies as st

from seqcore.errors import SeqcoreError

# Hypothesis caches (constants, unicode data) go to the temporary folder, not `.hypothesis/` in the repo.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "seqcore-hypothesis")

#: Hypothesis settings for every hostile test: no deadline (2 shared, busy cores), no example
#: database written into the repository, and fixture / data-size health checks off (files are
#: written per example into session-scoped temporary folders on purpose).
HOSTILE = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def fresh_dir(factory, name="case"):
    """A new empty folder under a `tmp_path_factory` folder (one per Hypothesis example)."""
    base = factory.getbasetemp() / "hostile"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))


def clean_error(call):
    """Runs `call()`: its result, or None after a clean one-line `SeqcoreError`.

    Any other exception propagates and fails the test.
    """
    try:
        return call()
    except SeqcoreError as error:
        message = str(error)
        assert message.strip(), "SeqcoreError with an empty message"
        assert "\n" not in message and "\r" not in message, f"multi-line SeqcoreError: {message!r}"
        assert "Traceback" not in message, message
        return None


# Encodings a user's file may come in; UTF-8 is the only one the readers accept.
def encode(text, encoding):
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8", errors="surrogatepass")
    if encoding == "utf-16":  # Python writes a BOM for "utf-16"
        return text.encode("utf-16", errors="surrogatepass")
    if encoding == "latin-1":
        return text.encode("latin-1", errors="replace")
    # "utf-8" and "surrogates": lone surrogates (e.g. from a broken converter) kept as bytes.
    return text.encode("utf-8", errors="surrogatepass")


ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "surrogates"])

#: Text cells likely to break a CSV / TSV reader.
NASTY_CELL = st.one_of(
    st.text(max_size=20),
    st.sampled_from(['"', '""', '"a', 'a"b', "\x00", "a\x00b", "\t", ",", "\r", "\n", "\r\n",
                     "\u2028", "\ufeff", "NaN", "nan", "inf", "-inf", "1e999", "-", "NA", " ",
                     "0x10", "1_000", "\u0661", "null", "None", "\\", "'", "#"]),
)


_INTACT_LOADED = set()


def require_intact(key, load):
    """Asserts that `load()` — the reader on the intact file a hostile test corrupts — succeeds.

    A hostile test only checks that every outcome is valid or a clean
    refusal, which a reader refusing every file would pass; each test calls
    this too, so the reader must also load the file it starts from. Done
    once per `key` (the test and its parameters) in a session, not per
    Hypothesis example. Returns `load()`'s result (None after the first call).
    """
    if key in _INTACT_LOADED:
        return None
    result = load()  # a SeqcoreError here fails the test with the reader's own message
    assert result is not None, f"the intact file was not loaded: {key}"
    _INTACT_LOADED.add(key)
    return result
