"""Reading an ELF object (a compiler's .o) with pyelftools: each function's machine code by
symbol, the relocations inside it, the source line of each address, and the DWARF."""
from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from superopt.errors import InputError


@dataclass(frozen=True)
class Relocation:
    offset: int          # from the function's start
    symbol: str          # the symbol it refers to ("" for none)
    type: int            # R_X86_64_* number
    kind: str            # the symbol's kind: "function", "object", "section", "none"...


@dataclass(frozen=True)
class Function:
    name: str
    section: str
    start: int                       # offset in its section
    code: bytes
    relocations: tuple[Relocation, ...]
    external: bool                   # a global symbol (else a local, static one)


class ObjectFile:
    """One relocatable (or linked) x86-64 ELF object held in memory."""

    def __init__(self, data: bytes, path: str):
        self.path = path
        try:
            self.elf = ELFFile(io.BytesIO(data))
        except ELFError as exc:
            raise InputError("not an ELF object: %s" % exc, path) from None
        if self.elf["e_machine"] != "EM_X86_64":
            raise InputError("an ELF object for %s, not x86-64" % self.elf["e_machine"], path)
        self.functions = self._functions()

    def _functions(self) -> dict[str, Function]:
        symtab = self.elf.get_section_by_name(".symtab")
        if symtab is None:
            return {}
        symbols = list(symtab.iter_symbols())
        relocs: dict[int, list] = {}       # section index -> relocations into it
        for sec in self.elf.iter_sections():
            if isinstance(sec, RelocationSection) and sec["sh_info"]:
                relocs.setdefault(sec["sh_info"], []).extend(sec.iter_relocations())
        out = {}
        for sym in symbols:
            if sym["st_info"]["type"] != "STT_FUNC" or not isinstance(sym["st_shndx"], int):
                continue
            index, start, size = sym["st_shndx"], sym["st_value"], sym["st_size"]
            section = self.elf.get_section(index)
            data = section.data()[start - section["sh_addr"]:start - section["sh_addr"] + size]  # st_value: an address
            inside = []
            for r in relocs.get(index, ()):
                if start <= r["r_offset"] < start + size:
                    target = symbols[r["r_info_sym"]] if r["r_info_sym"] < len(symbols) else None
                    kind = target["st_info"]["type"][4:].lower() if target is not None else "none"
                    named = target.name if target is not None else ""
                    if kind == "section" and target is not None:
                        named = self.elf.get_section(target["st_shndx"]).name
                    inside.append(Relocation(r["r_offset"] - start, named, r["r_info_type"], kind))
            out[sym.name] = Function(sym.name, section.name, start, data, tuple(inside),
                                     sym["st_info"]["bind"] == "STB_GLOBAL")
        return out

    @property
    def dwarf(self):
        """pyelftools' DWARFInfo, or None without debug information."""
        return self.elf.get_dwarf_info() if self.elf.has_dwarf_info() else None

    def lines(self, function: Function) -> dict[int, int]:
        """Offset from the function's start -> source line, from the DWARF line table (the
        rows at or after each offset; empty without one)."""
        dwarf = self.dwarf
        if dwarf is None:
            return {}
        rows = []
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            for entry in program.get_entries():
                state = entry.state
                if state is not None and not state.end_sequence:
                    offset = state.address - function.start
                    if 0 <= offset < len(function.code):
                        rows.append((offset, state.line))
        return dict(sorted(rows))

    def line_at(self, function: Function, offset: int) -> int | None:
        """The source line of the instruction at `offset` (the last row at or before it)."""
        best = None
        for at, line in self.lines(function).items():
            if at <= offset:
                best = line
        return best
