"""`superopt examples`: list the kernels and C baselines the package ships; `examples copy` puts
them in a directory, laid out as in the checkout (so the README's commands run there)."""
from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from superopt import examples as shipped
from superopt.cli.app import console, emit_json, err_console
from superopt.errors import SuperoptError


@click.group("examples", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the list as one JSON object.")
@click.pass_context
def examples(ctx, as_json: bool):
    """List the example kernels (asm/*.s: the human benchmarks and what superopt found) and
    the C baselines (bench/baselines: libc++'s sorts; bench/hackers: the Hacker's Delight
    suite) shipped with superopt.

    \b
    Examples:
      superopt examples
      superopt examples copy --all .          # asm/ and bench/ here: the README's commands run
      superopt examples copy sort3.s p01.c /tmp/k
    """
    if ctx.invoked_subcommand is not None:
        return
    found = shipped.examples()
    if as_json:
        emit_json({"examples": [dict(e.to_json(), output=None) for e in found]})
        return
    table = Table(title="superopt examples (superopt examples copy NAME|--all DIR)")
    for col, key in (("name", "name"), ("file", "file"), ("task", "task")):   # these whole, the rest cut
        table.add_column(col, no_wrap=True, min_width=max(len(getattr(e, key) or "-") for e in found))
    table.add_column("what it is", no_wrap=True, overflow="ellipsis", max_width=64)
    for e in found:
        table.add_row(escape(e.name), escape(e.file), e.task or "-", escape(e.description))
    (console if console.is_terminal else Console(width=130, highlight=False)).print(table)   # piped: whole rows


@examples.command("copy")
@click.argument("args", nargs=-1, metavar="NAME... DIR")
@click.option("--all", "copy_all", is_flag=True, help="Copy every example.")
@click.option("--force", is_flag=True, help="Overwrite a file in DIR that differs from the example.")
@click.option("--json", "as_json", is_flag=True, help="Print what was copied where as one JSON object.")
def copy(args: tuple[str, ...], copy_all: bool, force: bool, as_json: bool):
    """Copy the examples NAME (sort3.s, or asm/sort3.s as `superopt examples` lists them), or
    --all, into the existing directory DIR, keeping the checkout's layout: DIR/asm/sort3.s,
    DIR/bench/hackers/p01.c. An identical file already there is kept; a different one is
    refused (exit 2) unless --force."""
    if not args:
        raise SuperoptError("superopt examples copy: give NAME... DIR, or --all DIR")
    *names, directory = args
    if copy_all == bool(names):
        raise SuperoptError("superopt examples copy: give either example names or --all, and then DIR")
    chosen = shipped.examples() if copy_all else shipped.find(names)
    written = shipped.copy(chosen, directory, force=force)
    if as_json:
        emit_json({"examples": [dict(e.to_json(), output=path) for e, path in zip(chosen, written)]})
    else:
        err_console.print(escape("copied %d example%s into %s" % (len(written), "" if len(written) == 1 else "s",
                                                                  directory)))
