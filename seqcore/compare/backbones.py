"""The backbones that `compare` trains, from `--cells` and `--bidirectional`."""

import dataclasses

from seqcore.errors import SeqcoreError
from seqcore.registry import CELL_TYPES

DIRECTIONS = ("uni", "bi", "both")


@dataclasses.dataclass(frozen=True)
class BackboneChoice:
    """One backbone of a comparison: a cell per layer and a direction.

    Example:

    >>> choice = BackboneChoice(("lstm", "gru"), bidirectional=True)
    >>> choice.name, choice.train_args()
    ('bi-lstm+gru', ['--cell', 'lstm,gru', '--bidirectional'])
    """

    cells: tuple
    bidirectional: bool = False

    @property
    def name(self):
        return ("bi-" if self.bidirectional else "") + "+".join(self.cells)

    @property
    def cell(self):
        """The backbone's `cell` argument: one name, or a list for a mixed stack."""
        return self.cells[0] if len(self.cells) == 1 else list(self.cells)

    def train_args(self):
        """The options of an app's `train` command that select this backbone."""
        return ["--cell", ",".join(self.cells),
                "--bidirectional" if self.bidirectional else "--unidirectional"]


def parse_backbones(cells, bidirectional="uni"):
    """Reads `--cells rnn,lstm,gru,lstm+gru` (`+` stacks cells in one backbone).

    Args:
        cells: comma-separated backbones; each is a cell name or names
            joined by `+` (bottom layer first).
        bidirectional: `"uni"`, `"bi"` or `"both"` (each backbone in both
            directions, unidirectional first).

    Returns:
        A list of `BackboneChoice`.

    Example:

    >>> [b.name for b in parse_backbones("rnn,lstm+gru", "both")]
    ['rnn', 'bi-rnn', 'lstm+gru', 'bi-lstm+gru']
    """
    if bidirectional not in DIRECTIONS:
        raise SeqcoreError(
            f"--bidirectional must be one of {', '.join(DIRECTIONS)}; received: {bidirectional!r}"
        )
    names = [name.strip() for name in str(cells).split(",") if name.strip()]
    if not names:
        raise SeqcoreError(
            f"--cells is empty; expected backbones such as rnn,lstm,gru,lstm+gru; received: {cells!r}"
        )
    directions = {"uni": (False,), "bi": (True,), "both": (False, True)}[bidirectional]
    choices = []
    for name in names:
        stack = tuple(part.strip() for part in name.split("+"))
        unknown = [part for part in stack if part not in CELL_TYPES]
        if unknown:
            raise SeqcoreError(
                f"unknown cell {unknown[0]!r} in --cells; expected {', '.join(CELL_TYPES)} or a "
                f"mixed stack such as lstm+gru; received: {cells!r}"
            )
        for direction in directions:
            choice = BackboneChoice(stack, direction)
            if choice in choices:
                raise SeqcoreError(
                    f"backbone {choice.name} is listed twice in --cells; expected each once; "
                    f"received: {cells!r}"
                )
            choices.append(choice)
    return choices
