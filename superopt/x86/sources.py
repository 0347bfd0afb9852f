"""A kernel file of any kind superopt reads, told apart by its content: an ELF object or
executable (by its magic number: the function's bytes by symbol, decoded by Capstone),
objdump -d text (by its `file format` or `<name>:` lines), else assembly text (AT&T, or
Intel after `.intel_syntax`). Every command that takes a kernel reads it here.

A file of several functions yields the one asked for (`FILE:NAME`), else the task's, else
its only global one (superopt.x86.functions): from ELF and objdump input only that function
is decoded, so the rest of an executable (its startup code, the library stubs) can hold
instructions superopt does not model.
"""
from __future__ import annotations

from superopt.errors import InputError
from superopt.x86.disassembly import is_objdump, parse_code, parse_objdump
from superopt.x86.functions import pick
from superopt.x86.isa import Program
from superopt.x86.files import ELF_MAGIC, read_input
from superopt.x86.parser import decode, parse_text


def parse_file(path, name: str | None = None, task: str | None = None) -> Program:
    """The kernel file `path` as a Program: of an ELF file or objdump text, just the function
    `name` (else the task's, else the only global one); of assembly, the whole file (which
    superopt.x86.functions.select then narrows)."""
    path = str(path)
    data = read_input(path)
    if data.startswith(ELF_MAGIC):
        return _elf_function(_object(data, path), name, task, path)
    text = decode(data, path)
    if is_objdump(text):
        return parse_objdump(text, path, name, task)
    return parse_text(text, path)


def _object(data: bytes, path: str):
    """The ELF file as superopt.x86.elf reads it (pyelftools, imported only for ELF input:
    it costs every command's start-up a fifth of a second)."""
    from superopt.x86.elf import ObjectFile
    try:
        return ObjectFile(data, path)
    except InputError:
        raise
    except Exception as exc:  # pyelftools on a damaged file raises its own errors and Overflow, Attribute...
        raise InputError("not a readable ELF file (%s: %s)" % (type(exc).__name__, exc), path) from None


def _elf_function(obj, name: str | None, task: str | None, path: str) -> Program:
    in_order = sorted((f for f in obj.functions.values() if f.code), key=lambda f: (f.section, f.start))
    functions = {f.name: f.external for f in in_order}
    if not functions:
        raise InputError("no functions with code in this ELF file (no symbol table, or only undefined ones)", path)
    function = obj.functions[pick(functions, name, task, path)]
    if function.relocations:
        r = function.relocations[0]
        raise InputError("%s+%#x refers to %s (a relocation): symbols and calls are not supported"
                         % (function.name, r.offset, r.symbol or "an address"), path)
    return parse_code(function.code, function.start, function.name, path, function.external)
