"""The AlphaDev agent: self-play actors, a replay buffer and a learner, around MCTS + network.

Small interfaces, so each part could move to its own machine later:
  Actor.play_round()   -> finished Trajectory list (several games in lockstep, one batched
                          network call per group of leaves)
  ReplayBuffer.add/sample
  Learner.step(batch)  -> losses; Learner.weights() for the actors
  SelfPlay             -> runs actors in this process or in worker processes, feeds the
                          buffer, steps the learner, tracks the best program; used by
                          `superopt train` and by the search agent `run`.

Values: the correctness head predicts the sum of the rewards still to come (the game's
correctness deltas, all-correct bonus and length cost, plus a potential-based shaping term);
the latency head predicts the latency reward paid when a game ends correct,
-latency_weight x the program's latency. That latency is measured natively by default
(superopt.measure.latency: Unicorn verification, then the bench harness, cached per program), or
comes from a dependency-chain cost model (AgentConfig.latency = "model"); the same figure
is the terminal reward inside the search trees and the latency head's Monte Carlo target.

What makes it work on 2 cores rather than a TPU fleet, each switchable in AgentConfig:
- shaping: reward for sorted values becoming available in some location (`placeable`),
  potential-based, so it changes no program's rank among the correct ones;
- prune_dead: a game ends as soon as no continuation can be correct within the length
  bound: a wrong store, a value no location can still deliver (`dead`), or more
  instructions still needed than the bound leaves (superopt.bounds, as `enum` uses);
- the MCTS backs up the best return as well as the mean (the game is deterministic) and
  closes fully explored lines; the games of an actor share one transposition table;
- imitate: the shortest programs the searches find are replayed to the learner as games
  with their moves as policy targets (self-imitation: only the agent's own discoveries);
- restart: a share of games starts part-way along one of the shortest programs found, its
  first move searched as hard as a whole round, to look for a shorter way on from there.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue
import signal
import time
from collections import deque
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from superopt.game.bounds import LowerBound
from superopt.errors import SuperoptError
from superopt.measure.latency import SOURCES, cost_model, latency_source
from superopt.agents.alphadev.mcts import MCTSConfig, Tree, simulate
from superopt.agents.alphadev.network import AlphaDevNet, NetConfig, action_features, init_scale, pad_programs, set_cpu_threads
from superopt.agents.base import SearchResult, SearchStats, choice, count, flag, fraction, number, positive, text

CHECKPOINT_VERSION = 1


class SelfPlayError(SuperoptError):
    """Self-play could not go on (a worker process died) and found nothing (exit code 1)."""
    exit_code = 1


def placeable(game, state) -> float:
    """The potential for reward shaping: the fraction of items that could be stored correctly
    right now, taking for each array slot the location that holds its sorted value on the
    most inputs. 1 for a solved state, so shaping moves the reward of no correct program
    relative to another (potential-based shaping keeps the optimal programs optimal)."""
    return _coverage(game.evaluator, state.cpu[0])


def _coverage(ev, candidates) -> float:
    """The fraction of items that could be stored correctly if each slot took, from
    `candidates` (location contents), the one holding its sorted value on the most inputs."""
    return sum(max((v & e).bit_count() for v in candidates) for e in ev.expected) / ev.total_items


def exchange_placeable(game, state) -> float:
    """placeable one compare-exchange ahead: as placeable, but each slot may also take the
    min or the max of any two distinct values held now. A comparator of a sorting network
    often places nothing at once (sort4's second one, (2,3), leaves placeable flat) while
    it always brings some order statistic within one exchange of more inputs."""
    ev = game.evaluator
    values = list({v for v in state.cpu[0] if v})
    candidates = list(values)
    for i, a in enumerate(values):
        for b in values[i + 1:]:
            less = ev._full(a & (b - ev.low))  # the inputs where a < b
            candidates += [b ^ ((a ^ b) & less), a ^ ((a ^ b) & less)]
    return _coverage(ev, candidates)


def cmov_placeable(game, state) -> float:
    """placeable one cmov ahead: each slot may also take what one cmovl/cmovg between two
    registers would leave under the current flags, so that a cmp which sets up a useful
    select is worth something before the select is made."""
    locs, lt, gt = state.cpu
    candidates = [v for v in locs if v]
    if lt is not None:
        regs = [v for v in locs[:len(game.registers)] if v]
        for x in regs:
            for y in regs:
                if x is not y:
                    candidates += [x ^ ((x ^ y) & lt), x ^ ((x ^ y) & gt)]
    return _coverage(game.evaluator, candidates)


def lookahead(game, state) -> float:
    """The mean of placeable now, one cmov ahead and one compare-exchange ahead: along a
    sorting network it rises at every cmp and every cmov (only the copies that set up an
    exchange leave it flat), where placeable alone waits for whole comparators and stays
    flat over some (sort4's second one)."""
    return (placeable(game, state) + cmov_placeable(game, state) + exchange_placeable(game, state)) / 3


POTENTIALS = {"placeable": placeable, "lookahead": lookahead}


def dead(game, state) -> bool:
    """True when no continuation can sort every input: an array slot was stored with a
    wrong value on some input (each slot is stored at most once), or some input's sorted
    value for some slot is held by no location that can still reach that slot (registers,
    slots still loadable, and the slot itself). Reads the game's CPU state and rule history."""
    if state.solved:
        return False
    ev, p = game.evaluator, game.pruning
    locs = state.cpu[0]
    r = len(game.registers)
    last_loaded, loaded, stored = state.rules[:3]
    full = ev.pack.content
    regs = 0
    for v in locs[:r]:
        regs |= v
    for i, expected in enumerate(ev.expected):
        if "memory_once" in p and stored >> i & 1 and locs[r + i] != expected:
            return True
    rereads = game.isa_name == "extended"  # cmov may read any slot there, whatever the load rules
    for i, expected in enumerate(ev.expected):
        have = 0
        for v in locs[:r]:
            have |= v & expected
        for j in range(game.n):
            loadable = rereads or not (("memory_once" in p and loaded >> j & 1) or ("memory_order" in p and j < last_loaded))
            if loadable or j == i:
                have |= locs[r + j] & expected
        if (have & full).bit_count() < ev.count:
            return True
    return False


# -- configuration ---------------------------------------------------------------------------
@dataclass
class AgentConfig:
    net: NetConfig = field(default_factory=NetConfig)
    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    games_in_parallel: int = 8          # trees per actor, searched in lockstep
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    buffer_size: int = 50_000
    updates_per_round: int = 4          # learner steps per lockstep move (in-process mode)
    sync_every: int = 50                # learner steps between weight broadcasts to workers
    latency_weight: float = 0.002       # reward per cycle of latency (length objective: a tie-break)
    shaping: float = 1.0                # weight of the potential-based shaping reward (0: off)
    potential: str = "lookahead"        # its potential: a POTENTIALS name
    prune_dead: bool = True             # states no correct program extends end the game
    share_table: bool = True            # the games of an actor share one transposition table
    table_size: int = 200_000           # ... cleared when it holds more nodes than this (~13 KB each on sort4)
    imitate: bool = True                # train on the shortest programs found, as games of their own
    search_values: bool = True          # value targets average the return with the root's searched value
    restart: float = 0.0                # share of games that start part-way along a shortest program found
    temperatures: tuple = ((0, 1.0), (300, 0.5), (1000, 0.25))  # (games played, temperature) from then on
    workers: int = 1                    # 1: everything in this process; N > 1: N actor processes
    latency: str = "native"             # latency of correct programs: "native" (measured) or "model"

    def temperature(self, games: int) -> float:
        t = self.temperatures[0][1]
        for start, value in self.temperatures:
            if games >= start:
                t = value
        return t


# -- game <-> network --------------------------------------------------------------------------
def game_spec(game) -> dict:
    """What a worker process needs to build the same game."""
    return {"task": game.task.name, "isa": game.isa_name, "max_length": game.max_length,
            "pruning": sorted(game.pruning), "inputs": game.inputs, "registers": game.registers,
            "correct_weight": game.correct_weight, "solved_bonus": game.solved_bonus, "step_cost": game.step_cost}


def build_game(spec: dict):
    from superopt.game.game import Game
    from superopt.tasks.registry import get_task
    spec = dict(spec)
    return Game(get_task(spec.pop("task")), **spec)


def action_names(game) -> list[str]:
    return [a.att() for a in game.actions]


def new_network(game, config: NetConfig) -> AlphaDevNet:
    locations = np.asarray(game.features(game.initial())).shape[1]
    max_length = getattr(game, "max_length", None) or config.max_length
    config = replace(config, max_length=max(config.max_length, max_length))
    net = AlphaDevNet(config, action_features(game.actions), locations)
    init_scale(net)
    return net


def copy_network(net: AlphaDevNet) -> AlphaDevNet:
    """An independent copy (same weights), e.g. to start several searches from one checkpoint."""
    twin = AlphaDevNet(net.config, net.action_feats.numpy(), net.num_locations)
    twin.load_state_dict(net.state_dict())
    return twin


class NetworkEvaluator:
    """The MCTS evaluator backed by the network: priors over legal actions and the value
    (correctness + latency heads) of each state, in one batched forward pass."""

    def __init__(self, net: AlphaDevNet, game):
        self.net, self.game = net, game
        self.evaluations = 0

    def inputs(self, states, legal):
        programs = torch.from_numpy(pad_programs([s.actions for s in states], self.net.config.max_length))
        feats = torch.from_numpy(np.stack([np.asarray(self.game.features(s), dtype=np.int64) for s in states]))
        return programs, feats, torch.from_numpy(np.asarray(legal, dtype=bool))

    @torch.no_grad()
    def __call__(self, states, legal):
        self.net.eval()
        out = self.net(*self.inputs(states, legal))
        self.evaluations += len(states)
        return torch.softmax(out.logits, -1).double().numpy(), out.value.double().numpy()


# -- experience ----------------------------------------------------------------------------------
@dataclass
class Trajectory:
    programs: list          # action-id tuple at each move
    features: list          # (inputs, locations) int8 array at each move
    legal: list             # bool mask at each move
    policies: list          # root visit distribution at each move
    rewards: list           # game reward of each move taken
    latency_reward: float   # paid at the end when the game ended correct
    solved: bool
    actions: tuple          # the final program
    searched: list = field(default_factory=list)   # the root's searched value at each move (self-play games)

    def targets(self) -> tuple[np.ndarray, np.ndarray]:
        """Value targets from each move: (correctness, latency). Correctness: the Monte Carlo
        return, averaged with the search's value of the root where the game has one (less
        noisy than one sampled game: trained on returns alone, some nets misled the search,
        measured); the latency part of that value is the game's own latency reward."""
        correctness = np.cumsum(np.asarray(self.rewards[::-1], dtype=np.float64))[::-1]
        if len(self.searched) == len(correctness):
            correctness = (correctness + np.asarray(self.searched) - self.latency_reward) / 2
        return correctness, np.full(len(self.rewards), self.latency_reward)


class ReplayBuffer:
    """The most recent samples (state, policy target, value targets), sampled uniformly."""

    def __init__(self, capacity: int):
        self.items: deque = deque(maxlen=capacity)
        self.added = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, trajectory: Trajectory) -> None:
        z_c, z_l = trajectory.targets()
        for i in range(len(trajectory.rewards)):
            self.items.append((trajectory.programs[i], trajectory.features[i], trajectory.legal[i],
                               trajectory.policies[i], z_c[i], z_l[i]))
        self.added += len(trajectory.rewards)

    def sample(self, size: int, rng: np.random.Generator, max_length: int) -> dict:
        picks = [self.items[i] for i in rng.integers(0, len(self.items), size=size)]
        return {
            "programs": torch.from_numpy(pad_programs([p[0] for p in picks], max_length)),
            "states": torch.from_numpy(np.stack([p[1] for p in picks]).astype(np.int64)),
            "legal": torch.from_numpy(np.stack([p[2] for p in picks])),
            "policy": torch.from_numpy(np.stack([p[3] for p in picks]).astype(np.float32)),
            "correctness": torch.tensor([p[4] for p in picks], dtype=torch.float32),
            "latency": torch.tensor([p[5] for p in picks], dtype=torch.float32),
        }


class Learner:
    """Adam on policy cross-entropy (to the visit distribution) + value squared errors."""

    def __init__(self, net: AlphaDevNet, config: AgentConfig):
        self.net, self.config = net, config
        self.optimizer = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        self.steps = 0

    def losses(self, batch: dict) -> dict:
        out = self.net(batch["programs"], batch["states"], batch["legal"])
        logp = torch.log_softmax(out.logits, -1)
        policy = -(batch["policy"] * logp.masked_fill(~batch["legal"], 0.0)).sum(-1).mean()
        if self.net.config.two_heads:
            value = F.mse_loss(out.correctness, batch["correctness"]) + F.mse_loss(out.latency, batch["latency"])
        else:
            value = F.mse_loss(out.correctness, batch["correctness"] + batch["latency"])
        return {"loss": policy + value, "policy": policy, "value": value}

    def step(self, batch: dict) -> dict:
        self.net.train()
        losses = self.losses(batch)
        self.optimizer.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
        self.optimizer.step()
        self.steps += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    def weights(self) -> dict:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}


# -- actors ----------------------------------------------------------------------------------------
class Actor:
    """Plays `games_in_parallel` games in lockstep with one MCTS tree each; a move of all
    games shares batched network calls. Finished games come back as Trajectories."""

    def __init__(self, game, evaluator, config: AgentConfig, seed: int, latency_weight: float,
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
        self.bound = LowerBound(game, intermediates=False)
        self.slots = [self._new_game() for _ in range(config.games_in_parallel)]

    def _seen(self, state) -> None:
        if state.solved:
            if self.on_solved is not None:
                self.on_solved(state)
            if len(state.actions) <= self.best_solved and state.actions not in self.imitated:
                self.restart_from(state.actions)
                self.imitated.add(state.actions)
                self.discoveries.append(state.actions)
        elif state.correct_items * self.best_incomplete[1] > self.best_incomplete[0] * max(state.total_items, 1):
            self.best_incomplete = (state.correct_items, state.total_items)
            self.best_incomplete_actions = state.actions

    def restart_from(self, actions: tuple) -> None:
        """Take a correct program (found here, or by another actor) as a restart point when
        it is at least as short as the best known; a shorter one replaces the others."""
        if len(actions) < self.best_solved:
            self.shortest.clear()
            self.best_solved = len(actions)
        if len(actions) == self.best_solved and len(self.shortest) < 64 and actions not in self.shortest:
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
        locs, lt, gt = state.cpu
        budget = limit - len(state.actions)
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


# -- checkpoints ---------------------------------------------------------------------------------
def save_checkpoint(path: str | os.PathLike, net: AlphaDevNet, game, learner: Learner | None = None,
                    extra: dict | None = None) -> None:
    """Weights, network config, the game they belong to (task, instruction set, action list)
    and, when given, the optimizer state and counters so that training can resume."""
    data = {
        "version": CHECKPOINT_VERSION,
        "config": net.config.to_dict(),
        "num_locations": net.num_locations,
        "task": game.task.name,
        "isa": game.isa_name,
        "actions": action_names(game),
        "weights": net.state_dict(),
        "extra": dict(extra or {}),
    }
    if learner is not None:
        data["optimizer"] = learner.optimizer.state_dict()
        data["extra"]["steps"] = learner.steps
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def load_checkpoint(path: str | os.PathLike, game) -> tuple[AlphaDevNet, dict]:
    """The network stored at `path`, checked against `game`; returns (net, raw checkpoint)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise SuperoptError("%s: no such checkpoint" % path) from None
    except Exception as exc:  # torch raises many kinds on a corrupt or foreign file
        raise SuperoptError("%s: not a superopt checkpoint (%s)" % (path, str(exc).splitlines()[0][:120])) from None
    if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
        raise SuperoptError("%s: not a superopt checkpoint (version %r)" % (path, data.get("version") if isinstance(data, dict) else None))
    if data["task"] != game.task.name or data["isa"] != game.isa_name or data["actions"] != action_names(game):
        raise SuperoptError("%s: trained for task %s with instruction set %s (%d actions), not for %s with %s (%d actions)"
                            % (path, data["task"], data["isa"], len(data["actions"]), game.task.name,
                               game.isa_name, game.num_actions))
    net = AlphaDevNet(NetConfig(**data["config"]), action_features(game.actions), data["num_locations"])
    net.load_state_dict(data["weights"])
    return net, data


def shipped_checkpoint(task: str, isa_name: str) -> Path | None:
    """The checkpoint shipped inside the package for this task and instruction set, if any."""
    path = resources.files("superopt.agents.alphadev") / "checkpoints" / ("%s-%s.pt" % (task, isa_name))
    return Path(str(path)) if path.is_file() else None


# -- self-play: actors -> buffer -> learner --------------------------------------------------------
@dataclass
class Progress:
    """What SelfPlay reports after every round."""
    elapsed: float = 0.0
    steps: int = 0
    games: int = 0
    explored: int = 0
    duplicates: int = 0
    evaluations: int = 0
    latency_measured: int = 0     # correct programs timed natively (0 with the cost model)
    losses: dict = field(default_factory=dict)
    best_length: int | None = None
    best_actions: tuple | None = None
    best_latency: int | None = None
    best_incomplete: tuple = (0, 1)
    best_incomplete_actions: tuple = ()
    solved_games: int = 0
    candidates: dict = field(default_factory=dict)  # correct programs found (actions -> length), shortest kept
    failure: str | None = None    # why self-play ended early (a worker process died)


def _actor_process(spec, net_config, num_locations, config, seed, latency_weight, weights_q, results_q, stop):
    """Worker: plays games with the newest weights it has been sent; sends trajectories,
    counters and every new shortest correct program back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    set_cpu_threads(1)
    game = build_game(spec)
    net = AlphaDevNet(net_config, action_features(game.actions), num_locations)
    net.load_state_dict(weights_q.get())
    found: list = []
    best = [math.inf]

    def solved(state):
        if len(state.actions) <= best[0] + 1:
            best[0] = min(best[0], len(state.actions))
            found.append(state.actions)

    actor = Actor(game, NetworkEvaluator(net, game), config, seed, latency_weight, on_solved=solved)
    while not stop.is_set():
        try:
            while True:  # take the newest weights and length bound
                message = weights_q.get_nowait()
                if "weights" in message:
                    net.load_state_dict(message["weights"])
                actor.set_length_bound(message.get("bound"))
                if message.get("best"):
                    actor.restart_from(tuple(message["best"]))
        except queue.Empty:
            pass
        before = actor.explored, actor.duplicates, actor.evaluator.evaluations, actor.latency.measured
        finished = actor.play_round(stop.is_set)
        results_q.put({"trajectories": finished, "explored": actor.explored - before[0],
                       "duplicates": actor.duplicates - before[1],
                       "evaluations": actor.evaluator.evaluations - before[2], "solved": found[:],
                       "latency_measured": actor.latency.measured - before[3],
                       "incomplete": (actor.best_incomplete, actor.best_incomplete_actions)})
        found.clear()


class SelfPlay:
    """Self-play training around one game: actors (in this process, or `workers` worker
    processes), a replay buffer and a learner. `run` stops at `max_steps` learner steps,
    when `should_stop()` turns true, or when `patience` seconds pass without a shorter
    correct program (once one is found)."""

    def __init__(self, game, net: AlphaDevNet, config: AgentConfig, seed: int = 0,
                 latency_weight: float | None = None, learner: Learner | None = None, prune_by_best: bool = True,
                 bound_slack: int = 0, evaluator=None, learn: bool = True):
        self.game, self.net, self.config = game, net, config
        self.seed = seed
        self.latency_weight = config.latency_weight if latency_weight is None else latency_weight
        self.learner = learner or Learner(net, config)
        self.buffer = ReplayBuffer(config.buffer_size)
        self.rng = np.random.default_rng(seed)
        self.prune_by_best = prune_by_best
        self.bound_slack = bound_slack  # games stop at best length + slack (1: look for equally short programs)
        self.evaluator = evaluator      # replaces the network (in this process), e.g. plain MCTS for ablations
        self.learn = learn and evaluator is None
        self.progress = Progress(steps=self.learner.steps)
        self.latency = latency_source(config.latency, game.task)  # this process's (workers have their own)
        self.best_time: float | None = None
        self._bound_changed = False

    # the learner side
    def _solved(self, actions: tuple) -> None:
        p = self.progress
        if p.best_length is None or len(actions) <= p.best_length + 1:
            p.candidates[tuple(actions)] = len(actions)
            if len(p.candidates) > 256:
                for a, _ in sorted(p.candidates.items(), key=lambda kv: kv[1])[256:]:
                    del p.candidates[a]
        if p.best_length is None or len(actions) < p.best_length:
            p.best_length, p.best_actions = len(actions), tuple(actions)
            p.best_latency = cost_model(self.game.to_program(actions).instrs)
            self.best_time = p.elapsed
            self._bound_changed = True

    def _learn(self, rounds: int) -> None:
        if not self.learn or len(self.buffer) < self.config.batch_size:
            return
        for _ in range(rounds):
            batch = self.buffer.sample(self.config.batch_size, self.rng, self.net.config.max_length)
            self.progress.losses = self.learner.step(batch)
        self.progress.steps = self.learner.steps

    def _absorb(self, trajectories: list[Trajectory]) -> None:
        for t in trajectories:
            self.buffer.add(t)
            self.progress.games += 1
            self.progress.solved_games += t.solved

    def _done(self, start: float, max_steps: int | None, should_stop, patience: float | None) -> bool:
        p = self.progress
        p.elapsed = time.monotonic() - start
        if should_stop():
            return True
        if max_steps is not None and p.steps >= max_steps:
            return True
        return patience is not None and self.best_time is not None and p.elapsed - self.best_time > patience

    def run(self, max_steps: int | None = None, should_stop: Callable[[], bool] = lambda: False,
            report: Callable[[Progress], None] = lambda p: None, patience: float | None = None,
            time_limit: float | None = None) -> Progress:
        start = time.monotonic()
        stop = should_stop
        if time_limit is not None:
            stop = lambda: should_stop() or time.monotonic() - start > time_limit  # noqa: E731
        if self.config.workers <= 1 or self.evaluator is not None:
            self._run_here(start, max_steps, stop, report, patience)
        else:
            self._run_workers(start, max_steps, stop, report, patience)
        self.progress.elapsed = time.monotonic() - start
        return self.progress

    def _run_here(self, start, max_steps, should_stop, report, patience) -> None:
        set_cpu_threads(1)  # small batches: a second thread costs more in sync than it gives
        evaluator = self.evaluator or NetworkEvaluator(self.net, self.game)
        actor = Actor(self.game, evaluator, self.config, self.seed, self.latency_weight,
                      on_solved=lambda s: self._solved(s.actions), latency=self.latency)
        while not self._done(start, max_steps, should_stop, patience):
            if self._bound_changed and self.prune_by_best:
                actor.set_length_bound(self.progress.best_length + self.bound_slack)
                self._bound_changed = False
            self._absorb(actor.play_round(should_stop))
            rounds = self.config.updates_per_round
            self._learn(rounds if max_steps is None else min(rounds, max_steps - self.learner.steps))
            p = self.progress
            p.explored, p.duplicates = actor.explored, actor.duplicates
            p.evaluations = getattr(evaluator, "evaluations", 0)
            p.latency_measured = self.latency.measured
            p.best_incomplete, p.best_incomplete_actions = actor.best_incomplete, actor.best_incomplete_actions
            p.elapsed = time.monotonic() - start
            report(p)

    def _run_workers(self, start, max_steps, should_stop, report, patience) -> None:
        set_cpu_threads(1)
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        results_q = ctx.Queue()
        spec = game_spec(self.game)
        workers = []
        for w in range(self.config.workers):
            weights_q = ctx.Queue()
            weights_q.put(self.learner.weights())
            proc = ctx.Process(target=_actor_process, daemon=True,
                               args=(spec, self.net.config, self.net.num_locations, self.config, self.seed + 1000 * w,
                                     self.latency_weight, weights_q, results_q, stop))
            proc.start()
            workers.append((proc, weights_q))
        last_sync = self.learner.steps
        p = self.progress
        try:
            while not self._done(start, max_steps, should_stop, patience):
                try:
                    message = results_q.get(timeout=0.05)
                except queue.Empty:
                    message = None
                    stopped = [proc.exitcode for proc, _ in workers if not proc.is_alive()]
                    if stopped:  # a worker that dies sends nothing more: end here, keep the best found
                        p.failure = ("%d of %d self-play workers stopped (exit codes %s); their error, if any, "
                                     "is above" % (len(stopped), len(workers), ", ".join(map(str, stopped))))
                        break
                if message is not None:
                    self._absorb(message["trajectories"])
                    p.explored += message["explored"]
                    p.duplicates += message["duplicates"]
                    p.evaluations += message["evaluations"]
                    p.latency_measured += message["latency_measured"]
                    for actions in message["solved"]:
                        self._solved(actions)
                    inc, inc_actions = message["incomplete"]
                    if inc[0] * p.best_incomplete[1] > p.best_incomplete[0] * inc[1]:
                        p.best_incomplete, p.best_incomplete_actions = inc, inc_actions
                # learn at most as fast as fresh samples arrive (each sample reused ~8 times)
                if self.learner.steps * self.config.batch_size < 8 * self.buffer.added:
                    self._learn(1)
                sync = self.learner.steps - last_sync >= self.config.sync_every
                if sync or (self._bound_changed and self.prune_by_best):
                    message = {"bound": p.best_length + self.bound_slack if self.prune_by_best and p.best_length else None,
                               "best": p.best_actions}
                    if sync:
                        message["weights"] = self.learner.weights()
                        last_sync = self.learner.steps
                    for _, weights_q in workers:
                        weights_q.put(message)
                    self._bound_changed = False
                p.elapsed = time.monotonic() - start
                report(p)
        finally:
            stop.set()
            for proc, _ in workers:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(timeout=5)


# -- the search agent ------------------------------------------------------------------------------
DEFAULT_PATIENCE = 20.0     # seconds without a shorter program, once one is found
DEFAULT_TIME_CAP = 300.0    # seconds, when the caller sets no time limit


def horizon(game) -> int:
    """How long the agent's games may grow: the game's maximum length plus room to make
    mistakes (4 per array item), which finds a first correct program far sooner; the
    length bound then closes in on the shortest."""
    return game.max_length + 4 * game.n


# --param keys (superopt.agents.base.check_params converts and checks the values before run sees them)
PARAMS = {**{k: positive for k in ("simulations", "considered", "games_in_parallel", "batch_size", "horizon",
                                   "workers", "table_size")},
          **{k: count for k in ("updates_per_round", "bound_slack")},
          **{k: number for k in ("c_scale", "learning_rate", "shaping", "latency_weight",
                                 "patience", "time_cap")},
          "restart": fraction, "max_weight": fraction, "root": choice("puct", "gumbel"), "potential": choice(*POTENTIALS),
          "latency": choice(*SOURCES), "model": text, "from_scratch": flag}


def default_bound_slack(game, latency_objective: bool) -> int:
    """Games end at the best length + this. Slack 1 lets them reach the best length again,
    for equally short but faster programs: sort3's latency objective needs it (17 is reached at
    once, and only more 17s can be faster). From sort4 up it stalled the descent (from scratch,
    2,700 s: a 31), while slack 0 reached a 28 in 1,440 s that ties enum's fastest 28."""
    return 1 if latency_objective and game.n < 4 else 0


def default_simulations(game, trained: bool) -> int:
    """Simulations per move when none are asked for. An untrained prior is flat, and pUCT
    needs several visits per legal action before visit counts mean anything: from scratch,
    sort3's 96 actions do well with 200 (17 in seconds), while on sort4's 160 the agent
    found nothing with 100-200, 32-33 with 400 and 30 with 800 (AlphaDev's figure). A
    trained prior concentrates the visits: from the shipped sort4 network, 200 reach 30 in
    about 10 s and 800 in 26 s."""
    return 200 if trained or game.num_actions <= 100 else 800


def agent_config(params: dict, workers: int) -> AgentConfig:
    """The agent's configuration from `superopt search --param key=value` style knobs, as
    check_params leaves them (PARAMS)."""
    mcts = MCTSConfig(simulations=params.get("simulations", MCTSConfig.simulations),
                      max_weight=params.get("max_weight", 1.0), root=params.get("root", MCTSConfig.root),
                      considered=params.get("considered", MCTSConfig.considered),
                      c_scale=params.get("c_scale", MCTSConfig.c_scale))
    config = AgentConfig(mcts=mcts, workers=max(1, int(workers)))
    for key in ("games_in_parallel", "batch_size", "updates_per_round", "learning_rate", "shaping", "latency_weight",
                "restart", "potential", "latency", "table_size"):
        if key in params:
            setattr(config, key, params[key])
    return config


def load_or_create(game, params: dict, net_config: NetConfig | None = None) -> tuple[AlphaDevNet, str, str | None]:
    """The network to start from: --model, else the shipped checkpoint, else a new one
    (--from-scratch, or nothing shipped for this task and instruction set); with the
    shaping potential a checkpoint was trained with (its value head learnt those returns)."""
    if params.get("model"):
        net, data = load_checkpoint(params["model"], game)
        return net, str(params["model"]), trained_potential(data)
    shipped = None if params.get("from_scratch") else shipped_checkpoint(game.task.name, game.isa_name)
    if shipped is not None:
        try:
            net, data = load_checkpoint(shipped, game)
            return net, "shipped:" + shipped.name, trained_potential(data)
        except SuperoptError:
            pass  # shipped for another action space (e.g. other pruning or registers): start fresh
    return new_network(game, net_config or NetConfig()), "from scratch", None


def trained_potential(data: dict) -> str:
    """The potential recorded in a checkpoint; checkpoints from before it was recorded
    were all trained with placeable."""
    return data.get("extra", {}).get("potential", "placeable")


def run(game, options, report, should_stop):
    """Agent "alphadev": self-play MCTS + network training while searching.

    Stops on should_stop() (time limit, Ctrl-C), at options.target_length, DEFAULT_PATIENCE
    seconds after the last improvement (params["patience"]), or after DEFAULT_TIME_CAP
    seconds when no time limit is set."""
    params = dict(options.params or {})
    # the game's default maximum (the human benchmark's length) gets room for mistakes; a
    # maximum the user chose (--max-length) is kept, so no longer program comes back
    from superopt.game.game import human_length
    room = horizon(game) if game.max_length == human_length(game.n) else game.max_length
    play = build_game({**game_spec(game), "max_length": params.get("horizon", room)})
    net, source, potential = load_or_create(play, params)
    config = agent_config({"simulations": default_simulations(play, source != "from scratch"), **params},
                          options.workers if params.get("workers") is None else params["workers"])
    if potential is not None and "potential" not in params:
        config.potential = potential
    latency_objective = options.objective == "latency"
    weight = params.get("latency_weight", 0.01 if latency_objective else config.latency_weight)
    slack = params.get("bound_slack", default_bound_slack(play, latency_objective))
    selfplay = SelfPlay(play, net, config, seed=options.seed, latency_weight=weight, bound_slack=slack)
    patience = params.get("patience", DEFAULT_PATIENCE)
    cap = None if options.time_limit is not None else params.get("time_cap", DEFAULT_TIME_CAP)
    target = options.target_length

    def stop() -> bool:
        best = selfplay.progress.best_length
        return should_stop() or (target is not None and best is not None and best <= target)

    def forward(p: Progress) -> None:
        actions = p.best_actions if p.best_actions is not None else p.best_incomplete_actions
        report(SearchStats(elapsed=p.elapsed, explored=p.explored, deduplicated=p.duplicates,
                           best_length=p.best_length, best_correct=p.best_incomplete[0] / max(p.best_incomplete[1], 1),
                           best_program=list(play.to_program(actions).instrs),
                           phase="games %d, learner steps %d, loss %.3f" % (p.games, p.steps, p.losses.get("loss", float("nan")))))

    p = selfplay.run(should_stop=stop, report=forward, patience=patience, time_limit=cap)
    if p.failure and p.best_actions is None:
        raise SelfPlayError("the AlphaDev agent found no program before it failed: " + p.failure)
    ranked = sorted(p.candidates.items(), key=lambda kv: (kv[1], kv[0]))
    program = play.to_program(p.best_actions) if p.best_actions is not None else None
    return SearchResult(
        program=program, length=p.best_length, optimal=False, explored=p.explored, elapsed=p.elapsed,
        deduplicated=p.duplicates, candidates=[play.to_program(a) for a, _ in ranked],
        extras={"network": source, "games": p.games, "learner_steps": p.steps, "evaluations": p.evaluations,
                "horizon": play.max_length, "simulations": config.mcts.simulations,
                "latency_source": config.latency, "potential": config.potential, "latency_programs_measured": p.latency_measured,
                "cost_model_latency": p.best_latency, **({"failure": p.failure} if p.failure else {})})
