"""`stochastic` (AlphaDev-S): warm start, determinism, moves keep programs well defined."""
from __future__ import annotations


import pytest

from superopt.errors import InputError
from superopt.game.game import Game
from superopt.x86.parser import load, parse_text
from superopt.agents.base import SearchOptions
from superopt.agents.stochastic import Chain, StochasticParams, run
from superopt.tasks.registry import get_task
from superopt.measure.cost import cost_model

SORT3 = get_task("sort3")


def _options(**kw):
    return SearchOptions(workers=1, seed=0, init=load("asm/sort3.s", "sort3")[0], **kw)


def test_warm_start_reaches_17_on_sort3():
    game = Game(SORT3)
    result = run(game, _options(target_length=17, steps=200_000), lambda s: None, lambda: False)
    assert result.length == 17 and not result.optimal
    assert game.play([game.action_id(i) for i in result.program.instrs]).solved


@pytest.mark.slow
def test_same_seed_same_result():
    game = Game(SORT3)
    a = run(game, _options(steps=3000), lambda s: None, lambda: False)
    b = run(game, _options(steps=3000), lambda s: None, lambda: False)
    assert a.explored == b.explored and [p.instrs for p in a.candidates] == [p.instrs for p in b.candidates]


def test_every_accepted_program_is_well_defined_and_costed():
    game = Game(SORT3)
    chain = Chain(game, StochasticParams(), 5, [])
    for _ in range(3000):
        chain.step()
        assert chain.cost < float("inf")
        state = game.initial()
        for a in chain.program:   # replaying must never read an uninitialised location
            kind, d, s, _ = game.ops[a]
            assert state.cpu[0][s] != 0
            state = game.step(state, a)
        assert chain.cost == pytest.approx((39 - state.correct_items) ** 0.5 + chain.alpha * len(chain.program))


def test_should_stop_is_polled():
    game = Game(SORT3)
    result = run(game, SearchOptions(workers=1, steps=10 ** 9), lambda s: None, lambda: True)
    assert result.explored < 10_000


def test_init_outside_the_action_space_names_the_line():
    game = Game(SORT3)
    program = parse_text("movl (%rdi), %eax\naddl %eax, %eax\nret\n", path="bad.s")
    with pytest.raises(InputError, match=r"bad.s:2: .*action space"):
        game.program_actions(program)


def test_gamma_adds_the_cost_models_cycles_to_every_cost():
    game = Game(SORT3)
    network = game.program_actions(load("asm/sort3.s", "sort3")[0])
    plain, timed = Chain(game, StochasticParams(), 0, network), Chain(game, StochasticParams(gamma=0.5), 0, network)
    cycles = cost_model(game.to_program(network).instrs)
    assert cycles > 0 and timed.cost - plain.cost == pytest.approx(0.5 * cycles)
    for _ in range(2000):   # accepted proposals are costed with the term too
        timed.step()
        state = game.play(timed.program)
        assert timed.cost == pytest.approx((39 - state.correct_items) ** 0.5 + timed.alpha * len(timed.program)
                                           + 0.5 * cost_model(game.to_program(timed.program).instrs))


@pytest.mark.parametrize("polish, length", [(5000, 17), (0, 18)])
def test_a_new_correct_program_is_polished_by_enum(polish, length):
    game = Game(SORT3)
    network = game.program_actions(load("asm/sort3.s", "sort3")[0])
    chain = Chain(game, StochasticParams(polish=polish), 0, network)
    assert chain._record(network) == (length < 18)
    assert len(chain.best) == length and len(chain.program) == length
    assert game.play(chain.best).solved


@pytest.mark.slow
def test_cold_start_from_an_enum_program_or_from_empty():
    game = Game(get_task("sort4"), max_length=56)   # the enum start (44) is a result at once
    result = run(game, SearchOptions(workers=1, steps=2000, params={"start": "enum"}), lambda s: None, lambda: False)
    assert result.extras["start"] == "enum" and result.length is not None and result.length <= 44
    result = run(game, SearchOptions(workers=1, steps=2000, params={"start": "empty", "polish": 0}),
                 lambda s: None, lambda: False)
    assert result.extras["start"] == "empty" and result.program is None


@pytest.mark.slow
def test_cold_start_from_the_beam_is_the_default():
    game = Game(SORT3)
    result = run(game, SearchOptions(workers=1, steps=2000, target_length=17), lambda s: None, lambda: False)
    assert result.extras["start"] == "beam" and result.extras["start_length"] == 17 and result.length == 17
    assert game.play([game.action_id(i) for i in result.program.instrs]).solved
