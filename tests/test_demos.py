"""Demonstrations (`superopt train --demos`): known correct programs as expert games."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from superopt.agents.alphadev.actor import Actor
from superopt.agents.alphadev.agent import horizon
from superopt.agents.alphadev.checkpoint import load_checkpoint, shipped_checkpoint
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.demos import demo_actions
from superopt.agents.alphadev.learner import ReplayBuffer
from superopt.agents.alphadev.mcts import MCTSConfig
from superopt.agents.alphadev.network import NetConfig, new_network
from superopt.agents.alphadev.selfplay import SelfPlay
from superopt.cli import main
from superopt.errors import InputError
from superopt.game.canonical import canonical
from superopt.game.game import Game
from superopt.tasks.registry import get_task
from superopt.x86.parser import parse_file

# loads all three, stores the first two swapped: a legal game that does not sort
UNSORTED = ("movl (%rdi), %eax\n\tmovl 4(%rdi), %ecx\n\tmovl 8(%rdi), %edx\n\tmovl %ecx, (%rdi)\n"
            "\tmovl %eax, 4(%rdi)\n")
TINY = NetConfig(embed=16, layers=1, heads=2, hidden=32)


@pytest.fixture(scope="module")
def game():
    return Game(get_task("sort3"), max_length=24)


def test_a_demonstration_plays_as_a_correct_game(game):
    actions = demo_actions(game, parse_file("asm/sort3_enum.s"))
    assert len(actions) == 17 and game.play(actions).solved


@pytest.mark.parametrize("body, reason", [
    (UNSORTED, "does not solve sort3"),
    ("movl (%rdi), %eax\n\taddl %eax, %eax\n", "not in the alphadev action space"),
    ("movl 4(%rdi), %eax\n\tmovl (%rdi), %ecx\n", "rules"),   # memory_order: loads in slot order
])
def test_a_program_the_game_cannot_play_is_refused_with_its_line(game, tmp_path, body, reason):
    path = tmp_path / "bad.s"
    path.write_text("# task: sort3\nsort3:\n\t" + body)
    with pytest.raises(InputError, match=reason) as err:
        demo_actions(game, parse_file(str(path)))
    assert str(path) in str(err.value)


# asm/sort3_enum.s with its loads permuted (slots 2, 0, 1), its registers renamed outside the
# game's four, and its first copy (of slot 2's value) written as a reload of slot 2
SCRAMBLED = """movl 8(%rdi), %r11d
movl (%rdi), %r8d
movl 4(%rdi), %r10d
cmpl %r8d, %r11d
movl 8(%rdi), %r9d
cmovl %r8d, %r11d
cmovl %r9d, %r8d
cmpl %r10d, %r11d
movl %r11d, %r9d
cmovl %r10d, %r11d
movl %r11d, 8(%rdi)
cmovg %r10d, %r9d
cmpl %r10d, %r8d
cmovl %r8d, %r10d
movl %r10d, (%rdi)
cmovl %r9d, %r8d
movl %r8d, 4(%rdi)
"""


def test_a_kernel_breaking_the_canonical_rules_plays_in_its_canonical_form(game, tmp_path):
    path = tmp_path / "scrambled.s"
    path.write_text("# task: sort3\nsort3:\n" + SCRAMBLED)
    assert game.action_id(parse_file(str(path)).instrs[0]) is None   # as written, not even in the action space
    expected = [ins for ins in parse_file("asm/sort3_enum.s").instrs if ins.op != "ret"]
    assert canonical(parse_file(str(path)), game.registers).instrs == expected
    assert demo_actions(game, parse_file(str(path))) == demo_actions(game, parse_file("asm/sort3_enum.s"))


def test_canonical_form_refuses_a_load_after_a_store(game):
    stored = parse_file("asm/sort3_enum.s")
    stored.instrs.insert(12, parse_file("asm/sort3_enum.s").instrs[0])   # reload slot 0 after the first store
    assert canonical(stored, game.registers) is None


def _demo_batch(game, config, demo, net):
    """The demonstration's game as the learner sees it, as one fixed batch."""
    shown = ReplayBuffer(100)
    shown.add(Actor(game, None, config, 0, config.latency_weight).replay(demo))
    return shown.sample(len(demo), np.random.default_rng(0), net.config.max_length)


@pytest.mark.parametrize("with_demo", [True, False])
def test_training_with_a_demonstration_moves_the_policy_toward_its_moves(game, with_demo):
    """With the demonstration the policy loss on its moves falls below half; the same run
    without it (and without self-imitation) leaves it above: the demonstrations do it."""
    torch.manual_seed(0)
    demo = demo_actions(game, parse_file("asm/sort3_enum.s"))
    config = AgentConfig(mcts=MCTSConfig(simulations=8), games_in_parallel=2, batch_size=32, demo_share=0.5,
                         latency="model", learning_rate=3e-3, imitate=False)
    selfplay = SelfPlay(game, new_network(game, TINY), config, seed=0, demos=[demo] if with_demo else [])
    batch = _demo_batch(game, config, demo, selfplay.net)

    def policy_loss() -> float:
        with torch.no_grad():
            return float(selfplay.learner.losses(batch)["policy"])

    before = policy_loss()
    selfplay.run(max_steps=60)
    assert selfplay.learner.steps == 60 and len(selfplay.demo_buffer) == (len(demo) if with_demo else 0)
    assert (policy_loss() < 0.5 * before) == with_demo


def test_train_cli_records_its_demonstrations(tmp_path):
    out = tmp_path / "d.pt"
    args = ["train", "sort3", "--steps", "2", "--out", str(out), "--simulations", "8", "--games", "4", "--json",
            "--latency", "model", "--demos", "asm/sort3_enum.s", "--demos", "asm/sort3.s", "--demo-steps", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    extra = torch.load(out, weights_only=True)["extra"]
    assert extra["demos"] == ["asm/sort3_enum.s", "asm/sort3.s"] and extra["demo_lengths"] == [17, 18]
    assert extra["restart"] == 0.25 and extra["demo_share"] == 0.25 and extra["demo_steps"] == 1
    assert json.loads(result.output)["steps"] == 2


@pytest.mark.parametrize("body, reason", [
    (None, "no such file"),
    (UNSORTED, "does not solve sort3"),
    ("movl (%rdi), %eax\n\tfoo %eax\n", "foo"),
])
def test_train_cli_bad_demonstration_is_one_line_exit_2(tmp_path, body, reason):
    path = tmp_path / "bad.s"
    if body is not None:
        path.write_text("# task: sort3\nsort3:\n\t" + body)
    result = CliRunner().invoke(main, ["train", "sort3", "--steps", "1", "--out", str(tmp_path / "x.pt"),
                                       "--demos", str(path)])
    assert result.exit_code == 2, result.output
    assert reason in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output and not (tmp_path / "x.pt").exists()


def test_studying_the_demonstrations_alone_fits_their_moves(game):
    torch.manual_seed(0)
    demo = demo_actions(game, parse_file("asm/sort3_enum.s"))
    config = AgentConfig(batch_size=32, latency="model", learning_rate=3e-3)
    selfplay = SelfPlay(game, new_network(game, TINY), config, seed=0, demos=[demo])
    batch = _demo_batch(game, config, demo, selfplay.net)
    with torch.no_grad():
        before = float(selfplay.learner.losses(batch)["policy"])
    selfplay.study(80)
    assert selfplay.progress.steps == 80 and selfplay.progress.games == 0   # no self-play game was played
    with torch.no_grad():
        assert float(selfplay.learner.losses(batch)["policy"]) < 0.5 * before


@pytest.mark.parametrize("task", ["sort3", "sort4", "sort5"])
def test_the_shipped_checkpoint_loads_and_matches_the_game(task):
    game = Game(get_task(task), max_length=horizon(Game(get_task(task))))
    path = shipped_checkpoint(task, "alphadev")
    assert path is not None
    net, data = load_checkpoint(path, game)
    assert data["task"] == task and len(data["actions"]) == game.num_actions
    assert data["extra"]["steps"] > 0 and data["extra"]["potential"] == "lookahead"
    if task != "sort3":   # trained from demonstrations, each an optimal-length kernel the game plays
        assert data["extra"]["demo_lengths"] == [{"sort4": 28, "sort5": 42}[task]] * len(data["extra"]["demos"])
