"""`enum`: optimal programs, proofs, cuts checked against a plain breadth-first search."""
from __future__ import annotations


import pytest
from hypothesis import given, settings, strategies as st

from superopt.game.bounds import LowerBound
from superopt.agents.enumerative import Enumerator, run
from superopt.agents.resynthesis import below, first_program, shorten
from superopt.game.game import RULES, Game
from superopt.agents.base import SearchOptions
from superopt.tasks.sort import SortTask
from superopt.tasks.registry import get_task
from superopt.check.verify import verify
from superopt.x86.isa import Instr, Program
from superopt.x86.parser import load, parse_text

SORT2 = SortTask("sort2", 2, description="sort a[0..2)")


def _bfs_shortest(game: Game, limit: int) -> int | None:
    """Shortest solved program length by breadth-first search over exact states (no cuts)."""
    level, seen = [game.initial()], {game.initial().key}
    for depth in range(1, limit + 1):
        nxt = []
        for state in level:
            for a in game.legal_mask(state).nonzero()[0]:
                child = game.step(state, int(a))
                if child.solved:
                    return depth
                if child.key not in seen:
                    seen.add(child.key)
                    nxt.append(child)
        level = nxt
    return None


@pytest.mark.parametrize("isa_name", ["alphadev", "extended"])
def test_enum_matches_breadth_first_search_on_sort2(isa_name):
    game = Game(SORT2, isa=isa_name, max_length=12, pruning=())
    result = run(game, SearchOptions(workers=1), lambda s: None, lambda: False)
    assert result.optimal and result.length == _bfs_shortest(game, 12)
    program = Program(result.program.instrs + [Instr("ret")])
    assert verify(program, SORT2).passed


def test_enum_with_all_collects_distinct_correct_programs():
    game = Game(SORT2, max_length=12)
    result = run(game, SearchOptions(workers=1, all_optimal=True), lambda s: None, lambda: False)
    assert result.extras["all_optimal"] == len(result.candidates) > 1
    assert len({tuple(p.instrs) for p in result.candidates}) == len(result.candidates)
    for p in result.candidates:
        assert len(p) == result.length and game.play([game.action_id(i) for i in p.instrs]).solved


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_all_stopped_early_keeps_what_it_collected(workers):
    """sort3 has 5,602 optimal programs: collecting them all takes millions of programs,
    the first ones come within 60K (bounds 13-16 and the start of 17)."""
    game = Game(get_task("sort3"))
    explored = [0]

    def report(stats):
        explored[0] = stats.explored

    result = run(game, SearchOptions(workers=workers, all_optimal=True), report, lambda: explored[0] > 300_000)
    assert result.length == 17 and result.candidates and not result.extras["all_complete"]
    assert all(len(p) == 17 and game.play([game.action_id(i) for i in p.instrs]).solved for p in result.candidates)


def test_nothing_within_a_short_bound_is_a_proof():
    game = Game(get_task("sort3"), max_length=12)
    result = run(game, SearchOptions(workers=1), lambda s: None, lambda: False)
    assert result.program is None and not result.optimal and result.extras["none_within"] == 12


@pytest.mark.parametrize("path,task,isa_name", [("asm/sort3.s", "sort3", "alphadev"),
                                                 ("asm/sort3_enum.s", "sort3", "alphadev"),
                                                 ("asm/sort4.s", "sort4", "alphadev"),
                                                 ("asm/sort4_enum.s", "sort4", "alphadev"),
                                                 ("asm/sort4_agent28.s", "sort4", "alphadev"),
                                                 ("asm/sort4_latency.s", "sort4", "alphadev"),
                                                 pytest.param("asm/sort5.s", "sort5", "alphadev", marks=pytest.mark.slow),
                                                 ("asm/sort3_extended.s", "sort3", "extended")])
def test_lower_bound_is_admissible_along_known_programs(path, task, isa_name):
    game = Game(get_task(task), isa=isa_name)
    actions = [game.action_id(i) for i in parse_text(open(path).read()).instrs if i.op != "ret"]
    space = Enumerator(game)
    state = game.initial()
    for k, a in enumerate(actions):
        (locs, lt, gt), (last, loaded) = state.cpu, state.rules[:2]
        assert 0 <= space.bound_or_dead(locs, lt, gt, last, loaded, None, state.rules[4]) <= len(actions) - k
        state = game.step(state, a)
    assert state.solved


def test_intermediate_values_along_the_sort4_network():
    """Every output of sort4 lacks a pair of values to be one_of at the start (two
    intermediates: no single value can stand in for min and max); once the second layer
    of comparators has made min and max, the middle two need one (the last comparator's
    inputs), and none once those exist."""
    game = Game(get_task("sort4"))
    actions = [game.action_id(i) for i in parse_text(open("asm/sort4.s").read()).instrs if i.op != "ret"]
    bound, R, E = LowerBound(game), len(game.registers), game.evaluator.expected
    counts = []
    state = game.initial()
    for a in actions + [None]:
        locs = state.cpu[0]
        need = {e for i, e in enumerate(E) if locs[R + i] != e and e not in locs[:R]}
        counts.append(bound.intermediate(locs, need, state.rules[4]))
        if a is not None:
            state = game.step(state, a)
    assert counts == [2] * 15 + [1] * 5 + [0] * 9


@pytest.mark.slow
def test_intermediate_values_term_keeps_every_optimal_program(monkeypatch):
    """The term is admissible where it counts: every optimal extended-set sort3 under
    compared_select is still collected with it, from fewer programs."""
    def collect():
        game = Game(get_task("sort3"), isa="extended", pruning=RULES)
        result = run(game, SearchOptions(workers=1, all_optimal=True), lambda s: None, lambda: False)
        return {tuple(p.instrs) for p in result.candidates}, result.explored
    with_term, explored = collect()
    monkeypatch.setattr(LowerBound, "intermediate", lambda self, locs, need, compared: 0)
    without, explored_without = collect()
    assert with_term == without and len(with_term) > 1000 and explored < explored_without


@settings(max_examples=40)
@given(st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=14))
def test_bound_under_a_budget_is_exact_below_it(choices):
    """Along random legal prefixes: with a budget, the bound is the full bound when that
    fits the budget, and above the budget otherwise (the node is cut either way)."""
    game = Game(get_task("sort3"))
    space = Enumerator(game)
    state = game.initial()
    for c in choices:
        legal = game.legal_mask(state).nonzero()[0]
        if not len(legal) or state.solved:
            break
        state = game.step(state, int(legal[c % len(legal)]))
        (locs, lt, gt), (last, loaded) = state.cpu, state.rules[:2]
        full = space.bound_or_dead(locs, lt, gt, last, loaded)
        for budget in range(0, 8):
            h = space.bound_or_dead(locs, lt, gt, last, loaded, budget)
            assert h == full if full <= budget else h > budget


@pytest.mark.slow
def test_sort3_is_17_and_proven():
    result = run(Game(get_task("sort3")), SearchOptions(workers=1), lambda s: None, lambda: False)
    assert result.length == 17 and result.optimal and result.extras["bound_reached"] == 17


def test_should_stop_returns_promptly_with_nothing_proven():
    game = Game(get_task("sort4"))
    calls = [0]

    def stop():
        calls[0] += 1
        return calls[0] > 3

    result = run(game, SearchOptions(workers=1), lambda s: None, stop)
    assert calls[0] == 4  # returned at the first True, without asking again
    assert result.program is None and not result.optimal and "none_within" not in result.extras


def test_two_workers_are_deterministic():
    game = Game(SORT2, max_length=12)
    a = run(game, SearchOptions(workers=2), lambda s: None, lambda: False)
    b = run(game, SearchOptions(workers=2), lambda s: None, lambda: False)
    assert a.program.instrs == b.program.instrs and a.optimal


@pytest.mark.slow
def test_compared_select_keeps_sort3_at_17_for_fewer_programs():
    def search(pruning):
        game = Game(get_task("sort3"), pruning=pruning)
        return run(game, SearchOptions(workers=1), lambda s: None, lambda: False)
    cut = search(RULES)
    full = search(None)   # sort3's default: every rule but this one
    assert cut.length == full.length == 17
    assert cut.explored * 4 < full.explored


def _actions(game: Game, path: str) -> list[int]:
    return game.program_actions(load(path, game.task.name)[0])


def test_replay_gives_the_node_the_search_reaches():
    game = Game(get_task("sort3"))
    space = Enumerator(game)
    node, path = space.root(), []
    for _ in range(6):   # follow the search's first child six steps down
        a, node, _, _ = next(iter(space.children(node, len(path), 17)))
        path.append(a)
    replayed = Enumerator(game).replay(path)
    assert space.key(replayed) == space.key(node) and replayed[7] == node[7]


def test_below_a_prefix_completes_it_or_proves_nothing_fits():
    game = Game(get_task("sort3"))
    prefix = _actions(game, "asm/sort3_enum.s")[:8]
    found, complete, explored = below(game, prefix, 17, None, lambda: False)
    assert complete and explored > 0 and found[:8] == prefix and len(found) == 17
    assert game.play(found).solved
    assert below(game, prefix, 16, None, lambda: False)[:2] == (None, True)   # 17 is optimal
    found, complete, _ = below(game, [], 17, 10, lambda: False)               # budget runs out
    assert found is None and not complete


def test_shorten_resynthesises_suffixes():
    game = Game(get_task("sort3"))
    network = _actions(game, "asm/sort3.s")
    short, explored = shorten(game, network, 5000, lambda: False)
    assert len(network) == 18 and len(short) == 17 and explored > 0 and game.play(short).solved
    assert shorten(game, short, 5000, lambda: True) == (short, 0)   # a stop is obeyed at once


@pytest.mark.slow
def test_shorten_turns_a_stochastic_43_for_sort5_into_a_42():
    game = Game(get_task("sort5"))
    short, _ = shorten(game, _actions(game, "asm/sort5_stochastic.s"), 5000, lambda: False)
    assert len(short) == 42
    assert verify(Program(game.to_program(short).instrs + [Instr("ret")]), get_task("sort5")).passed


def test_first_program_is_correct_within_a_loose_bound():
    game = Game(get_task("sort4"))
    program = first_program(game, 56, lambda: False)
    assert program is not None and len(program) <= 56 and game.play(program).solved
    assert first_program(game, 56, lambda: True) is None


def test_shorten_ends_on_a_program_with_trailing_dead_code():
    """A chain's correct program may end in an instruction that changes nothing: the prefix
    without it is already correct and is the shorter program (this looped forever once)."""
    game = Game(get_task("sort3"))
    program = [game.action_id(i) for i in load("asm/sort3_enum.s", "sort3")[0].instrs if i.op != "ret"]
    dead = program + [game.action_id(parse_text("movl %eax, %eax").instrs[0]) or program[-1]]
    short, _ = shorten(game, dead, 5000, lambda: False)
    assert len(short) <= len(program) and game.play(short).solved
