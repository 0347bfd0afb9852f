"""The AlphaDev agent on the branch game (varsort): its game agrees with the branch game, ends
where every array is sorted, shows the masks, detects dead states; search and train run."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import superopt
from superopt.agents.alphadev.actor import Actor, build_game, game_spec
from superopt.agents.alphadev.agent import playable
from superopt.agents.alphadev.checkpoint import load_checkpoint, shipped_checkpoint
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.demos import demo_actions
from superopt.agents.alphadev.mcts import MCTSConfig
from superopt.agents.alphadev.network import NetConfig, NetworkEvaluator, new_network
from superopt.agents.alphadev.selfplay import SelfPlay
from superopt.agents.alphadev.shaping import dead
from superopt.agents.base import SearchOptions
from superopt.cli import main
from superopt.driver import run_search, search_game
from superopt.errors import SuperoptError
from superopt.game.branches import PLACE, BranchGame
from superopt.x86.isa import instruction_count
from test_branches import HAND_21

TINY = NetConfig(embed=16, layers=1, heads=2, hidden=32)


@pytest.fixture(scope="module")
def play():
    return playable(search_game("varsort3"))


def _write(tmp_path):
    path = tmp_path / "h.s"
    path.write_text(HAND_21)
    return path


def _load(tmp_path):
    return superopt.load(str(_write(tmp_path)))


def _hand(play, tmp_path):
    return play.encode(_load(tmp_path))


def _move(play, text):
    return next(a for a, x in enumerate(play.actions) if (x.att() if hasattr(x, "att") else x.name + ":") == text)


def test_the_agents_games_are_legal_branch_games_with_the_same_states(play):
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=8, leaves_per_tree=4), games_in_parallel=2,
                         latency="model")
    actor = Actor(play, NetworkEvaluator(new_network(play, TINY), play), config, 0, 0.0)
    finished = []
    while len(finished) < 2:
        finished += actor.play_round()
    base = BranchGame("varsort3")
    for t in finished:
        assert base.is_legal_sequence(t.actions), t.actions
        mine, theirs = play.play(t.actions), base.play(t.actions)
        assert (mine.cpu, mine.active, mine.pending, mine.done) == (theirs.cpu, theirs.active, theirs.pending,
                                                                    theirs.done)
        assert len(t.policies) == len(t.features) == len(t.rewards)
        assert all(f.shape == (base.num_inputs, len(base.registers) + base.n + 3) for f in t.features)


def test_a_game_ends_at_the_store_that_sorts_every_array_and_its_program_is_proven(play, tmp_path):
    actions = _hand(play, tmp_path)
    states = [play.initial()]
    for a in actions:
        states.append(play.step(states[-1], a))
    first = next(k for k, s in enumerate(states) if s.solved)
    assert play.actions[actions[first - 1]].op == "mov" and first == len(actions) - 2   # then .Lret, ret
    assert play.is_terminal(states[first]) and not play.legal_mask(states[first]).any()
    program = play.to_program(actions[:first])   # closed by the pending label and a ret
    assert program.instrs[-1].op == "ret" and instruction_count(program) == play.length(actions[:first]) == 21
    verdict = superopt.verify(program, "varsort3")
    assert verdict.passed and verdict.proven
    assert demo_actions(play, _load(tmp_path)) == tuple(actions[:first])
    # the rewards: correct items gained, the bonus once, a step cost per action (labels too)
    total = sum(play.reward(s, t) for s, t in zip(states[:first], states[1:first + 1]))
    gain = (states[first].correct_items - states[0].correct_items) / states[0].total_items
    assert total == pytest.approx(gain + 1.0 - 0.01 * first)


def test_features_show_lengths_flags_and_where_each_input_waits(play):
    s = play.step(play.step(play.initial(), _move(play, "cmpl $2, %esi")), _move(play, "jl .L0"))
    f = play.features(s)
    R, n = len(play.registers), play.n
    lengths = np.asarray(play.lengths)
    assert f.shape == (play.num_inputs, R + n + 3)
    assert (f[:, R + n + 1] == lengths).all()
    assert (f[:, R + n + 2] == np.where(lengths < 2, 2, 0)).all()       # waiting at .L0 (2 + 0), else active
    assert (f[:, R + n] == np.where(lengths < 2, 0, np.where(lengths == 2, 1, 2))).all()   # cmp $2 per input
    assert (f[:, :R] == -1).all()                                          # no register written yet


def test_dead_when_inputs_that_must_part_can_no_longer_jump():
    one = playable(BranchGame("varsort3", labels=1))
    s = one.initial()
    for text in ("cmpl $1, %esi", "jl .L0", "movl (%rdi), %eax"):
        s = one.step(s, _move(one, text))
    assert not dead(one, s)          # n = 0 waits at .L0, the others may still sort
    s = one.step(s, _move(one, ".L0:"))
    assert dead(one, s)              # n = 0 rejoins with no label left: slot 1 can never be stored


def test_worker_processes_rebuild_the_same_game(play):
    twin = build_game(game_spec(play))
    assert twin.spec() == play.spec() and twin.actions == play.actions and twin.kind == "branch"


@pytest.mark.slow
def test_a_search_from_part_way_along_a_demonstration_finds_proven_programs(play, tmp_path):
    # every game starts part-way along the hand kernel (restart 1.0); the untrained agent's
    # searches finish it, and the programs they find are proven in Unicorn
    torch.manual_seed(0)
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=64), games_in_parallel=4, latency="model",
                         restart=1.0)
    selfplay = SelfPlay(play, new_network(play, TINY), config, latency_weight=0.0,
                        demos=(tuple(demo_actions(play, _load(tmp_path))),))
    progress = selfplay.run(should_stop=lambda: selfplay.progress.best_length is not None or
                            selfplay.progress.games >= 64)
    assert progress.best_length is not None and progress.best_length <= 30
    verdict = superopt.verify(play.to_program(progress.best_actions), "varsort3")
    assert verdict.passed and verdict.proven


def test_the_found_21_with_two_registers_swapped_is_a_demonstration(play):
    # asm/varsort3_found.s takes %r8d while %edx is free (register_order); asm/varsort3_demo.s swaps them
    with pytest.raises(SuperoptError, match="register_order"):
        demo_actions(play, superopt.load("asm/varsort3_found.s"))
    actions = demo_actions(play, superopt.load("asm/varsort3_demo.s"))
    assert len(actions) == 22 and play.length(actions) == 21 and play.play(actions).solved   # one move places .L1


def test_a_tiny_search_from_a_kernel_file_bound_returns_it_verified(tmp_path):
    options = SearchOptions(workers=1, steps=1, params={"from_scratch": True, "latency": "model", "simulations": 8,
                                                        "init_bound": str(_write(tmp_path)), "batch_size": 8})
    result = run_search(search_game("varsort3"), "alphadev", options)
    assert result.verified and result.length <= 21 and result.extras["init_bound"]["length"] == 21


def test_init_bound_on_variable_sorts_takes_a_file():
    with pytest.raises(SuperoptError, match="init_bound on varsort3 takes a kernel file"):
        superopt.search("varsort3", agent="alphadev", workers=1, params={"init_bound": "beam"})


def test_train_runs_a_few_steps_on_varsort3(tmp_path):
    out = tmp_path / "v.pt"
    run = CliRunner().invoke(main, ["train", "varsort3", "--steps", "2", "--out", str(out), "--simulations", "8",
                                    "--games", "2", "--latency", "model", "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["steps"] == 2 and out.exists()
    again = CliRunner().invoke(main, ["search", "varsort3", "--agent", "alphadev", "--model", str(out), "--steps", "1",
                                      "--workers", "1", "--param", "latency=model", "--param", "simulations=8",
                                      "--json", "--out", str(tmp_path / "v.s")])
    assert again.exit_code in (0, 1), again.output
    assert json.loads(again.output)["extras"]["network"] == str(out)


def test_label_placements_are_actions_of_the_network():
    game = BranchGame("varsort3")
    places = [a for a, op in enumerate(game.ops) if op[0] == PLACE]
    assert [game.actions[a].name for a in places] == [".L0", ".L1", ".L2"]


def test_the_shipped_varsort3_checkpoint_loads_and_learnt_the_renamed_21(play):
    data = load_checkpoint(shipped_checkpoint("varsort3", "alphadev"), play)[1]
    assert data["task"] == "varsort3" and len(data["actions"]) == play.num_actions
    assert data["extra"]["demos"] == ["asm/varsort3_demo.s"] and data["extra"]["demo_lengths"] == [22]
    assert data["extra"]["steps"] > 0 and data["extra"]["potential"] == "lookahead"
