"""`rewrite.bound`: the fewest instructions the beam could compile a network to, and the
networks the agent skips because of it."""
from __future__ import annotations

import random

import numpy as np

from superopt.agents import rewrite
from superopt.agents.base import SearchOptions
from superopt.agents.comparators import NETWORKS, candidates, canonical, completions, sorts
from superopt.agents.rewrite import Plan, beam, bound, emit, saveable
from superopt.game.game import Game
from superopt.tasks.registry import get_task
from superopt.tasks.sort import weak_orderings


def _plan(n, network):
    return Plan(n, network, weak_orderings(n).astype(np.int8))


def test_the_bound_is_met_on_sort3_and_sort4_and_never_beaten_by_the_beam():
    assert bound(_plan(3, NETWORKS[3]["the network"])) == 17      # AlphaDev's optimal sort3
    assert saveable(_plan(4, NETWORKS[4]["the network"])) == 0    # no sort4 comparator has the 3-form
    for name, network in NETWORKS[6].items():
        plan = _plan(6, network)
        state, _ = beam(plan, 8, 20, random.Random(0), lambda: False)
        assert len(emit(state, 8).instrs) >= bound(plan), name


def test_sort8_networks_cannot_compile_below_92():
    plan = _plan(8, NETWORKS[8]["the network"])
    assert saveable(plan) == 2 and bound(plan) == 16 + 4 * 19 - 2 + 2   # push and pop of %rbx


def test_the_agent_skips_a_network_that_cannot_reach_the_best(monkeypatch):
    good = NETWORKS[3]["the network"]
    padded = good + [(0, 1), (1, 2), (0, 1)]   # redundant comparators: it sorts, at best longer
    assert bound(_plan(3, padded)) > 17
    monkeypatch.setattr(rewrite, "candidates", lambda n, extra, **kinds: {"good": good, "padded": padded})
    options = SearchOptions(workers=1, params={"polish": 0})
    result = rewrite.run(Game(get_task("sort3")), options, lambda stats: None, lambda: False)
    assert result.length == 17 and result.extras["networks_tried"] == 1 and result.extras["compiled_bound"] == 17


def test_completions_finish_a_prefix_into_sorting_networks_of_the_optimal_size():
    four = NETWORKS[4]["the network"]
    nets = completions(4, four[:2], 5)
    assert nets and all(len(net) == 5 and net[:2] == four[:2] and sorts(4, net) for net in nets)
    assert canonical(four) in {canonical(net) for net in nets}
    assert completions(4, four[:2], 4) == []   # sort4 needs 5 comparators
    assert canonical([(0, 1), (2, 3)]) == canonical([(2, 3), (0, 1)]) != canonical([(1, 2), (0, 1)])
    eight = candidates(8, derived=False, completed=True)
    assert len(eight) > len(candidates(8, derived=False)) and all(len(n) == 19 and sorts(8, n) for n in eight.values())
