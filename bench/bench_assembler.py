"""How fast is superopt's front end, and what would the alternatives cost? Side by side, one run.

  1. Parsing: asm/sort3.s (branchless network) and asm/sort3_insertion.s (branches), programs/s.
  2. Assembling, cold (every encoding through Keystone, then checked by Capstone) and warm
     (per-instruction encodings cached, as verify, the timing harness and search see them).
  3. Design alternatives, measured on the same programs:
     - whole-program Keystone: the program as one Intel text with labels in one Keystone call,
       plus one Capstone pass over the result (what superopt would do without its own branch
       encoder and cache);
     - isolation: a forked child process per assembly (the price of running Keystone where it
       could not take the CLI down, instead of validating everything before Keystone sees it).

Measures the parser and assembler (superopt.x86) themselves; kernels are read with superopt.load.

Usage: .venv/bin/python bench/bench_assembler.py [--seconds 1.0]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import keystone
from rich.console import Console
from rich.table import Table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import superopt  # noqa: E402
from superopt.x86.assembler import assemble, clear_cache  # noqa: E402
from superopt.x86.decode import disassemble  # noqa: E402
from superopt.x86.isa import Program  # noqa: E402
from superopt.x86.parser import parse_text  # noqa: E402

console = Console(width=140, highlight=False)
KEYSTONE = keystone.Ks(keystone.KS_ARCH_X86, keystone.KS_MODE_64)   # the mode the assembler uses


def rate(fn, seconds: float) -> float:
    """Calls per second of fn(), over at least `seconds` (after one warm-up call)."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def whole_program_keystone(program: Program) -> bytes:
    """One Keystone call on the whole program (labels renamed to safe names), one Capstone pass."""
    names = {name: "L%d" % k for k, name in enumerate(program.labels)}
    lines = []
    for i, ins in enumerate(program.instrs + [None]):
        lines += [names[n] + ":" for n in program.labels_at(i)]
        if ins is not None:
            text = ins.intel()
            if ins.op in ("j", "jmp"):
                text = "%s %s" % (ins.mnemonic, names[ins.operands[0].name])
            lines.append(text)
    code, _ = KEYSTONE.asm("\n".join(lines), 0)
    code = bytes(code)
    assert len(disassemble(code)) == len(program.instrs)
    return code


def forked_assemble(program: Program) -> bytes:
    """assemble() in a forked child that sends the bytes back through a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, assemble(program).code)
        os._exit(0)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = ap.parse_args()
    table = Table(title="superopt front end: programs/s and instructions/s (higher is better)")
    for col in ("program", "instrs", "what", "programs/s", "instructions/s", "vs warm assemble"):
        table.add_column(col, justify="left" if col in ("program", "what") else "right")
    for name in ("sort3.s", "sort3_insertion.s"):
        path = os.path.join(ROOT, "asm", name)
        program = superopt.load(path)
        text = open(path).read()
        n = len(program.instrs)
        assert whole_program_keystone(program) == assemble(program).code

        def cold():
            clear_cache()
            assemble(program)
        measured = [
            ("parse", rate(lambda: parse_text(text, path), args.seconds)),
            ("assemble, cold (Keystone + Capstone check)", rate(cold, args.seconds)),
            ("assemble, warm (cached encodings)", rate(lambda: assemble(program), args.seconds)),
            ("alternative: whole program in one Keystone call", rate(lambda: whole_program_keystone(program), args.seconds)),
            ("alternative: warm assemble in a forked child", rate(lambda: forked_assemble(program), args.seconds)),
        ]
        warm = measured[2][1]
        for what, per_s in measured:
            table.add_row(name, str(n), what, "%.0f" % per_s, "%.0f" % (per_s * n), "%.2fx" % (per_s / warm))
    console.print(table)


if __name__ == "__main__":
    main()
