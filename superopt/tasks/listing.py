"""A function task's reference as a program in the instruction form: what a search starts from
when it warm-starts, and the length it has to beat.

For a C task this is `cc -O2 -S` of the file with csource's flags (the same compiler and code
generation as the object whose machine code is the reference: -S instead of -c), parsed by
superopt's AT&T parser and cut to the function; for an assembly spec (`FILE.s --signature`),
the given program. gcc's `-S` text parses as the machine code it assembles to, so its length
is the reference's instruction count.
"""
from __future__ import annotations

import shutil
import subprocess

from superopt.errors import InputError
from superopt.tasks.csource import COMPILE_TIMEOUT, FLAGS, OPT_FLAGS
from superopt.tasks.function import FunctionTask
from superopt.x86.functions import select
from superopt.x86.isa import Program, instruction_count
from superopt.x86.parser import parse_file, parse_text

_ASSEMBLY = (".s", ".S", ".asm")


def reference_program(task: FunctionTask, cc: str = "gcc") -> Program:
    """The reference's code as a Program (see the module docstring); InputError if the
    compiler's listing cannot be had or parsed."""
    path = task.source
    if path.endswith(_ASSEMBLY):
        return select(parse_file(path), task.name)
    compiler = shutil.which(cc)
    if compiler is None:
        raise InputError("no compiler %r on PATH" % cc, path)
    flags = [f for f in OPT_FLAGS + FLAGS if f not in ("-c", "-g")]
    language = ["-x", "c"] if not path.endswith((".c", ".C")) else []
    try:
        done = subprocess.run([compiler, *flags, *language, "-S", "-o", "-", path], capture_output=True, text=True,
                              errors="replace", timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise InputError("%s -S did not finish within %d s" % (cc, COMPILE_TIMEOUT), path) from None
    if done.returncode != 0:
        raise InputError("%s -S failed (exit code %d)" % (cc, done.returncode), path)
    program = parse_text(done.stdout, path)
    return select(program, task.name)


def reference_length(task: FunctionTask, cc: str = "gcc") -> int | None:
    """The reference's instruction count (ret excluded), or None when its listing is not to be
    had (an instruction superopt's parser does not read)."""
    try:
        return instruction_count(reference_program(task, cc))
    except InputError:
        return None
