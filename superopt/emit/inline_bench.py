"""The inline harness: kernels timed as users run them, the exported C++ header (or its
values form) inlined into a generated loop compiled by the system compiler, beside C/C++
baselines compiled into the same loop (superopt.emit.loop): for a function task, its C spec.

Only kernels that pass verify in the emulator are exported; the compiled loop itself is
then run once on every proof input and 1,000 random ones (a function task's edge, random
and counterexample inputs) and its outputs compared with the task's, so a wrong kernel, a
wrong baseline or a miscompiled loop is refused before it is timed. Every native run is a child process: a crash or a hang is a NativeError (exit 1).

The figures are whole loop iterations (the call and the loop around it): inlined code
overlaps with its surroundings, so the loop alone (an empty asm block in place of the
call) is measured and reported but not subtracted. Per-call figures are rdtsc reference
cycles; the TSC's rate is measured during the runs, so they convert to nanoseconds.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

from superopt.emit.export import export
from superopt.emit.loop import EMPTY_CALL, baseline_prelude, call_of, loop_header, loop_unit, main_unit, record_size
from superopt.errors import InputError
from superopt.measure.counters import CounterChoice
from superopt.measure.timing import (BenchReport, NotVerified, check_options, clock_reading,
                                     instruction_counts, summarise, tsc_since, verified)
from superopt.run.baseline import CXX_SUFFIXES
from superopt.run.compiled import Unit, build, compiler, stream
from superopt.run.native import NativeError, kernel_of
from superopt.tasks.base import Task
from superopt.x86.isa import Program

COUNTER = CounterChoice("tsc", "ref-cycles", "the inline harness reads rdtsc in the generated loop "
                        "(lfence-serialised): constant-rate reference cycles, not core cycles")
_SET_BYTES = 16 << 20  # input sets kept for the runs (runs cycle through them; see loop.MAIN)
_PROGRESS_EVERY = 20


def bench_inline(items: list, task: Task, names: list[str], *, runs: int = 1000, inputs_per_run: int = 10000,
                 mode: str = "latency", distribution: str = "random", seed: int = 0, quantile: float = 0.05,
                 confidence: float = 0.95, values: bool = False, progress=None, timeout: float = 120.0,
                 keep: str | None = None) -> BenchReport:
    """Time each item inlined: a Program (verified, exported as the cpp header, `values` for
    its values form) or the path of a C/C++ file defining the task's function. `keep`: a
    directory to leave the generated sources and driver in (default: a temporary one)."""
    check_options(mode, distribution, runs, inputs_per_run, quantile, items, task)
    if keep is not None:
        try:
            os.makedirs(keep, exist_ok=True)
        except OSError as exc:
            raise InputError("cannot make the directory: %s" % (exc.strerror or exc), keep) from None
        return _bench_in(keep, items, task, names, runs, inputs_per_run, mode, distribution, seed, quantile,
                         confidence, values, progress, timeout)
    with tempfile.TemporaryDirectory(prefix="superopt-inline-") as work:
        return _bench_in(work, items, task, names, runs, inputs_per_run, mode, distribution, seed, quantile,
                         confidence, values, progress, timeout)


def _bench_in(work, items, task, names, runs, k, mode, distribution, seed, quantile, confidence, values,
              progress, timeout) -> BenchReport:
    driver, forms = _build(work, items, task, names, mode, values)
    _check(work, driver, task, names, timeout)
    itemsize = 8 if task.kind == "function" else 4   # see _records
    sets = min(runs, max(1, _SET_BYTES // (itemsize * record_size(task) * k)))
    arrays, lengths = zip(*[task.random_inputs(np.random.default_rng([seed, *key]), k, distribution)
                            for key in [(s,) for s in range(sets)] + [(0, 1)]])   # the last: the warm-up
    _write(work, "sets", task, np.concatenate(arrays), np.concatenate(lengths))
    what = "the inline harness of " + ", ".join(names)
    rows, interrupted = [], False
    start = clock_reading()
    lines = stream([driver, "time", str(runs), str(k), str(sets + 1)] + _paths(work, "sets"), timeout, what)
    try:
        for line in lines:
            rows.append([float(x) for x in line.split()])
            if progress is not None and (len(rows) % _PROGRESS_EVERY == 0 or len(rows) == runs):
                progress(len(rows), runs)
    except KeyboardInterrupt:
        lines.close()   # kills the driver
        if not rows:
            raise
        interrupted = True
    tsc_hz, tsc_seconds = tsc_since(start)
    return summarise(np.array(rows) / k, names, quantile=quantile, confidence=confidence, subtract=False,
                     forms=forms, instructions=instruction_counts(items), task=task.name, mode=mode, counter=COUNTER, runs_requested=runs,
                     inputs_per_run=k, distribution=distribution, seed=seed, interrupted=interrupted,
                     harness="inline", tsc_hz=tsc_hz, tsc_seconds=tsc_seconds)


def _build(work: str, items: list, task: Task, names: list[str], mode: str, values: bool):
    """Write and compile the loop units and the driver; (driver path, each item's form)."""
    def put(name: str, text: str) -> str:
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    put("loop.h", loop_header(task, mode))
    units = [Unit(put("loop0.c", loop_unit("superopt_loop0", EMPTY_CALL, [])), cxx=False)]
    forms = []
    for j, (item, name) in enumerate(zip(items, names), 1):
        function = "superopt_program%d" % j
        if isinstance(item, Program):
            verdict = verified(item, task, name)
            kernel_of(item, name)   # refuses a kernel needing an extension this CPU lacks
            put("program%d.h" % j, export(item, task, "cpp", function, verdict, values))
            prelude, cxx = ['#include "program%d.h"' % j], True
            forms.append("inline cpp" + (" --values" if values else ""))
        else:
            source = os.path.abspath(item)
            if not os.path.isfile(source):
                raise InputError("no such file", item)
            prelude, cxx = baseline_prelude(task, source, function), item.lower().endswith(CXX_SUFFIXES)
            forms.append("inline %s -O2" % os.path.basename(compiler(cxx)))
        path = put("loop%d.%s" % (j, "cc" if cxx else "c"), loop_unit("superopt_loop%d" % j,
                                                                     call_of(task, function), prelude))
        units.append(Unit(path, cxx, None if isinstance(item, Program) else item))
    units.append(Unit(put("main.c", main_unit(["superopt_loop%d" % j for j in range(len(items) + 1)])), False))
    driver = os.path.join(work, "driver")
    build(units, driver)
    return driver, forms


def _records(task: Task, arrays: np.ndarray) -> np.ndarray:
    """The loop's records: a sort's arrays as int32; a function task's argument bits as
    uint64, with a zero column where it takes no argument (the result's slot)."""
    if task.kind != "function":
        return np.ascontiguousarray(arrays, dtype=np.int32)
    arrays = np.asarray(arrays, dtype=np.uint64).reshape(len(arrays), -1)
    if arrays.shape[1] == 0:
        arrays = np.zeros((len(arrays), 1), dtype=np.uint64)
    return np.ascontiguousarray(arrays)


def _write(work: str, stem: str, task: Task, arrays: np.ndarray, lengths: np.ndarray) -> None:
    inputs, lens = _paths(work, stem)
    _records(task, arrays).tofile(inputs)
    np.ascontiguousarray(lengths, dtype=np.int32).tofile(lens)


def _paths(work: str, stem: str) -> list[str]:
    return [os.path.join(work, stem + ".in"), os.path.join(work, stem + ".len")]


def _check(work: str, driver: str, task: Task, names: list[str], timeout: float) -> None:
    """Every program's loop once over the proof inputs and 1,000 random ones: outputs must be
    the task's. NotVerified (exit 1) names the first wrong program and input."""
    if task.kind == "function":   # edge values, 1,000 random inputs, the counterexamples recorded
        arrays = task.inputs(np.random.default_rng(0), 1000)
        lengths = np.zeros(len(arrays), dtype=np.int32)
    else:
        proof, random = task.proof_inputs(), task.random_inputs(np.random.default_rng(0), 1000)
        arrays, lengths = np.concatenate([proof[0], random[0]]), np.concatenate([proof[1], random[1]])
    _write(work, "check", task, arrays, lengths)
    out = os.path.join(work, "check.out")
    done = []
    try:
        for line in stream([driver, "check"] + _paths(work, "check") + [out], timeout, "the inline check"):
            done.append(int(line))
    except NativeError as exc:
        raise NativeError("%s (inlined, on the check inputs)" % str(exc).replace(
            "the inline check", names[len(done)], 1)) from None
    records = _records(task, arrays)
    got = np.fromfile(out, dtype=records.dtype).reshape(len(names), *records.shape)
    function = task.kind == "function"
    expected = task.expected(arrays) if function else task.expected(arrays, lengths)
    for name, result in zip(names, got):
        ok = task.compare(result[:, 0], expected) if function else (result == expected).all(axis=1)
        wrong = np.nonzero(~ok)[0]
        if len(wrong):
            first = wrong[0]
            example = (task.signature.call(arrays[first], int(result[first, 0]), int(expected[first])) if function
                       else "%s -> %s" % (arrays[first].tolist(), result[first].tolist()))
            raise NotVerified("%s: gives wrong results inlined into the timed loop (%d of %d inputs, first: %s)"
                              % (name, len(wrong), len(arrays), example))
