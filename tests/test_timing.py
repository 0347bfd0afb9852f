"""Timing statistics (order-statistic CIs, ratios) and the measurement itself: overhead
subtraction, interleaving, refusal of unverified programs, Ctrl-C. No timing assertions
beyond "about zero" for the empty kernel."""
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from superopt.measure.counters import select_counter
from superopt.x86.isa import Program
from superopt.run.native import kernel_of, run_native
from superopt.run.harness import EMPTY_KERNEL
from superopt.x86.parser import load
from superopt.measure.stats import binomial_cdf, quantile, quantile_ci, quantile_ci_ranks, ratio_ci
from superopt.tasks.registry import get_task
from superopt.measure.timing import NotVerified, checked_kernel, measure, measure_latencies, summarise, time_kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _asm(name):
    return load(os.path.join(ROOT, "asm", name))


# --- statistics ---------------------------------------------------------------------------

def test_binomial_cdf_matches_exact_sum():
    n, p = 30, 0.2
    exact = np.cumsum([math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)])
    assert np.allclose(binomial_cdf(n, p), exact)


def test_quantile_ci_ranks_known_answer():
    # n = 1000 runs, 5th percentile: the 37th and 65th order statistics (coverage > 95%).
    low, high, coverage = quantile_ci_ranks(1000, 0.05)
    assert (low, high) == (37, 65) and 0.95 <= coverage < 0.97
    # the median of 100: ranks 40 and 61, the classical table value
    assert quantile_ci_ranks(100, 0.5)[:2] == (40, 61)


def test_too_few_runs_leave_the_lower_bound_open():
    low, high, _ = quantile_ci_ranks(20, 0.05)
    assert low is None and high is not None
    est = quantile_ci(np.arange(20.0), 0.05)
    assert est.ci_low is None and est.value == 0.0


def test_quantile_is_a_measured_value():
    assert quantile([5, 1, 4, 2, 3], 0.05) == 1 and quantile(range(1, 101), 0.05) == 5


def test_quantile_ci_coverage_on_known_distribution():
    # Uniform(0, 1): the true 5th percentile is 0.05. The interval must hold it ~95% of the time.
    rng = np.random.default_rng(7)
    hits = sum(bool(e.ci_low <= 0.05 <= e.ci_high)
               for e in (quantile_ci(rng.random(400), 0.05) for _ in range(600)))
    assert 0.92 <= hits / 600 <= 0.99


@settings(max_examples=60)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.05, 0.1, 0.5]))
def test_interval_brackets_the_estimate(samples, q):
    est = quantile_ci(samples, q)
    assert min(samples) <= est.value <= max(samples)
    assert est.ci_low is None or est.ci_low <= est.value
    assert est.ci_high is None or est.value <= est.ci_high


def test_ratio_of_scaled_samples():
    rng = np.random.default_rng(3)
    base = 10 + rng.exponential(size=2000)
    r = ratio_ci(2 * base, base)
    assert r.ci_low <= 2.0 <= r.ci_high and abs(r.value - 2.0) < 1e-9 and r.excludes_one()
    same = ratio_ci(base, base)
    assert same.ci_low <= 1.0 <= same.ci_high and not same.excludes_one()


def test_ratio_with_denominator_at_zero_is_refused():
    rng = np.random.default_rng(4)
    r = ratio_ci(5 + rng.random(500), 3 + rng.random(500), offset=3.5)
    assert r.value is None and "noise of zero" in r.note


def test_summarise_subtracts_the_empty_kernel():
    runs = 500
    rng = np.random.default_rng(5)
    empty = 8 + rng.exponential(0.1, runs)
    a = 17 + rng.exponential(0.1, runs)
    b = 20 + rng.exponential(0.1, runs)
    rep = summarise(np.column_stack([empty, a, b, empty]), ["a", "b", "e"], quantile=0.05, confidence=0.95,
                    task="sort3", mode="latency", counter=select_counter("tsc"), runs_requested=runs,
                    inputs_per_run=1, distribution="random", seed=0)
    a_r, b_r, e_r = rep.results
    assert abs(a_r.value - 9) < 0.05 and abs(b_r.value - 12) < 0.05 and abs(e_r.value) < 0.02
    assert a_r.resolved and b_r.resolved and not e_r.resolved
    assert b_r.ratio.ci_low <= 12 / 9 <= b_r.ratio.ci_high and b_r.ratio.excludes_one()
    assert rep.to_json()["results"][1]["file"] == "b"


# --- measuring ----------------------------------------------------------------------------

def _time(kernels, task, mode="latency", runs=60, k=2000):
    return time_kernels(kernels, task, runs=runs, inputs_per_run=k, mode=mode, counter=select_counter("auto"),
                        distribution="random", seed=1, quantile=0.05, confidence=0.95)


@pytest.mark.parametrize("mode", ["latency", "throughput"])
def test_empty_kernel_measures_about_zero(mode):
    rep = _time([EMPTY_KERNEL, EMPTY_KERNEL], get_task("sort3"), mode)
    for r in rep.results:
        assert abs(r.value) < 1.0 and not r.resolved
    assert rep.overhead.value > 0 and rep.runs == 60


def test_kernels_still_sort_after_timing():
    program, task = _asm("sort3.s")
    kernel = kernel_of(program)
    rep = _time([kernel], task)
    assert rep.results[0].resolved  # a real kernel is told apart from the empty one
    arrays, lengths = task.proof_inputs()
    assert np.array_equal(run_native(kernel, task, arrays, lengths), task.expected(arrays, lengths))


def test_varsort_harness_runs():
    program, task = _asm("varsort4.s")
    rep = _time([kernel_of(program)], task, runs=30, k=500)
    assert rep.runs == 30 and 0 < len(rep.results[0].samples) <= 30  # runs rescheduled mid-loop are left out


def test_measure_refuses_a_failing_program():
    program, task = _asm("sort3.s")
    wrong = Program(program.instrs[:3] + program.instrs[-4:], path="wrong.s")
    with pytest.raises(NotVerified) as info:
        measure([wrong], task, runs=5, inputs_per_run=10)
    assert info.value.exit_code == 1 and "wrong.s" in str(info.value)


def test_measure_verified_programs_report():
    (net, task), (deep, _) = _asm("sort3.s"), _asm("sort3_deep.s")
    rep = measure([net, deep], task, runs=40, inputs_per_run=1000, names=["net", "deep"])
    out = rep.to_json()
    assert [r["file"] for r in out["results"]] == ["net", "deep"]
    for key in ("value", "ci_low", "ci_high", "median", "min", "runs", "ratio", "ratio_ci_low", "ratio_ci_high"):
        assert key in out["results"][1]
    assert {"quantile", "unit", "counter", "overhead"} <= set(out)   # once, for every row
    assert out["counter_reason"] and out["runs"] == 40


def test_compiled_baseline_that_sorts_wrong_is_refused(tmp_path):
    from superopt.run.baseline import compile_baseline
    src = tmp_path / "half.c"
    src.write_text("#include <stdint.h>\nvoid sort3(int32_t *a) { if (a[0] > a[1]) { int32_t t = a[0];"
                   " a[0] = a[1]; a[1] = t; } }\n")
    task = get_task("sort3")
    with pytest.raises(NotVerified) as info:
        checked_kernel(compile_baseline(str(src), task, cache_dir=str(tmp_path)), task)
    assert "wrong results natively" in str(info.value)


def test_ctrl_c_keeps_the_runs_so_far():
    program, task = _asm("sort3.s")

    def interrupt(done, total):
        if done >= 20:
            raise KeyboardInterrupt
    rep = measure([program], task, runs=100, inputs_per_run=500, progress=interrupt)
    assert rep.interrupted and rep.runs == 20 and rep.runs_requested == 100


def test_bad_options_are_usage_errors():
    program, task = _asm("sort3.s")
    from superopt.errors import SuperoptError
    for kw in ({"mode": "fast"}, {"distribution": "zipf"}, {"runs": 0}, {"quantile": 1.5}):
        with pytest.raises(SuperoptError) as info:
            measure([program], task, **kw)
        assert info.value.exit_code == 2


def test_measure_latencies_gives_one_figure_per_program():
    (net, task), (deep, _) = _asm("sort3.s"), _asm("sort3_deep.s")
    cycles = measure_latencies([net, deep, net], task, runs=10, inputs_per_run=200)
    assert len(cycles) == 3 and all(isinstance(c, float) for c in cycles)



def test_worker_uses_the_counter_each_measurement_asks_for(monkeypatch):
    # In-process worker (superopt's own empty kernel only). perf reads are faked to never
    # advance, so perf counts are 0 and rdtsc counts are not: a tsc measurement after a
    # perf one must not be served by perf.
    import superopt.measure.counters as counters
    from superopt.run.native import _Worker
    from superopt.run.harness import harness_code
    monkeypatch.setattr(counters.PerfEvent, "__init__", lambda self, *a: setattr(self, "fd", -1))
    monkeypatch.setattr(counters.PerfEvent, "read", lambda self: 42)
    monkeypatch.setattr(counters.PerfEvent, "rdpmc_state", lambda self: None)
    task = get_task("sort3")
    worker = _Worker()
    args = (harness_code(task, "latency"), [EMPTY_KERNEL], task)
    perf = worker.measure(*args, "fd", 100, "random", 0, range(2))
    tsc = worker.measure(*args, "rdtsc", 100, "random", 0, range(2))
    assert (perf == 0).all() and (tsc > 0).all()


def test_rdpmc_and_file_descriptor_reads_agree_on_the_harness_alone():
    # Both perf read paths time the same loop; where rdpmc is allowed, its figure for the
    # empty kernel is positive and not above the noisier fd path's (which adds read(2) calls).
    # A run during which the kernel rescheduled the event is NaN by design (untimed), so
    # only most runs, not all, must be timed.
    from superopt.measure.counters import PerfEvent, perf_cycles_available
    from superopt.run.native import _Worker
    from superopt.run.harness import harness_code
    if not perf_cycles_available()[0]:
        pytest.skip("no hardware cycle counter here")
    with PerfEvent() as event:
        if event.rdpmc_state() is None:
            pytest.skip("user-space rdpmc not allowed here")
    task = get_task("sort3")
    worker = _Worker()
    pmc = worker.measure(harness_code(task, "latency", "rdpmc"), [EMPTY_KERNEL], task, "rdpmc", 2000, "random", 0,
                         range(20))
    fd = worker.measure(harness_code(task, "latency"), [EMPTY_KERNEL], task, "fd", 2000, "random", 0, range(20))
    timed = pmc[~np.isnan(pmc)]
    assert len(timed) >= len(pmc) // 2 and (timed > 0).all()
    assert np.median(timed) < np.nanmedian(fd)


def test_untimed_runs_are_left_out():
    rng = np.random.default_rng(6)
    per_call = np.column_stack([8 + rng.exponential(0.1, 100), 17 + rng.exponential(0.1, 100)])
    per_call[::10, 1] = np.nan
    rep = summarise(per_call, ["a"], quantile=0.05, confidence=0.95, task="sort3", mode="latency",
                    counter=select_counter("tsc"), runs_requested=100, inputs_per_run=1, distribution="random",
                    seed=0)
    assert len(rep.results[0].samples) == 90 and rep.to_json()["results"][0]["runs"] == 90
    assert abs(rep.results[0].value - 9) < 0.1
