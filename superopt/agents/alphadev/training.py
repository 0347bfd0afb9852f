"""A training run (`superopt train`): a new network or one resumed from its checkpoint, self-play, checkpoints.

Resuming takes the weights, the optimizer state and the counters (learner steps, games,
programs explored, seconds trained) from the checkpoint, and its shaping potential unless
another is asked for; `save` writes them all back, so that a run can stop at any point
(Ctrl-C, a time limit) and go on later. A checkpoint that cannot be written where asked
goes to a fallback file, and so do the later ones (`moved` says where).
"""
from __future__ import annotations

import time
from typing import Callable

from superopt.agents.alphadev.agent import agent_config, default_simulations, playable
from superopt.agents.alphadev.demos import demo_actions
from superopt.agents.alphadev.checkpoint import load_checkpoint, save_checkpoint, trained_potential
from superopt.agents.alphadev.learner import Learner
from superopt.agents.alphadev.network import NetConfig, new_network
from superopt.agents.alphadev.params import AlphaDevParams
from superopt.agents.alphadev.selfplay import Progress, SelfPlay, SelfPlayError
from superopt.game.branches import BranchGame
from superopt.game.game import Game
from superopt.outputs import ResultMoved
from superopt.tasks.base import Task
from superopt.x86.isa import Program


class Training:
    def __init__(self, task: Task, out: str, *, isa: str = "alphadev", max_length: int | None = None,
                 resume: bool = False, workers: int = 1, simulations: int | None = None, games_in_parallel: int = 8,
                 seed: int = 0, latency: str = "native", potential: str | None = None, single_head: bool = False,
                 demos: list[Program] = (), restart: float | None = None, demo_share: float | None = None,
                 demo_steps: int = 0):
        self.out, self.seed, self.latency = out, seed, latency
        self.moved: ResultMoved | None = None   # set once the checkpoint went to a fallback file
        # the game `search` plays for the task, with the agent's room (agent.playable)
        self.game = game = playable(BranchGame(task, isa=isa) if task.variable else Game(task, isa=isa), max_length)
        self.simulations = simulations or default_simulations(game, trained=resume)
        params = AlphaDevParams(simulations=self.simulations, games_in_parallel=games_in_parallel, latency=latency,
                                potential=potential)
        self.config = config = agent_config(params, workers)
        actions = [demo_actions(game, program) for program in demos]
        # with demonstrations, a quarter of the games restart part-way along one by default
        config.restart = restart if restart is not None else (0.25 if actions else config.restart)
        config.demo_share = config.demo_share if demo_share is None else demo_share
        self.demo_steps = demo_steps if actions else 0
        self.demos = {"demos": [p.path for p in demos], "demo_lengths": [len(a) for a in actions],
                      "restart": config.restart, "demo_share": config.demo_share} if demos else {}
        self.previous: dict = {}    # the counters of the checkpoint resumed from
        learner = None
        if resume:
            self.net, data = load_checkpoint(out, game)
            if not potential:
                config.potential = trained_potential(data)
            learner = Learner(self.net, config)
            if "optimizer" in data:
                learner.optimizer.load_state_dict(data["optimizer"])
            self.previous = data.get("extra", {})
            learner.steps = int(self.previous.get("steps", 0))
        else:
            self.net = new_network(game, NetConfig(two_heads=not single_head), seed)
        # games end one instruction past the best length, so that equally short programs keep
        # coming as training data once the shortest is known
        self.selfplay = SelfPlay(game, self.net, config, seed=seed, learner=learner, bound_slack=1, demos=actions)
        p = self.progress
        p.games, p.explored = int(self.previous.get("games", 0)), int(self.previous.get("explored", 0))
        self.started = time.monotonic()

    @property
    def progress(self) -> Progress:
        return self.selfplay.progress

    def metrics(self) -> dict:
        """The log's lines and `train --json`, in the keys of docs/json.md."""
        p = self.progress
        return {"seconds": round(time.monotonic() - self.started, 2), "steps": p.steps, "games": p.games,
                "solved_games": p.solved_games, "programs": p.explored, "evaluations": p.evaluations,
                "instructions": p.best_length, "latency": self.latency, "latency_measured": p.latency_measured,
                "losses": {k: round(v, 5) for k, v in p.losses.items()}, "lost": p.lost}

    def save(self) -> None:
        """The checkpoint at `out`, with what a resumed run needs."""
        p = self.progress
        trained = float(self.previous.get("trained_seconds", 0)) + time.monotonic() - self.started
        try:
            save_checkpoint(self.out, self.net, self.game, self.selfplay.learner,
                            extra={"games": p.games, "explored": p.explored, "best_length": p.best_length,
                                   "simulations": self.simulations, "seed": self.seed, "latency": self.latency,
                                   "potential": self.config.potential, "trained_seconds": trained,
                                   **self._demo_record()})
        except ResultMoved as exc:   # training goes on; the run ends saying where its checkpoint is
            self.moved, self.out = exc, exc.where

    def _demo_record(self) -> dict:
        """The demonstrations this checkpoint has learnt from, this run's and the resumed ones."""
        before = {k: self.previous[k] for k in ("demos", "demo_lengths") if k in self.previous}
        if not self.demos:
            return before
        return {**self.demos, "demos": before.get("demos", []) + self.demos["demos"],
                "demo_lengths": before.get("demo_lengths", []) + self.demos["demo_lengths"],
                "demo_steps": int(self.previous.get("demo_steps", 0)) + self.demo_steps}

    def run(self, steps: int, should_stop: Callable[[], bool], report: Callable[[Progress], None],
            time_limit: float | None = None) -> Progress:
        """Train up to `steps` learner steps (counting those resumed); saves the checkpoint at
        the end, also when stopped or failed (SelfPlayError: a worker died)."""
        try:
            self.selfplay.study(min(self.demo_steps, max(0, steps - self.progress.steps)), should_stop)
            self.selfplay.run(max_steps=steps, should_stop=should_stop, report=report, time_limit=time_limit)
        finally:
            self.save()
        if self.progress.failure:
            raise SelfPlayError("training stopped early: %s; the checkpoint %s holds the training so far"
                                % (self.progress.failure, self.out))
        return self.progress
