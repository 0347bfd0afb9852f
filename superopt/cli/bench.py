"""`superopt bench`: time kernels (and C/C++ baselines) natively, interleaved, with CIs."""
from __future__ import annotations

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from superopt.cli.app import console, emit_json, err_console
from superopt.cli.options import TASK_HELP, Seconds, spec_options
from superopt.measure.counters import COUNTER_CHOICES
from superopt import api
from superopt.run.native import MODES
from superopt.measure.timing import DISTRIBUTIONS, BenchReport, NotVerified
from superopt.tasks.lengths import HELP as LENGTHS_HELP

_SPARKS = " ▁▂▃▄▅▆▇█"


@click.command("bench")
@click.argument("files", nargs=-1, required=True, metavar="PROG.s|BASELINE.c ...",
                type=click.Path(dir_okay=False))
@click.option("--task", help=TASK_HELP + " A C task's gcc -O2 and -O3 code is timed alongside.")
@spec_options
@click.option("--runs", default=1000, show_default=True, type=click.IntRange(1),
              help="Measurements per program; each times one loop over the run's inputs.")
@click.option("-k", "--inputs-per-run", default=10000, show_default=True, type=click.IntRange(1),
              help="Calls (fresh inputs) per measurement, as AlphaDev's 10,000.")
@click.option("--mode", type=click.Choice(MODES), default="latency", show_default=True,
              help="latency: each call's input address depends on every output of the previous "
                   "call, so calls cannot overlap; throughput: independent calls.")
@click.option("--counter", type=click.Choice(COUNTER_CHOICES), default="auto", show_default=True,
              help="perf: core cycles from perf_event_open; tsc: rdtsc reference cycles; "
                   "auto: perf if the kernel offers it, else tsc (the report says which and why).")
@click.option("--inputs", "distribution", type=click.Choice(DISTRIBUTIONS), default="random",
              show_default=True, help="Input distribution (variable sorts also draw random lengths).")
@click.option("--lengths", default=None, help=LENGTHS_HELP + " [default: uniform]")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Makes the inputs reproducible.")
@click.option("--quantile", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="The quantile reported (AlphaDev: the 5th percentile, as noise only adds time).")
@click.option("--histogram/--no-histogram", default=True, show_default=True,
              help="Show a terminal histogram of each program's runs.")
@click.option("--timeout", default=120.0, show_default=True, type=Seconds(),
              help="Seconds a batch of runs (or a C baseline's native check) may take before the worker "
                   "is presumed hung and killed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def bench(files, task, signature, cc, runs, inputs_per_run, mode, counter, distribution, lengths, seed, quantile,
          histogram, timeout, as_json):
    """Time kernels on this CPU: per-call cycles at a low quantile with a distribution-free
    confidence interval, median and minimum, and each program's ratio to the first.

    Programs are measured interleaved on the same inputs, after the harness's own cost (an
    empty kernel, measured alongside) is subtracted. Assembly files must pass `verify` in
    the emulator first (exit code 1 otherwise). A C or C++ file defining the task's function
    (e.g. `void sort3(int32_t *a)`) is compiled with -O2 and measured the same way, after a
    native check on every proof input and 1,000 random ones. Ctrl-C stops early and
    reports the runs so far.

    \b
    Examples:
      superopt bench asm/sort3.s asm/sort3_insertion.s bench/baselines/sort3.c
      superopt bench asm/sort5.s --runs 200 --mode throughput --json
    """
    # Off a terminal the bar would only leave a blank line on stderr, before any error.
    with Progress(TextColumn("timing"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                  TimeRemainingColumn(), console=err_console, transient=True,
                  disable=as_json or not err_console.is_terminal) as bar:
        job = bar.add_task("runs", total=runs)
        try:
            report = api.bench(files, task, signature=signature, cc=cc, runs=runs, inputs_per_run=inputs_per_run, mode=mode,
                               counter=counter, distribution=distribution, seed=seed, quantile=quantile,
                               timeout=timeout, lengths=lengths,
                               progress=lambda done, total: bar.update(job, completed=done))
        except NotVerified as exc:  # the verify report (as export gives it), then the one-line error
            if exc.report is not None and as_json:
                emit_json({"task": exc.report.task, "refused": exc.name, "verdict": exc.report.to_json()})
            elif exc.report is not None:
                from superopt.cli.verify import render
                err_console.print(render(exc.report, exc.name))
            raise
    if as_json:
        emit_json(report.to_json())
    else:
        _print(report, histogram)


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else "%.*f" % (digits, x)


def _print(report: BenchReport, histogram: bool) -> None:
    # Piped output is not cut to 80 columns: logs and scripts get whole rows.
    out = console if console.is_terminal else Console(width=130, highlight=False)
    pct = "p%g" % (report.quantile * 100)
    unit = report.counter.unit
    out.print(escape("%s, %s mode, %s inputs: %d runs x %d calls%s" % (
        report.task, report.mode, report.distribution, report.runs, report.inputs_per_run,
        " (interrupted: %d of %d runs)" % (report.runs, report.runs_requested) if report.interrupted else "")))
    if report.lengths:
        out.print(escape("lengths: %s, drawn per call" % report.lengths))
    out.print(escape("counter: %s (%s): %s" % (report.counter.name, unit, report.counter.reason)))
    ov = report.overhead
    out.print(escape("harness overhead subtracted: %s %s per call (%s [%s, %s])" % (
        _fmt(ov.value), unit, pct, _fmt(ov.ci_low), _fmt(ov.ci_high))))
    out.print(report_table(report))
    untimed = {r.name: report.runs - len(r.samples) for r in report.results if len(r.samples) < report.runs}
    if untimed:
        out.print(escape("left out (the perf event was rescheduled mid-run): " + ", ".join(
            "%s %d runs" % item for item in untimed.items())))
    if not all(r.resolved for r in report.results):
        out.print("≈0: within noise of zero (cannot be told from the harness alone)")
    if histogram:
        for r in report.results:
            out.print(escape(_histogram_line(r.name, r.samples, unit)))


def report_table(report: BenchReport, title: str | None = None) -> Table:
    """The per-program table of a report (also used by the bench/ scripts)."""
    pct = "p%g" % (report.quantile * 100)
    unit = report.counter.unit
    table = Table(title=title or "%s per call, overhead subtracted (%g%% confidence intervals)"
                  % (unit, report.confidence * 100))
    for col in ("program", "%s [CI]" % pct, "median", "min", "ratio to first [CI]"):
        table.add_column(col, justify="left" if col == "program" else "right", no_wrap=True)
    for r in report.results:
        value = "%s [%s, %s]" % (_fmt(r.value), _fmt(r.ci_low), _fmt(r.ci_high))
        if not r.resolved:
            value += " ≈0"
        table.add_row(escape(r.name), value, _fmt(r.median), _fmt(r.min), escape(_ratio_text(r.ratio)))
    return table


def _ratio_text(ratio) -> str:
    if ratio.note == "reference":
        return "1 (reference)"
    if ratio.value is None:
        return "- (%s)" % ratio.note
    return "%.3f [%s, %s]" % (ratio.value, _fmt(ratio.ci_low, 3), _fmt(ratio.ci_high, 3))


def _histogram_line(name: str, samples: np.ndarray, unit: str, bins: int = 32) -> str:
    """One line of block characters: the runs' distribution from min to the 95th percentile
    (the tail beyond it is counted, not drawn)."""
    lo, hi = float(samples.min()), float(np.quantile(samples, 0.95))
    hi = hi if hi > lo else lo + 1e-9
    counts, _ = np.histogram(samples[samples <= hi], bins=bins, range=(lo, hi))
    top = counts.max() or 1
    bars = "".join(_SPARKS[int(np.ceil(c / top * (len(_SPARKS) - 1)))] for c in counts)
    tail = int((samples > hi).sum())
    return "%s\n  %s |%s| %s %s (+%d above)" % (name, _fmt(lo), bars, _fmt(hi), unit, tail)
