"""`superopt verify prog.s`: is the kernel correct? A verdict panel, or --json."""
from __future__ import annotations

import sys
from contextlib import nullcontext

import click
from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from superopt import api
from superopt.check.verify import DEFAULT_RANDOM, STEP_LIMIT, Verdict
from superopt.cli.app import console, emit_json
from superopt.cli.options import MAX_RANDOM, TASK_HELP, Seconds, spec_options


@click.command("verify")
@click.argument("path")
@click.option("--task", help=TASK_HELP)
@spec_options
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as one JSON object.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed for random inputs and register fillings.")
@click.option("--random", "random_count", default=DEFAULT_RANDOM, show_default=True, type=click.IntRange(0, MAX_RANDOM),
              help="Random inputs to run besides every weak ordering.")
@click.option("--step-limit", default=STEP_LIMIT, show_default=True, type=click.IntRange(1),
              help="Instructions a kernel may run per call, ret included; a limit below the kernel's length "
                   "(or below the default, for a kernel that can loop) is counted per input, slowly.")
@click.option("--native", is_flag=True,
              help="After the emulator passes it, also run the kernel on the real CPU (in an isolated child "
                   "process) on every verification input; a difference is an emulator-or-assembler bug.")
@click.option("--prove", "require_proof", is_flag=True,
              help="Require a proof (the weak orderings, or SMT): exit 1 when the kernel is only tested.")
@click.option("--prove-timeout", default=api.DEFAULT_PROVE_TIMEOUT, show_default=True, type=Seconds(),
              help="Seconds for the SMT proof (lifting and solving); past it the verdict is 'tested'.")
def verify_command(path: str, task: str | None, signature: str | None, cc: str, as_json: bool, seed: int,
                   random_count: int, step_limit: int, native: bool, require_proof: bool, prove_timeout: float):
    """Check the kernel in PATH (AT&T assembly) in the emulator: of a file with several
    functions, the task's (PATH as FILE.s:NAME picks function NAME).

    Runs every weak ordering of the task's elements (every length for varsortN) plus
    random inputs, each with two random fillings of registers, flags, stack and guard
    memory, and checks the result, memory outside the array (neither read nor written),
    callee-saved registers and %rsp, termination and faults. A pass is a proof when the
    kernel only compares and moves elements with signed-order conditions; otherwise an
    SMT solver (bitwuzla) proves it equal to the spec on every input or finds a counterexample;
    a kernel the model cannot express (or a proof past --prove-timeout) is only tested.

    With --task FILE.c[:NAME] (or FILE.s[:NAME] and a signature) the kernel is checked
    against that function: edge values per argument type crossed over the arguments,
    random inputs and every counterexample found before, each run with two random
    fillings of the bits the System V entry rule leaves undefined; only the return
    type's width of %rax is compared.

    Exit code 0: correct (with --prove: proven); 1: wrong (or, with --prove, not proven);
    2: bad input (the file cannot be read or assembled).
    """
    program, task_ = api.resolve(path, task, signature, cc)
    spinner = nullcontext() if as_json else console.status("verifying %s on %s inputs" % (escape(path), task_.name))
    with spinner:
        verdict = api.verify(program, task_, random_count=random_count, seed=seed, step_limit=step_limit, native=native,
                             prove_timeout=prove_timeout)
    refused = require_proof and verdict.passed and not verdict.proven
    if as_json:
        emit_json(dict(verdict.to_json(), file=path, required_proof=require_proof))
    else:
        console.print(render(verdict, path))
        if refused:
            console.print("--prove: no proof (%s), so exit 1" % escape(verdict.label))
    sys.exit(0 if verdict.passed and not refused else 1)


def render(verdict: Verdict, path: str) -> Panel:
    """The verdict as a rich panel."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("file", escape(path))
    if verdict.function:
        facts.add_row("function", escape(verdict.function))
    facts.add_row("task", verdict.task)
    facts.add_row("instructions", str(verdict.instructions))
    if verdict.strength:
        facts.add_row("inputs", "%s distinct (edge values, %s random draws, counterexamples), each with 2 random fillings"
                      % (format(verdict.inputs, ","), format(verdict.random_inputs, ",")))
    else:
        facts.add_row("inputs", "%s (%s weak orderings + %s random), each with 2 random register fillings"
                      % (format(verdict.inputs, ","), format(verdict.proof_inputs, ","),
                         format(verdict.random_inputs, ",")))
    facts.add_row("time", "%.3f s" % verdict.seconds)
    if verdict.native:
        facts.add_row("native", "run on this CPU too: " + ("the same results on every input" if verdict.passed
                                                             else "see the violations"))
    if verdict.passed:
        colour = "green" if verdict.proven else "yellow"
        facts.add_row("strength", "[%s]%s[/]" % (colour, escape(verdict.label)))
        if verdict.proof or not verdict.smt:
            facts.add_row("coverage", escape(verdict.proof_reason))
    elif verdict.smt and verdict.smt.status == "refuted":
        facts.add_row("strength", "[red]%s[/]" % escape(verdict.label))
    parts = [facts]
    if verdict.violations:
        table = Table(title="violations", title_justify="left")
        for col in ("rule", "what", "instruction", "line"):
            table.add_column(col)
        for v in verdict.violations:
            table.add_row(v.rule, escape(v.detail), escape(v.text or "-"), str(v.line) if v.line else "-")
        parts.append(table)
    if verdict.counterexample and "call" in verdict.counterexample:
        parts.append("counterexample: " + escape(verdict.counterexample["call"]))
    elif verdict.counterexample:
        ce = verdict.counterexample
        example = Table(title="counterexample", title_justify="left")
        example.add_column("")
        example.add_column("a[0..%d)" % ce["length"])
        example.add_row("input", str(ce["input"]))
        example.add_row("expected", str(ce["expected"]))
        example.add_row("got", str(ce["got"]) if ce["got"] is not None else "(no result: see above)")
        parts.append(example)
    title = "[bold green]PASS[/]" if verdict.passed else "[bold red]FAIL[/]"
    return Panel(Group(*parts), title=title, title_align="left", border_style="green" if verdict.passed else "red",
                 expand=False)
