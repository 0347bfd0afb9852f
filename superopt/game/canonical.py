"""A sort kernel rewritten into the form the game's rules allow (demonstrations from any agent).

Kernels from the rewrite agent, the stochastic chain or by hand are correct but often break
the game's canonical rules (memory_order, memory_once, register_order) or use more registers
than the game has, so the game cannot replay them. Two rewrites keep such a kernel a correct
sort kernel of the same length:
- loads renumbered: the k-th load reads slot k. A sort kernel sorts every permutation of its
  input, and this runs it on one, provided every load reads the untouched array (no load
  after a store); a slot loaded again is read from a register still holding it instead;
- registers reallocated: each value (a mov into a register, with the cmovs that update it)
  gets the lowest game register holding no live value, so fresh registers come in order and
  no more are used than are ever live at once.
The game then checks the result like any other program (superopt.agents.alphadev.demos):
the rewrite is a candidate, never trusted.
"""
from __future__ import annotations

from superopt.x86.isa import Instr, Mem, Program, Reg

_OPS = ("mov", "cmp", "cmov")


def canonical(program: Program, registers: tuple[str, ...]) -> Program | None:
    """The program in the game's canonical form over `registers`, or None when it is not
    made of the game's mov/cmp/cmov forms or the rewrites do not apply."""
    instrs = [ins for ins in program.instrs if ins.op != "ret"]
    if not all(ins.op in _OPS and ins.width == 32 and all(_plain(o) for o in ins.operands) for ins in instrs):
        return None
    instrs = _renumber_loads(instrs)
    return None if instrs is None else _reallocate(instrs, registers, program)


def _plain(o) -> bool:
    return (isinstance(o, Reg) and o.width == 32) or (
        isinstance(o, Mem) and o.base == "rdi" and o.index is None and o.disp % 4 == 0)


def _renumber_loads(instrs: list[Instr]) -> list[Instr] | None:
    slot_of: dict[int, int] = {}   # original slot -> the slot it reads now
    holds: dict[str, int] = {}     # register family -> original slot whose value it still holds
    stored = False
    out = []
    for ins in instrs:
        d, s = ins.operands
        if isinstance(s, Mem):
            if ins.op != "mov" or stored:
                return None
            if s.disp in slot_of:   # a reload: copy it from a register that still holds it
                keeper = next((r for r, slot in holds.items() if slot == s.disp and r != d.family), None)
                if keeper is None:
                    return None
                out.append(Instr("mov", (d, Reg(keeper, 32)), width=32))
            else:
                slot_of[s.disp] = 4 * len(slot_of)
                out.append(Instr("mov", (d, Mem(32, "rdi", disp=slot_of[s.disp])), width=32))
            holds[d.family] = s.disp
            continue
        if isinstance(d, Mem):
            stored = True
        elif ins.op == "mov":
            holds.pop(d.family, None)
            if s.family in holds:
                holds[d.family] = holds[s.family]
        elif ins.op == "cmov":
            holds.pop(d.family, None)
        out.append(ins)
    return out


def _reallocate(instrs: list[Instr], registers: tuple[str, ...], program: Program) -> Program | None:
    # values: a mov into a register starts one; cmovs into it update it (they read it too)
    value_at: list[dict[str, int]] = []   # per instruction: register family -> value it reads there
    current: dict[str, int] = {}
    starts: dict[int, int] = {}           # instruction -> value it starts
    last_use: list[int] = []
    for i, ins in enumerate(instrs):
        d, s = ins.operands
        read = [o.family for o in (s,) + ((d,) if ins.op != "mov" else ()) if isinstance(o, Reg)]
        if any(r not in current for r in read):
            return None   # reads a register before writing it
        for r in read:
            last_use[current[r]] = i
        value_at.append(dict(current))
        if ins.op == "mov" and isinstance(d, Reg):
            current[d.family] = starts[i] = len(last_use)
            last_use.append(i)
    home: dict[int, str] = {}
    out = []
    for i, ins in enumerate(instrs):
        if i in starts:   # sources at i stay busy, so no mov copies a register onto itself
            busy = {home[v] for v, end in enumerate(last_use) if v in home and end >= i}
            free = [r for r in registers if r not in busy]
            if not free:
                return None
            home[starts[i]] = free[0]
        names = {**{r: home[v] for r, v in value_at[i].items() if v in home},
                 **({ins.operands[0].family: home[starts[i]]} if i in starts else {})}
        out.append(Instr(ins.op, tuple(Reg(names[o.family], 32) if isinstance(o, Reg) else o for o in ins.operands),
                         cond=ins.cond, width=32))
    return Program(out, task=program.task, path=program.path)
