"""What every agent shares: its options, progress stats and result, the registry of agents by
name with their typed Params, and the checks that refuse an option an agent does not use.

An agent is `run(game, options, report, should_stop) -> SearchResult`, registered by name
in AGENT_PATHS. It calls `report(SearchStats)` now and then, polls `should_stop()` often and
returns its best-so-far when that turns true (Ctrl-C, time limit).
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Callable

from superopt.agents.params import Params
from superopt.agents.watch import StoppingRule
from superopt.known import KnownBest
from superopt.errors import SuperoptError
from superopt.game.game import Game
from superopt.x86.isa import Instr, Program


@dataclass
class SearchOptions:
    time_limit: float | None = None     # seconds; None: until the agent is done
    seed: int = 0                       # every agent takes it; enum has no randomness (same result for any seed)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    all_optimal: bool = False           # enum: collect every optimal program
    init: Program | None = None         # stochastic: warm start
    target_length: int | None = None    # stop as soon as a correct program this short is found (enum's
                                        # first program is its shortest: it never stops sooner)
    steps: int | None = None            # stochastic: proposals per worker; alphadev: learner steps
    objective: str = "length"           # length | latency
    # agent-specific knobs: --param values (key -> value), or the agent's Params; run_search
    # turns them into the agent's Params (superopt.agents.params) before the agent sees them
    params: dict | Params = field(default_factory=dict)


@dataclass
class SearchStats:
    elapsed: float = 0.0
    explored: int = 0                   # programs (prefixes) evaluated
    deduplicated: int = 0               # states found again and skipped
    best_length: int | None = None      # shortest correct program so far
    best_correct: float = 0.0           # fraction of items placed correctly by the best incomplete program
    best_program: list[Instr] = field(default_factory=list)
    phase: str = ""                     # what the agent is doing (e.g. "bound 16")
    stopping: StoppingRule | None = None   # set by run_search: the rule the agent stops by
    history: list = field(default_factory=list)   # set by run_search: the best length over time


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
    header: dict = field(default_factory=dict)  # set by run_search: what a result file's header says
    max_length: int | None = None       # set by run_search: the longest program the game allowed
    stopping: StoppingRule | None = None   # set by run_search: the rule the search ran under
    history: list = field(default_factory=list)   # set by run_search: {seconds, programs, instructions} per improvement
    known_best: KnownBest | None = None   # set by run_search: the shortest shipped kernel within the ISA


Agent = Callable[[Game, SearchOptions, Callable[[SearchStats], None], Callable[[], bool]], SearchResult]

# name -> "module:function"; modules are imported on first use so that the torch-based
# agent costs nothing to the classical ones.
AGENT_PATHS = {
    "enum": "superopt.agents.enumerative:run",
    "stochastic": "superopt.agents.stochastic:run",
    "alphadev": "superopt.agents.alphadev.agent:run",
    "rewrite": "superopt.agents.rewrite:run",
}


# name -> "module:class" of the agent's Params (superopt.agents.params), torch-free for all
PARAMS_PATHS = {
    "enum": "superopt.agents.enumerative:EnumParams",
    "stochastic": "superopt.agents.stochastic:StochasticParams",
    "alphadev": "superopt.agents.alphadev.params:AlphaDevParams",
    "rewrite": "superopt.agents.rewrite:RewriteParams",
}

# the agents of function tasks (the value game, superopt.game.scalar): name -> (run, Params)
FUNCTION_AGENTS = {
    "stochastic": ("superopt.agents.stoke:run", "superopt.agents.stoke:StokeParams"),
    "enum": ("superopt.agents.bottomup:run", "superopt.agents.bottomup:FunctionEnumParams"),
    "alphadev": ("superopt.agents.alphadev.function:run", "superopt.agents.alphadev.params:AlphaDevParams"),
}
FUNCTION_DEFAULT_AGENT = "stochastic"

# the agents of variable sorts (the branch game, superopt.game.branches): name -> (run, Params)
BRANCH_AGENTS = {
    "splice": ("superopt.agents.splice:run", "superopt.agents.splice:SpliceParams"),
    "dispatch": ("superopt.agents.dispatch:run", "superopt.agents.dispatch:DispatchParams"),
    "enum": ("superopt.agents.branchenum:run", "superopt.agents.branchenum:BranchEnumParams"),
    "stochastic": ("superopt.agents.branchchain:run", "superopt.agents.branchchain:BranchChainParams"),
    "alphadev": ("superopt.agents.alphadev.agent:run", "superopt.agents.alphadev.params:AlphaDevParams"),
}
BRANCH_DEFAULT_AGENT = "splice"

# the SearchOptions some agents read and others refuse (Params.uses), with their CLI flags;
# the others (time limit, seed, workers, target length, objective) mean something to every agent
OPTIONAL = {"all_optimal": "--all", "init": "--init", "steps": "--steps"}

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


def _paths(kind: str, part: int) -> dict[str, str]:
    """name -> "module:attribute" of each agent of a task kind: its run function (part 0) or
    its Params class (part 1)."""
    if kind in ("function", "branch"):
        return {name: paths[part] for name, paths in (FUNCTION_AGENTS if kind == "function" else BRANCH_AGENTS).items()}
    return AGENT_PATHS if part == 0 else PARAMS_PATHS


def _attribute(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def params_class(agent: str, kind: str = "array") -> type[Params]:
    return _attribute(_paths(kind, 1)[_known(agent, kind)])


def agent_params(agent: str, values, kind: str = "array") -> Params:
    """The agent's typed Params from `values`: a dict of --param values, or Params already made
    (checked to be the agent's own)."""
    return params_class(agent, kind).of(values)


def check_options(agent: str, options: SearchOptions, kind: str = "array") -> None:
    """Refuse an option `agent` does not read (see OPTIONAL): nothing is silently ignored."""
    uses = params_class(agent, kind).uses
    for name, flag in OPTIONAL.items():
        if getattr(options, name) not in (None, False) and name not in uses:
            users = [a for a in _paths(kind, 1) if name in params_class(a, kind).uses]
            where = ""
            if not users:   # no agent of this kind reads it
                users, where = [a for a in AGENT_PATHS if name in params_class(a).uses], " on sort tasks"
            raise SuperoptError("%s is for the %s agent%s%s, not for %s"
                                % (flag, " and ".join(users), "s" if len(users) > 1 else "", where, agent))


def _known(name: str, kind: str = "array") -> str:
    known = _paths(kind, 0)
    if name not in known:
        if kind == "function" and name in AGENT_PATHS:
            raise SuperoptError("agent %s does not search function tasks yet (function tasks: %s)"
                                % (name, ", ".join(known)))
        if kind == "branch" and name in AGENT_PATHS:
            raise SuperoptError("agent %s does not search variable sorts yet (variable sorts: %s)"
                                % (name, ", ".join(known)))
        if name in BRANCH_AGENTS:
            raise SuperoptError("agent %s is for the variable sorts (varsort3..varsort5)" % name)
        raise SuperoptError("unknown agent %r (known: %s)" % (name, ", ".join(AGENT_PATHS)))
    return name


def get_agent(name: str, kind: str = "array") -> Agent:
    """The agent's run function, imported on demand (so that enum and stochastic runs never
    load torch)."""
    return _attribute(_paths(kind, 0)[_known(name, kind)])
