"""Measuring kernels on the real CPU: runs, interleaving, overhead subtraction, statistics.

One run times the harness loop over K fresh inputs for every program in turn, the empty
kernel among them (E A B C, then A B C E, B C E A ...: interleaved, so drift hits all alike,
and rotated, so that no program always goes first), each program on inputs of its own drawn
from the same distribution (shared ones train the branch predictor for the next program). Per-call figures are loop ticks / K. The harness's own cost is the empty kernel's
quantile, subtracted from every figure and reported. Programs are compared by the quantile
AlphaDev used (the 5th percentile: timing noise only ever adds), each with a
distribution-free confidence interval, and by their ratio to the first program.

Only programs that pass the emulator's verification run natively; compiled C/C++ baselines
are checked natively (in the isolated worker) on the proof inputs before they are timed.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace

import numpy as np

from superopt.measure.counters import CounterChoice, select_counter
from superopt.errors import SuperoptError
from superopt.x86.isa import Program, instruction_count
from superopt.run.native import MODES, Kernel, SharedObject, kernel_of, run_native, runner
from superopt.run.harness import EMPTY_KERNEL, clock_code, harness_code
from superopt.measure.stats import QuantileEstimate, Ratio, quantile_ci, ratio_ci
from superopt.tasks.base import Task

DISTRIBUTIONS = ("random", "sorted", "reversed", "equal")
_CHUNK_RUNS = 20  # runs per request to the worker: progress updates and Ctrl-C granularity
# Systematic effects (code placement, how the harness and kernel overlap) move figures by a
# few hundredths of a cycle to a few tenths; a figure must clear the harness overhead by this
# fraction of it to count as told apart from zero, and only then gets a ratio.
NOISE_FLOOR = 0.03


class NotVerified(SuperoptError):
    """A program failed verification, so it may not run natively (exit code 1)."""
    exit_code = 1

    def __init__(self, message: str, report=None, name: str | None = None):
        super().__init__(message)
        self.report, self.name = report, name  # the verify Verdict, when there is one


@dataclass
class ProgramTiming:
    name: str
    value: float                 # the quantile, per call, overhead subtracted
    ci_low: float | None
    ci_high: float | None
    median: float
    min: float
    resolved: bool               # False: cannot be told from zero (the harness alone)
    ratio: Ratio                 # to the first program
    samples: np.ndarray = field(repr=False)  # per-call figure of every timed run, overhead subtracted
    form: str = "call"           # how it ran: "call" (out of line), "inline cpp", "inline gcc -O2" ...
    instructions: int | None = None  # a kernel's, without ret (None: a compiled C/C++ baseline)

    @property
    def mean(self) -> float:
        return float(self.samples.mean())

    @property
    def std(self) -> float:
        return float(self.samples.std(ddof=1)) if len(self.samples) > 1 else 0.0

    def to_json(self, ns_per_tick: float | None = None, first: str = "") -> dict:
        figures = {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "median": self.median,
                   "mean": self.mean, "std": self.std, "min": self.min}
        ns = None if ns_per_tick is None else {k: _round(None if v is None else v * ns_per_tick)
                                               for k, v in figures.items()}
        return {"file": self.name, "form": self.form, "instructions": self.instructions, "runs": len(self.samples),
                **{k: _round(v) for k, v in figures.items()}, "ns": ns,
                "resolved": self.resolved, "ratio": _round(self.ratio.value),
                "ratio_ci_low": _round(self.ratio.ci_low), "ratio_ci_high": _round(self.ratio.ci_high),
                "ratio_note": self.ratio.note or None, "compared": compared(self.ratio, first)}


def compared(ratio: Ratio, first: str) -> str:
    """"1.49x faster than FIRST [1.47, 1.51]" (hyperfine's wording): the ratio of the
    quantiles turned into a speed-up or slow-down, its interval alike."""
    if ratio.note == "reference":
        return "reference"
    if ratio.value is None:
        return "no ratio (%s)" % ratio.note
    faster = ratio.value < 1
    value, low, high = ((1 / ratio.value, ratio.ci_high, ratio.ci_low) if faster else
                        (ratio.value, ratio.ci_low, ratio.ci_high))
    flip = (lambda x: None if x is None else 1 / x) if faster else (lambda x: x)
    ci = "" if low is None or high is None else " [%.2f, %.2f]" % (flip(low), flip(high))
    return "%.2fx %s than %s%s" % (value, "faster" if faster else "slower", first, ci)


def _round(x: float | None) -> float | None:
    """Per-call figures are counts / K: digits beyond 1e-5 carry no information."""
    return None if x is None else round(float(x), 5)


@dataclass
class BenchReport:
    task: str
    mode: str
    counter: CounterChoice
    quantile: float
    confidence: float
    runs: int                    # completed runs (fewer than asked if interrupted)
    runs_requested: int
    inputs_per_run: int
    distribution: str
    seed: int
    overhead: QuantileEstimate   # the empty kernel's (or empty loop's) per-call figure
    results: list[ProgramTiming]
    interrupted: bool = False
    harness: str = "call"        # "call": superopt's machine-code loop; "inline": a generated C/C++ loop
    subtracted: bool = True      # whether `overhead` was subtracted from every figure
    tsc_hz: float | None = None  # the TSC's rate, measured against the monotonic clock during the runs
    tsc_seconds: float | None = None  # over how long
    lengths: str | None = None   # a variable sort's length distribution (superopt.tasks.lengths.describe)

    @property
    def ns_per_tick(self) -> float | None:
        """Nanoseconds per counter tick: known for the TSC (its rate is measured), not for
        core cycles (the core clock varies)."""
        return 1e9 / self.tsc_hz if self.tsc_hz and self.counter.name == "tsc" else None

    def to_json(self) -> dict:
        """The report in the --json schema (docs/json.md): the counter, unit, quantile and
        harness once, for every row."""
        first = self.results[0].name if self.results else ""
        return {
            "task": self.task, "harness": self.harness, "mode": self.mode, "counter": self.counter.name,
            "unit": self.counter.unit,
            "counter_reason": self.counter.reason, "tsc_hz": self.tsc_hz, "tsc_seconds": self.tsc_seconds,
            "quantile": self.quantile, "confidence": self.confidence,
            "runs": self.runs, "runs_requested": self.runs_requested, "inputs_per_run": self.inputs_per_run,
            "distribution": self.distribution, "lengths": self.lengths, "seed": self.seed,
            "interrupted": self.interrupted,
            "overhead": {"value": _round(self.overhead.value), "ci_low": _round(self.overhead.ci_low),
                         "ci_high": _round(self.overhead.ci_high), "subtracted": self.subtracted},
            "results": [r.to_json(self.ns_per_tick, first) for r in self.results],
        }


_verified: set[bytes] = set()  # digests of code that passed (verification is not repeated)


def checked_kernel(item, task: Task, name: str | None = None, timeout: float = 60.0) -> Kernel:
    """The native kernel for a Program (after it passes verify in the emulator) or a
    compiled baseline (after its native outputs match on every proof input and 1,000 random ones,
    within `timeout` seconds). Raises NotVerified (exit 1) with the verification report otherwise."""
    if isinstance(item, Program):
        kernel = kernel_of(item, name)
        digest = hashlib.sha256(task.name.encode() + kernel.code).digest()
        if digest not in _verified:
            verified(item, task, kernel.name)
            _verified.add(digest)
        return kernel
    if isinstance(item, SharedObject):
        item = replace(item, name=name or item.name)
        proof, random = task.proof_inputs(), task.random_inputs(np.random.default_rng(0), 1000)
        arrays, lengths = np.concatenate([proof[0], random[0]]), np.concatenate([proof[1], random[1]])
        got = run_native(item, task, arrays, lengths, timeout=timeout)
        wrong = np.nonzero((got != task.expected(arrays, lengths)).any(axis=1))[0]
        if len(wrong):
            raise NotVerified("%s: %s gives wrong results natively (%d of %d inputs, first: %s)"
                              % (item.name, item.symbol, len(wrong), len(arrays), arrays[wrong[0]].tolist()))
        return item
    raise TypeError("measure takes Programs or compiled baselines, not %r" % type(item).__name__)


def verified(program: Program, task: Task, name: str):
    """The verify Verdict of a program that passes; NotVerified (with the report) otherwise."""
    from superopt.emit.export import verdict_summary
    from superopt.check.verify import verify
    verdict = verify(program, task)
    if not verdict.passed:
        raise NotVerified("%s: fails verification for %s, so it will not run natively: %s"
                          % (name, task.name, verdict_summary(verdict)), verdict, name)
    return verdict


def measure(programs: list, task: Task, *, runs: int = 1000, inputs_per_run: int = 10000, mode: str = "latency",
            counter: str | CounterChoice = "auto", distribution: str = "random", seed: int = 0,
            quantile: float = 0.05, confidence: float = 0.95, progress=None, names: list[str] | None = None,
            timeout: float = 120.0) -> BenchReport:
    """Time `programs` (superopt Programs or compiled baselines) natively, interleaved.

    `progress(done, total)` is called after each batch of runs. Ctrl-C stops early and the
    report covers the runs completed (`interrupted` is set). Cheap variants for search:
    fewer runs and inputs (e.g. runs=50, inputs_per_run=1000)."""
    check_options(mode, distribution, runs, inputs_per_run, quantile, programs, task)
    choice = counter if isinstance(counter, CounterChoice) else select_counter(counter)
    names = names or [None] * len(programs)
    kernels = [checked_kernel(p, task, n, timeout=timeout) for p, n in zip(programs, names)]
    return time_kernels(kernels, task, runs=runs, inputs_per_run=inputs_per_run, mode=mode, counter=choice,
                        distribution=distribution, seed=seed, quantile=quantile, confidence=confidence,
                        progress=progress, timeout=timeout, instructions=instruction_counts(programs))


def instruction_counts(programs: list) -> list[int | None]:
    """Each Program's instruction count without ret; None for a compiled baseline."""
    return [instruction_count(p) if isinstance(p, Program) else None for p in programs]


def check_options(mode, distribution, runs, inputs_per_run, quantile, programs, task: Task) -> None:
    distributions = getattr(task, "distributions", DISTRIBUTIONS)   # a buffer task has its own
    if mode not in MODES:
        raise SuperoptError("unknown mode %r (choose from %s)" % (mode, ", ".join(MODES)))
    if distribution not in distributions:
        raise SuperoptError("unknown input distribution %r (choose from %s)%s" % (
            distribution, ", ".join(distributions), "; its lengths: --lengths" if getattr(task, "kind", None) == "buffer" else ""))
    if runs < 1 or inputs_per_run < 1:
        raise SuperoptError("runs and inputs per run must be at least 1")
    if not 0 < quantile < 1:
        raise SuperoptError("quantile must be between 0 and 1 (exclusive), not %g" % quantile)
    if not programs:
        raise SuperoptError("nothing to measure")


def time_kernels(kernels: list[Kernel], task: Task, *, runs: int, inputs_per_run: int, mode: str,
                 counter: CounterChoice, distribution: str, seed: int, quantile: float, confidence: float,
                 progress=None, timeout: float = 120.0, instructions: list | None = None) -> BenchReport:
    """The measurement itself, with no checks: only for kernels already checked (by
    `checked_kernel`) or superopt's own (the empty kernel, calibration chains)."""
    harness = harness_code(task, mode, "rdpmc" if counter.read == "rdpmc" else "rdtsc")
    what = "timing " + ", ".join(k.name for k in kernels)
    chunks, done, interrupted = [], 0, False
    start = clock_reading()
    try:
        while done < runs:
            step = min(_CHUNK_RUNS, runs - done)
            chunks.append(runner().call("measure", harness, [EMPTY_KERNEL] + kernels, task, counter.read,
                                        inputs_per_run, distribution, seed, range(done, done + step),
                                        timeout=timeout, what=what))
            done += step
            if progress is not None:
                progress(done, runs)
    except KeyboardInterrupt:
        if not chunks:
            raise
        interrupted = True
    tsc_hz, tsc_seconds = tsc_since(start)
    per_call = np.concatenate(chunks) / inputs_per_run
    return summarise(per_call, [k.name for k in kernels], task=task.name, mode=mode, counter=counter,
                     quantile=quantile, confidence=confidence, runs_requested=runs,
                     inputs_per_run=inputs_per_run, distribution=distribution, seed=seed, interrupted=interrupted,
                     tsc_hz=tsc_hz, tsc_seconds=tsc_seconds, instructions=instructions)


_CALIBRATION = 0.2  # seconds at least between the two clock readings: the rate to 1e-5


def clock_reading() -> tuple[int, int]:
    """(TSC, monotonic ns) read back to back in the native worker (the TSC is the machine's:
    constant-rate, the same on every core)."""
    return runner().call("clock", clock_code(), what="reading the TSC")


def tsc_since(start: tuple[int, int]) -> tuple[float, float]:
    """(TSC ticks per second, seconds measured over) since the clock_reading `start`,
    waiting until at least _CALIBRATION seconds have passed."""
    end = clock_reading()
    if end[1] - start[1] < _CALIBRATION * 1e9:
        time.sleep(_CALIBRATION - (end[1] - start[1]) / 1e9)
        end = clock_reading()
    return tsc_rate(end[0] - start[0], end[1] - start[1])


def tsc_rate(ticks: int, ns: int) -> tuple[float, float]:
    """(ticks per second, seconds) of a TSC interval measured against the monotonic clock."""
    if ticks <= 0 or ns <= 0:
        raise SuperoptError("the TSC did not advance against the monotonic clock (%d ticks in %d ns)" % (ticks, ns))
    return ticks * 1e9 / ns, ns / 1e9


def summarise(per_call: np.ndarray, names: list[str], *, quantile: float, confidence: float,
              subtract: bool = True, forms: list[str] | None = None, instructions: list | None = None,
              **info) -> BenchReport:
    """Statistics from per-call figures: column 0 the empty kernel, then one per program.
    NaN marks a run the counter could not time (see Worker.measure); it is left out.
    With `subtract` False (the inline harness, where a kernel overlaps the code around it)
    the empty kernel's figure is reported but not subtracted, and every figure counts."""
    columns = [col[~np.isnan(col)] for col in np.asarray(per_call, dtype=float).T]
    if any(len(col) == 0 for col in columns):
        raise SuperoptError("no run could be timed (the perf event was rescheduled during every one)")
    overhead = quantile_ci(columns[0], quantile, confidence)
    offset = overhead.value if subtract else 0.0
    ceiling = (overhead.ci_high if overhead.ci_high is not None else overhead.value) + NOISE_FLOOR * overhead.value
    estimates = [quantile_ci(col, quantile, confidence) for col in columns[1:]]
    # Resolved when even the lowest plausible figure clears the highest plausible overhead by
    # the noise floor (with too few runs for a lower bound, the fastest run stands in for it).
    resolved = [not subtract or (est.ci_low if est.ci_low is not None else float(col.min())) > ceiling
                for est, col in zip(estimates, columns[1:])]
    sub = lambda x: None if x is None else x - offset
    forms = forms or ["call"] * len(names)
    instructions = instructions or [None] * len(names)
    results = []
    for j, (name, est, raw) in enumerate(zip(names, estimates, columns[1:])):
        if j == 0:
            ratio = Ratio(1.0, 1.0, 1.0, "reference")
        elif not resolved[0]:
            ratio = Ratio(None, None, None, "reference within noise of zero")
        elif not resolved[j]:
            ratio = Ratio(None, None, None, "within noise of zero")
        else:
            ratio = ratio_ci(raw, columns[1], quantile, confidence, offset=offset)
        results.append(ProgramTiming(name, est.value - offset, sub(est.ci_low), sub(est.ci_high),
                                     float(np.median(raw)) - offset, float(raw.min()) - offset,
                                     resolved[j], ratio, raw - offset, forms[j], instructions[j]))
    return BenchReport(quantile=quantile, confidence=confidence, runs=len(per_call), overhead=overhead,
                       results=results, subtracted=subtract, **info)


def measure_latencies(programs: list, task: Task, *, runs: int = 50, inputs_per_run: int = 2000, **kw) -> list[float]:
    """Cheap per-program latency estimates (cycles per call, overhead subtracted) for
    ranking candidates in search; the same measurement as `measure`, fewer runs."""
    return [r.value for r in measure(programs, task, runs=runs, inputs_per_run=inputs_per_run, **kw).results]
