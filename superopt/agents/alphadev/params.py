"""`--param` keys of the AlphaDev agent (torch-free, so that checking them loads no network)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from superopt.agents.alphadev.shaping import POTENTIALS
from superopt.agents.params import Params, choice, count, flag, fraction, number, param, positive, text
from superopt.errors import SuperoptError
from superopt.measure.latency import SOURCES

DEFAULT_PATIENCE = 20.0     # seconds without a shorter program, once one is found (the patience param's default)
DEFAULT_TIME_CAP = 300.0    # seconds, when the caller sets no time limit (time_cap's)
SEARCHERS = ("beam", "enum")   # the searchers init_bound may name (superopt.agents.cooperate runs them)


def bound_source(value) -> str:
    """A checked `init_bound` value: beam, enum, or an existing kernel file."""
    value = str(value)
    if value not in SEARCHERS and not os.path.isfile(value):
        raise SuperoptError("init_bound must be beam, enum or a kernel file; got %r (no such file)" % value)
    return value


@dataclass(frozen=True)
class AlphaDevParams(Params):
    """None: the agent decides (from the task, the network it starts from, the objective)."""
    agent: ClassVar[str] = "alphadev"
    uses: ClassVar[frozenset] = frozenset({"steps"})   # --steps: learner steps to stop at
    simulations: int | None = param(None, positive)        # per move (default_simulations)
    considered: int | None = param(None, positive)         # gumbel root: actions considered
    games_in_parallel: int | None = param(None, positive)  # trees per actor
    batch_size: int | None = param(None, positive)
    horizon: int | None = param(None, positive)            # longest game (default: agent.horizon)
    workers: int | None = param(None, positive)            # actor processes (default: --workers)
    table_size: int | None = param(None, positive)         # transposition table nodes before a clear
    updates_per_round: int | None = param(None, count)
    bound_slack: int | None = param(None, count)           # games end at best length + this
    c_scale: float | None = param(None, number)
    learning_rate: float | None = param(None, number)
    shaping: float | None = param(None, number)
    latency_weight: float | None = param(None, number)
    patience: float | None = param(None, number)           # seconds without a shorter program
    time_cap: float | None = param(None, number)           # seconds, without --time-limit
    restart: float | None = param(None, fraction)          # share of games restarted along a best program
    max_weight: float | None = param(None, fraction)       # Q's weight on the best return
    root: str | None = param(None, choice("puct", "gumbel"))
    potential: str | None = param(None, choice(*POTENTIALS))
    latency: str | None = param(None, choice(*SOURCES))
    model: str | None = param(None, text)                  # checkpoint to start from (--model)
    from_scratch: bool = param(False, flag)                # ignore the shipped checkpoint (--from-scratch)
    init_bound: str | None = param(None, bound_source)     # beam | enum | FILE: first upper bound (agents.cooperate)
