"""The beam cold start: its distinct-rows measure and the search itself."""
from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import given, settings, strategies as st

from superopt.agents import beam
from superopt.agents.enumerative import Enumerator
from superopt.game.game import Game
from superopt.x86.isa import Reg
from superopt.tasks.registry import get_task

SORT3 = Game(get_task("sort3"))


def _rows(game, actions):
    node = Enumerator(game).replay(actions)
    return beam.RowCount(game)(node[0], node[4], node[5])


def _id(game, att):
    return next(a for a, ins in enumerate(game.actions) if ins.att() == att)


def test_every_input_is_its_own_row_at_the_start():
    assert _rows(SORT3, []) == SORT3.num_inputs


def test_a_copy_adds_no_row_and_a_sorted_state_has_few():
    g = SORT3
    load = [_id(g, "movl (%rdi), %eax"), _id(g, "movl 4(%rdi), %ecx"), _id(g, "movl 8(%rdi), %edx")]
    assert _rows(g, load + [_id(g, "movl %eax, %esi")]) == _rows(g, load)
    program = _first()
    # the array holds one of the 4 sorted weak orderings of 3 items; registers may tell more
    assert 4 <= _rows(g, program) < g.num_inputs


@settings(max_examples=20)
@given(st.permutations(["rax", "rcx", "rdx", "rsi"]))
def test_the_measure_ignores_register_names(order):
    renamed = Game(get_task("sort3"), registers=order)
    program = _first()
    moved = [renamed.action_id(_rename(i, order)) for i in SORT3.to_program(program).instrs]
    for k in range(0, len(program) + 1, 3):
        assert _rows(SORT3, program[:k]) == _rows(renamed, moved[:k])


@cache
def _first():
    program, _ = beam.search(SORT3, 17, 1.25, 3000, lambda: False)
    return tuple(program)


def _rename(ins, order):
    mapping = dict(zip(SORT3.registers, order))
    ops = tuple(replace(o, family=mapping[o.family]) if isinstance(o, Reg) else o for o in ins.operands)
    return replace(ins, operands=ops)


@pytest.mark.slow
def test_the_beam_finds_sort3_17_and_sort4_28():
    program, explored = beam.search(SORT3, 17, 1.25, 3000, lambda: False)
    assert len(program) == 17 and SORT3.play(program).solved and explored > 0
    sort4 = Game(get_task("sort4"))
    program, _ = beam.search(sort4, 28, 1.5, 1000, lambda: False)
    assert len(program) == 28 and sort4.play(program).solved


def test_the_beam_ends_empty_below_the_optimum_or_when_stopped():
    assert beam.search(SORT3, 16, 1.25, 3000, lambda: False)[0] is None
    assert beam.search(SORT3, 17, 1.25, 3000, lambda: True)[0] is None
