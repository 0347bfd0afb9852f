"""The Click group every command hangs on, and the one place errors become exit codes."""
from __future__ import annotations

import sys
from typing import NoReturn

import click
from click.exceptions import NoArgsIsHelpError
from rich.console import Console
from rich.markup import escape

from superopt.cli import jsonout
from superopt.version import __version__
from superopt.errors import SuperoptError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _fail(message: str, exit_code: int, path: str | None = None, line: int | None = None) -> NoReturn:
    err_console.print("[bold red]error:[/] " + escape(message), soft_wrap=True)  # one line, never wrapped
    jsonout.finish(message, exit_code, path, line)   # --json: the error form on stdout as well
    sys.exit(exit_code)


def _usage_error(exc: click.UsageError) -> NoReturn:
    """Click's usage errors in one line (click prints the usage, a hint and the error on 3-4)."""
    command = exc.ctx.command_path if exc.ctx else "superopt"
    _fail("%s: %s (see %s --help)" % (command, " ".join(exc.format_message().split()), command), exc.exit_code)


class _Group(click.Group):
    """Parses the group's options (make_context) and runs a command (invoke: which parses its
    options too), turning usage errors and SuperoptError into one line and an exit code."""
    holds_json = True   # its commands' --json objects wait for the run's end (superopt.cli.jsonout)

    def parse_args(self, ctx, args):
        command = args[0] if args and args[0] in self.commands else None
        jsonout.start(command, jsonout.wants_json(args))
        return super().parse_args(ctx, args)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:   # bare `superopt`: the help, as click prints it
            raise
        except click.UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _usage_error(exc)
        except SuperoptError as exc:
            _fail(str(exc), exc.exit_code, exc.path, exc.line)
        finally:
            jsonout.finish()   # the result, when the command ended without an error (or by sys.exit)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="superopt")
def main():
    """superopt: find, verify, time and export fast x86-64 kernels.

    Exit codes: 0 ok, 1 the program is wrong (or slower), 2 bad usage or bad input.
    """


emit_json = jsonout.emit   # (the commands' name for it)
