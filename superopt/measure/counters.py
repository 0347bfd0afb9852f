"""Which clock times native runs: perf_event_open core cycles, or the time-stamp counter.

`perf_event_open` is called through ctypes (syscall 298 on x86-64). Hardware events are the
prize (core cycles, user space only), but many VMs do not expose them (ENOENT), so
`--counter auto` tries them first and falls back to `rdtsc`, which ticks at a constant
reference rate rather than with the core clock; every report says which counter was used
and why. Where the kernel allows it (the event's mmap'd page says cap_user_rdpmc), the
harness reads the cycle counter itself with `rdpmc`, exactly like `rdtsc`; otherwise the
worker reads the event's file descriptor around the harness call.
"""
from __future__ import annotations

import ctypes
import errno
import mmap
import os
import struct
from dataclasses import dataclass

from superopt.errors import SuperoptError

_SYS_PERF_EVENT_OPEN = 298  # x86-64

PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1
PERF_COUNT_HW_CPU_CYCLES = 0
PERF_COUNT_SW_TASK_CLOCK = 1

# perf_event_attr flag bits (the bitfield after read_format)
_EXCLUDE_KERNEL = 1 << 5
_EXCLUDE_HV = 1 << 6

COUNTER_CHOICES = ("auto", "perf", "tsc")


class CounterError(SuperoptError):
    """The counter asked for cannot be used here (exit code 2: a usage problem)."""


class _PerfEventAttr(ctypes.Structure):
    # PERF_ATTR_SIZE_VER1 layout; the kernel accepts any published size.
    _fields_ = [
        ("type", ctypes.c_uint32), ("size", ctypes.c_uint32), ("config", ctypes.c_uint64),
        ("sample_period", ctypes.c_uint64), ("sample_type", ctypes.c_uint64),
        ("read_format", ctypes.c_uint64), ("flags", ctypes.c_uint64),
        ("wakeup_events", ctypes.c_uint32), ("bp_type", ctypes.c_uint32),
        ("config1", ctypes.c_uint64), ("config2", ctypes.c_uint64),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class PerfEvent:
    """One perf counter of the calling thread, user space only, counting from open."""

    def __init__(self, type_: int = PERF_TYPE_HARDWARE, config: int = PERF_COUNT_HW_CPU_CYCLES):
        attr = _PerfEventAttr(type=type_, size=ctypes.sizeof(_PerfEventAttr), config=config,
                              flags=_EXCLUDE_KERNEL | _EXCLUDE_HV)
        fd = _libc.syscall(_SYS_PERF_EVENT_OPEN, ctypes.byref(attr), 0, -1, -1, 0)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, "perf_event_open(type=%d, config=%d) failed: %s (%s)"
                          % (type_, config, errno.errorcode.get(err, err), os.strerror(err)))
        self.fd = fd
        self.page: mmap.mmap | None = None

    def read(self) -> int:
        return struct.unpack("<Q", os.read(self.fd, 8))[0]

    def rdpmc_state(self) -> tuple[int, int, int] | None:
        """(update count, rdpmc counter number, counter width in bits) from the event's
        perf_event_mmap_page, or None when user space may not rdpmc it (or it is not on a
        counter right now). The update count changes whenever the kernel reschedules the
        event, which makes raw rdpmc differences across that moment meaningless."""
        if self.page is None:
            try:
                self.page = mmap.mmap(self.fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ)
            except OSError:
                return None
        seq, index = struct.unpack_from("<II", self.page, 8)
        capabilities, = struct.unpack_from("<Q", self.page, 40)
        width, = struct.unpack_from("<H", self.page, 48)
        if not capabilities >> 2 & 1 or index == 0:  # cap_user_rdpmc; index 0: not on a counter
            return None
        return seq, index - 1, width

    def close(self) -> None:
        if self.page is not None:
            self.page.close()
            self.page = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass(frozen=True)
class CounterChoice:
    """The counter a measurement uses, in what unit, how it is read, and why."""
    name: str    # "perf" or "tsc"
    unit: str    # "cycles" (core) or "ref-cycles" (TSC)
    reason: str
    read: str = "rdtsc"  # "rdtsc", "rdpmc" (perf, in the harness) or "fd" (perf, read(2) around it)

    def to_json(self) -> dict:
        return {"counter": self.name, "unit": self.unit, "reason": self.reason, "read": self.read}


def user_rdpmc_available() -> bool:
    """Whether this process may read a hardware cycle event with rdpmc."""
    try:
        with PerfEvent(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) as event:
            return event.rdpmc_state() is not None
    except OSError:
        return False


def perf_cycles_available() -> tuple[bool, str]:
    """Whether user-space hardware cycle counting works here, and the evidence."""
    try:
        with PerfEvent(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES):
            return True, "perf_event_open hardware cycles opened"
    except OSError as exc:
        return False, exc.strerror if exc.strerror else str(exc)


def select_counter(request: str = "auto", probe=None, rdpmc_probe=None) -> CounterChoice:
    """Resolve `--counter auto|perf|tsc`. The probes (default perf_cycles_available and
    user_rdpmc_available) are replaceable so the fallback logic can be tested with and
    without hardware counters."""
    if request not in COUNTER_CHOICES:
        raise CounterError("unknown counter %r (choose from %s)" % (request, ", ".join(COUNTER_CHOICES)))
    if request == "tsc":
        return CounterChoice("tsc", "ref-cycles", "rdtsc requested (--counter tsc): constant-rate "
                             "reference cycles, not core cycles")
    ok, why = (probe or perf_cycles_available)()
    if ok:
        if (rdpmc_probe or user_rdpmc_available)():
            return CounterChoice("perf", "cycles", "core cycles from perf_event_open (user space only), "
                                 "read with rdpmc in the harness", "rdpmc")
        return CounterChoice("perf", "cycles", "core cycles from perf_event_open (user space only), "
                             "read through its file descriptor (no user rdpmc here)", "fd")
    if request == "perf":
        raise CounterError("--counter perf: hardware cycle counter unavailable: %s; "
                           "use --counter tsc or auto" % why)
    return CounterChoice("tsc", "ref-cycles", "perf hardware cycles unavailable (%s); fell back to "
                         "rdtsc: constant-rate reference cycles, not core cycles" % why)
