"""The dependency-chain cost model: a program's latency in cycles, from the semantics table.

Each instruction starts when everything it reads is ready (registers, flags, and for a
memory source the address registers and the last store to that location, plus
semantics.LOAD_CYCLES for the load) and finishes its latency class's cycles later
(superopt.x86.semantics); what it writes (registers, flags, stored locations) is ready
then, a widening multiply's high half (rdx) later still (semantics.result_cycles). The figure is the latest finish: the longest chain, a model, not a measurement.
Control flow and serializing instructions are left off the chains (their cycles are None).

For the mov/cmp/cmov programs the searches produce this is the model the latency
objective has always used (a load-and-move 5 + 1 cycles, every other step 1), so search
results under `--objective latency` with the model do not move; it also counts what the
earlier model got wrong: lea computes an address and loads nothing, shifts and other
read-modify-write operations depend on their destination.
"""
from __future__ import annotations

from superopt.x86 import isa, semantics


def _location(mem: isa.Mem) -> tuple:
    return ("mem", mem.base, mem.index, mem.disp)


def cost_model(instrs: list[isa.Instr]) -> int:
    """Length of the longest dependency chain through registers, flags and memory, in
    cycles (a cost model, not a measurement)."""
    ready: dict = {}
    end = 0
    for ins in instrs:
        cycles = semantics.latency(ins).cycles
        if cycles is None:
            continue
        start = max((ready.get(r, 0) for r in semantics.reads(ins)), default=0)
        for mem in semantics.loads(ins):
            address = max((ready.get(r, 0) for r in (mem.base, mem.index) if r), default=0)
            start = max(start, max(address, ready.get(_location(mem), 0)) + semantics.LOAD_CYCLES)
        stack = semantics.stack_bytes(ins)
        if stack > 0:  # pop: the slot the last push wrote
            start = max(start, ready.get("stack", 0) + semantics.LOAD_CYCLES)
        done = start + cycles
        for r in semantics.writes(ins):
            ready[r] = start + semantics.result_cycles(ins, r)
            end = max(end, ready[r])
        for mem in semantics.stores(ins):
            ready[_location(mem)] = done
        if stack < 0:
            ready["stack"] = done
        end = max(end, done)
    return end
