"""Self-play: actors (here or in worker processes) -> replay buffer -> learner, and the best program found."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from superopt.agents.alphadev.actor import Actor, game_spec, play
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.learner import Learner, ReplayBuffer, Trajectory
from superopt.agents.alphadev.network import AlphaDevNet, NetworkEvaluator, set_cpu_threads
from superopt.agents.pool import WorkerError, local_backend, start_pool
from superopt.errors import SuperoptError
from superopt.measure.latency import cost_model, latency_source


class SelfPlayError(SuperoptError):
    """Self-play could not go on (a worker process died) and found nothing (exit code 1)."""
    exit_code = 1


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
    lost: list = field(default_factory=list)  # workers lost and restarted (ray backend), and what it cost



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

    def seed_best(self, actions: tuple) -> None:
        """Start from a correct program another searcher found: the length bound of the
        games starts at its length (agents.cooperate)."""
        self._solved(tuple(actions))

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
        if (self.config.workers <= 1 and local_backend()) or self.evaluator is not None:
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
        spec = game_spec(self.game)
        args = [(spec, self.net.config, self.net.num_locations, self.config, self.seed + 1000 * w, self.latency_weight)
                for w in range(self.config.workers)]
        last_sync = self.learner.steps
        p = self.progress

        def bound() -> dict:
            return {"bound": p.best_length + self.bound_slack if self.prune_by_best and p.best_length else None,
                    "best": p.best_actions}

        def restart(w):   # a lost worker's replacement plays on with the newest weights and bound
            return [{"weights": self.learner.weights()}, bound()], "its games in play and results not yet sent"

        # spawn: torch is not safe to fork once it has started threads
        with start_pool(play, args, start="spawn", name="self-play worker", restart=restart) as pool:
            pool.broadcast({"weights": self.learner.weights()})
            p.lost = pool.lost
            while not self._done(start, max_steps, should_stop, patience):
                try:
                    got = pool.receive(timeout=0.05)
                except WorkerError as exc:  # a worker that fails sends nothing more: end here, keep the best found
                    p.failure = str(exc)
                    break
                if got is not None:
                    message = got[1]
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
                    message = bound()
                    if sync:
                        message["weights"] = self.learner.weights()
                        last_sync = self.learner.steps
                    pool.broadcast(message)
                    self._bound_changed = False
                p.elapsed = time.monotonic() - start
                report(p)
