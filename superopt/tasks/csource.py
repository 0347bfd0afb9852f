"""A C file as a function task: `FILE.c` (its one function) or `FILE.c:NAME`.

The file is compiled by the system compiler (`gcc -O2`, or `cc` given), with -g for the
DWARF that gives the signature (superopt.tasks.signature) and the lines of refusals, and
without splitting functions into hot and cold parts; the object is cached under the user cache
dir by a hash of the compiler (path and mtime), its flags and the file's bytes (not of the
headers it includes). The function's machine code is the reference, run in Unicorn only
(superopt.tasks.reference). Refused in one line with file:line (exit 2): a compile error, no
function or several without `:NAME`, a signature outside the accepted types, code that calls
or jumps to other functions, any relocation (a reference to data: globals, constant tables,
jump tables), floating point or vector registers, system calls; memory other than the stack
is refused when the reference runs (its only mapped memory is its stack).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess

from superopt.errors import InputError
from superopt.tasks.cache import cache_dir
from superopt.tasks.function import FunctionTask
from superopt.tasks.reference import CodeReference
from superopt.tasks.signature import Refused, from_dwarf
from superopt.x86.decode import disassemble
from superopt.x86.elf import ObjectFile

OPT_FLAGS = ("-O2",)
# code generation: no cold parts split off, no stack protector or endbr64 (the object and gcc -S agree)
CODEGEN = ("-fno-reorder-blocks-and-partition", "-fno-stack-protector", "-fcf-protection=none",
           "-fno-asynchronous-unwind-tables")
FLAGS = ("-g", "-c") + CODEGEN
COMPILE_TIMEOUT = 60.0
_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)?\s*(?:fatal )?error:\s*(?P<reason>.*)$", re.M)
_FLOAT_REGS = re.compile(r"\b([xyz]mm\d+|st\(\d\)|st|mm\d)\b")
_SYSTEM = {"syscall", "sysenter", "int", "int3", "into", "int1", "hlt", "ud2", "cpuid", "rdtsc", "rdtscp"}


def compile_c(path: str, cc: str = "gcc", opt: tuple[str, ...] = OPT_FLAGS) -> bytes:
    """The object file of `path` compiled by `cc` (cached; see the module docstring)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        raise InputError("cannot read: %s" % (exc.strerror or exc), path) from None
    compiler = shutil.which(cc)
    if compiler is None:
        raise InputError("no compiler %r on PATH (--cc names another)" % cc, path)
    flags = tuple(opt) + FLAGS
    real = os.path.realpath(compiler)     # its path and mtime: an upgraded compiler compiles anew
    key = hashlib.sha256(repr((real, os.stat(real).st_mtime_ns, flags)).encode() + b"\0" + source).hexdigest()[:32]
    cached = cache_dir("objects") / (key + ".o")
    if cached.exists():
        return cached.read_bytes()
    out = cache_dir("objects") / ("%s.%d.tmp.o" % (key, os.getpid()))
    language = ["-x", "c"] if not path.endswith((".c", ".C")) else []
    try:
        done = subprocess.run([compiler, *flags, *language, "-o", str(out), path], capture_output=True, text=True,
                              errors="replace", timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise InputError("%s did not finish within %d s" % (cc, COMPILE_TIMEOUT), path) from None
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        m = _ERROR.search(done.stderr)
        if m:
            raise InputError("%s: %s" % (cc, m.group("reason")), m.group("file"), int(m.group("line")))
        last = next((ln for ln in done.stderr.splitlines() if ln.strip()), "exit code %d" % done.returncode)
        raise InputError("%s failed: %s" % (cc, last.strip()), path)
    os.replace(out, cached)
    return cached.read_bytes()


def c_assembly(task: FunctionTask, cc: str | None = None, opt: tuple[str, ...] = OPT_FLAGS):
    """The task's C function as `cc OPT -S` writes it (cc: the task's compiler unless given),
    parsed (a Program): a baseline for bench.
    A parse failure (an instruction superopt's parser does not take) is an InputError."""
    from superopt.x86.functions import select
    from superopt.x86.parser import parse_text
    path = task.spec.rsplit(":", 1)[0]
    cc = cc or task.cc
    compiler = shutil.which(cc)
    if compiler is None:
        raise InputError("no compiler %r on PATH (--cc names another)" % cc, path)
    done = subprocess.run([compiler, *opt, "-S", *CODEGEN, "-o", "-", path], capture_output=True, text=True,
                          errors="replace", timeout=COMPILE_TIMEOUT)
    if done.returncode != 0:
        raise InputError("%s %s -S failed: %s" % (cc, " ".join(opt), done.stderr.strip().splitlines()[-1:]), path)
    return select(parse_text(done.stdout, "%s %s" % (cc, " ".join(opt))), task.name)


def c_task(path: str, name: str | None = None, cc: str = "gcc", opt: tuple[str, ...] = OPT_FLAGS) -> FunctionTask:
    """The function task of `path`'s function `name` (else its only one)."""
    obj = ObjectFile(compile_c(path, cc, opt), path)
    dwarf = obj.dwarf
    declared = from_dwarf(dwarf, path) if dwarf is not None else {}
    defined = {n: f for n, f in obj.functions.items() if n in declared or not declared}
    if name is None:
        candidates = [n for n, f in defined.items() if f.external] or list(defined)
        if not candidates:
            raise InputError("defines no function (a function task is one C function with integer arguments)", path)
        if len(candidates) > 1:
            raise InputError("%d functions (%s): give %s:NAME" % (len(candidates), ", ".join(candidates), path),
                             path, declared.get(candidates[1], (None,))[0])
        name = candidates[0]
    if name not in defined:
        raise InputError("no function %s here (functions: %s)" % (name, ", ".join(defined) or "none"), path)
    line, signature = declared.get(name, (None, None))
    if isinstance(signature, Refused):
        raise signature
    if signature is None:
        raise InputError("no debug information for %s from %s -g" % (name, cc), path)
    function = obj.functions[name]
    _check_code(obj, function, path)
    ref = CodeReference(function.code, signature, path, obj.lines(function))
    return FunctionTask(name, signature, ref, "%s in %s, compiled with %s %s" % (name, path, cc, " ".join(opt)),
                        "%s:%s" % (path, name), cc)


def _check_code(obj: ObjectFile, function, path: str) -> None:
    """Refuse what the reference may not do (the module docstring), with the line responsible:
    floating point and system instructions first, then relocations (they name the callee or
    the data), then calls and jumps without one."""
    size = len(function.code)
    decoded = disassemble(function.code, 0)
    if sum(d.size for d in decoded) != size:
        raise InputError("%s holds bytes that do not decode as x86-64 instructions" % function.name, path)
    for d in decoded:
        if _FLOAT_REGS.search(d.op_str) or d.mnemonic.startswith("f"):
            raise InputError("%s uses floating point or vector registers (%s)" % (function.name, d.intel), path,
                             obj.line_at(function, d.address))
        if d.mnemonic in _SYSTEM:
            raise InputError("%s executes %s: a reference computes its result only" % (function.name, d.intel), path,
                             obj.line_at(function, d.address))
    for r in function.relocations:
        line = obj.line_at(function, r.offset)
        if r.kind == "func" or r.type == 4:      # R_X86_64_PLT32: a call or a tail call
            raise InputError("%s calls %s: a reference may not call functions" % (function.name, r.symbol or "a function"),
                             path, line)
        raise InputError("%s refers to %s (a relocation): a reference may not touch memory other than its stack"
                         % (function.name, r.symbol or "data"), path, line)
    for d in decoded:
        outside = d.mnemonic.startswith("j") and d.operands and getattr(d.operands[0], "value", 0) not in range(size)
        if d.mnemonic.startswith("call") or outside:
            raise InputError("%s calls another function (%s): a reference may not call functions"
                             % (function.name, d.intel), path, obj.line_at(function, d.address))
