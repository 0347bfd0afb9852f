"""Reward shaping for the AlphaDev agent: potentials of game states, and the test that a state is dead.

The potential rewards sorted values becoming available in some location (`placeable`, or
`lookahead`, which also counts values one cmov or one compare-exchange away); the shaping
term is potential-based, so it changes no program's rank among the correct ones. `dead`
ends a game as soon as no continuation can be correct (AgentConfig.prune_dead).
"""
from __future__ import annotations


def placeable(game, state) -> float:
    """The potential for reward shaping: the fraction of items that could be stored correctly
    right now, taking for each array slot the location that holds its sorted value on the
    most inputs. 1 for a solved state, so shaping moves the reward of no correct program
    relative to another (potential-based shaping keeps the optimal programs optimal)."""
    return _coverage(game.evaluator, state.cpu[0])


def _coverage(ev, candidates) -> float:
    """The fraction of items that could be stored correctly if each slot took, from
    `candidates` (location contents), the one holding its sorted value on the most inputs."""
    return sum(max((v & e).bit_count() for v in candidates) for e in ev.expected) / ev.total_items


def exchange_placeable(game, state) -> float:
    """placeable one compare-exchange ahead: as placeable, but each slot may also take the
    min or the max of any two distinct values held now. A comparator of a sorting network
    often places nothing at once (sort4's second one, (2,3), leaves placeable flat) while
    it always brings some order statistic within one exchange of more inputs."""
    ev = game.evaluator
    # the branch game's locations may be empty on some inputs (other paths'): fill gives them a
    # rank, since the per-field compare would borrow across an empty field
    fill = getattr(game, "fill", lambda x: x)
    values = list({v for v in state.cpu[0] if v})
    candidates = list(values)
    for i, a in enumerate(values):
        for b in values[i + 1:]:
            less, _ = ev.compare(fill(a), fill(b))  # the inputs where a < b
            candidates += [b ^ ((a ^ b) & less), a ^ ((a ^ b) & less)]
    return _coverage(ev, candidates)


def cmov_placeable(game, state) -> float:
    """placeable one cmov ahead: each slot may also take what one cmovl/cmovg between two
    registers would leave under the current flags, so that a cmp which sets up a useful
    select is worth something before the select is made."""
    locs, lt, gt = state.cpu
    candidates = [v for v in locs if v]
    if lt is not None:
        regs = [v for v in locs[:len(game.registers)] if v]
        for x in regs:
            for y in regs:
                if x is not y:
                    candidates += [x ^ ((x ^ y) & lt), x ^ ((x ^ y) & gt)]
    return _coverage(game.evaluator, candidates)


def lookahead(game, state) -> float:
    """The mean of placeable now, one cmov ahead and one compare-exchange ahead: along a
    sorting network it rises at every cmp and every cmov (only the copies that set up an
    exchange leave it flat), where placeable alone waits for whole comparators and stays
    flat over some (sort4's second one)."""
    return (placeable(game, state) + cmov_placeable(game, state) + exchange_placeable(game, state)) / 3


POTENTIALS = {"placeable": placeable, "lookahead": lookahead}


def dead(game, state) -> bool:
    """True when no continuation can sort every input: an array slot was stored with a
    wrong value on some input (each slot is stored at most once), or some input's sorted
    value for some slot is held by no location that can still reach that slot (registers,
    slots still loadable, and the slot itself). Reads the game's CPU state and, for each
    group of inputs that goes on together (game.paths: all of them in the fixed game; in the
    branch game the active ones and those waiting at each label), its rule history, which
    only grows along a path and where paths meet; in the branch game also inputs of lengths
    that need a split no jump can make (BranchPlay.unsplittable)."""
    if state.solved:
        return False
    if game.kind == "branch" and game.unsplittable(state):
        return True
    ev, p = game.evaluator, game.pruning
    locs = state.cpu[0]
    r = len(game.registers)
    rereads = game.isa_name == "extended"  # cmov may read any slot there, whatever the load rules
    for mask, rules in game.paths(state):
        last_loaded, loaded, stored = rules[:3]
        for i, expected in enumerate(ev.expected):
            if "memory_once" in p and stored >> i & 1 and (locs[r + i] ^ expected) & mask:
                return True
        for i, expected in enumerate(ev.expected):
            have = 0
            for v in locs[:r]:
                have |= v & expected
            for j in range(game.n):
                loadable = rereads or not (("memory_once" in p and loaded >> j & 1) or
                                           ("memory_order" in p and j < last_loaded))
                if loadable or j == i:
                    have |= locs[r + j] & expected
            if have & mask != expected & mask:
                return True
    return False
