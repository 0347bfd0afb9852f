"""Self-play: actors (here or in worker processes) -> replay buffer -> learner, and the best program found."""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from superopt.agents.alphadev.actor import Actor, game_spec, play
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.learner import Learner, ReplayBuffer, Trajectory, batch_of, mixed_batch
from superopt.agents.alphadev.network import AlphaDevNet, NetworkEvaluator, set_cpu_threads
from superopt.agents.alphadev.remote import learn, learner_state, load_state, lost_cost, may_learn
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
                 bound_slack: int = 0, evaluator=None, learn: bool = True, demos: tuple = ()):
        self.game, self.net, self.config = game, net, config
        self.seed = seed
        self.latency_weight = config.latency_weight if latency_weight is None else latency_weight
        self.learner = learner or Learner(net, config)
        self.buffer = ReplayBuffer(config.buffer_size)
        self.demos = tuple(tuple(d) for d in demos)   # demonstrations (superopt.agents.alphadev.demos)
        self.demo_buffer = ReplayBuffer(config.buffer_size)
        self.rng = np.random.default_rng(seed)
        self.prune_by_best = prune_by_best
        self.bound_slack = bound_slack  # games stop at best length + slack (1: look for equally short programs)
        self.evaluator = evaluator      # replaces the network (in this process), e.g. plain MCTS for ablations
        self.learn = learn and evaluator is None
        self.progress = Progress(steps=self.learner.steps)
        self.latency = latency_source(config.latency, game.task)  # this process's (workers have their own)
        self.best_time: float | None = None
        self._bound_changed = False
        self._steps_at_start = self.learner.steps   # pacing counts this run's steps, not resumed ones

    # the learner side
    def _solved(self, actions: tuple) -> None:
        p = self.progress
        length = self.game.length(actions)
        if p.best_length is None or length <= p.best_length + 1:
            p.candidates[tuple(actions)] = length
            if len(p.candidates) > 256:
                for a, _ in sorted(p.candidates.items(), key=lambda kv: kv[1])[256:]:
                    del p.candidates[a]
        if p.best_length is None or length < p.best_length:
            p.best_length, p.best_actions = length, tuple(actions)
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
            batch = mixed_batch(self.buffer, self.demo_buffer, self.config.batch_size, self.config.demo_share,
                                self.rng, self.net.config.max_length)
            self.progress.losses = self.learner.step(batch)
        self.progress.steps = self.learner.steps

    def _show(self, actor: Actor) -> None:
        """The demonstrations: played once into their buffer, and restart points for `actor`."""
        fill = not len(self.demo_buffer)
        for actions in self.demos:
            actor.restart_from(actions)
            if fill:
                self.demo_buffer.add(actor.replay(actions))

    def study(self, steps: int, should_stop: Callable[[], bool] = lambda: False) -> None:
        """`steps` learner steps on the demonstrations alone, before self-play: the policy and
        value heads start from the experts' games (self-play then mixes them in, demo_share)."""
        if not self.demos or not steps:
            return
        self._show(Actor(self.game, None, self.config, self.seed, self.latency_weight, latency=self.latency))
        for _ in range(steps):
            if should_stop():
                break
            self.progress.losses = self.learner.step(
                batch_of(self.demo_buffer.pick(self.config.batch_size, self.rng), self.net.config.max_length))
        self.progress.steps = self.learner.steps

    def _absorb(self, trajectories: list[Trajectory], keep: bool = True) -> None:
        for t in trajectories:
            if keep:
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
        self._show(actor)
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
        """Self-play in worker processes or actors; the buffer and learner stay here on the
        local backend and run as a worker of their own on Ray (superopt.agents.alphadev.remote)."""
        set_cpu_threads(1)
        spec = game_spec(self.game)
        args = [(spec, self.net.config, self.net.num_locations, self.config, self.seed + 1000 * w, self.latency_weight)
                for w in range(self.config.workers)]
        last_sync = self.learner.steps
        p = self.progress
        remote = not local_backend()
        snapshot = [learner_state(self.learner)] if remote else []   # the newest learner state here

        def bound() -> dict:
            return {"bound": p.best_length + self.bound_slack if self.prune_by_best and p.best_length else None,
                    "best": p.best_actions}

        def restart(w):   # a lost worker's replacement plays on with the newest weights and bound
            return [{"weights": self.learner.weights()}, bound()], "its games in play and results not yet sent"

        learner_pool = nullcontext()
        if remote:
            learner_args = [(self.net.config, self.net.action_feats.numpy(), self.net.num_locations, self.config,
                             self.seed, max_steps)]
            learner_pool = start_pool(learn, learner_args, name="learner", cpus=0,
                                      restart=lambda w: (self._learner_start(snapshot[0]), lost_cost(snapshot[0])))
        # spawn: torch is not safe to fork once it has started threads
        with start_pool(play, args, start="spawn", name="self-play worker", restart=restart) as pool, \
                learner_pool as learners:
            pool.broadcast({"weights": self.learner.weights(), "demos": self.demos})
            if self.demos:   # their games, played here with the same rewards the workers give
                self._show(Actor(self.game, None, self.config, self.seed, self.latency_weight, latency=self.latency))
            for message in self._learner_start(snapshot[0]) if remote else ():
                learners.send(0, message)
            p.lost = pool.lost
            while not self._done(start, max_steps, should_stop, patience):
                try:
                    got = pool.receive(timeout=0.05)
                    synced = remote and self._take_learner(learners, snapshot)
                except WorkerError as exc:  # a worker that fails sends nothing more: end here, keep the best found
                    p.failure = str(exc)
                    break
                if got is not None:
                    message = got[1]
                    self._absorb(message["trajectories"], keep=not remote)
                    if remote and message["trajectories"]:
                        learners.send(0, message["trajectories"])
                    p.explored += message["explored"]
                    p.duplicates += message["duplicates"]
                    p.evaluations += message["evaluations"]
                    p.latency_measured += message["latency_measured"]
                    for actions in message["solved"]:
                        self._solved(actions)
                    inc, inc_actions = message["incomplete"]
                    if inc[0] * p.best_incomplete[1] > p.best_incomplete[0] * inc[1]:
                        p.best_incomplete, p.best_incomplete_actions = inc, inc_actions
                if not remote:
                    if may_learn(self.learner.steps - self._steps_at_start, self.buffer.added, self.config.batch_size):
                        self._learn(1)
                    synced = self.learner.steps - last_sync >= self.config.sync_every
                if synced or (self._bound_changed and self.prune_by_best):
                    message = bound()
                    if synced:
                        message["weights"] = self.learner.weights()
                        last_sync = self.learner.steps
                    pool.broadcast(message)
                    self._bound_changed = False
                if remote:
                    p.lost = pool.lost + learners.lost
                p.elapsed = time.monotonic() - start
                report(p)
            if remote and p.failure is None:
                self._flush_learner(learners, snapshot)

    def _learner_start(self, state: dict) -> list:
        """What a learner worker starts from: the learner's state, then the demonstrations."""
        return [state] + ([{"demos": list(self.demo_buffer.items)}] if len(self.demo_buffer) else [])

    def _take_learner(self, learners, snapshot: list) -> bool:
        """What the learner worker sent: step reports, and full states (loaded here; True)."""
        synced = False
        while (got := learners.receive(timeout=0.001)) is not None:   # 0 would not look at all
            synced = self._learner_message(got[1], snapshot) or synced
        return synced

    def _learner_message(self, message: dict, snapshot: list) -> bool:
        self.progress.losses = message["losses"] or self.progress.losses
        self.progress.steps = message["steps"]
        if "weights" not in message:
            return False
        load_state(self.learner, message)
        snapshot[0] = learner_state(self.learner)
        return True

    def _flush_learner(self, learners, snapshot: list, wait: float = 30.0) -> None:
        """The learner's last state, for the checkpoint and the result (its steps since the last sync)."""
        learners.send(0, "flush")
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            got = learners.receive(timeout=min(1.0, left))
            if got is not None and self._learner_message(got[1], snapshot) and got[1]["flushed"]:
                return
