"""`superopt bench`: time kernels (and C/C++ baselines) natively, interleaved, with CIs."""
from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from superopt import api
from superopt.cli import jsonout
from superopt.cli.app import console, emit_json, err_console
from superopt.cli.bench_output import plot_png, samples_csv, summary_csv, terminal_plots
from superopt.cli.options import TASK_HELP, Seconds, spec_options
from superopt.errors import SuperoptError
from superopt.measure.counters import COUNTER_CHOICES
from superopt.measure.timing import DISTRIBUTIONS, BenchReport, NotVerified, compared
from superopt.outputs import ResultMoved, check_outputs, save
from superopt.run.native import MODES
from superopt.tasks.lengths import HELP as LENGTHS_HELP

HARNESS_CHOICES = api.HARNESSES + ("both",)


@click.command("bench")
@click.argument("files", nargs=-1, required=True, metavar="PROG.s|BASELINE.c ...",
                type=click.Path(dir_okay=False))
@click.option("--task", help=TASK_HELP + " A C task's gcc -O2 and -O3 code is timed alongside (the inline "
                                         "harness: the C function itself, inlined).")
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
              show_default=True, help="Input distribution (variable sorts also draw random lengths; varint tasks take "
                                       "random bytes only, their lengths from --lengths).")
@click.option("--lengths", default=None, help=LENGTHS_HELP + " [default: uniform]")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Makes the inputs reproducible.")
@click.option("--quantile", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="The quantile reported (AlphaDev: the 5th percentile, as noise only adds time).")
@click.option("--harness", type=click.Choice(HARNESS_CHOICES), default="call", show_default=True,
              help="call: each kernel called out of line from superopt's machine-code loop, the loop's "
                   "own cost subtracted; inline: the exported C++ header (and each C/C++ file) inlined into "
                   "a generated loop compiled by the system compiler (-O2), timed as whole loop iterations, "
                   "as your code runs it; both: one table each.")
@click.option("--values", is_flag=True, help="Inline harness: the header's values form (export --values).")
@click.option("--loop-dir", type=click.Path(file_okay=False),
              help="Inline harness: leave the generated loop's sources and driver in this directory.")
@click.option("--histogram/--no-histogram", default=True, show_default=True,
              help="Show each program's histogram of runs and a comparison plot in the terminal.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False),
              help="Write the table as CSV (one row per program and harness).")
@click.option("--samples", "samples_file", type=click.Path(dir_okay=False),
              help="Write every run's per-call figure as CSV (one row per program and run).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False),
              help="Draw the runs' histograms and the quantiles with their CIs into a PNG file.")
@click.option("--timeout", default=120.0, show_default=True, type=Seconds(),
              help="Seconds a batch of runs (or a C baseline's native check) may take before the worker "
                   "is presumed hung and killed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def bench(files, task, signature, cc, runs, inputs_per_run, mode, counter, distribution, lengths, seed, quantile,
          harness, values, loop_dir, histogram, csv_file, samples_file, plot_file, timeout, as_json):
    """Time kernels on this CPU: per-call cycles (and nanoseconds) at a low quantile with a
    distribution-free confidence interval, median, mean and standard deviation, and each
    program's speed-up or slow-down against the first.

    The call harness (the default) times every program interleaved on the same inputs,
    after the harness's own cost (an empty kernel, measured alongside) is subtracted. The
    inline harness times them as your code runs them: the exported header inlined into a
    generated C++ loop (g++ -O2), each C/C++ file compiled into the same loop. Assembly
    files must pass `verify` in the emulator first (exit code 1 otherwise). A C or C++ file
    defining the task's function (e.g. `void sort3(int32_t *a)`) is checked natively on
    every proof input and 1,000 random ones before it is timed. Every native run happens in
    a child process. Ctrl-C stops early and reports the runs so far.

    \b
    Examples:
      superopt bench asm/sort3.s asm/sort3_insertion.s bench/baselines/sort3.c
      superopt bench asm/sort3.s bench/baselines/sort3.c --harness inline --mode throughput --values
      superopt bench asm/sort5.s --runs 200 --mode throughput --json --samples runs.csv --plot runs.png
    """
    check_outputs({"--csv": csv_file, "--samples": samples_file, "--plot": plot_file}, inputs=tuple(files))
    harnesses = ("call", "inline") if harness == "both" else (harness,)
    if "inline" in harnesses and counter == "perf":
        raise SuperoptError("--counter perf: the inline harness reads rdtsc in its generated loop; "
                            "use --harness call for perf cycles")
    if harness == "call" and (values or loop_dir):
        raise SuperoptError("--values and --loop-dir are for the inline harness (--harness inline or both)")
    reports = []
    for which in harnesses:
        reports.append(_run(which, files, task, signature, cc, runs, inputs_per_run, mode, counter, distribution,
                            lengths, seed, quantile, values if which == "inline" else False,
                            loop_dir if which == "inline" else None, timeout, as_json))
    moved = []
    for path, content, what in ((csv_file, lambda: summary_csv(reports), "the CSV table"),
                                (samples_file, lambda: samples_csv(reports), "the runs"),
                                (plot_file, lambda: plot_png(reports), "the plot")):
        if path:
            try:
                save(path, content(), what=what)
            except ResultMoved as exc:
                moved.append(exc)
    if as_json:
        emit_json(reports[0].to_json() if len(reports) == 1 else
                  {"task": reports[0].task, "harness": "both", "reports": [r.to_json() for r in reports]})
    else:
        for rep in reports:
            _print(rep)
        if histogram:
            out = _out()
            out.print(Text.from_ansi(terminal_plots(reports, min(out.width, 100), out.is_terminal)))
    if moved:
        raise moved[0]


def _run(harness, files, task, signature, cc, runs, inputs_per_run, mode, counter, distribution, lengths, seed,
         quantile, values, loop_dir, timeout, as_json) -> BenchReport:
    # Off a terminal the bar would only leave a blank line on stderr, before any error.
    with Progress(TextColumn("timing (%s)" % harness), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                  TimeRemainingColumn(), console=err_console, transient=True,
                  disable=as_json or not err_console.is_terminal) as bar:
        job = bar.add_task("runs", total=runs)
        try:
            return api.bench(files, task, signature=signature, cc=cc, runs=runs, inputs_per_run=inputs_per_run,
                             mode=mode, counter=counter, distribution=distribution, seed=seed, quantile=quantile,
                             timeout=timeout, lengths=lengths, harness=harness, values=values, loop_dir=loop_dir,
                             progress=lambda done, total: bar.update(job, completed=done))
        except NotVerified as exc:  # the verify report (as export gives it), then the one-line error
            if exc.report is not None and as_json:
                jsonout.attach(task=exc.report.task, refused=exc.name, verdict=exc.report.to_json())
            elif exc.report is not None:
                from superopt.cli.verify import render
                err_console.print(render(exc.report, exc.name))
            raise


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else "%.*f" % (digits, x)


def _out() -> Console:
    # Piped output is not cut to 80 columns: logs and scripts get whole rows.
    return console if console.is_terminal else Console(width=150, highlight=False)


def _print(report: BenchReport) -> None:
    out = _out()
    pct = "p%g" % (report.quantile * 100)
    unit = report.counter.unit
    out.print(escape("%s, %s harness, %s mode, %s inputs: %d runs x %d calls%s" % (
        report.task, report.harness, report.mode, report.distribution, report.runs, report.inputs_per_run,
        " (interrupted: %d of %d runs)" % (report.runs, report.runs_requested) if report.interrupted else "")))
    clock = ""
    if report.ns_per_tick is not None:
        clock = "; TSC %.4f GHz (measured against the monotonic clock over %.1f s): 1 %s = %.4f ns" % (
            report.tsc_hz / 1e9, report.tsc_seconds, unit.rstrip("s"), report.ns_per_tick)
    if report.lengths:
        out.print(escape("lengths: %s, drawn per call" % report.lengths))
    out.print(escape("counter: %s (%s): %s%s" % (report.counter.name, unit, report.counter.reason, clock)))
    ov = report.overhead
    if report.subtracted:
        out.print(escape("harness overhead subtracted: %s %s per call (%s [%s, %s])" % (
            _fmt(ov.value), unit, pct, _fmt(ov.ci_low), _fmt(ov.ci_high))))
    else:
        out.print(escape("the loop alone (an empty asm block in place of the call): %s %s per call (%s [%s, %s]), "
                         "not subtracted: inlined code overlaps the loop around it, so figures are whole loop "
                         "iterations, as a timing of your own loop sees them" % (
                             _fmt(ov.value), unit, pct, _fmt(ov.ci_low), _fmt(ov.ci_high))))
    out.print(report_table(report))
    untimed = {r.name: report.runs - len(r.samples) for r in report.results if len(r.samples) < report.runs}
    if untimed:
        out.print(escape("left out (the perf event was rescheduled mid-run): " + ", ".join(
            "%s %d runs" % item for item in untimed.items())))
    if not all(r.resolved for r in report.results):
        out.print("≈0: within noise of zero (cannot be told from the harness alone)")
    first = report.results[0]
    for r in report.results[1:]:
        out.print(escape("%s (%s): %s (%s)" % (r.name, r.form, compared(r.ratio, first.name), pct)))


def report_table(report: BenchReport, title: str | None = None) -> Table:
    """The per-program table of a report (also used by the bench/ scripts)."""
    pct = "p%g" % (report.quantile * 100)
    unit = report.counter.unit
    ns = report.ns_per_tick
    table = Table(title=title or "%s per call%s (%g%% confidence intervals)" % (
        unit, ", overhead subtracted" if report.subtracted else "", report.confidence * 100))
    columns = ["program", "harness", "%s [CI]" % pct] + (["%s ns" % pct] if ns else []) + \
        ["median", "mean ± sd", "min", "vs first [CI]"]
    for col in columns:
        table.add_column(col, justify="left" if col in ("program", "harness") else "right",
                         no_wrap=col != "program", overflow="fold")  # a path wraps whole, never cut
    for r in report.results:
        value = "%s [%s, %s]" % (_fmt(r.value), _fmt(r.ci_low), _fmt(r.ci_high))
        if not r.resolved:
            value += " ≈0"
        row = [escape(r.name), escape(r.form), value] + (["%.3f" % (r.value * ns)] if ns else [])
        row += [_fmt(r.median), "%s ± %s" % (_fmt(r.mean), _fmt(r.std)), _fmt(r.min),
                escape(compared(r.ratio, "first"))]
        table.add_row(*row)
    return table
