"""Running kernels natively: executable pages and the child process every native call
happens in (the timing loop it runs is superopt.run.harness).

Machine code is copied into an mmap'd page that is then made read+execute (never writable
and executable at once) and called through ctypes. All of that happens in a worker child
process, so a kernel that faults or loops costs the worker, never the CLI: the parent sees
the signal (or a timeout, after which it kills the worker) and raises NativeError naming the
program. The worker keeps one mapping per distinct piece of code and reuses it.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from superopt.errors import SuperoptError
from superopt.x86.isa import Program
from superopt.tasks.base import Task

MODES = ("latency", "throughput")


class NativeError(SuperoptError):
    """A kernel crashed or hung natively (exit code 1: the program is wrong)."""
    exit_code = 1


# --- kernels as the worker sees them ------------------------------------------------------

@dataclass(frozen=True)
class MachineCode:
    """Raw machine code for a kernel following the SysV ABI (a[] in rdi, length in esi)."""
    code: bytes
    name: str = "<code>"


@dataclass(frozen=True)
class SharedObject:
    """A function in a shared object (a compiled C/C++ baseline)."""
    path: str
    symbol: str
    name: str


Kernel = MachineCode | SharedObject


def kernel_of(program_or_code, name: str | None = None) -> Kernel:
    """A Program (assembled here; refused with UnsupportedCPU if it needs an extension this
    CPU lacks), raw bytes, or an already-built kernel spec."""
    if isinstance(program_or_code, (MachineCode, SharedObject)):
        return program_or_code
    if isinstance(program_or_code, (bytes, bytearray)):
        return MachineCode(bytes(program_or_code), name or "<code>")
    if isinstance(program_or_code, Program):
        from superopt.x86.assembler import assemble  # here, not at the top: the worker never assembles
        from superopt.x86.cpu import check_runnable
        from superopt.x86.semantics import extensions
        name = name or program_or_code.path or program_or_code.name or "<program>"
        check_runnable(extensions(program_or_code), "the kernel %s" % name)
        return MachineCode(bytes(assemble(program_or_code).code), name)
    raise TypeError("cannot run %r natively" % type(program_or_code).__name__)


# --- the worker process (child side) ------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE, _MAP_ANONYMOUS = 0x02, 0x20
_PAGE = 4096


class Pages:
    """Anonymous private pages; code pages go from read+write to read+execute."""

    def __init__(self, size: int):
        self.size = (max(size, 1) + _PAGE - 1) // _PAGE * _PAGE
        addr = _libc.mmap(None, self.size, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap failed")
        self.address = addr

    @classmethod
    def executable(cls, code: bytes) -> "Pages":
        pages = cls(len(code))
        ctypes.memmove(pages.address, code, len(code))
        if _libc.mprotect(pages.address, pages.size, _PROT_READ | _PROT_EXEC) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")
        return pages

    def array(self, count: int) -> np.ndarray:
        """The start of a read+write mapping as an int32 array."""
        return np.ctypeslib.as_array((ctypes.c_int32 * count).from_address(self.address))

    def close(self) -> None:
        if self.address:
            _libc.munmap(self.address, self.size)
            self.address = 0


_HARNESS_TYPE = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                 ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
_CLOCK_TYPE = ctypes.CFUNCTYPE(ctypes.c_uint64)
_FIXED_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_VARIABLE_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32)


_MAX_MAPPED = 2048  # code mappings a worker keeps; search may time many thousands of candidates


class _Worker:
    """Child-side state: mapped kernels and harnesses, the work array, the perf counter."""

    def __init__(self):
        self.code_pages: dict[bytes, Pages] = {}       # code -> its mapping, least recently used first
        self.libraries: dict[tuple[str, str], int] = {}  # (shared object, symbol) -> entry address
        self.keep = []                                  # loaded libraries stay loaded
        self.work_pages = Pages(_PAGE)                  # its own page: stray writes stay off the heap
        self.perf = None

    def address(self, kernel: Kernel) -> int:
        if isinstance(kernel, MachineCode):
            pages = self.code_pages.pop(kernel.code, None) or Pages.executable(kernel.code)
            self.code_pages[kernel.code] = pages
            return pages.address
        key = (kernel.path, kernel.symbol)
        if key not in self.libraries:
            lib = ctypes.CDLL(kernel.path)
            self.keep.append(lib)
            self.libraries[key] = ctypes.cast(getattr(lib, kernel.symbol), ctypes.c_void_p).value
        return self.libraries[key]

    def evict(self) -> None:
        """Unmap the least recently used code beyond _MAX_MAPPED (between requests, when no
        address is in use)."""
        while len(self.code_pages) > _MAX_MAPPED:
            self.code_pages.pop(next(iter(self.code_pages))).close()

    def run(self, kernel: Kernel, task: Task, arrays: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        addr = self.address(kernel)
        fn = (_VARIABLE_TYPE if task.variable else _FIXED_TYPE)(addr)
        work = self.work_pages.array(task.n)
        out = np.array(arrays, dtype=np.int32, copy=True)
        for row, length in zip(out, lengths):
            work[:] = row
            if task.variable:
                fn(self.work_pages.address, int(length))
            else:
                fn(self.work_pages.address)
            row[:] = work
        return out

    def clock(self, code: bytes) -> tuple[int, int]:
        """(TSC, CLOCK_MONOTONIC in ns) read back to back; `code` reads the TSC (harness.clock_code)."""
        read = _CLOCK_TYPE(self.address(MachineCode(code)))
        ns = time.monotonic_ns()
        return read(), ns

    def measure(self, harness: bytes, kernels, task: Task, read: str, inputs_per_run: int,
                distribution: str, seed: int, runs: range) -> np.ndarray:
        """counts[r, k]: clock ticks for one harness loop of kernels[k] in run r, the clock
        read as CounterChoice.read says (the harness must match: rdpmc or rdtsc inside);
        NaN where the kernel rescheduled the perf event during the loop (the rdpmc
        difference is meaningless then; the run is not repeated, because a repeat on the
        same inputs would find the branch predictor trained on them).
        Each run times every kernel in turn, starting one kernel further along each run, each
        on fresh inputs of its own (seeded by run index and kernel): had they shared the
        run's inputs, a branchy kernel would find the predictor trained on that very
        sequence of branches by the kernel before it (an identical copy of asm/varsort4.s
        timed third of three measured 0.84x the first; with inputs of its own, 1.000x)."""
        loop = _HARNESS_TYPE(self.address(MachineCode(harness)))
        addrs = [self.address(k) for k in kernels]
        if read != "rdtsc" and self.perf is None:
            from superopt.measure.counters import PerfEvent
            self.perf = PerfEvent()
        counts = np.zeros((len(runs), len(addrs)))
        work = self.work_pages.address

        def timed(addr: int, arrays: np.ndarray, lengths: np.ndarray) -> float:
            args = (arrays.ctypes.data, work, inputs_per_run, addr, lengths.ctypes.data)
            if read == "rdtsc":
                return loop(*args, 0)
            if read == "fd":
                before = self.perf.read()
                loop(*args, 0)
                return self.perf.read() - before
            state = self.perf.rdpmc_state()
            if state is None:  # the event is off its counter right now (multiplexed): untimed
                return np.nan
            ticks = loop(*args, state[1])
            return ticks & ((1 << state[2]) - 1) if self.perf.rdpmc_state() == state else np.nan

        def inputs(*key: int) -> tuple[np.ndarray, np.ndarray]:
            arrays, lengths = task.random_inputs(np.random.default_rng([seed, *key]), inputs_per_run, distribution)
            dtype = np.int32 if task.kind == "array" else np.uint64   # arrays, or argument registers and buffers
            return np.ascontiguousarray(arrays, dtype=dtype), np.ascontiguousarray(lengths, dtype=np.int32)

        # Warm-up (code, data, work array, the clock's read path) on inputs no run uses:
        # the branch predictor learns repeated inputs within a few passes.
        warm = inputs(runs.start, 1)
        for addr in addrs:
            timed(addr, *warm)
        for j, run in enumerate(runs):
            for k in _rotated(range(len(addrs)), run):  # no kernel always goes first
                counts[j, k] = timed(addrs[k], *inputs(run, 2 + k))
        return counts


def _rotated(items, by: int) -> list:
    items = list(items)
    by %= len(items)
    return items[by:] + items[:by]


def _serve() -> None:
    """The worker's main loop: length-prefixed pickled requests on stdin, replies on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    inp = os.fdopen(0, "rb", buffering=0)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # anything printed by accident goes to stderr, not into the protocol
    worker = _Worker()
    while True:
        head = _read_exact(inp, 8)
        if head is None:
            return
        op, args = pickle.loads(_read_exact(inp, struct.unpack("<Q", head)[0]))
        try:
            reply = ("ok", getattr(worker, op)(*args))
        except Exception as exc:  # reported to the parent, which raises it there
            reply = ("error", "%s: %s" % (type(exc).__name__, exc))
        worker.evict()
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(struct.pack("<Q", len(data)) + data)


def _read_exact(f, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = f.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --- the worker process (parent side) -----------------------------------------------------

class NativeRunner:
    """A handle on the worker child. Requests that crash or hang it raise NativeError and
    leave the handle ready for the next request (a fresh worker starts on demand)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from superopt.run.native import _serve; _serve()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        return self.proc

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.stdin.close()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None

    def call(self, op: str, *args, timeout: float = 60.0, what: str = "the kernel"):
        proc = self._start()
        data = pickle.dumps((op, args), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            proc.stdin.write(struct.pack("<Q", len(data)) + data)
            proc.stdin.flush()
            head = self._read(proc, 8, timeout)
            reply = pickle.loads(self._read(proc, struct.unpack("<Q", head)[0], timeout))
        except _Hang:
            proc.kill()
            proc.wait()
            self.proc = None
            raise NativeError("%s hung natively (no answer in %.0f s); the worker was killed"
                              % (what, timeout)) from None
        except KeyboardInterrupt:  # the reply would arrive out of step: drop this worker
            proc.kill()
            proc.wait()
            self.proc = None
            raise
        except (_Died, BrokenPipeError):
            code = proc.wait()
            self.proc = None
            raise NativeError("%s crashed natively: %s" % (what, describe_exit(code))) from None
        if reply[0] == "error":
            raise NativeError("%s could not run natively: %s" % (what, reply[1]))
        return reply[1]

    @staticmethod
    def _read(proc, size: int, timeout: float) -> bytes:
        fd, chunks, left = proc.stdout.fileno(), [], size
        while left:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise _Hang()
            chunk = os.read(fd, left)
            if not chunk:
                raise _Died()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class _Hang(Exception):
    pass


class _Died(Exception):
    pass


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return "killed by %s (%s)" % (signal.Signals(-code).name, signal.strsignal(-code))
        except ValueError:
            return "killed by signal %d" % -code
    return "worker exited with status %d" % code


_runner: NativeRunner | None = None


def runner() -> NativeRunner:
    """The process-wide worker handle (started on first use, stopped at exit)."""
    global _runner
    if _runner is None:
        import atexit
        _runner = NativeRunner()
        atexit.register(_runner.close)
    return _runner


def run_native(program_or_code, task: Task, arrays, lengths=None, *, timeout: float = 60.0) -> np.ndarray:
    """Run a kernel natively on each input row (in the worker child) and return the final
    arrays. No emulator check happens here: callers that take user programs must verify
    first (see timing.measure and verify --native)."""
    kernel = kernel_of(program_or_code)
    arrays = np.ascontiguousarray(arrays, dtype=np.int32).reshape(-1, task.n)
    lengths = (np.full(len(arrays), task.n, dtype=np.int32) if lengths is None
               else np.ascontiguousarray(lengths, dtype=np.int32))
    return runner().call("run", kernel, task, arrays, lengths, timeout=timeout, what=kernel.name)
