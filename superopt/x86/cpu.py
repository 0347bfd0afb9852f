"""Which of the instruction-set extensions kernels may need (semantics.EXTENSIONS) this CPU has.

The kernel says what it needs (semantics.extensions: bmi1, bmi2, lzcnt, popcnt); the CPU's
CPUID feature bits say what it has, read as Linux reports them in /proc/cpuinfo's `flags`
line (LZCNT is CPUID's ABM bit, which Linux calls `abm`). Running a kernel natively on a
CPU without one of its extensions is refused before anything runs: lzcnt and tzcnt would
silently execute as bsr and bsf, the others fault.
"""
from __future__ import annotations

import functools

from superopt.errors import SuperoptError

CPUINFO = "/proc/cpuinfo"
# extension -> the /proc/cpuinfo flags that report it (any one of them)
_FLAGS = {"bmi1": ("bmi1",), "bmi2": ("bmi2",), "lzcnt": ("abm", "lzcnt"), "popcnt": ("popcnt",)}


class UnsupportedCPU(SuperoptError):
    """A kernel needs an extension this CPU lacks (exit code 2: it cannot run here)."""


def parse_flags(cpuinfo: str) -> frozenset[str]:
    """The extensions that the first `flags` line of /proc/cpuinfo text reports."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = set(value.split())
            return frozenset(ext for ext, names in _FLAGS.items() if flags.intersection(names))
    return frozenset()


@functools.lru_cache(maxsize=None)
def available() -> frozenset[str]:
    """This CPU's extensions (none known where /proc/cpuinfo cannot be read)."""
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as f:
            return parse_flags(f.read())
    except OSError:
        return frozenset()


def check_runnable(needed, what: str) -> None:
    """Raise UnsupportedCPU unless this CPU has every extension in `needed`."""
    missing = sorted(set(needed) - available())
    if missing:
        raise UnsupportedCPU("%s needs %s, which this CPU lacks (not in the flags of %s): it cannot run natively here"
                             % (what, " and ".join(missing), CPUINFO))
