"""`seqcore`: the suite's command line. Task apps load only when called."""

import click

from seqcore import __version__
from seqcore.apps import installed_apps
from seqcore.cli.group import SeqcoreGroup


class SuiteGroup(SeqcoreGroup):
    """seqcore's own commands, plus one command group per registered app (see `seqcore.apps`)."""

    def subcommand_paths(self):
        apps = {name: app.cli for name, app in installed_apps().items()}
        return {**apps, **self.lazy_subcommands}


@click.group(
    cls=SuiteGroup,
    lazy_subcommands={
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
