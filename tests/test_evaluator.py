"""The bit-packed evaluator: packing, per-instruction semantics, and agreement with Unicorn."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from superopt.game.evaluator import CMOV, CMP, MOV, Evaluator, Packing, dense_ranks
from superopt.game.game import Game
from superopt.x86.isa import Instr, Mem, Program, Reg
from superopt.tasks.sort import weak_orderings
from superopt.tasks.registry import get_task


@given(st.integers(1, 6), st.data())
def test_pack_unpack_round_trip(n, data):
    count = data.draw(st.integers(1, 40))
    ranks = np.array(data.draw(st.lists(st.integers(-1, n - 1), min_size=count, max_size=count)))
    p = Packing(n, count)
    assert (p.unpack(p.pack(ranks)) == ranks).all()


def _reference(ranks, registers, program):
    """Per-input interpretation of evaluator actions, written plainly."""
    out = []
    for row in ranks:
        locs = [None] * registers + [int(v) for v in row]
        flags = None
        for kind, d, s, cond in program:
            if kind == MOV:
                locs[d] = locs[s]
            elif kind == CMP:
                flags = (locs[d] > locs[s]) - (locs[d] < locs[s])
            else:
                take = {"l": flags < 0, "g": flags > 0, "le": flags <= 0, "ge": flags >= 0,
                        "e": flags == 0, "ne": flags != 0}[cond]
                if take:
                    locs[d] = locs[s]
        out.append((locs, flags))
    return out


@settings(max_examples=60)
@given(st.sampled_from([3, 4]), st.randoms(use_true_random=False))
def test_steps_match_a_per_input_reference(n, rnd):
    game = Game(get_task("sort%d" % n), pruning=())
    state = game.initial()
    for _ in range(rnd.randrange(1, 25)):
        legal = game.legal_mask(state).nonzero()[0]
        if not len(legal):
            break
        state = game.step(state, int(rnd.choice(list(legal))))
    ev = game.evaluator
    ranks = dense_ranks(game.inputs)
    reference = _reference(ranks, len(game.registers), [game.ops[a] for a in state.actions])
    got = ev.ranks(state.cpu)
    codes = ev.flag_codes(state.cpu)
    for k, (locs, flags) in enumerate(reference):
        assert [(-1 if v is None else v) for v in locs] == list(got[k])
        assert codes[k] == (-1 if flags is None else flags + 1)
    expected = np.sort(ranks, axis=1)
    R = len(game.registers)
    assert state.correct_items == int((got[:, R:] == expected).sum())
    assert state.solved == bool((got[:, R:] == expected).all())


def test_every_condition_selects_on_the_right_inputs():
    ranks = weak_orderings(3)
    ev = Evaluator(ranks, 2)
    base = ev.run([(MOV, 0, 2, None), (MOV, 1, 3, None), (CMP, 0, 1, None)])
    for cond, pick in {"l": np.less, "g": np.greater, "le": np.less_equal, "ge": np.greater_equal,
                       "e": np.equal, "ne": np.not_equal}.items():
        got = ev.ranks(ev.step(base, (CMOV, 0, 1, cond)))[:, 0]
        assert (got == np.where(pick(ranks[:, 0], ranks[:, 1]), ranks[:, 1], ranks[:, 0])).all(), cond


def test_a_sorting_network_solves_and_a_broken_one_does_not():
    game = Game(get_task("sort3"), pruning=())
    program = [
        ("mov", 0, 4), ("mov", 1, 5), ("mov", 2, 6),                  # loads
        ("cmp", 0, 1), ("mov", 3, 0), ("cmovg", 0, 1), ("cmovg", 1, 3),  # cond-swap(0, 1)
        ("cmp", 1, 2), ("mov", 3, 1), ("cmovg", 1, 2), ("cmovg", 2, 3),  # (1, 2)
        ("cmp", 0, 1), ("mov", 3, 0), ("cmovg", 0, 1), ("cmovg", 1, 3),  # (0, 1)
        ("mov", 4, 0), ("mov", 5, 1), ("mov", 6, 2),                  # stores
    ]
    index = {op: a for a, op in enumerate(game.ops)}
    kinds = {"mov": (MOV, None), "cmp": (CMP, None), "cmovg": (CMOV, "g")}
    actions = [index[(kinds[op][0], d, s, kinds[op][1])] for op, d, s in program]
    assert game.play(actions).solved
    broken = list(actions)
    broken[5] = index[(CMOV, 0, 1, "l")]
    state = game.play(broken)
    assert not state.solved and state.correct_items < state.total_items


# -- agreement with Unicorn --------------------------------------------------------------------
def _unicorn_outputs(program, task, arrays):
    from superopt.check.verify import emulator
    emu = emulator()
    emu.load(Program(program.instrs + [Instr("ret")]))
    result = emu.run(task.n, (task.n,), arrays, np.full(len(arrays), task.n), seed=1)
    assert result.stop is None and result.completed == len(arrays)
    return result.outputs


@pytest.mark.parametrize("isa_name", ["alphadev", "extended"])
def test_evaluator_agrees_with_unicorn_on_random_programs(isa_name):
    """Random legal programs, then every initialised register stored into the array so
    registers are compared too; final arrays must match value for value."""
    rng = np.random.default_rng(7)
    for n in (3, 4):
        task = get_task("sort%d" % n)
        game = Game(task, isa=isa_name, pruning=())
        arrays = game.inputs
        values = [np.unique(row) for row in arrays]
        for trial in range(40):
            state = game.initial()
            for _ in range(int(rng.integers(1, 30))):
                legal = game.legal_mask(state).nonzero()[0]
                if not len(legal):
                    break
                state = game.step(state, int(rng.choice(legal)))
            R = len(game.registers)
            for phase in ("program", "registers"):
                if phase == "registers":
                    live = [r for r in range(R) if state.cpu[0][r] != 0][:n]
                    stores = [game.action_id(Instr("mov", (Mem(32, "rdi", disp=4 * i), Reg(game.registers[r], 32)),
                                                   width=32)) for i, r in enumerate(live)]
                    state = game.play(state.actions + tuple(stores))
                ranks = game.evaluator.ranks(state.cpu)[:, R:]
                expected = np.array([values[k][ranks[k]] for k in range(len(arrays))])
                got = _unicorn_outputs(game.to_program(state), task, arrays)
                assert (got == expected).all(), (phase, [i.att() for i in game.to_program(state).instrs])
