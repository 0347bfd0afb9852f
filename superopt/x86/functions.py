"""Which function of an assembly file is the kernel.

A file may hold several functions (a helper before the kernel, gcc's output of a whole C
file). A function starts at a named label that is declared one (`.globl NAME`, `.type
NAME, @function`), that starts the file, or that cannot be reached from the code before
it (that code ends in ret or jmp) and no jump goes to; it runs to the next one. The
kernel is the function named explicitly (`FILE.s:NAME`), else the one named like the
task, else the only one declared `.globl`; a file with several and no way to pick one is
refused, as is a function that jumps outside itself.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace

from superopt.errors import InputError
from superopt.x86.isa import BRANCHES, Instr, Program

_NAMED = re.compile(r"(.*):([A-Za-z_$][\w.$]*)\Z", re.S)


def entries(instrs: list[Instr], labels: dict[str, int], declared: dict[str, bool]) -> dict[str, bool]:
    """The function labels among `labels` (see the module docstring), in file order, each
    with whether it is declared .globl."""
    targets = {labels.get(ins.operands[0].name) for ins in instrs if ins.op in BRANCHES}  # as positions
    return {label: declared.get(label, False) for label, at in labels.items()
            if not label.startswith(".L") and at < len(instrs)
            and (label in declared or at == 0 or (at not in targets and instrs[at - 1].op in ("ret", "jmp")))}


def split_path(path: str | os.PathLike) -> tuple[str, str | None]:
    """`FILE.s:NAME` as (FILE.s, NAME); any other path (or an existing file whose name has
    a colon) as (path, None)."""
    path = str(path)
    m = _NAMED.match(path)
    if m and m.group(1) and not os.path.exists(path):
        return m.group(1), m.group(2)
    return path, None


def pick(functions: dict[str, bool], name: str | None, task: str | None, path: str | None,
         unnamed: str | None = None) -> str:
    """Which of `functions` (name -> declared .globl, in file order; `unnamed`: code before
    the first of them, which cannot be picked) is the kernel: see the module docstring."""
    listed = ", ".join(([unnamed] if unnamed else []) + list(functions))
    if name is not None and name not in functions:
        raise InputError("no function %s here (functions: %s)" % (name, listed), path)
    if name is None and len(functions) == 1 and not unnamed:
        return next(iter(functions))
    if name is None:
        globl = [f for f in functions if functions[f]]
        name = task if task in functions else globl[0] if len(globl) == 1 else None
    if name is None:
        why = "no task to choose by" if task is None else "none named %s and not exactly one .globl" % task
        raise InputError("%d functions (%s), %s: give %s:NAME" % (len(functions) + bool(unnamed), listed, why,
                                                                 path or "FILE.s"), path)
    return name


def select(program: Program, name: str | None = None, task: str | None = None) -> Program:
    """The function `name`, else the task's (see the module docstring), as a Program of its
    own; `program` itself when it holds one function and no name is asked for."""
    starts = sorted({program.labels[f] for f in program.functions if f in program.labels} | {0})
    if name is None and len(starts) == 1:
        return program
    candidates = {f: program.functions[f] for f in program.functions if f in program.labels}
    unnamed = None if 0 in {program.labels[f] for f in candidates} else "unnamed code from line %d" % program.lines[0]
    name = pick(candidates, name, task, program.path, unnamed)
    start = program.labels[name]
    end = next((s for s in starts if s > start), len(program.instrs))
    others = set(candidates) - {name}
    labels = {label: at - start for label, at in program.labels.items()
              if start <= at <= end and label not in others}
    for ins, line in zip(program.instrs[start:end], program.lines[start:end]):
        if ins.op in BRANCHES and ins.operands[0].name not in labels:
            raise InputError("function %s jumps to %s, outside it" % (name, ins.operands[0].name), program.path, line,
                             ins.att())
    return replace(program, instrs=program.instrs[start:end], labels=labels, lines=program.lines[start:end],
                   name=name)
