"""The dispatch agent: decision trees over the lengths, the body pool, proven dispatch programs."""
from __future__ import annotations

import itertools

import pytest

import superopt
from superopt.agents.dispatch import (DispatchParams, Dispatcher, bodies, candidates, leaves, tree_cost,
                                      trees)
from superopt.agents.splice import kernel_ids
from superopt.game.branches import RET, BranchGame
from superopt.tasks.lengths import with_lengths
from superopt.x86.isa import instruction_count
from superopt.x86.parser import load


def _reaches(tree, k: int):
    """The leaf length k ends at, following the tree's tests."""
    holds = {"e": k.__eq__, "ne": k.__ne__, "l": k.__lt__, "le": k.__le__, "g": k.__gt__, "ge": k.__ge__}
    while not isinstance(tree, frozenset):
        options, fall, taken = tree
        verdicts = {holds[cond](c) for c, cond in options}
        assert len(verdicts) == 1   # every test of a node splits the lengths alike
        tree = taken if verdicts.pop() else fall
    return tree


@pytest.mark.parametrize("n", [3, 4, 5])
def test_every_tree_sends_each_length_to_its_own_leaf(n):
    all_trees = trees(leaves(n), n)
    assert len(all_trees) == len(set(map(repr, all_trees))) > 1
    for tree in all_trees:
        for k in range(n + 1):
            assert k in _reaches(tree, k)


@pytest.mark.parametrize("weights", [(0.2,) * 5, (0.0, 0.0, 0.1, 0.2, 0.7), (0.3, 0.3, 0.1, 0.1, 0.2)])
def test_fewest_expected_mispredictions_are_one_less_the_likeliest_leaf(weights):
    costs = [tree_cost(t, weights)[0] for t in trees(leaves(4), 4)]
    likeliest = max([weights[0] + weights[1]] + list(weights[2:]))
    assert min(costs) == pytest.approx(1 - likeliest)


def test_a_length_every_call_has_is_tested_first():
    game = BranchGame(with_lengths(superopt.get_task("varsort4"), "4"))
    _, tree, _ = candidates(game, DispatchParams(bodies=1, trees=8), lambda: False)[0]
    assert tree_cost(tree, game.task.length_weights)[1][frozenset({4})] == 1


def test_bodies_include_the_shipped_latency_sort3_and_sort_their_length():
    game = BranchGame("varsort4")
    pool = bodies(game, 3, 8, lambda: False)
    assert kernel_ids(game, load("asm/sort3_enum_latency.s")[0]) in pool   # the shortest chain of all (12)
    dispatcher = Dispatcher(game)
    tree = trees(leaves(4), 4)[0]
    two, four = bodies(game, 2, 1, lambda: False)[0], bodies(game, 4, 1, lambda: False)[0]
    for body in pool:
        assert dispatcher.proven(dispatcher.program(tree, {2: two, 3: body, 4: four}))
    broken = {2: two, 3: pool[0][:-1], 4: four}   # a body missing its last store leaves n = 3 unsorted
    assert not dispatcher.proven(dispatcher.program(tree, broken))


def test_dispatch_finds_a_proven_varsort4_with_a_ret_per_length():
    result = superopt.search("varsort4", agent="dispatch", workers=1, params={"trees": 4, "bodies": 2})
    assert result.verified and result.candidates
    verdict = superopt.verify(result.program, "varsort4")
    assert verdict.passed and verdict.proven
    assert sum(i.op == "ret" for i in result.program.instrs) == len(leaves(4))
    assert result.length < instruction_count(superopt.load("asm/varsort4.s"))   # sort3 in 17, not the network's 18


def test_small_lengths_return_without_touching_the_array():
    game = BranchGame("varsort3")
    dispatcher = Dispatcher(game)
    pool = {k: bodies(game, k, 1, lambda: False)[0] for k in (2, 3)}
    for tree in itertools.islice(trees(leaves(3), 3), 6):
        actions = dispatcher.program(tree, pool)
        assert sum(game.ops[a][0] == RET for a in actions) == 3 and dispatcher.proven(actions)
