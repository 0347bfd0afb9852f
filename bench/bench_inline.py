"""Does `superopt bench --harness inline` time a kernel as your own C++ loop does?

One run, side by side:

  hand-written  a C++ program written the way a user times code: std::vector, std::mt19937
                inputs, std::chrono::steady_clock around a loop of independent calls
                `sort3(&d[3 * i])` (sortN: N) over K arrays, each rep on a fresh copy (untimed). The
                exported header (`superopt export`, cpp, and its --values form) and the C++
                baselines are #included into it. Two input policies: `same` (the same K
                arrays every rep, as most hand-written benchmarks do) and `fresh` (a
                different set of K arrays each rep).
  superopt      `superopt.bench(..., harness="inline", mode="throughput")` on the same
                kernel and baselines (fresh inputs every run; superopt's own loop).

It prints each program's ns per call in both at the 5th percentile of the reps (timing noise
only adds, and the machine is shared), their ratio (the target: within 10% for the
exported kernel), and the speed-up of the exported kernel over each baseline in each. Branchy baselines are where the input policy matters: with the same inputs every
rep the branch predictor learns them.

Usage: .venv/bin/python bench/bench_inline.py [--reps 300] [--k 10000] [KERNEL.s [BASELINE.cc ...]]
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

HAND = r"""
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
#include "exported.h"
#include "exported_values.h"
%(baselines)s

template <class F> double ns_per_call(F sort, const std::vector<int32_t> &in, std::vector<int32_t> &d) {
    d = in;
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < d.size(); i += %(n)d) sort(&d[i]);
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / (d.size() / %(n)d);
}

int main(int argc, char **argv) {
    long reps = atol(argv[1]), k = atol(argv[2]);
    bool fresh = argv[3][0] == 'f';
    std::mt19937 gen(1);
    std::vector<std::vector<int32_t>> sets(fresh ? 64 : 1, std::vector<int32_t>(%(n)d * k));
    for (auto &set : sets) for (auto &x : set) x = (int32_t)gen();
    std::vector<int32_t> d;
    for (long r = -3; r < reps; r++) {  // three reps of warm-up
        const std::vector<int32_t> &in = sets[(r + 3) %% sets.size()];
        double t[] = {ns_per_call([](int32_t *a) { exported(a); }, in, d),
                      ns_per_call([](int32_t *a) { exported_values(a); }, in, d),
                      %(calls)s};
        if (r >= 0) { for (double x : t) printf("%%.4f ", x); printf("\n"); }
        for (size_t i = 0; i < d.size(); i += %(n)d)
            if (!std::is_sorted(&d[i], &d[i] + %(n)d)) { fprintf(stderr, "not sorted\n"); return 1; }
    }
}
"""


def hand_written(kernel: Path, baselines: list[Path], reps: int, k: int, policy: str, work: Path) -> np.ndarray:
    """ns per call: reps x (exported, exported --values, baselines...)."""
    program, task = superopt.resolve(kernel)
    verdict = superopt.verify(program, task)
    (work / "exported.h").write_text(superopt.export(program, task, "cpp", name="exported", verdict=verdict))
    (work / "exported_values.h").write_text(superopt.export(program, task, "cpp", name="exported_values",
                                                            values=True, verdict=verdict))
    includes = "\n".join('#define %s baseline%d\n#include "%s"\n#undef %s' % (task.name, j, b.resolve(), task.name)
                         for j, b in enumerate(baselines))
    calls = ",\n                      ".join("ns_per_call([](int32_t *a) { baseline%d(a); }, in, d)" % j
                                             for j in range(len(baselines)))
    (work / "hand.cc").write_text(HAND % {"baselines": includes, "calls": calls, "n": task.n})
    subprocess.run(["g++", "-O2", "-o", "hand", "hand.cc"], cwd=work, check=True)
    out = subprocess.run(["./hand", str(reps), str(k), policy], cwd=work, check=True, capture_output=True,
                         text=True).stdout
    return np.array([[float(x) for x in line.split()] for line in out.splitlines()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", default=[str(ROOT / "asm" / "sort3.s"),
                                                     str(ROOT / "bench" / "baselines" / "sort3_branchless.cc"),
                                                     str(ROOT / "bench" / "baselines" / "sort3_minmax.cc")])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--k", type=int, default=10000)
    args = parser.parse_args()
    kernel, baselines = Path(args.files[0]), [Path(b) for b in args.files[1:]]
    console = Console(width=150, highlight=False)
    console.print("load average %s; %d reps x %d calls; g++ -O2; throughput (independent calls)"
                  % (" ".join("%.2f" % x for x in os.getloadavg()), args.reps, args.k))
    names = ["%s (cpp header)" % kernel.name, "%s (--values)" % kernel.name] + [b.name for b in baselines]
    with tempfile.TemporaryDirectory() as tmp:
        hand = {policy: hand_written(kernel, baselines, args.reps, args.k, policy, Path(tmp))
                for policy in ("same", "fresh")}
    ours = {}
    for values in (False, True):
        rep = superopt.bench([kernel] + baselines, runs=args.reps, inputs_per_run=args.k, harness="inline",
                             mode="throughput", values=values)
        ours[values] = [float(r.value) * rep.ns_per_tick for r in rep.results]
        tsc = rep.tsc_hz
    p5s = [ours[False][0], ours[True][0]] + ours[True][1:]   # baselines: from the --values run
    table = Table(title="ns per call, 5th percentile of the reps (TSC %.4f GHz, measured)" % (tsc / 1e9))
    for col in ("program", "hand, same inputs", "hand, fresh inputs", "superopt inline",
                "superopt / hand fresh", "superopt / hand same"):
        table.add_column(col, justify="left" if col == "program" else "right")
    hand = {policy: np.quantile(figures, 0.05, axis=0, method="inverted_cdf") for policy, figures in hand.items()}
    for j, name in enumerate(names):
        same, fresh = hand["same"][j], hand["fresh"][j]
        table.add_row(name, "%.3f" % same, "%.3f" % fresh, "%.3f" % p5s[j],
                      "%.3f" % (p5s[j] / fresh), "%.3f" % (p5s[j] / same))
    console.print(table)
    for j, name in enumerate(names[2:], 2):
        parts = []
        for label, figures in (("hand same", hand["same"]), ("hand fresh", hand["fresh"]),
                               ("superopt inline", p5s)):
            ratio = figures[j] / figures[1]
            parts.append("%s %.2fx %s" % (label, ratio if ratio >= 1 else 1 / ratio,
                                          "faster" if ratio >= 1 else "slower"))
        console.print("%s --values against %s: %s" % (kernel.name, name, ", ".join(parts)))


if __name__ == "__main__":
    main()
