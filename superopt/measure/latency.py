"""The latency of a correct program, as the AlphaDev agent rewards it and its latency head learns it.

Two sources behind one call, `source(program) -> cycles per call`:
- `native` (the default): the program is checked in Unicorn first (every weak ordering,
  every calling-convention rule), then timed on this CPU by `superopt bench`'s harness in
  latency mode: the 5th percentile of a few short runs, harness overhead subtracted.
  AlphaDev trained its latency head on measured latencies as Monte Carlo targets; this is
  the same at a budget of milliseconds per program. Results are cached per machine code,
  since search meets the same correct program many times.
- `model`: the longest dependency chain in cycles (superopt.measure.cost): no measurement,
  deterministic, for tests and for comparing against the measured objective.
"""
from __future__ import annotations

import time

from superopt.measure.cost import cost_model
from superopt.x86 import isa
from superopt.errors import SuperoptError
from superopt.tasks.base import Task

SOURCES = {
    "native": "measured on this CPU (latency mode, 5th percentile of short runs, after Unicorn verification)",
    "model": "dependency-chain cost model (cycles on the longest chain; not a measurement)",
}


class ModelLatency:
    name = "model"

    def __init__(self, task: Task):
        self.task = task
        self.measured = 0

    def __call__(self, program: isa.Program) -> float:
        return float(cost_model(program.instrs))

    def describe(self) -> dict:
        return {"source": self.name, "what": SOURCES[self.name]}


class NativeLatency:
    """Measured latency, cached per machine code. `runs` x `inputs_per_run` calls per
    program (default 10 x 1,000: a few milliseconds); the counter is chosen once (`auto`:
    perf cycles where the kernel offers them, else rdtsc reference cycles) and named by
    `describe()`. Figures below zero (a kernel faster than the noise of the harness
    subtraction) count as zero."""
    name = "native"

    def __init__(self, task: Task, runs: int = 10, inputs_per_run: int = 1000, counter: str = "auto"):
        self.task, self.runs, self.inputs_per_run = task, runs, inputs_per_run
        self.counter_request = counter
        self.counter = None
        self.cache: dict[bytes, float] = {}
        self.measured = 0      # programs verified and timed (cache misses)
        self.seconds = 0.0     # spent verifying and timing them

    def __call__(self, program: isa.Program) -> float:
        from superopt.run.native import kernel_of
        from superopt.x86.isa import with_ret
        program = with_ret(program)
        kernel = kernel_of(program, "<search candidate>")
        cycles = self.cache.get(kernel.code)
        if cycles is None:
            cycles = self.cache[kernel.code] = self._measure(program, kernel)
        return cycles

    def _measure(self, program: isa.Program, kernel) -> float:
        from superopt.measure.counters import select_counter
        from superopt.measure.timing import time_kernels
        from superopt.check.verify import verify
        started = time.perf_counter()
        # no random inputs: a program of the game's instruction sets is order-only, so the
        # weak orderings are a proof, or else every input the argument would cover, tested:
        # a branch-game read guarded by a length test verify's path-blind check cannot see
        # (the game reads only what every active input wrote) is timed, its result re-verified
        verdict = verify(program, self.task, random_count=0)
        if not verdict.passed:
            raise SuperoptError("internal error: a program the game's evaluator found correct fails Unicorn "
                                "verification (%s), so it was not run natively" % self.task.name)
        if self.counter is None:
            self.counter = select_counter(self.counter_request)
        report = time_kernels([kernel], self.task, runs=self.runs, inputs_per_run=self.inputs_per_run,
                              mode="latency", counter=self.counter, distribution="random", seed=0,
                              quantile=0.05, confidence=0.95)
        self.measured += 1
        self.seconds += time.perf_counter() - started
        return max(float(report.results[0].value), 0.0)

    def describe(self) -> dict:
        out = {"source": self.name, "what": SOURCES[self.name], "programs_measured": self.measured,
               "seconds": round(self.seconds, 3), "runs": self.runs, "inputs_per_run": self.inputs_per_run}
        if self.counter is not None:
            out.update(counter=self.counter.name, unit=self.counter.unit, counter_reason=self.counter.reason)
        return out


def check_source(name: str) -> str:
    if name not in SOURCES:
        raise SuperoptError("unknown latency source %r (choose from %s)" % (name, ", ".join(SOURCES)))
    return name


def latency_source(name: str, task: Task):
    """The source called `name` ("native" or "model") for `task`."""
    return (NativeLatency if check_source(name) == "native" else ModelLatency)(task)
