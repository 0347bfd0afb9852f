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

from functools import lru_cache

from superopt.x86 import isa, semantics


def _location(mem: isa.Mem) -> tuple:
    return ("mem", mem.base, mem.index, mem.disp)


@lru_cache(maxsize=1 << 16)
def _facts(ins: isa.Instr) -> tuple:
    """What the chains need of one instruction, cached: the stochastic chain (`gamma`)
    models whole programs of a few hundred distinct instructions at every proposal."""
    cycles = semantics.latency(ins).cycles
    if cycles is None:
        return None
    addresses = tuple(((mem.base, mem.index), _location(mem)) for mem in semantics.loads(ins))
    results = tuple((r, semantics.result_cycles(ins, r)) for r in semantics.writes(ins))
    return (cycles, tuple(semantics.reads(ins)), addresses, semantics.stack_bytes(ins), results,
            tuple(_location(mem) for mem in semantics.stores(ins)))


def cost_model(instrs: list[isa.Instr]) -> int:
    """Length of the longest dependency chain through registers, flags and memory, in
    cycles (a cost model, not a measurement)."""
    ready: dict = {}
    end = 0
    for ins in instrs:
        facts = _facts(ins)
        if facts is None:
            continue
        cycles, reads, addresses, stack, results, stores = facts
        start = max((ready.get(r, 0) for r in reads), default=0)
        for registers, location in addresses:
            address = max((ready.get(r, 0) for r in registers if r), default=0)
            start = max(start, max(address, ready.get(location, 0)) + semantics.LOAD_CYCLES)
        if stack > 0:  # pop: the slot the last push wrote
            start = max(start, ready.get("stack", 0) + semantics.LOAD_CYCLES)
        done = start + cycles
        for r, later in results:
            ready[r] = start + later
            end = max(end, ready[r])
        for location in stores:
            ready[location] = done
        if stack < 0:
            ready["stack"] = done
        end = max(end, done)
    return end
