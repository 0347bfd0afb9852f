"""`superopt tasks`: the task registry as a table."""
from __future__ import annotations

import click
from rich.table import Table

from superopt.cli.app import console, emit_json
from superopt.tasks.registry import TASKS


@click.command("tasks")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as JSON.")
def tasks(as_json: bool):
    """List the tasks superopt knows: name, C signature, element type, what the kernel must do."""
    if as_json:
        emit_json({"tasks": [{"task": t.name, "signature": t.signature, "n": t.n,
                              "variable": t.variable, "element": t.element, "description": t.description}
                             for t in TASKS.values()]})
        return
    table = Table(title="superopt tasks")
    for col in ("task", "signature", "element", "what it must do"):
        table.add_column(col)
    for t in TASKS.values():
        table.add_row(t.name, t.signature, t.element, t.description)
    console.print(table)
