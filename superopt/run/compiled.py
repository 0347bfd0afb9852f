"""A generated C/C++ program: compiled with the system compiler, then run as a child process
whose crash or hang costs the child, never the caller (NativeError names the signal, or the
timeout after which the child was killed). Its output is read line by line as it comes."""
from __future__ import annotations

import os
import select
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from superopt.errors import InputError, SuperoptError
from superopt.run.native import NativeError, describe_exit

FLAGS = ("-O2",)


def compiler(cxx: bool) -> str:
    """The compiler a user's build would use: $CXX or g++ for C++, $CC or cc for C."""
    return os.environ.get("CXX", "g++") if cxx else os.environ.get("CC", "cc")


@dataclass(frozen=True)
class Unit:
    """One source file of the program; `blame` is the user file a compile error is about
    (None: the file is superopt's own, so an error in it is superopt's)."""
    path: str
    cxx: bool
    blame: str | None = None


def build(units: list[Unit], out: str, workers: int = 2) -> None:
    """Compile every unit (-O2, `workers` at a time) and link them into `out`, with the C++
    compiler so that C++ units get their runtime."""
    def one(unit: Unit) -> str:
        obj = unit.path + ".o"
        _compile([compiler(unit.cxx), *FLAGS, "-c", "-o", obj, unit.path], unit)
        return obj

    with ThreadPoolExecutor(max(1, workers)) as pool:
        objects = list(pool.map(one, units))
    _compile([compiler(True), *FLAGS, "-o", out, *objects], Unit(out, True))


def _compile(cmd: list[str], unit: Unit) -> None:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SuperoptError("cannot run the compiler %r: %s" % (cmd[0], exc)) from None
    if res.returncode == 0:
        return
    first = next((ln for ln in res.stderr.splitlines() if "error" in ln), res.stderr.strip()[:200])
    if unit.blame is not None:
        raise InputError("does not compile inlined into superopt's timed loop (%s %s): %s"
                         % (cmd[0], " ".join(FLAGS), first), unit.blame)
    raise SuperoptError("internal error: superopt's generated %s does not compile (%s): %s"
                        % (os.path.basename(unit.path), cmd[0], first))


def stream(cmd: list[str], timeout: float, what: str):
    """The lines the program prints, as they come; NativeError when no line (or the end)
    comes within `timeout` seconds, or when it dies of a signal or exits non-zero. Closing
    the generator early (Ctrl-C) kills the program."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    pending = b""
    try:
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                raise NativeError("%s hung natively (no answer in %.0f s); it was killed" % (what, timeout))
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NativeError("%s hung natively (no exit in %.0f s); it was killed" % (what, timeout)) from None
        if code != 0:
            err = proc.stderr.read().decode(errors="replace").strip().splitlines()
            detail = describe_exit(code) if code < 0 else "exit status %d%s" % (code, ": " + err[-1] if err else "")
            raise NativeError("%s crashed natively: %s" % (what, detail))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
