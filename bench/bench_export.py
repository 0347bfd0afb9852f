"""What does `superopt export` give a C user? The exported kernel measured where it ends up.

For each kernel (asm/sort3.s, sort4.s, sort5.s by default) one C program, compiled with
the system gcc at -O2, times side by side, interleaved run by run:

  inline   the `--format c` header: the asm block inlined into the loop, registers
           chosen by the compiler, the array pointer an operand
  values   the `--format c --values` header: the elements themselves are the operands,
           so the compiler may keep the array in registers (when the values form takes
           the kernel)
  call     the `--format gas` file, assembled and linked, called as a function
  libcxx   the libc++-style branchless C baseline (bench/baselines/sortN.c, when there is
           one), compiled into the same file, so the compiler may inline it and keep
           values in registers
  harness  the loop alone with an empty asm block in place of the kernel (copy the input
           in, through memory, chain to the next): subtracted from the rest

Latency mode: the next input's address depends on every output of the previous call
(OR of the outputs, ANDed with zero in asm the compiler cannot see through), so calls do
not overlap. Each run times K calls with rdtsc (lfence-serialised) and gives reference
cycles per call; the table shows the 5th percentile with its distribution-free 95%
interval, the median, each variant's ratio to `call` and its p5 minus the harness's.
Kernels are loaded, verified and exported with the library API (superopt.resolve, verify,
export); the timing is this script's own C driver, summarised with superopt.measure.stats.

Usage: .venv/bin/python bench/bench_export.py [--runs 1000] [--inputs-per-run 10000] [asm/sort3.s ...]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import superopt  # noqa: E402
from superopt.measure.stats import quantile, quantile_ci, ratio_ci  # noqa: E402
from superopt.x86.isa import instruction_count  # noqa: E402

DRIVER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>
%(includes)s
#define N %(n)d
#define TIMED(VARIANT, CALL) \
static __attribute__((noinline)) uint64_t run_##VARIANT(const int32_t *inputs, long k) \
{ \
    int32_t a[N]; \
    uint64_t dep = 0; \
    _mm_lfence(); \
    uint64_t t0 = __rdtsc(); \
    _mm_lfence(); \
    for (long i = 0; i < k; i++) { \
        const int32_t *src = inputs + i * N + dep; \
        _Pragma("GCC unroll 16") /* unrolled: a[] can then live in registers */ \
        for (int j = 0; j < N; j++) a[j] = src[j]; \
        CALL; \
        uint64_t d = 0; \
        _Pragma("GCC unroll 16") \
        for (int j = 0; j < N; j++) d |= (uint32_t)a[j]; \
        __asm__ volatile("and $0, %%0" : "+r"(d)); /* zero, but the CPU must wait for it */ \
        dep = d; \
    } \
    _mm_lfence(); \
    uint64_t t1 = __rdtsc(); \
    _mm_lfence(); \
    return t1 - t0; \
}
%(timed)s
typedef uint64_t (*runner)(const int32_t *, long);
static const runner RUNNERS[] = {%(runners)s};
#define VARIANTS (sizeof RUNNERS / sizeof *RUNNERS)

int main(int argc, char **argv)
{
    long runs = atol(argv[1]), k = atol(argv[2]);
    (void)argc;
    int32_t *inputs = malloc(sizeof(int32_t) * N * k);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < N * k; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        inputs[i] = (int32_t)(uint32_t)s;
    }
    for (int warm = 0; warm < 3; warm++)
        for (size_t v = 0; v < VARIANTS; v++) RUNNERS[v](inputs, k);
    for (long r = 0; r < runs; r++) {
        for (size_t v = 0; v < VARIANTS; v++)
            printf("%%llu ", (unsigned long long)RUNNERS[v](inputs, k));
        printf("\n");
    }
    free(inputs);
    return 0;
}
"""


def measure_kernel(path: Path, runs: int, k: int) -> tuple[str, int, list[str], np.ndarray]:
    """(task name, instruction count, variants, per-call reference cycles: runs x variants).
    The values variant needs a kernel the values form takes, libcxx a baseline in bench/."""
    program, task = superopt.resolve(path)
    if task.variable:
        raise SystemExit("%s: bench_export times fixed-size sorts; %s takes a length" % (path, task.name))
    verdict = superopt.verify(program, task)
    baseline = ROOT / "bench" / "baselines" / (task.name + ".c")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "kernel_inline.h").write_text(superopt.export(program, task, "c", name="kernel_inline",
                                                              verdict=verdict))
        (work / "kernel_call.s").write_text(superopt.export(program, task, "gas", name="kernel_call", verdict=verdict))
        includes = ['#include "kernel_inline.h"', "void kernel_call(int32_t *a);"]
        variants = {"harness": '__asm__ volatile("" : : "r"(a) : "memory")',  # an empty kernel: a[] via memory
                    "call": "kernel_call(a)", "inline": "kernel_inline(a)"}
        try:
            (work / "kernel_values.h").write_text(superopt.export(program, task, "c", name="kernel_values",
                                                                  values=True, verdict=verdict))
            includes.append('#include "kernel_values.h"')
            variants["values"] = "kernel_values(a)"
        except superopt.InputError as exc:
            print("%s: no values variant: %s" % (path, exc))
        if baseline.exists():
            includes += ["#define %s kernel_libcxx" % task.name, '#include "%s"' % baseline]
            variants["libcxx"] = "kernel_libcxx(a)"
        (work / "driver.c").write_text(DRIVER % {
            "includes": "\n".join(includes), "n": task.n,
            "timed": "\n".join("TIMED(%s, %s)" % item for item in variants.items()),
            "runners": ", ".join("run_" + name for name in variants)})
        subprocess.run(["gcc", "-std=gnu99", "-O2", "-o", "driver", "driver.c", "kernel_call.s"],
                       cwd=work, check=True)
        out = subprocess.run(["./driver", str(runs), str(k)], cwd=work, check=True, capture_output=True,
                             text=True).stdout
    ticks = np.array([[int(x) for x in line.split()] for line in out.splitlines()], dtype=float)
    return task.name, instruction_count(program), list(variants), ticks / k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kernels", nargs="*", default=[str(ROOT / "asm" / ("sort%d.s" % n)) for n in (3, 4, 5)])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--inputs-per-run", type=int, default=10000)
    args = parser.parse_args()
    console = Console(width=140, highlight=False)
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown CPU")
    console.print("%s, %d cores; gcc -O2; latency mode, random inputs; rdtsc reference cycles "
                  "per call; %d runs x %d calls, interleaved" % (cpu, os.cpu_count(), args.runs, args.inputs_per_run))
    for path in args.kernels:
        task, count, variants, per_call = measure_kernel(Path(path), args.runs, args.inputs_per_run)
        overhead = quantile(per_call[:, 0], 0.05)
        table = Table(title="%s (%s, %d instructions): harness p5 %.2f cycles/call subtracted" % (
            task, os.path.relpath(path, ROOT), count, overhead))
        for col in ("variant", "p5", "95% CI", "median", "ratio to call", "ratio 95% CI", "p5 - harness"):
            table.add_column(col, justify="left" if col == "variant" else "right")
        for v, name in enumerate(variants):
            est = quantile_ci(per_call[:, v], 0.05)
            ci = "[%s, %s]" % tuple("%.2f" % x if x is not None else "-" for x in (est.ci_low, est.ci_high))
            if name == "harness":
                table.add_row(name, "%.2f" % est.value, ci, "%.2f" % np.median(per_call[:, v]), "", "", "")
                continue
            ratio = ratio_ci(per_call[:, v], per_call[:, 1], 0.05)
            rci = "[%.3f, %.3f]" % (ratio.ci_low, ratio.ci_high) if ratio.ci_low is not None and \
                ratio.ci_high is not None else ratio.note
            table.add_row(name, "%.2f" % est.value, ci, "%.2f" % np.median(per_call[:, v]),
                          "%.3f" % ratio.value if ratio.value is not None else "n/a", rci,
                          "%.2f" % (est.value - overhead))
        console.print(table)
    console.print("Ratios are of whole loop iterations (p5, joint 95% interval). `p5 - harness` estimates the "
                  "kernel alone for inline and call, which take a[] through memory as the harness does; the "
                  "values form and the inlined C baseline may keep a[] in registers and skip that round trip, "
                  "so their figures can fall below the harness.")


if __name__ == "__main__":
    main()
