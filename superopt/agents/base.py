"""What every agent shares: its options, progress stats and result, the registry of agents by
name, and the converters that check each agent's --param values.

An agent is `run(game, options, report, should_stop) -> SearchResult`, registered by name
in AGENT_PATHS. It calls `report(SearchStats)` now and then, polls `should_stop()` often and
returns its best-so-far when that turns true (Ctrl-C, time limit).
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Callable

from superopt.errors import SuperoptError
from superopt.game.game import Game
from superopt.x86.isa import Instr, Program


@dataclass
class SearchOptions:
    time_limit: float | None = None     # seconds; None: until the agent is done
    seed: int = 0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    all_optimal: bool = False           # enum: collect every optimal program
    init: Program | None = None         # stochastic: warm start
    target_length: int | None = None    # stop as soon as a correct program this short is found
    steps: int | None = None            # stochastic: proposals per worker
    objective: str = "length"           # length | latency
    params: dict = field(default_factory=dict)  # agent-specific knobs


@dataclass
class SearchStats:
    elapsed: float = 0.0
    explored: int = 0                   # programs (prefixes) evaluated
    deduplicated: int = 0               # states found again and skipped
    best_length: int | None = None      # shortest correct program so far
    best_correct: float = 0.0           # fraction of items placed correctly by the best incomplete program
    best_program: list[Instr] = field(default_factory=list)
    phase: str = ""                     # what the agent is doing (e.g. "bound 16")


@dataclass
class SearchResult:
    program: Program | None             # the best correct program, or None
    length: int | None
    optimal: bool                       # optimality proven (within the instruction set and pruning rules)
    explored: int
    elapsed: float
    deduplicated: int = 0
    candidates: list[Program] = field(default_factory=list)  # correct programs found (best length first)
    extras: dict = field(default_factory=dict)
    verified: bool | None = None        # set by run_search: the Unicorn re-verification
    latency: dict | None = None         # set by run_search for --objective latency


Agent = Callable[[Game, SearchOptions, Callable[[SearchStats], None], Callable[[], bool]], SearchResult]

# name -> "module:function"; modules are imported on first use so that the torch-based
# agent costs nothing to the classical ones.
AGENT_PATHS = {
    "enum": "superopt.agents.enumerative:run",
    "stochastic": "superopt.agents.stochastic:run",
    "alphadev": "superopt.agents.alphadev.agent:run",
}


DEFAULT_AGENT = "alphadev"


def parse_params(values) -> dict:
    """`--param KEY=VALUE` items as a dict, values read as int, float or string."""
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SuperoptError("--param wants KEY=VALUE, got %r" % item)
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


# converters for agents' PARAMS tables: each returns the value or raises ValueError(what it wants)
def integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an integer")
    return value


def count(value) -> int:
    if integer(value) < 0:
        raise ValueError("an integer >= 0")
    return value


def positive(value) -> int:
    if integer(value) < 1:
        raise ValueError("a positive integer")
    return value


def number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("a number")
    return float(value)


def fraction(value) -> float:
    if not 0 <= number(value) <= 1:
        raise ValueError("a number from 0 to 1")
    return float(value)


def text(value) -> str:
    return str(value)


def choice(*names: str) -> Callable:
    def convert(value) -> str:
        if value not in names:
            raise ValueError("one of " + ", ".join(names))
        return value
    return convert


def flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def check_params(agent: str, params: dict) -> dict:
    """`params` for `agent`, each value converted by the kind its module declares in PARAMS
    (key -> one of the converters above); an unknown key or a value of the wrong kind is
    bad usage, never silently ignored."""
    known = getattr(_agent_module(agent)[0], "PARAMS", {})
    out = {}
    for key, value in params.items():
        kind = known.get(key)
        if kind is None:
            raise SuperoptError("unknown --param %r for agent %s (known: %s)"
                                % (key, agent, ", ".join(sorted(known)) or "none"))
        try:
            out[key] = kind(value)
        except ValueError as exc:
            raise SuperoptError("--param %s wants %s, got %r" % (key, exc.args[0], value)) from None
    return out


def _agent_module(name: str):
    """(the agent's module, the name of its run function); imported on demand so that enum
    and stochastic runs never load torch."""
    if name not in AGENT_PATHS:
        raise SuperoptError("unknown agent %r (known: %s)" % (name, ", ".join(AGENT_PATHS)))
    module, func = AGENT_PATHS[name].split(":")
    return importlib.import_module(module), func


def get_agent(name: str) -> Agent:
    """The agent's run function."""
    module, func = _agent_module(name)
    return getattr(module, func)
