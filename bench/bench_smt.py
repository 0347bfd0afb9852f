"""How long do SMT proofs take, and with which solver? superopt.check.prove on the asm/ sort
kernels (networks, the search's kernels, the arithmetic sort3s) with bitwuzla and z3 side by
side: each kernel's formula is built once and given to both solvers in turn (bitwuzla through
the same SMT-LIB2 text it gets in superopt), `--repeat` times, the best time kept. The
machine is shared, so compare the two columns of one run, not runs.

`--hackers`: the Hacker's Delight suite (bench/hackers/p01..p25.c): gcc's -O1, -Os and -O3
code for each function proven equal to its reference (gcc -O2's code), with bitwuzla.

    .venv/bin/python bench/bench_smt.py [--kernels sort3 sort3_sbb ...] [--repeat K] [--timeout S] [--json]
    .venv/bin/python bench/bench_smt.py --hackers
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import superopt
from superopt.check.prove import prove

ASM = Path(__file__).resolve().parent.parent / "asm"
KERNELS = ["sort3", "sort3_enum", "sort3_sbb", "sort3_sar", "sort4", "sort4_enum", "sort5", "sort5_polished",
           "varsort3", "varsort4"]
SOLVERS = ("bitwuzla", "z3")


def time_kernel(name: str, repeat: int, timeout: float) -> dict:
    program, task = superopt.resolve(ASM / (name + ".s"))
    row = {"kernel": name, "instructions": superopt.x86.isa.instruction_count(program)}
    for solver in SOLVERS:
        best, status = None, None
        for _ in range(repeat):
            proof = prove(program, task, timeout, solver)
            status = proof.status
            best = proof.seconds if best is None else min(best, proof.seconds)
        row[solver] = {"status": status, "seconds": round(best, 3)}
    return row


def hackers(timeout: float) -> dict:
    """Per optimisation level: each p*.c's gcc code proven against the -O2 reference."""
    from superopt.errors import SuperoptError
    from superopt.tasks.csource import c_assembly
    rows = {}
    for path in sorted((ASM.parent / "bench" / "hackers").glob("p*.c")):
        task = superopt.api.get_task(str(path))
        for opt in ("-O1", "-Os", "-O3"):
            try:
                proof = prove(c_assembly(task, opt=(opt,)), task, timeout)
                rows.setdefault(opt, []).append((path.stem, proof.status, proof.seconds, proof.reason))
            except SuperoptError as exc:   # gcc's code uses an instruction the parser does not read
                rows.setdefault(opt, []).append((path.stem, "unread", 0.0, str(exc)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", nargs="+", default=KERNELS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--hackers", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.hackers:
        for opt, rows in hackers(args.timeout).items():
            times = [r[2] for r in rows if r[1] == "proven"]
            print("gcc %s: %d/%d proven, median %.3f s, max %.3f s" % (opt, len(times), len(rows),
                                                                  statistics.median(times), max(times)))
            for name, status, seconds, reason in rows:
                if status != "proven":
                    print("  %s %s: %s" % (name, status, reason))
        return
    rows = [time_kernel(k, args.repeat, args.timeout) for k in args.kernels]
    if args.json:
        print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 1)}, indent=1))
        return
    print("%-16s %5s  %-22s %-22s" % ("kernel", "instr", "bitwuzla", "z3"))
    for r in rows:
        print("%-16s %5d  %-22s %-22s" % (r["kernel"], r["instructions"],
                                          *("%s %.3f s" % (r[s]["status"], r[s]["seconds"]) for s in SOLVERS)))


if __name__ == "__main__":
    main()
