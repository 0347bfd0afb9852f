"""What `superopt bench` writes besides its table: the summary and the raw per-run figures as
CSV, terminal plots (plotext: each program's histogram of runs, a comparison of the
quantiles) and a picture (matplotlib, `--plot FILE.png`)."""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from superopt.measure.timing import BenchReport, compared

SUMMARY_COLUMNS = ("program", "form", "harness", "mode", "unit", "runs", "quantile", "value", "ci_low", "ci_high",
                   "median", "mean", "std", "min", "ns_value", "ns_median", "ns_mean", "ns_std", "ratio",
                   "ratio_ci_low", "ratio_ci_high", "compared")
SAMPLE_COLUMNS = ("program", "form", "harness", "mode", "run", "unit", "per_call", "ns_per_call")


def _num(x) -> str:
    return "" if x is None else "%.6g" % x


def summary_csv(reports: list[BenchReport]) -> str:
    """One row per program and harness: the table's figures as numbers (ns empty where the
    counter's rate is not known)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for rep in reports:
        ns = rep.ns_per_tick
        first = rep.results[0].name
        for r in rep.results:
            in_ns = [None if ns is None else x * ns for x in (r.value, r.median, r.mean, r.std)]
            writer.writerow([r.name, r.form, rep.harness, rep.mode, rep.counter.unit, len(r.samples), rep.quantile,
                             *map(_num, (r.value, r.ci_low, r.ci_high, r.median, r.mean, r.std, r.min)),
                             *map(_num, in_ns), *map(_num, (r.ratio.value, r.ratio.ci_low, r.ratio.ci_high)),
                             compared(r.ratio, first)])
    return out.getvalue()


def samples_csv(reports: list[BenchReport]) -> str:
    """Every timed run: one row per program and run, its per-call figure as the table uses it
    (the call harness's overhead subtracted, the inline harness's whole loop iterations)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    for rep in reports:
        ns = rep.ns_per_tick
        for r in rep.results:
            for run, x in enumerate(r.samples):
                writer.writerow([r.name, r.form, rep.harness, rep.mode, run, rep.counter.unit, _num(x),
                                 _num(None if ns is None else x * ns)])
    return out.getvalue()


def _label(name: str, form: str) -> str:
    return "%s (%s)" % (os.path.basename(name), form)


def terminal_plots(reports: list[BenchReport], width: int, color: bool) -> str:
    """Each program's histogram of runs (from its fastest run to its 95th percentile: the
    tail is counted, not drawn), then the quantiles side by side."""
    import plotext as plt
    parts = []
    for rep in reports:
        unit = rep.counter.unit
        for r in rep.results:
            lo, hi = float(r.samples.min()), float(np.quantile(r.samples, 0.95))
            hi = hi if hi > lo else lo + 1e-9
            shown = r.samples[(r.samples >= lo) & (r.samples <= hi)]
            plt.clear_figure()
            plt.hist(shown.tolist(), 40)
            plt.xlim(lo, hi)
            plt.title("%s: %d runs, %s per call (+%d above)" % (
                _label(r.name, r.form), len(r.samples), unit, int((r.samples > hi).sum())))
            plt.plotsize(width, 10)
            plt.theme("pro" if color else "clear")
            parts.append(plt.build())
        plt.clear_figure()
        labels = ["%d %s" % (i + 1, _label(r.name, r.form)) for i, r in enumerate(rep.results)]
        plt.bar(labels[::-1], [max(r.value, 0.0) for r in rep.results][::-1], orientation="horizontal", width=0.4)
        plt.title("p%g %s per call, %s harness (shorter is faster)" % (rep.quantile * 100, unit, rep.harness))
        plt.plotsize(width, 3 * len(labels) + 4)
        plt.theme("pro" if color else "clear")
        parts.append(plt.build())
    text = "\n".join(parts)
    return text if color else plt.uncolorize(text)


def plot_png(reports: list[BenchReport]) -> bytes:
    """A PNG image: per report, the runs' histograms overlaid, and each program's quantile with its
    confidence interval beside its median."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    fig, axes = pyplot.subplots(len(reports), 2, figsize=(13, 4.2 * len(reports)), squeeze=False)
    for (hist, points), rep in zip(axes, reports):
        unit = rep.counter.unit
        everything = np.concatenate([r.samples for r in rep.results])
        lo, hi = float(everything.min()), float(np.quantile(everything, 0.98))
        for r in rep.results:
            hist.hist(r.samples, bins=60, range=(lo, hi if hi > lo else lo + 1e-9), histtype="step",
                      label=_label(r.name, r.form))
        hist.set(xlabel="%s per call" % unit, ylabel="runs",
                 title="%s, %s harness, %s mode: %d runs x %d calls" % (
                     rep.task, rep.harness, rep.mode, rep.runs, rep.inputs_per_run))
        hist.legend(fontsize="small")
        ys = np.arange(len(rep.results))[::-1]
        for y, r in zip(ys, rep.results):
            low = r.value - r.ci_low if r.ci_low is not None else 0
            high = r.ci_high - r.value if r.ci_high is not None else 0
            points.errorbar([r.value], [y], xerr=[[low], [high]], fmt="o", capsize=4, color="C0")
            points.plot([r.median], [y], "x", color="C1")
            verdict = compared(r.ratio, "first").split(" [")[0]
            points.annotate(verdict, (max(r.value, r.median), y), xytext=(8, 6), textcoords="offset points",
                            fontsize="small")
        points.set_yticks(ys, [_label(r.name, r.form) for r in rep.results], fontsize="small")
        points.set(xlabel="%s per call: p%g (o, %g%% CI), median (x)" % (unit, rep.quantile * 100,
                                                                          rep.confidence * 100),
                   title="against the first program, at p%g" % (rep.quantile * 100))
        points.margins(x=0.25, y=0.15)
        points.set_xlim(left=0)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    pyplot.close(fig)
    return buffer.getvalue()
