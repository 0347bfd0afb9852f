"""The Click group every command hangs on, and the one place errors become exit codes."""
from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.markup import escape

from superopt.version import __version__
from superopt.errors import SuperoptError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SuperoptError as exc:
            err_console.print("[bold red]error:[/] " + escape(str(exc)), soft_wrap=True)  # one line, never wrapped
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="superopt")
def main():
    """superopt: find, verify, time and export fast x86-64 kernels.

    Exit codes: 0 ok, 1 the program is wrong (or slower), 2 bad usage or bad input.
    """


def emit_json(obj) -> None:
    """Print one JSON object on stdout (for --json)."""
    click.echo(json.dumps(obj, indent=2, default=_jsonable))


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError("not JSON serialisable: %r" % type(value))
