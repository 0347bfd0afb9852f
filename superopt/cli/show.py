"""`superopt show prog.s`: each instruction as AT&T, Intel and machine code."""
from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from superopt.x86.assembler import assemble
from superopt.x86.decode import disassemble
from superopt.x86.isa import instruction_count
from superopt.cli.app import console, emit_json
from superopt import api


@click.command("show")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print the listing as one JSON object.")
def show(path: str, as_json: bool):
    """Parse and assemble PATH (AT&T or Intel assembly, objdump -d text, an ELF object or
    executable; of a file with several functions, the one FILE:NAME names, else the `# task:`
    header's) and list every instruction: source line,
    code offset, AT&T text, the Intel text handed to the assembler, and its bytes
    (--json adds Capstone's decoding of those bytes).

    Exit codes: 0 ok, 2 the file cannot be read, parsed or assembled.
    """
    program = api.load(path)
    code = assemble(program)
    decoded = disassemble(code.code)  # what the bytes mean, for --json readers who check
    rows = []
    for i, ins in enumerate(program.instrs):
        start, size = code.offsets[i], code.sizes[i]
        rows.append({"index": i, "line": program.lines[i], "labels": program.labels_at(i), "offset": start,
                     "att": ins.att(), "intel": ins.intel(), "bytes": code.code[start:start + size].hex(" "),
                     "decoded": decoded[i].intel})
    end_labels = program.labels_at(len(program.instrs))
    summary = {"file": path, "function": program.name, "task": program.task, "instructions": instruction_count(program),
               "code_bytes": len(code.code), "implicit_ret": code.implicit_ret}
    if as_json:
        emit_json({**summary, "listing": rows, "end_labels": end_labels})
        return
    caption = "%d instructions (not counting ret), %d bytes of code%s" % (summary["instructions"], len(code.code),
                                                         " (with an implicit ret)" if code.implicit_ret else "")
    table = Table(title=escape(path + (" (%s)" % program.name if program.name else "")), caption=caption)
    for name in ("#", "line", "offset"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("AT&T")
    table.add_column("Intel")
    table.add_column("bytes", min_width=12)
    for row in rows:
        for label in row["labels"]:
            table.add_row("", "", "", "[bold cyan]%s:[/]" % escape(label), "", "")
        table.add_row(str(row["index"]), str(row["line"]), "%d" % row["offset"], escape(row["att"]),
                      escape(row["intel"]), row["bytes"])
    for label in end_labels:
        table.add_row("", "", "", "[bold cyan]%s:[/]" % escape(label), "", "")
    if code.implicit_ret:
        start = code.offsets[-1] + code.sizes[-1] if program.instrs else 0
        table.add_row("", "", "%d" % start, "[dim]ret (implicit)[/]", "[dim]ret[/]", code.code[start:].hex(" "))
    console.print(table)
