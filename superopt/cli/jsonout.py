"""--json: one JSON object on stdout per run, in the schema of superopt/cli/schema.json
(docs/json.md describes it).

A command hands its result to `emit`, which holds it until the command ends, so that an error
raised after the result exists (a kernel that cannot be written where asked) still ends up in
one object: the result with `error`, `file` and `line` added. An error before any result is
the error form alone, `{"command", "error", "file", "line", "exit_code"}`, plus whatever the
command attached to it with `attach` (bench's and export's verdict on a refused program).
Every object names its `command`; the exit codes are the same with or without --json. (A
command invoked on its own, outside superopt's group, prints its result at once.)
"""
from __future__ import annotations

import json
import os

import click

SCHEMA = os.path.join(os.path.dirname(__file__), "schema.json")


class _Run:
    """What one CLI run has said so far under --json."""

    def __init__(self, command: str | None, as_json: bool):
        self.command, self.as_json = command, as_json
        self.result: dict | None = None
        self.attached: dict = {}
        self.printed = False


_run = _Run(None, False)


def wants_json(args: list[str]) -> bool:
    """Whether the command line asks for --json (options end at `--`)."""
    return "--json" in (args[:args.index("--")] if "--" in args else args)


def start(command: str | None, as_json: bool) -> None:
    """A CLI run begins (called by the group before the command runs)."""
    global _run
    _run = _Run(command, as_json)


def emit(obj: dict) -> None:
    """The command's result; printed when the command ends (`finish`), with its `command`."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and not getattr(ctx.find_root().command, "holds_json", False):
        # a command invoked on its own: no group will finish the run, so it prints now
        click.echo(json.dumps({"command": ctx.command.name, **obj}, indent=2, default=_jsonable))
        return
    _run.result = {"command": _run.command, **obj}


def attach(**fields) -> None:
    """Fields an error object of this run carries besides error, file and line."""
    _run.attached.update(fields)


def finish(error: str | None = None, exit_code: int = 0, path: str | None = None,
           line: int | None = None) -> None:
    """Print the run's one object (once): the result, with the error if one came after it."""
    if not _run.as_json or _run.printed:
        return
    if error is None and _run.result is None:
        return
    obj = dict(_run.result or {"command": _run.command})
    if error is not None:
        obj.update(_run.attached, error=error, exit_code=exit_code)
        # a result's own file stays when the error names none (an output that could not be written)
        obj.update({k: v for k, v in (("file", path), ("line", line)) if v is not None or k not in obj})
    _run.printed = True
    click.echo(json.dumps(obj, indent=2, default=_jsonable))


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError("not JSON serialisable: %r" % type(value))
