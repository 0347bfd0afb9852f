"""C and C++ baselines: a file defining the task's function, compiled with -O2 into a shared
object that the native worker loads and times like a kernel."""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile

from superopt.errors import InputError, SuperoptError
from superopt.run.native import SharedObject
from superopt.tasks.base import Task


C_SUFFIXES = (".c",)
CXX_SUFFIXES = (".cc", ".cpp", ".cxx", ".c++")


def is_c_source(path: str) -> bool:
    return path.lower().endswith(C_SUFFIXES + CXX_SUFFIXES)


def _mangled(task: Task) -> str:
    """Itanium C++ name of `void NAME(int32_t*)` / `void NAME(int32_t*, int32_t)`."""
    return "_Z%d%sPi%s" % (len(task.name), task.name, "i" if task.variable else "")


_CFLAGS = ("-O2", "-shared", "-fPIC")


def compile_baseline(path: str, task: Task, cache_dir: str | None = None) -> SharedObject:
    """Compile a C or C++ file defining the task's function (`-O2`, shared object).
    A compiler error is bad input (exit 2) and shows the compiler's first error line.
    The object is named by a hash of the preprocessed source, compiler and flags, so an
    edit (to the file or a header it includes) never reuses a stale one."""
    cxx = path.lower().endswith(CXX_SUFFIXES)
    compiler = os.environ.get("CXX" if cxx else "CC", "g++" if cxx else "cc")
    if not os.path.isfile(path):
        raise InputError("no such file", path)
    source = _run_compiler([compiler, "-E", path], path)
    digest = hashlib.sha256("\0".join((compiler,) + _CFLAGS + (source,)).encode()).hexdigest()[:16]
    out_dir = cache_dir or os.path.join(tempfile.gettempdir(), "superopt-baselines")
    os.makedirs(out_dir, exist_ok=True)
    so = os.path.join(out_dir, "%s-%s.so" % (os.path.basename(path), digest))
    if not os.path.exists(so):
        tmp = "%s.%d.tmp" % (so, os.getpid())
        _run_compiler([compiler, *_CFLAGS, "-o", tmp, path], path)
        os.replace(tmp, so)
    try:
        nm = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SuperoptError("cannot list the symbols of %s with nm: %s" % (so, exc)) from None
    symbols = {ln.split()[-1] for ln in nm.stdout.splitlines() if ln.strip()}
    for symbol in (task.name, _mangled(task)):
        if symbol in symbols:
            return SharedObject(so, symbol, path)
    raise InputError("defines no function %s (%s)" % (task.name, task.signature), path)


def _run_compiler(cmd: list[str], path: str) -> str:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError("cannot run the compiler %r: %s" % (cmd[0], exc), path) from None
    if res.returncode != 0:
        first = next((ln for ln in res.stderr.splitlines() if "error" in ln), res.stderr.strip()[:200])
        raise InputError("does not compile (%s %s): %s" % (cmd[0], " ".join(_CFLAGS[:1]), first), path)
    return res.stdout
