"""The AlphaDev agent on the real assembly game: rewards, learner, checkpoints, CLI, search."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from superopt.agents.alphadev.actor import Actor, game_spec
from superopt.agents.alphadev.agent import agent_config, default_simulations
from superopt.agents.alphadev.checkpoint import load_checkpoint, save_checkpoint, shipped_checkpoint, trained_potential
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.learner import Learner, ReplayBuffer, Trajectory
from superopt.agents.alphadev.network import NetworkEvaluator, new_network
from superopt.agents.alphadev.selfplay import SelfPlay
from superopt.agents.alphadev.shaping import cmov_placeable, dead, exchange_placeable, lookahead, placeable
from superopt.agents.alphadev import agent as alphadev_agent, selfplay as alphadev_selfplay
from superopt.cli import main
from superopt.errors import SuperoptError
from superopt.game.game import Game
from superopt.measure.latency import cost_model
from superopt.agents.alphadev.mcts import MCTSConfig, uniform_evaluator
from superopt.agents.alphadev.network import NetConfig
from superopt.agents.alphadev.params import AlphaDevParams
from superopt.x86.parser import parse_file
from superopt.agents.base import SearchOptions
from superopt.driver import run_search
from superopt.tasks.registry import get_task

TINY = NetConfig(embed=16, layers=1, heads=2, hidden=32)


@pytest.fixture(scope="module")
def game():
    return Game(get_task("sort3"), max_length=24)


def human_actions(game, path="asm/sort3.s"):
    return [game.action_id(i) for i in parse_file(path).instrs if i.op != "ret"]


def test_potential_and_dead_states_along_the_human_kernel(game):
    state = game.initial()
    for a in human_actions(game):
        before = placeable(game, state)
        state = game.step(state, a)
        assert not dead(game, state)
        assert placeable(game, state) >= before - 1e-9  # a sorting network never loses a value
    assert state.solved and placeable(game, state) == 1.0


def test_storing_a_wrong_value_is_dead(game):
    load0, load1 = human_actions(game)[:2]
    state = game.step(game.step(game.initial(), load0), load1)
    store_second_into_first = next(a for a, ins in enumerate(game.actions)
                                   if ins.att() == "movl %ecx, (%rdi)")
    assert dead(game, game.step(state, store_second_into_first))


def test_skipping_a_slot_loses_its_value(game):
    load0 = human_actions(game)[0]
    load2 = next(a for a, ins in enumerate(game.actions) if ins.att() == "movl 8(%rdi), %ecx")
    # slot 1 can no longer be loaded (memory order) yet must move on some inputs
    assert dead(game, game.step(game.step(game.initial(), load0), load2))


def test_extended_set_can_still_read_a_skipped_slot():
    ext = Game(get_task("sort3"), isa="extended")
    load0 = next(a for a, ins in enumerate(ext.actions) if ins.att() == "movl (%rdi), %eax")
    load2 = next(a for a, ins in enumerate(ext.actions) if ins.att() == "movl 8(%rdi), %ecx")
    assert not dead(ext, ext.step(ext.step(ext.initial(), load0), load2))  # cmov can read 4(%rdi)


def test_cost_model_follows_dependencies(game):
    program = [game.actions[a] for a in human_actions(game)]
    total = cost_model(program)
    assert 8 < total < len(program) * 5
    # an independent load does not lengthen the chain; appending a dependent op does
    assert cost_model(program[:3]) == 5 + 1
    assert cost_model(program[:4]) == cost_model(program[:3]) + 1


def sample_batch(game, net, size=32):
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=8), games_in_parallel=4)
    actor = Actor(game, NetworkEvaluator(net, game), config, seed=0, latency_weight=0.002)
    buffer = ReplayBuffer(10_000)
    while len(buffer) < size:
        for t in actor.play_round():
            buffer.add(t)
    return buffer.sample(size, np.random.default_rng(0), net.config.max_length)


@pytest.mark.slow
def test_learner_reduces_loss_on_fixed_batch(game):
    torch.manual_seed(0)
    net = new_network(game, TINY)
    batch = sample_batch(game, net)
    learner = Learner(net, AgentConfig(learning_rate=3e-3))
    target = batch["policy"]
    floor = float(-(target * torch.log(target.clamp(min=1e-12))).sum(-1).mean())  # entropy of the targets
    with torch.no_grad():
        first = float(learner.losses(batch)["loss"]) - floor
    for _ in range(30):
        learner.step(batch)
    with torch.no_grad():
        assert float(learner.losses(batch)["loss"]) - floor < 0.5 * first


def test_trajectory_targets_are_returns():
    t = Trajectory([(), (1,)], [None, None], [None, None], [None, None], [0.5, -0.25], -0.1, True, (1, 2))
    correctness, latency = t.targets()
    assert correctness.tolist() == [0.25, -0.25]
    assert latency.tolist() == [-0.1, -0.1]


def test_trajectory_targets_average_returns_with_searched_values():
    t = Trajectory([(), (1,)], [None, None], [None, None], [None, None], [0.5, -0.25], -0.1, True, (1, 2),
                            searched=[0.65, 0.1])
    correctness, latency = t.targets()
    # the searched values include the latency reward (-0.1); the correctness head's part excludes it
    assert np.allclose(correctness, [(0.25 + 0.75) / 2, (-0.25 + 0.2) / 2])
    assert latency.tolist() == [-0.1, -0.1]


def test_self_play_games_carry_one_searched_value_per_move(game):
    torch.manual_seed(0)
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=8, leaves_per_tree=4), games_in_parallel=2, imitate=False)
    actor = Actor(game, NetworkEvaluator(new_network(game, TINY), game), config, 0, 0.0)
    finished = []
    while not finished:
        finished = actor.play_round()
    for t in finished:
        assert len(t.searched) == len(t.rewards) and all(np.isfinite(t.searched))
    off = Actor(game, NetworkEvaluator(new_network(game, TINY), game),
                         replace(config, search_values=False), 0, 0.0)
    finished = []
    while not finished:
        finished = off.play_round()
    assert all(t.searched == [] for t in finished)


def test_checkpoint_round_trip(game, tmp_path):
    torch.manual_seed(1)
    net = new_network(game, TINY)
    path = tmp_path / "c.pt"
    save_checkpoint(path, net, game, Learner(net, AgentConfig()), extra={"games": 3})
    loaded, data = load_checkpoint(path, game)
    state = game.step(game.initial(), human_actions(game)[0])
    legal = game.legal_mask(state)[None]
    a = NetworkEvaluator(net, game)([state], legal)
    b = NetworkEvaluator(loaded, game)([state], legal)
    assert np.allclose(a[0], b[0]) and np.allclose(a[1], b[1])
    assert data["extra"]["games"] == 3 and "optimizer" in data


def test_checkpoint_errors(game, tmp_path):
    net = new_network(game, TINY)
    path = tmp_path / "c.pt"
    save_checkpoint(path, net, game)
    with pytest.raises(SuperoptError, match="trained for task sort3"):
        load_checkpoint(path, Game(get_task("sort4")))
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(SuperoptError, match="not a superopt checkpoint"):
        load_checkpoint(junk, game)
    with pytest.raises(SuperoptError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt", game)


def test_selfplay_stops_and_reports(game):
    net = new_network(game, TINY)
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=8), games_in_parallel=2, batch_size=16)
    seen = []
    progress = SelfPlay(game, net, config).run(max_steps=3, report=seen.append)
    assert progress.steps == 3 and progress.games > 0 and progress.explored > 0
    assert seen and seen[-1].steps == 3


@pytest.mark.slow
def test_train_cli_writes_and_resumes(tmp_path):
    out = tmp_path / "t.pt"
    args = ["train", "sort3", "--steps", "2", "--out", str(out), "--simulations", "8", "--games", "4", "--json"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["steps"] == 2 and out.exists()
    again = CliRunner().invoke(main, args[:3] + ["4"] + args[4:] + ["--resume"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["steps"] == 4
    assert torch.load(out, weights_only=True)["extra"]["potential"] == "lookahead"
    lines = (tmp_path / "t.pt.jsonl").read_text().splitlines()
    assert all("steps" in json.loads(line) for line in lines)


def test_train_cli_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["train", "sort99", "--steps", "1"])
    assert result.exit_code == 2 and "unknown task" in result.output
    result = CliRunner().invoke(main, ["train", "sort3", "--steps", "1", "--resume", "--out", str(tmp_path / "none.pt")])
    assert result.exit_code == 2 and "no such checkpoint" in result.output


@pytest.mark.slow
def test_search_agent_from_the_shipped_checkpoint_finds_sort3():
    game = Game(get_task("sort3"))
    # patience 0: the first correct program ends the search (no time limit to race)
    options = SearchOptions(workers=1, params={"patience": 0.0})
    result = run_search(game, "alphadev", options)
    assert result.program is not None and result.verified
    assert result.length <= 18
    assert result.extras["network"].startswith("shipped")
    # the search shapes rewards with the potential the shipped network was trained with
    shipped = load_checkpoint(shipped_checkpoint("sort3", "alphadev"), game)[1]
    assert result.extras["potential"] == trained_potential(shipped)


@pytest.mark.slow
def test_search_cli_model_and_from_scratch(tmp_path):
    game = Game(get_task("sort3"))
    path = tmp_path / "m.pt"
    save_checkpoint(path, new_network(game, TINY), game)
    out = tmp_path / "s.s"
    args = ["search", "sort3", "--agent", "alphadev", "--time-limit", "2", "--workers", "1", "--json", "--out", str(out)]
    result = CliRunner().invoke(main, args + ["--model", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["extras"]["network"] == str(path)
    result = CliRunner().invoke(main, args + ["--from-scratch"])
    extras = json.loads(result.output)["extras"]
    assert extras["network"] == "from scratch" and extras["potential"] == "lookahead"
    result = CliRunner().invoke(main, args + ["--from-scratch", "--param", "potential=placeable"])
    assert json.loads(result.output)["extras"]["potential"] == "placeable"
    result = CliRunner().invoke(main, args + ["--model", str(tmp_path / "missing.pt")])
    assert result.exit_code == 2 and "no such checkpoint" in result.output


def test_lookahead_potential_rises_with_every_cmp_and_cmov_of_sort4():
    # placeable stays flat over sort4's second comparator; the lookahead potential rises at
    # every cmp and cmov of the network (only the copies are flat), and reaches 1 when solved
    g4 = Game(get_task("sort4"))
    actions = human_actions(g4, "asm/sort4.s")
    state = g4.initial()
    for a in actions[:4]:
        state = g4.step(state, a)
    flat_placeable = 0
    for c in range(5):
        start = placeable(g4, state)
        for a in actions[4 + 4 * c: 8 + 4 * c]:
            before, state = lookahead(g4, state), g4.step(state, a)
            assert exchange_placeable(g4, state) >= placeable(g4, state)
            assert cmov_placeable(g4, state) >= placeable(g4, state)
            if g4.actions[a].op == "mov":
                assert lookahead(g4, state) == before
            else:
                assert lookahead(g4, state) > before
        flat_placeable += placeable(g4, state) == start
    assert flat_placeable == 1
    for a in actions[24:]:
        state = g4.step(state, a)
    assert state.solved and lookahead(g4, state) == 1.0


def test_unknown_potential_is_bad_usage(tmp_path):
    result = CliRunner().invoke(main, ["search", "sort3", "--param", "potential=bogus", "--out", str(tmp_path / "s.s")])
    assert result.exit_code == 2 and "--param potential wants one of placeable, lookahead, got 'bogus'" in result.output


@pytest.mark.slow
def test_a_dead_selfplay_worker_ends_the_run_with_a_clear_error(game, monkeypatch):
    # the worker builds its game from this spec; an unknown task makes it die at start
    spec = game_spec(game)
    monkeypatch.setattr(alphadev_selfplay, "game_spec", lambda g: dict(spec, task="no-such-task"))
    net = new_network(game, TINY)
    config = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=4), games_in_parallel=1, workers=2)
    progress = SelfPlay(game, net, config).run()  # no limit: only the failure ends it
    assert progress.failure and "of 2 failed: UnknownTask: unknown task 'no-such-task'" in progress.failure


def tiny_actor(game, **config):
    cfg = AgentConfig(net=TINY, mcts=MCTSConfig(simulations=4), games_in_parallel=2, latency="model", **config)
    return Actor(game, NetworkEvaluator(new_network(game, TINY), game), cfg, 0, cfg.latency_weight)


def test_games_end_where_the_lower_bound_rules_out_the_length_bound():
    # after sort4's loads and two comparators, 11 more instructions are provably needed
    # (the network needs 16; the agent's bound leaves out the intermediate values, which
    # make it 13 for enum): the game ends there under a bound that leaves 10, not 11
    g4 = Game(get_task("sort4"))
    state = g4.play(human_actions(g4, "asm/sort4.s")[:12])
    actor = tiny_actor(g4)
    assert actor.bound(*state.cpu, *state.rules[:2], None, state.rules[4]) == 11
    actor.set_length_bound(12 + 11 + 1)
    assert not actor._hopeless(state)
    actor.set_length_bound(12 + 10 + 1)
    assert actor._hopeless(state)


def test_restarts_begin_part_way_along_the_shortest_program_found(game):
    actions = tuple(human_actions(game))
    solved = game.play(actions)
    never = tiny_actor(game)
    always = tiny_actor(game, restart=1.0)
    for actor in (never, always):
        actor._seen(solved)
    assert all(never._start().actions == () for _ in range(20))
    starts = {always._start().actions for _ in range(60)}
    assert len(starts) > 3 and all(actions[:len(s)] == s and len(s) < len(actions) for s in starts)
    # a restart point gets the simulations of a whole round on its first move
    assert never._new_game()[0].extra == 0
    tree = always._new_game()[0]
    assert tree.root.state.actions and tree.extra == (2 - 1) * 4
    always.set_length_bound(len(actions))  # only strictly shorter programs count now
    assert all(not always._hopeless(always._start()) for _ in range(20))


def test_restart_points_keep_the_shortest_programs_known(game):
    actor = tiny_actor(game, restart=1.0)
    actor.restart_from((1, 2, 3))
    actor.restart_from((4, 5, 6, 7))   # longer: ignored
    actor.restart_from((3, 2, 1))      # as short: kept too
    assert actor.shortest == [(1, 2, 3), (3, 2, 1)] and actor.best_solved == 3
    actor.restart_from((9, 9))         # shorter (from another worker): replaces them
    assert actor.shortest == [(9, 9)] and actor.best_solved == 2


def test_simulations_default_to_the_size_of_the_action_space_when_untrained():
    assert default_simulations(Game(get_task("sort3")), trained=False) == 200
    assert default_simulations(Game(get_task("sort4")), trained=False) == 800
    assert default_simulations(Game(get_task("sort4")), trained=True) == 200


@pytest.mark.slow
def test_the_transposition_table_is_cleared_past_table_size(game):
    config = agent_config(AlphaDevParams.build({"table_size": 50}), workers=1)
    assert config.table_size == 50
    config.mcts = MCTSConfig(simulations=20)
    actor = Actor(game, uniform_evaluator, config, seed=0, latency_weight=0.0, latency=lambda p: 0.0)
    while actor.games < 2 * config.games_in_parallel:
        actor.play_round()
    # every new node enters the table, so a table smaller than the count was cleared
    assert len(actor.table) < actor.explored
    big = Actor(game, uniform_evaluator, AgentConfig(mcts=config.mcts), seed=0, latency_weight=0.0,
                         latency=lambda p: 0.0)
    while big.games < 2 * config.games_in_parallel:
        big.play_round()
    assert len(big.table) >= big.explored   # (the roots of new games are not counted as explored)


@pytest.mark.parametrize("task, objective, params, slack", [
    ("sort3", "length", {}, 0), ("sort3", "latency", {}, 1), ("sort3", "latency", {"bound_slack": 0}, 0),
    ("sort4", "latency", {}, 0), ("sort4", "latency", {"bound_slack": 1}, 1), ("sort4", "length", {}, 0)])
def test_bound_slack_defaults_by_objective_and_task_and_is_a_param(monkeypatch, task, objective, params, slack):
    seen = {}

    class Stop(Exception):
        pass

    def capture(*args, bound_slack, **kwargs):
        seen["slack"] = bound_slack
        raise Stop

    monkeypatch.setattr(alphadev_agent, "SelfPlay", capture)
    with pytest.raises(Stop):
        run_search(Game(get_task(task)), "alphadev",
                   SearchOptions(workers=1, objective=objective, params={"from_scratch": True, **params}))
    assert seen["slack"] == slack


def test_bound_slack_must_not_be_negative():
    assert AlphaDevParams.build({"bound_slack": 0}).bound_slack == 0
    with pytest.raises(SuperoptError, match="agent alphadev: --param bound_slack wants an integer >= 0"):
        AlphaDevParams(bound_slack=-1)


def test_steps_stop_the_alphadev_agent_after_that_many_learner_steps():
    options = SearchOptions(workers=1, steps=2, params={"from_scratch": True, "latency": "model", "batch_size": 16,
                                                       "simulations": 8, "patience": 600})
    result = run_search(Game(get_task("sort3")), "alphadev", options)
    assert result.extras["learner_steps"] == 2
