"""The branch game (varsort): masked per-input semantics against Unicorn, its rules, its searches."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import superopt
from superopt.cli import main
from superopt.errors import SuperoptError
from superopt.game.branches import CMPI, JCC, JMP, PLACE, RET, BranchGame
from superopt.run.emulator import Emulator
from superopt.tasks.lengths import describe, parse, with_lengths
from superopt.x86.isa import instruction_count

HAND_21 = """# task: varsort3
\t.text
\t.globl\tvarsort3
varsort3:
\tcmpl $2, %esi
\tjl .Lret
\tmovl 0(%rdi), %eax
\tmovl 4(%rdi), %ecx
\tje .Ltail
\tmovl 8(%rdi), %edx
\tcmpl %edx, %ecx
\tmovl %ecx, %r8d
\tcmovg %edx, %ecx
\tcmovg %r8d, %edx
\tcmpl %edx, %eax
\tmovl %eax, %r8d
\tcmovg %edx, %eax
\tcmovg %r8d, %edx
\tmovl %edx, 8(%rdi)
.Ltail:
\tcmpl %ecx, %eax
\tmovl %eax, %r8d
\tcmovg %ecx, %eax
\tcmovg %r8d, %ecx
\tmovl %eax, 0(%rdi)
\tmovl %ecx, 4(%rdi)
.Lret:
\tret
"""

GAMES = {}


def _game(name: str, **kw) -> BranchGame:
    key = (name, tuple(sorted(kw.items())))
    if key not in GAMES:
        GAMES[key] = BranchGame(name, **kw)
    return GAMES[key]


def _kernel(tmp_path, text: str = HAND_21):
    path = tmp_path / "k.s"
    path.write_text(text)
    return superopt.load(str(path))


def _ids(game, kind, d=None, cond=None):
    return [a for a, op in enumerate(game.ops) if op[0] == kind and (d is None or op[1] == d)
            and (cond is None or op[3] == cond)]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["varsort3", "varsort4"]), st.randoms(use_true_random=False), st.integers(1, 40))
def test_branch_game_agrees_with_unicorn_on_random_branchy_programs(name, rnd, steps):
    """A random walk over legal actions (no pruning), closed by placing the labels still
    pending and a ret; every input's final array must be the one Unicorn computes."""
    game = _game(name, pruning=())
    state = game.initial()
    for _ in range(steps):
        legal = [a for a in game.legal_actions(state) if game.ops[a][0] != RET]
        if not legal:
            break
        state = game.step(state, rnd.choice(legal))
    for j, p in enumerate(state.pending):
        if p is not None:
            state = game.step(state, _ids(game, PLACE, j)[0])
    state = game.step(state, _ids(game, RET)[0])
    assert state.active == 0 and state.done == game.everyone
    program = game.to_program(state)
    emu = Emulator()
    emu.load(program)
    arrays, lengths = game.inputs, game.lengths
    result = emu.run(game.n, tuple(range(game.n + 1)), arrays, lengths, seed=1)
    assert result.stop is None and result.completed == len(arrays), [i.att() for i in program.instrs]
    R = len(game.registers)
    ranks = game.evaluator.ranks(state.cpu)[:, R:]
    for k in range(len(arrays)):
        values = np.unique(arrays[k])
        n = lengths[k]
        assert (values[ranks[k, :n]] == result.outputs[k, :n]).all(), (k, [i.att() for i in program.instrs])


def test_the_hand_21_plays_solved_and_each_action_is_legal(tmp_path):
    game = _game("varsort3")
    actions = game.encode(_kernel(tmp_path))
    assert actions is not None and game.is_legal_sequence(actions)
    state = game.play(actions)
    assert state.solved and instruction_count(game.to_program(state)) == 21
    cmov = max(i for i, a in enumerate(actions) if game.ops[a][0] == 2)   # drop the tail's last cmov
    assert not game.play(actions[:cmov] + actions[cmov + 1:]).solved


def test_no_jump_to_the_next_instruction_and_no_unreachable_code():
    game = _game("varsort3")
    state = game.step(game.initial(), _ids(game, CMPI, 2)[0])
    jl = _ids(game, JCC, 0, "l")[0]
    assert jl in game.legal_actions(state)
    after = game.step(state, jl)
    assert _ids(game, PLACE, 0)[0] not in game.legal_actions(after)     # the label right after its jump
    gone = game.step(state, _ids(game, JMP, 0)[0])                      # every input jumped: only a label
    assert game.legal_actions(gone) == []                               # ... and not the one just jumped to
    # a ret on inputs not yet sorted is refused (n = 2 and 3 remain active after the jl)
    assert _ids(game, RET)[0] not in game.legal_actions(after)


def test_jumps_go_forward_only_and_backward_ones_are_outside_the_space(tmp_path):
    game = _game("varsort3")
    back = "# task: varsort3\n\t.text\n\t.globl\tvarsort3\nvarsort3:\n.Ltop:\n\tcmpl $2, %esi\n\tjl .Ltop\n\tret\n"
    assert game.encode(_kernel(tmp_path, back)) is None
    # a label can only be placed where some input waits: none before any jump
    assert not set(_ids(game, PLACE)) & set(game.legal_actions(game.initial()))


def test_memory_past_the_length_is_never_touched():
    game = _game("varsort3")
    loads = [a for a in range(game.num_actions) if game.load_slot[a] >= 0]
    assert not set(loads) & set(game.legal_actions(game.initial()))   # n = 0 is active
    state = game.step(game.step(game.initial(), _ids(game, CMPI, 2)[0]), _ids(game, JCC, 0, "l")[0])
    legal = set(game.legal_actions(state))
    assert {a for a in loads if game.load_slot[a] < 2} & legal
    assert not {a for a in loads if game.load_slot[a] == 2} & legal   # n = 2 is still active


def test_bad_settings_are_refused():
    with pytest.raises(SuperoptError):
        BranchGame("sort3")
    with pytest.raises(SuperoptError):
        BranchGame("varsort3", pruning=("no_such_rule",))
    with pytest.raises(SuperoptError):
        BranchGame("varsort3", registers=("rax", "rsi", "rcx", "rdx"))


def test_splice_finds_a_proven_21_for_varsort3():
    result = superopt.search("varsort3", time_limit=120, workers=1)
    assert result.verified and result.length <= 21
    verdict = superopt.verify(result.program, "varsort3")
    assert verdict.passed and verdict.proven


def test_unknown_agents_for_variable_sorts_are_refused():
    with pytest.raises(SuperoptError, match="variable sorts"):
        superopt.search("varsort3", agent="rewrite", time_limit=5, workers=1)
    with pytest.raises(SuperoptError, match="variable sorts"):
        superopt.search("sort3", agent="splice", time_limit=5, workers=1)


def test_search_cli_writes_a_verified_varsort3(tmp_path):
    out = tmp_path / "v.s"
    run = CliRunner().invoke(main, ["search", "varsort3", "--out", str(out), "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["instructions"] <= 21
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0


def test_lengths_forms_and_their_draws():
    task = superopt.get_task("varsort3")
    assert parse("uniform", 3) is None
    assert parse("3", 3) == (0.0, 0.0, 0.0, 1.0)
    assert parse("1,1,2,4", 3) == (0.125, 0.125, 0.25, 0.5)
    assert parse("2:1,3:3", 3) == (0.0, 0.0, 0.25, 0.75)
    full = with_lengths(task, "3")
    assert (full.random_inputs(np.random.default_rng(0), 200)[1] == 3).all()
    assert describe(full) == "n = 3 always" and describe(task) == "uniform over n = 0..3"
    mixed = with_lengths(task, "0,0,1,1").random_inputs(np.random.default_rng(0), 400)[1]
    assert set(mixed) == {2, 3}


@pytest.mark.parametrize("text", ["7", "-1", "1,2", "x", "0:0", "1,1,-1,1", "4:1", "nan,1,1,1"])
def test_bad_lengths_are_refused(text):
    with pytest.raises(SuperoptError):
        parse(text, 3)


@pytest.mark.parametrize("command", [["bench", "asm/varsort3.s", "--runs", "1", "--lengths", "9"],
                                     ["bench", "asm/sort3.s", "--runs", "1", "--lengths", "2"],
                                     ["search", "varsort3", "--lengths", "1,2"]])
def test_bad_lengths_exit_2_with_one_line(command, tmp_path):
    run = CliRunner().invoke(main, command + (["--out", str(tmp_path / "x.s")] if command[0] == "search" else []))
    assert run.exit_code == 2
    assert len(run.output.strip().splitlines()) == 1 and "--lengths" in run.output


def test_stochastic_chain_keeps_a_correct_varsort3_from_the_human_kernel():
    result = superopt.search("varsort3", agent="stochastic", init="asm/varsort3.s", steps=3000, workers=1)
    assert result.verified and result.length <= 30


def test_stochastic_chain_refuses_a_start_outside_the_game(tmp_path):
    back = "# task: varsort3\n\t.text\n\t.globl\tvarsort3\nvarsort3:\n.Ltop:\n\tcmpl $2, %esi\n\tjl .Ltop\n\tret\n"
    path = tmp_path / "b.s"
    path.write_text(back)
    with pytest.raises(SuperoptError):
        superopt.search("varsort3", agent="stochastic", init=str(path), steps=10, workers=1)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_networks_sort_every_permutation(n):
    import itertools
    from superopt.agents.splice import networks
    nets = list(itertools.islice(networks(n, 0, lambda: False), 12))
    assert nets and min(map(len, nets)) == {3: 3, 4: 5, 5: 9}[n]
    for net in nets:
        assert all(_apply(net, p) == sorted(p) for p in itertools.permutations(range(n))), net
    broken = nets[0][:-1]   # one comparator short: some permutation stays unsorted
    assert any(_apply(broken, p) != sorted(p) for p in itertools.permutations(range(n)))


def _apply(net, perm):
    a = list(perm)
    for i, j in net:
        if a[i] > a[j]:
            a[i], a[j] = a[j], a[i]
    return a
