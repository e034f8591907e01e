"""The one exception type that user-facing code raises for bad input."""


class SeqcoreError(ValueError):
    """A problem with what the user asked for: bad data, options or paths.

    The command line prints the message on one line and exits non-zero, so
    messages say what was wrong, what was expected and what was received.

    Example:

    >>> raise SeqcoreError("--units must be positive; received: -3")
    Traceback (most recent call last):
    ...
    seqcore.errors.SeqcoreError: --units must be positive; received: -3
    """
