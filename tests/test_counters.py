"""The perf_event_open wrapper and the --counter auto|perf|tsc selection logic."""
import pytest

from superopt.measure.counters import (PERF_COUNT_SW_TASK_CLOCK, PERF_TYPE_SOFTWARE, CounterError, PerfEvent,
                               select_counter)


def test_software_task_clock_counts_work():
    # The software task clock works on every Linux; it exercises the syscall wrapper.
    with PerfEvent(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK) as ev:
        before = ev.read()
        sum(range(200_000))
        after = ev.read()
    assert after > before


def test_bad_event_fails_with_oserror_naming_errno():
    with pytest.raises(OSError) as info:
        PerfEvent(PERF_TYPE_SOFTWARE, 10_000)  # no such software event
    assert "perf_event_open" in str(info.value) and info.value.errno


def _unavailable():
    return False, "ENOENT (No such file or directory)"


def _available():
    return True, "opened"


def test_auto_falls_back_to_tsc_and_says_why():
    choice = select_counter("auto", probe=_unavailable)
    assert choice.name == "tsc" and choice.unit == "ref-cycles"
    assert "ENOENT" in choice.reason and "fell back" in choice.reason


def test_auto_prefers_perf_when_available():
    choice = select_counter("auto", probe=_available, rdpmc_probe=lambda: True)
    assert choice.name == "perf" and choice.unit == "cycles" and choice.read == "rdpmc"
    choice = select_counter("auto", probe=_available, rdpmc_probe=lambda: False)
    assert choice.read == "fd" and "file descriptor" in choice.reason


def test_rdpmc_state_of_a_software_event_is_none():
    # Software events never sit on a hardware counter: no rdpmc, the fd path instead.
    with PerfEvent(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK) as ev:
        assert ev.rdpmc_state() is None


def test_perf_requested_but_unavailable_is_a_usage_error():
    with pytest.raises(CounterError) as info:
        select_counter("perf", probe=_unavailable)
    assert "ENOENT" in str(info.value) and info.value.exit_code == 2


def test_tsc_never_probes():
    def boom():
        raise AssertionError("tsc must not probe perf")
    assert select_counter("tsc", probe=boom).name == "tsc"


def test_unknown_counter_rejected():
    with pytest.raises(CounterError):
        select_counter("bogus")


def test_real_probe_gives_a_consistent_choice():
    choice = select_counter("auto")
    assert choice.name in ("perf", "tsc") and choice.reason
