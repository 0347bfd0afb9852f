"""Latency sources for the AlphaDev agent: native measurement after verification, the cost model,
and how the agent turns them into terminal rewards and latency-head targets."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import superopt
from superopt.agents.alphadev.actor import Actor
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.learner import ReplayBuffer
from superopt.agents.alphadev.network import NetworkEvaluator, new_network
from superopt.agents.alphadev.selfplay import SelfPlay
from superopt.agents.alphadev.shaping import POTENTIALS
from superopt.measure import timing
from superopt.cli import main
from superopt.errors import SuperoptError
from superopt.game.game import Game
from superopt.x86.isa import Program
from superopt.measure.latency import ModelLatency, NativeLatency, cost_model, latency_source
from superopt.agents.alphadev.mcts import MCTSConfig
from superopt.agents.alphadev.network import NetConfig
from superopt.x86.parser import parse_file
from superopt.tasks.registry import get_task

TINY = NetConfig(embed=16, layers=1, heads=2, hidden=32)


def network_body(path="asm/sort3.s") -> Program:
    """The kernel as the game writes it: no ret."""
    return Program([i for i in parse_file(path).instrs if i.op != "ret"], task="sort3")


def test_native_latency_is_measured_once_per_program():
    source = NativeLatency(get_task("sort3"), runs=5, inputs_per_run=500)
    first = source(network_body())
    assert np.isfinite(first) and first >= 0.0
    assert source(network_body()) == first and source.measured == 1  # cached by machine code
    source(network_body("asm/sort3_enum.s"))
    assert source.measured == 2
    info = source.describe()
    assert info["source"] == "native" and info["programs_measured"] == 2
    assert info["counter"] in ("perf", "tsc") and info["counter_reason"]


def test_native_latency_never_runs_a_wrong_program(monkeypatch):
    def no_native_run(*args, **kwargs):
        raise AssertionError("a wrong program reached the native harness")
    monkeypatch.setattr(timing, "time_kernels", no_native_run)
    source = NativeLatency(get_task("sort3"))
    wrong = Program(network_body().instrs[:-1], task="sort3")  # last store missing
    with pytest.raises(SuperoptError, match="fails Unicorn verification"):
        source(wrong)
    assert source.measured == 0 and not source.cache


def test_model_source_is_the_cost_model():
    program = network_body()
    assert ModelLatency(get_task("sort3"))(program) == cost_model(program.instrs)
    with pytest.raises(SuperoptError, match="unknown latency source 'bogus'"):
        latency_source("bogus", get_task("sort3"))


class Recorded:
    """A latency source that returns a fixed figure and records what it was asked."""
    name = "recorded"

    def __init__(self, cycles: float):
        self.cycles, self.asked, self.measured = cycles, [], 0

    def __call__(self, program):
        self.asked.append(tuple(i.att() for i in program.instrs))
        return self.cycles


def test_latency_reward_and_target_come_from_the_source():
    game = Game(get_task("sort3"), max_length=24)
    net = new_network(game, TINY)
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=4), games_in_parallel=1)
    source = Recorded(7.5)
    actor = Actor(game, NetworkEvaluator(net, game), config, seed=0, latency_weight=0.01, latency=source)
    actions = tuple(game.action_id(i) for i in network_body().instrs)
    traj = actor.replay(actions)
    assert traj.solved and traj.latency_reward == pytest.approx(-0.01 * 7.5)
    assert source.asked[-1] == tuple(i.att() for i in network_body().instrs)
    buffer = ReplayBuffer(100)
    buffer.add(traj)
    batch = buffer.sample(8, np.random.default_rng(0), net.config.max_length)
    assert np.allclose(batch["latency"].numpy(), -0.075)  # the latency head's Monte Carlo target
    # the same measured figure is the terminal reward inside the search tree
    state = game.initial()
    for a in actions[:-1]:
        state = game.step(state, a)
    solved = game.step(state, actions[-1])
    reward = actor._reward(state, solved)
    assert reward == pytest.approx(game.reward(state, solved) - 0.075
                                   + config.shaping * (1.0 - POTENTIALS[config.potential](game, state)))


@pytest.mark.slow
def test_selfplay_measures_natively_by_default():
    game = Game(get_task("sort3"), max_length=24)
    net = new_network(game, TINY)
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=4), games_in_parallel=1)
    selfplay = SelfPlay(game, net, config)
    assert isinstance(selfplay.latency, NativeLatency)
    actions = tuple(game.action_id(i) for i in network_body().instrs)
    actor = Actor(game, NetworkEvaluator(net, game), config, seed=0, latency_weight=0.01,
                           latency=selfplay.latency)
    traj = actor.replay(actions)
    assert selfplay.latency.measured == 1
    assert traj.latency_reward == pytest.approx(-0.01 * selfplay.latency(network_body()))
    assert selfplay.latency.measured == 1  # that figure came from the cache


@pytest.mark.slow
def test_search_reports_its_latency_source(tmp_path):
    args = ["search", "sort3", "--target-length", "18", "--workers", "1", "--json",
            "--out", str(tmp_path / "s.s")]
    result = CliRunner().invoke(main, args + ["--param", "latency=model"])
    assert result.exit_code == 0, result.output
    extras = json.loads(result.output)["extras"]
    assert extras["latency_source"] == "model" and extras["latency_programs_measured"] == 0
    result = CliRunner().invoke(main, args)
    extras = json.loads(result.output)["extras"]
    assert extras["latency_source"] == "native" and extras["latency_programs_measured"] >= 1


def test_unknown_latency_source_is_bad_usage(tmp_path):
    result = CliRunner().invoke(main, ["search", "sort3", "--param", "latency=bogus", "--out", str(tmp_path / "s.s")])
    assert result.exit_code == 2 and "--param latency wants one of native, model" in result.output
    result = CliRunner().invoke(main, ["train", "sort3", "--latency", "bogus"])
    assert result.exit_code == 2


def test_native_latency_times_a_branch_kernel_whose_guarded_read_verify_cannot_prove(tmp_path):
    from test_branches import HAND_21   # its last store moved past .Lret, behind a length test
    path = tmp_path / "guarded.s"
    path.write_text(HAND_21.replace("\tmovl %ecx, 4(%rdi)\n.Lret:\n",
                                    ".Lret:\n\tcmpl $2, %esi\n\tjl .Lend\n\tmovl %ecx, 4(%rdi)\n.Lend:\n"))
    program = superopt.load(str(path))
    verdict = superopt.verify(program, "varsort3")
    assert verdict.passed and not verdict.proof and "may read %rcx" in verdict.proof_reason
    assert NativeLatency(get_task("varsort3"), runs=2, inputs_per_run=100)(program) >= 0.0
