"""The assembly game: action spaces, pruning rules, rewards, state keys, features."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from superopt.errors import SuperoptError
from superopt.game.game import RULES, Game, human_length
from superopt.x86.isa import Mem, Reg
from superopt.tasks.registry import get_task

SORT3 = get_task("sort3")


def _id(game, op, dst, src, cond=None):
    from superopt.x86.isa import Instr
    def loc(x):
        return Mem(32, "rdi", disp=4 * x) if isinstance(x, int) else Reg(x, 32)
    return game.action_id(Instr(op, (loc(dst), loc(src)), cond=cond, width=32))


def _names(game, state):
    return {game.actions[a].att() for a in np.nonzero(game.legal_mask(state))[0]}


def test_action_spaces():
    g = Game(SORT3)
    assert g.num_actions == len(g.actions) == 96   # 12 loads, 12 stores, 12 movs, 12 cmps, 48 cmovs
    assert g.max_length == human_length(3) == 18
    ext = Game(SORT3, isa="extended")
    assert ext.num_actions == 96 + 12 + 48
    assert all(g.action_id(ins) == a for a, ins in enumerate(g.actions))
    # no cmp/cmov writes memory in either set
    assert not any(ins.op != "mov" and isinstance(ins.operands[0], Mem) for ins in ext.actions)


def test_bad_configurations_are_errors():
    with pytest.raises(SuperoptError, match="instruction set"):
        Game(SORT3, isa="avx")
    with pytest.raises(SuperoptError, match="pruning rule"):
        Game(SORT3, pruning=["no_such_rule"])
    with pytest.raises(SuperoptError, match="branches"):
        Game(get_task("varsort3"))


def test_initial_moves_follow_the_rules():
    g = Game(SORT3)
    s = g.initial()
    # only loads, into the first register; nothing reads an uninitialised register
    assert _names(g, s) == {"movl (%rdi), %eax", "movl 4(%rdi), %eax", "movl 8(%rdi), %eax"}
    free = Game(SORT3, pruning=[])
    assert len(_names(free, free.initial())) == 12   # any register, any slot


def test_memory_order_and_once():
    g = Game(SORT3)
    s = g.step(g.initial(), _id(g, "mov", "rax", 1))
    names = _names(g, s)
    assert "movl (%rdi), %ecx" not in names        # slot 0 now lies behind the read order
    assert "movl 4(%rdi), %ecx" not in names       # slot 1 already read
    assert "movl 8(%rdi), %ecx" in names
    g2 = Game(SORT3, pruning=[r for r in RULES if r != "memory_order"])
    assert "movl (%rdi), %ecx" in _names(g2, g2.step(g2.initial(), _id(g2, "mov", "rax", 1)))
    s = g.step(s, _id(g, "mov", 0, "rax"))
    assert "movl %eax, (%rdi)" not in _names(g, s)  # written once


def test_register_order_no_double_cmp_and_no_noop():
    g = Game(SORT3)
    s = g.step(g.initial(), _id(g, "mov", "rax", 0))
    assert "movl %eax, %edx" not in _names(g, s) and "movl %eax, %ecx" in _names(g, s)
    s = g.step(s, _id(g, "mov", "rcx", 1))
    s = g.step(s, _id(g, "mov", "rdx", 2))
    s = g.step(s, _id(g, "cmp", "rax", "rcx"))
    names = _names(g, s)
    assert not any(n.startswith("cmp") for n in names)
    free = Game(SORT3, pruning=[r for r in RULES if r != "no_double_cmp"])
    t = free.play(s.actions)
    assert "cmpl %ecx, %edx" in _names(free, t)
    assert "cmpl %ecx, %eax" not in _names(free, t)  # same flags again: a no-op
    assert "cmpl %eax, %ecx" not in _names(free, t)  # the same flags swapped: the same state
    s = g.step(s, _id(g, "mov", "rsi", "rax"))
    assert "movl %eax, %esi" not in _names(g, s)     # rsi already holds rax's value


def test_transpositions_share_a_key():
    g = Game(SORT3)
    a = g.play([_id(g, "mov", "rax", 0), _id(g, "mov", "rcx", 1), _id(g, "mov", "rdx", "rax")])
    b = g.play([_id(g, "mov", "rax", 0), _id(g, "mov", "rdx", "rax"), _id(g, "mov", "rcx", 1)])
    c = g.play([_id(g, "mov", "rax", 0), _id(g, "mov", "rcx", 1), _id(g, "mov", "rdx", "rcx")])
    assert a.key == b.key and a.key != c.key


def _renamed(g, state, order, flip):
    """`state` with register i's content moved to register order[i], and (flip) the flags of
    the last cmp as if its operands were swapped."""
    R = len(g.registers)
    locs, lt, gt = state.cpu
    regs = [0] * R
    for i, j in enumerate(order):
        regs[j] = locs[i]
    if flip:
        lt, gt = gt, lt
    return g._state(state.actions, (tuple(regs) + locs[R:], lt, gt), state.rules)


@settings(max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(0, 22), st.permutations(range(5)), st.booleans())
def test_renamings_share_a_key_and_their_actions_map(seed, steps, order, flip):
    """A renamed state (registers renamed, cmp operands swapped) is one state: same key, and
    action_map pairs the legal actions of one with those of the other, each pair leading to
    one state again."""
    g = Game(get_task("sort4"))
    rng = np.random.default_rng(seed)
    a = g.initial()
    for _ in range(steps):
        legal = np.flatnonzero(g.legal_mask(a))
        if len(legal) == 0:
            break
        a = g.step(a, int(rng.choice(legal)))
    b = _renamed(g, a, order, flip)
    assert a.key == b.key
    m = g.action_map(a, b)
    if m is None:
        assert a.cpu == b.cpu
        return
    assert sorted(m) == list(range(g.num_actions))
    assert (g.legal_mask(b)[m] == g.legal_mask(a)).all()
    for x in np.flatnonzero(g.legal_mask(a)):
        assert g.step(a, x).key == g.step(b, int(m[x])).key


def test_different_contents_keep_different_keys():
    g = Game(SORT3)
    a = g.play([_id(g, "mov", "rax", 0), _id(g, "mov", "rcx", 1)])
    b = g.play([_id(g, "mov", "rax", 0), _id(g, "mov", "rcx", 2)])
    swapped = g.play([_id(g, "mov", "rax", 0), _id(g, "mov", "rcx", 1), _id(g, "mov", "rdx", "rax"),
                      _id(g, "mov", "rax", "rcx"), _id(g, "mov", "rcx", "rdx")])
    assert a.key != b.key
    # rax and rcx swapped, with a copy left in rdx: not a renaming of `a`
    assert swapped.key != a.key and g.action_map(a, a) is None


NETWORK = [("mov", "rax", 0), ("mov", "rcx", 1), ("mov", "rdx", 2),
           ("cmp", "rax", "rcx"), ("mov", "rsi", "rax"), ("cmov", "rax", "rcx", "g"), ("cmov", "rcx", "rsi", "g"),
           ("cmp", "rcx", "rdx"), ("mov", "rsi", "rcx"), ("cmov", "rcx", "rdx", "g"), ("cmov", "rdx", "rsi", "g"),
           ("cmp", "rax", "rcx"), ("mov", "rsi", "rax"), ("cmov", "rax", "rcx", "g"), ("cmov", "rcx", "rsi", "g"),
           ("mov", 0, "rax"), ("mov", 1, "rcx"), ("mov", 2, "rdx")]


def test_rewards_and_terminal():
    g = Game(SORT3, max_length=18, step_cost=0.01, solved_bonus=1.0)
    actions = [_id(g, *step) for step in NETWORK]
    assert None not in actions and g.is_legal_sequence(actions)
    states = [g.initial()]
    for a in actions:
        states.append(g.step(states[-1], a))
    assert states[0].total_items == 39 and 0 < states[0].correct_items < 39
    for parent, child in zip(states[:-2], states[1:-1]):
        assert g.reward(parent, child) == pytest.approx((child.correct_items - parent.correct_items) / 39 - 0.01)
    assert states[-1].solved and not states[-2].solved and g.is_terminal(states[-1])
    assert g.reward(states[-2], states[-1]) == pytest.approx(
        (39 - states[-2].correct_items) / 39 + 1.0 - 0.01)
    short = Game(SORT3, max_length=4)
    s = short.play(actions[:4])
    assert short.is_terminal(s) and not short.legal_mask(s).any()


def test_features_have_a_fixed_shape_and_mean_ranks():
    g = Game(SORT3)
    s = g.play([_id(g, "mov", "rax", 2)])
    f = g.features(s)
    assert f.shape == (g.num_inputs, g.num_locations) == (13, 4 + 3 + 1)
    ranks = f[:, 4:7]
    assert (f[:, 0] == ranks[:, 2]).all() and (f[:, 1:4] == -1).all() and (f[:, 7] == -1).all()
    s = g.play(s.actions + (_id(g, "mov", "rcx", 0), _id(g, "cmp", "rax", "rcx")))
    flags = g.features(s)[:, 7]
    assert (flags == np.sign(ranks[:, 2] - ranks[:, 0]) + 1).all()
    assert [i.att() for i in g.to_program(s).instrs] == ["movl 8(%rdi), %eax", "movl (%rdi), %ecx", "cmpl %ecx, %eax"]


def test_compared_select_keeps_cmov_to_the_compared_values():
    g = Game(SORT3, pruning=RULES)
    s = g.initial()
    for a in (_id(g, "mov", "rax", 0), _id(g, "mov", "rcx", 1), _id(g, "mov", "rdx", 2),
              _id(g, "cmp", "rax", "rcx"), _id(g, "mov", "rsi", "rax")):
        s = g.step(s, a)
    names = _names(g, s)
    # selects between the compared a0, a1 (also through rsi, a copy of a0) stay legal
    assert {"cmovl %ecx, %eax", "cmovg %esi, %ecx"} <= names
    # a select that mixes in a2, which the cmp did not compare, does not
    assert not {"cmovl %edx, %eax", "cmovg %edx, %esi", "cmovl %eax, %edx"} & names
    free = Game(SORT3)   # sort3's default: every rule but this one
    assert {"cmovl %edx, %eax", "cmovg %edx, %esi"} <= _names(free, free.play(s.actions))
    # what the last cmp compared decides the legal cmovs, so it is part of the key
    locs = s.cpu[0]
    other = g._state(s.actions, s.cpu, s.rules[:4] + ((locs[len(g.registers)], locs[len(g.registers) + 2]),))
    assert other.key != s.key and _names(g, other) != names


def test_compared_select_on_known_kernels():
    from superopt.x86.parser import parse_file

    def actions(game, name):
        ids = [game.action_id(ins) for ins in parse_file("asm/%s.s" % name).instrs if ins.op != "ret"]
        assert None not in ids and game.play(ids).solved
        return ids
    g4 = Game(get_task("sort4"))
    assert "compared_select" in g4.pruning and "compared_select" not in Game(SORT3).pruning
    assert g4.is_legal_sequence(actions(g4, "sort4"))     # the sorting network: compare and select only
    # enum's 17 from before the rule: its last cmov selects min(max(a0, a1), a2), which the
    # last cmp (min(a0, a1) against a2) did not compare
    g3, free = Game(SORT3, pruning=RULES), Game(SORT3)
    assert not g3.is_legal_sequence(actions(g3, "sort3_enum"))
    assert free.is_legal_sequence(actions(free, "sort3_enum"))
