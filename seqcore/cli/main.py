"""`seqcore`: the suite's command line. Task apps load only when called."""

import click

from seqcore import __version__
from seqcore.cli.group import SeqcoreGroup


@click.group(
    cls=SeqcoreGroup,
    lazy_subcommands={
        "sentiment": "apps.sentiment.cli:cli",
        "forecast": "apps.forecast.cli:cli",
        "speech": "apps.speech.cli:cli",
        "textgen": "apps.textgen.cli:cli",
        "backbones": "seqcore.cli.info:backbones",
        "info": "seqcore.cli.info:info",
        "serve": "seqcore.cli.serve:serve",
        "compare": "seqcore.cli.compare:compare",
    },
)
@click.version_option(__version__, prog_name="seqcore")
def cli():
    """Recurrent sequence models (RNN, LSTM, GRU) for named tasks.

    Each task has train / evaluate / predict / export commands, e.g.
    `seqcore sentiment train`.
    """


def main():
    cli(prog_name="seqcore")
