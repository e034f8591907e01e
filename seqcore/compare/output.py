"""Where a comparison is written by default (it is written whole or not at all, with `seqcore.atomic`)."""


def default_output(task):
    """`compare/<task>-<timestamp>`, with a suffix if that name is taken.

    Example:

    >>> str(default_output("sentiment")).startswith("compare/sentiment-")
    True
    """
    from seqcore.runs import timestamped_path

    return timestamped_path("compare", task)
