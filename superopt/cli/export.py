"""`superopt export`: a verified kernel as C/C++ inline asm, a gas file or an Intel listing."""
from __future__ import annotations

import click
from rich.markup import escape

from superopt.cli import jsonout
from superopt.cli.app import emit_json, err_console
from superopt import api
from superopt.emit.export import FORMATS, ExportRefused, check_request, verdict_summary
from superopt.cli.options import TASK_HELP, spec_options
from superopt.outputs import ResultMoved, check_outputs, save
from superopt.x86.isa import instruction_count


@click.command("export")
@click.argument("program_file", metavar="PROG.s", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="cpp", show_default=True,
              help="cpp: C++ header with an inline function; c: the same for C99 with GNU "
                   "extensions; gas: a complete .S file for `as`; intel: an Intel-syntax listing.")
@click.option("--task", help=TASK_HELP)
@spec_options
@click.option("--name", help="Function name (default: the file's function label, else the task's name).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file instead of standard output.")
@click.option("--values", is_flag=True,
              help="c/cpp, fixed-size sorts: pass the elements in and out as register operands "
                   "instead of the array pointer, so the compiler can keep the array in registers.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (verdict, source text, where it went) instead.")
def export(program_file: str, fmt: str, task: str | None, signature: str | None, cc: str, name: str | None,
           output: str | None, values: bool, as_json: bool):
    """Turn a kernel that passes `verify` into source you can paste.

    The C and C++ forms inline anywhere: the array pointer is an input operand and every
    register the kernel writes is a compiler-chosen scratch operand, labels are unique per
    inlined copy. A kernel that fails verify is refused with the reason (exit code 1).

    \b
    Examples:
      superopt export asm/sort3.s -o sort3.h
      superopt export asm/sort3.s --format gas --name fast_sort3 -o sort3.S
      superopt export asm/sort5.s --format c --values -o sort5.h
    """
    check_outputs({"-o": output}, inputs=(program_file, program_file.rpartition(":")[0]))  # (FILE.s:NAME)
    program, the_task = api.resolve(program_file, task, signature, cc)
    name = check_request(program, the_task, fmt, name, values)  # bad options fail before verify runs
    verdict = api.verify(program, the_task)
    report = {"file": program_file, "function": program.name, "task": the_task.name, "format": fmt, "values": values,
              "name": name, "instructions": instruction_count(program),
              "verdict": verdict.to_json(), "output": output}
    try:
        text = api.export(program, the_task, fmt, name=name, values=values, verdict=verdict)
    except ExportRefused:
        jsonout.attach(verdict=report["verdict"])   # --json: the error form carries the verdict
        raise
    moved = None
    if output:
        try:
            save(output, text, what="the export")
        except ResultMoved as exc:
            moved, output = exc, exc.where
    if as_json:
        emit_json(dict(report, source=text, output=output))
    elif output:
        err_console.print(escape("wrote %s (%s, %s, %d instructions; verified: %s)" % (
            output, fmt, report["name"], report["instructions"], verdict_summary(verdict, detail=False))))
    else:
        click.echo(text, nl=False)
    if moved is not None:
        raise moved
