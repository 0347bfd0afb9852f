"""Self-play actors: several games in lockstep, one MCTS tree each, sharing batched network calls.

An Actor runs in the process that learns (SelfPlay with one worker) or in a worker process
of its own (`play`), which the game reaches through `game_spec`/`build_game`.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.learner import Trajectory
from superopt.agents.alphadev.mcts import Tree, simulate
from superopt.agents.alphadev.network import AlphaDevNet, NetworkEvaluator, action_features, set_cpu_threads
from superopt.agents.alphadev.shaping import POTENTIALS, dead
from superopt.game.bounds import LowerBound
from superopt.game.branchplay import BranchPlay
from superopt.game.game import Game
from superopt.game.protocol import Playable
from superopt.measure.latency import latency_source
from superopt.tasks.registry import get_task


def game_spec(game) -> dict:
    """What a worker process needs to build the same game (the sort games; the value game is
    played in one process)."""
    if game.kind == "branch":
        return {"game": "branch", **game.spec()}
    return {"task": game.task.name, "isa": game.isa_name, "max_length": game.max_length,
            "pruning": sorted(game.pruning), "inputs": game.inputs, "registers": game.registers,
            "correct_weight": game.correct_weight, "solved_bonus": game.solved_bonus, "step_cost": game.step_cost}


def build_game(spec: dict) -> Playable:
    spec = dict(spec)
    if spec.pop("game", "array") == "branch":
        return BranchPlay(**spec)
    return Game(get_task(spec.pop("task")), **spec)



class Actor:
    """Plays `games_in_parallel` games in lockstep with one MCTS tree each; a move of all
    games shares batched network calls. Finished games come back as Trajectories."""

    def __init__(self, game: Playable, evaluator, config: AgentConfig, seed: int, latency_weight: float,
                 on_solved: Callable | None = None, latency=None):
        self.game, self.evaluator, self.config = game, evaluator, config
        self.rng = np.random.default_rng(seed)
        self.latency_weight = latency_weight
        self.latency = latency or latency_source(config.latency, game.task)
        self.on_solved = on_solved
        self.length_bound: int | None = None
        self.explored = self.duplicates = self.games = 0
        self.best_incomplete = (0, 1)   # (correct items, total items) of the best unsolved state
        self.best_incomplete_actions: tuple = ()
        # the shortest correct programs the searches find go to the learner as games of their
        # own, with the program's moves as policy targets (self-imitation of the best found)
        self.best_solved = math.inf
        self.imitated: set = set()
        self.discoveries: list = []
        self.shortest: list = []   # the programs found at best_solved instructions (restart points)
        self.table: dict = {}  # one transposition table for all games, until it grows too big
        self.potentials: dict = {}  # state key -> shaping potential (each state is a parent and a child)
        # without the intermediate-value term: with it, searches of sort4 from the shipped
        # checkpoint stalled (44 at ~4 s, nothing shorter in 20 s, 3 seeds; 32-37 in 60 s
        # without it): more games end at once, leaving the trees less to learn from
        # (the fixed game's only: branches write values piecewise, path by path, which it does not count)
        self.bound = LowerBound(game, intermediates=False) if game.kind == "array" else None
        self.slots = [self._new_game() for _ in range(config.games_in_parallel)]

    def _seen(self, state) -> None:
        if state.solved:
            if self.on_solved is not None:
                self.on_solved(state)
            if self.game.length(state.actions) <= self.best_solved and state.actions not in self.imitated:
                self.restart_from(state.actions)
                self.imitated.add(state.actions)
                self.discoveries.append(state.actions)
        elif state.correct_items * self.best_incomplete[1] > self.best_incomplete[0] * max(state.total_items, 1):
            self.best_incomplete = (state.correct_items, state.total_items)
            self.best_incomplete_actions = state.actions

    def restart_from(self, actions: tuple) -> None:
        """Take a correct program (found here, or by another actor) as a restart point when
        it is at least as short as the best known; a shorter one replaces the others."""
        length = self.game.length(actions)
        if length < self.best_solved:
            self.shortest.clear()
            self.best_solved = length
        if length == self.best_solved and len(self.shortest) < 64 and actions not in self.shortest:
            self.shortest.append(actions)

    def _terminal_reward(self, state) -> float:
        if not state.solved:
            return 0.0
        return -self.latency_weight * self.latency(self.game.to_program(state))

    def _reward(self, parent, child) -> float:
        """The game's reward, plus the latency reward when the step solves the task, plus
        (config.shaping) the potential-based shaping term potential(child) - potential(parent)."""
        r = self.game.reward(parent, child) + self._terminal_reward(child)
        if self.config.shaping:
            r += self.config.shaping * (self._potential(child) - self._shaping_potential(parent))
        return r

    def _shaping_potential(self, state) -> float:
        value = self.potentials.get(state.key)
        if value is None:
            if len(self.potentials) > self.config.table_size:
                self.potentials.clear()
            value = self.potentials[state.key] = POTENTIALS[self.config.potential](self.game, state)
        return value

    def _potential(self, state) -> float:
        """The potential of `state`, or 0 where the game ends unsolved (dead, at the length bound, or
        at the maximum length): the textbook potential of a terminal state, so that holding
        sorted values in registers is worth nothing unless they reach memory."""
        if state.solved:
            return 1.0
        if self.game.is_terminal(state) or self._hopeless(state):
            return 0.0
        return self._shaping_potential(state)

    def _hopeless(self, state) -> bool:
        """No continuation solves the task within the length bound (strictly shorter than the
        best program found) or the game's maximum length: the game ends here."""
        if state.solved or not self.config.prune_dead:
            return False
        limit = self.game.max_length if self.length_bound is None else min(self.length_bound - 1, self.game.max_length)
        budget = limit - self.game.length(state.actions)
        if self.bound is None:
            return budget < 0 or dead(self.game, state)
        locs, lt, gt = state.cpu
        h = self.bound(locs, lt, gt, state.rules[0], state.rules[1], budget)
        return h < 0 or h > budget or dead(self.game, state)

    def _new_game(self):
        if len(self.table) > self.config.table_size:
            self.table.clear()
        # the games share nodes but each tree normalises Q over its own search: a game that
        # starts part-way along a program sees far smaller returns than one from the start,
        # and one range for both flattens the differences that matter to the first
        start = self._start()
        tree = Tree(self.game, start, self.config.mcts, self.rng, on_new_state=self._seen,
                    reward=self._reward, dead=self._hopeless,
                    table=self.table if self.config.share_table else None)
        tree.length_bound = self.length_bound
        if start.actions:
            # a restart point is searched as hard as a whole round searches (one move in
            # each game): a shorter way on is usually a few moves deep, and a move
            # committed after fewer simulations often leaves it behind
            tree.extra = (self.config.games_in_parallel - 1) * self.config.mcts.simulations
        return tree, Trajectory([], [], [], [], [], 0.0, False, ())

    def _start(self):
        """Where a new game starts: the empty program, or (a `restart` share of games) a state
        part-way along one of the shortest programs found, from which the search looks for a
        shorter way on (a prefix the length bound already rules out is never picked)."""
        game = self.game
        if not self.shortest or self.rng.random() >= self.config.restart:
            return game.initial()
        actions = self.shortest[self.rng.integers(len(self.shortest))]
        states = [game.initial()]
        for a in actions[:-1]:
            states.append(game.step(states[-1], a))
        open_ = [s for s in states if not self._hopeless(s)]
        return open_[self.rng.integers(len(open_))] if open_ else game.initial()

    def play_round(self, should_stop: Callable[[], bool] = lambda: False) -> list[Trajectory]:
        """One move in every game; returns the games that ended."""
        trees = [tree for tree, _ in self.slots]
        before = sum(t.explored for t in trees), sum(t.duplicates for t in trees)
        simulate(trees, self.evaluator, self.config.mcts.simulations, should_stop)
        self.explored += sum(t.explored for t in trees) - before[0]
        self.duplicates += sum(t.duplicates for t in trees) - before[1]
        if should_stop():
            return []
        finished = []
        temperature = self.config.temperature(self.games)
        for i, (tree, traj) in enumerate(self.slots):
            root = tree.root
            traj.programs.append(root.state.actions)
            traj.features.append(np.asarray(self.game.features(root.state), dtype=np.int8))
            traj.legal.append(root.legal.copy())
            traj.policies.append(tree.policy().astype(np.float32))
            if self.config.search_values:
                traj.searched.append(tree.root_value())
            action = tree.choose(temperature)
            tree.advance(action)
            traj.rewards.append(float(root.rewards[action]))
            if tree.root.terminal or tree.root.closed:
                state = tree.root.state
                traj.solved, traj.actions = bool(state.solved), state.actions
                traj.latency_reward = self._terminal_reward(state) if state.solved else 0.0
                traj.rewards[-1] -= traj.latency_reward  # paid to the latency head, not counted twice
                finished.append(traj)
                self.games += 1
                self.slots[i] = self._new_game()
            else:
                tree.add_root_noise()
        if self.config.imitate:
            finished.extend(self.replay(actions) for actions in self.discoveries)
        self.discoveries.clear()
        return finished

    def replay(self, actions: tuple) -> Trajectory:
        """The game that plays `actions`, each move's policy target one-hot on the move."""
        game = self.game
        state = game.initial()
        traj = Trajectory([], [], [], [], [], 0.0, False, tuple(actions))
        for a in actions:
            child = game.step(state, a)
            traj.programs.append(state.actions)
            traj.features.append(np.asarray(game.features(state), dtype=np.int8))
            traj.legal.append(game.legal_mask(state).copy())
            target = np.zeros(game.num_actions, dtype=np.float32)
            target[a] = 1.0
            traj.policies.append(target)
            traj.rewards.append(self._reward(state, child))
            state = child
        traj.solved = bool(state.solved)
        traj.latency_reward = self._terminal_reward(state)
        traj.rewards[-1] -= traj.latency_reward
        return traj

    def set_length_bound(self, bound: int | None) -> None:
        """Games end at `bound` instructions from now on; the games under way start over,
        since their nodes were judged under the old bound."""
        if bound == self.length_bound:
            return
        self.table.clear()
        self.length_bound = bound
        self.slots = [self._new_game() for _ in self.slots]



def play(link, spec, net_config, num_locations, config, seed, latency_weight):
    """Worker (superopt.agents.pool): plays games with the newest weights it has been sent;
    sends trajectories, counters and every new shortest correct program back."""
    set_cpu_threads(1)
    game = build_game(spec)
    net = AlphaDevNet(net_config, action_features(game.actions), num_locations)
    first = link.get()
    if first is None:
        return
    net.load_state_dict(first["weights"])
    found: list = []
    best = [math.inf]

    def solved(state):
        length = game.length(state.actions)
        if length <= best[0] + 1:
            best[0] = min(best[0], length)
            found.append(state.actions)

    actor = Actor(game, NetworkEvaluator(net, game), config, seed, latency_weight, on_solved=solved)
    while not link.stopped():
        for message in link.poll():  # take the newest weights and length bound
            if message is None:
                return
            if "weights" in message:
                net.load_state_dict(message["weights"])
            actor.set_length_bound(message.get("bound"))
            for actions in message.get("demos", ()):
                actor.restart_from(tuple(actions))
            if message.get("best"):
                actor.restart_from(tuple(message["best"]))
        before = actor.explored, actor.duplicates, actor.evaluator.evaluations, actor.latency.measured
        finished = actor.play_round(link.stopped)
        link.put({"trajectories": finished, "explored": actor.explored - before[0],
                  "duplicates": actor.duplicates - before[1],
                  "evaluations": actor.evaluator.evaluations - before[2], "solved": found[:],
                  "latency_measured": actor.latency.measured - before[3],
                  "incomplete": (actor.best_incomplete, actor.best_incomplete_actions)})
        found.clear()
