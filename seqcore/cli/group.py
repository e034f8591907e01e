"""A click group that loads subcommands lazily and turns bad input into one line."""

import importlib
import os
import sys

import click

from seqcore.errors import SeqcoreError


#: TensorFlow's C++ log level for commands: 3 keeps its log lines (such as oneDNN's
#: "supports DT_BOOL only on platforms with AVX-512", printed at every `predict`) out of
#: a command's output; its errors still reach the user as Python exceptions.
TF_CPP_MIN_LOG_LEVEL = "3"


def quiet_tensorflow():
    """Imports TensorFlow without its C++ log lines (set SEQCORE_TF_LOGS=1 to see them).

    TensorFlow prints some lines before its logging is configured, so
    TF_CPP_MIN_LOG_LEVEL cannot hide them; stderr is silenced at the file
    descriptor level for the duration of the import only. Later C++ log
    lines are hidden by TF_CPP_MIN_LOG_LEVEL (unless the environment sets
    it). Import errors still raise as usual.
    """
    if "tensorflow" in sys.modules or os.environ.get("SEQCORE_TF_LOGS"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_MIN_LOG_LEVEL)
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA probing logs here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class SeqcoreCommand(click.Command):
    """A command that imports TensorFlow quietly just before it runs.

    Options are parsed (and `--help` answered) before that, so help stays fast.
    """

    def invoke(self, ctx):
        quiet_tensorflow()
        return super().invoke(ctx)


class SeqcoreGroup(click.Group):
    """A group whose subcommands are imported on first use.

    Args:
        lazy_subcommands: mapping command name -> `"module:attribute"`.

    Its commands are `SeqcoreCommand`s. Errors of type `SeqcoreError` raised
    by any subcommand are printed as `Error: <message>` on stderr with exit
    status 1, never as a traceback.

    Example:

    >>> @click.group(cls=SeqcoreGroup, lazy_subcommands={"info": "seqcore.cli.info:info"})
    ... def cli():
    ...     pass
    """

    command_class = SeqcoreCommand

    def __init__(self, *args, lazy_subcommands=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def subcommand_paths(self):
        """Command name -> `"module:attribute"` of every lazily loaded subcommand."""
        return self.lazy_subcommands

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.subcommand_paths()})

    def get_command(self, ctx, name):
        paths = self.subcommand_paths()
        if name in paths:
            module_name, attribute = paths[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SeqcoreError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:  # disk full, permissions: the files on disk stay intact
            click.echo()  # end a progress bar's line, so the error stands on its own
            where = f": {error.filename}" if error.filename else ""
            raise click.ClickException(
                f"{error.strerror or error}{where}; nothing was half-written (the previous run "
                "or export, if any, is unchanged)"
            ) from None
        except click.UsageError as error:
            # One line, like every other bad input; `--help` still shows usage.
            raise OneLineUsageError(error.format_message()) from None
        except KeyboardInterrupt:
            hint = " (`train --out RUN --resume` finishes the run)" if ctx.invoked_subcommand == "train" else ""
            click.echo(f"\nInterrupted{hint}.", err=True)
            ctx.exit(130)


class OneLineUsageError(click.ClickException):
    """A usage error (unknown option, bad choice) printed as one `Error:` line, exit status 2."""

    exit_code = 2
