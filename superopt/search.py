"""The search driver: runs a searcher (agent) on the assembly game and keeps its best result.

An agent is `run(game, options, report, should_stop) -> SearchResult`, registered by name
in AGENTS. It calls `report(SearchStats)` now and then, polls `should_stop()` often and
returns its best-so-far when that turns true (Ctrl-C, time limit). The driver
(`run_search`) adds the time limit and Ctrl-C handling, re-verifies the result in
Unicorn, optionally ranks the correct programs found by measured latency, and
`write_program` writes the .s file with its header.
"""
from __future__ import annotations

import importlib
import os
import signal
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from superopt.errors import SuperoptError
from superopt.game import Game, default_pruning
from superopt.isa import Instr, Program, format_program


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
    "enum": "superopt.enumerative:run",
    "stochastic": "superopt.stochastic:run",
    "alphadev": "superopt.alphadev:run",
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


class Stopper:
    """should_stop for agents: true after the time limit, on Ctrl-C, or when `extra()` says so."""

    def __init__(self, time_limit: float | None, extra: Callable[[], bool] | None = None):
        self.start = time.monotonic()
        self.deadline = None if time_limit is None else self.start + time_limit
        self.extra = extra
        self.interrupted = False
        self.timed_out = False

    def __call__(self) -> bool:
        if self.interrupted:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.timed_out = True
            return True
        return bool(self.extra and self.extra())

    def interrupt(self, *_):
        self.interrupted = True


def run_search(game: Game, agent: str, options: SearchOptions,
               report: Callable[[SearchStats], None] | None = None,
               should_stop: Callable[[], bool] | None = None,
               verify: bool = True) -> SearchResult:
    """Run `agent` on `game`; Ctrl-C (SIGINT) stops it cleanly and keeps its best result.
    The returned program is re-verified in Unicorn (result.verified) unless verify=False."""
    run = get_agent(agent)
    options = replace(options, params=check_params(agent, options.params or {}))
    stopper = Stopper(options.time_limit, should_stop)
    previous = None
    try:
        previous = signal.signal(signal.SIGINT, stopper.interrupt)
    except ValueError:  # not the main thread: no Ctrl-C handling
        pass
    try:
        result = run(game, options, report or (lambda stats: None), stopper)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    result.extras.setdefault("interrupted", stopper.interrupted)
    result.extras.setdefault("timed_out", stopper.timed_out)
    if result.program is not None and verify:
        result.verified = reverify(result.program, game)
        if not result.verified:
            raise SuperoptError("internal error: the %s agent's program failed re-verification in Unicorn" % agent)
    if options.objective == "latency" and result.program is not None:
        rank_by_latency(result, game)
    return result


def reverify(program: Program, game: Game) -> bool:
    """Check the program in Unicorn on the task's proof inputs (superopt.verify)."""
    from superopt.verify import verify
    return bool(verify(with_ret(program), game.task).passed)


def with_ret(program: Program) -> Program:
    if program.instrs and program.instrs[-1].op == "ret":
        return program
    return Program(program.instrs + [Instr("ret")], task=program.task, name=program.name)


SHORTLIST = 16  # candidates timed precisely, side by side, after a quick screen of all of them
SCREEN = 512     # candidates screened natively; beyond that, the cost model picks which


def rank_by_latency(result: SearchResult, game: Game) -> None:
    """Measure every correct program found natively and keep the fastest (ties: shortest).
    Beyond SHORTLIST candidates, each is first timed alone with the search's cheap
    measurement (superopt.latency, ~10 ms a program) and only the fastest SHORTLIST are
    measured precisely, interleaved. Beyond SCREEN (enum --all finds over a million for
    sort3, hours of screening), the dependency-chain cost model (~25 us a program) first
    keeps the SCREEN with the shortest chains."""
    from superopt.latency import cost_model
    from superopt.timing import measure_latencies  # native timing loads only for this objective
    candidates = result.candidates or [result.program]
    modelled = len(candidates)
    if modelled > SCREEN:
        chains = [cost_model(p.instrs) for p in candidates]
        order = sorted(range(modelled), key=lambda i: (chains[i], len(candidates[i])))[:SCREEN]
        candidates = [candidates[i] for i in sorted(order)]
    screened = len(candidates)
    if screened > SHORTLIST:
        from superopt.latency import NativeLatency
        quick = NativeLatency(game.task)
        cycles = [quick(p) for p in candidates]
        order = sorted(range(screened), key=lambda i: (cycles[i], len(candidates[i])))[:SHORTLIST]
        candidates = [candidates[i] for i in order]
    cycles = measure_latencies([with_ret(p) for p in candidates], game.task)
    best = min(range(len(candidates)), key=lambda i: (cycles[i], len(candidates[i])))
    result.program = candidates[best]
    result.length = len(candidates[best])
    result.latency = {"cycles": [float(c) for c in cycles], "best": float(cycles[best]),
                      "programs_timed": len(candidates), "programs_screened": screened,
                      "programs_modelled": modelled}


def write_program(path: str, program: Program, header: dict[str, object]) -> None:
    """Write the program as AT&T text with `# key: value` header lines and a `ret`."""
    lines = ["# %s: %s" % (k, v) for k, v in header.items()]
    lines += ["\t.text", "\t.globl\t%s" % header.get("task", "kernel"), "%s:" % header.get("task", "kernel")]
    lines += format_program(with_ret(program))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def optimality(game: Game, result: SearchResult) -> str:
    """enum's proof holds within the instruction set and pruning rules; with compared_select,
    a heuristic cut, that is not a proof that no shorter program exists at all."""
    if not result.optimal:
        return "not proven"
    if "compared_select" in game.pruning:
        return "proven within the pruning rules, including the heuristic compared_select cut"
    return "proven"


def result_header(game: Game, agent: str, options: SearchOptions, result: SearchResult) -> dict[str, object]:
    header = {
        "task": game.task.name,
        "isa": game.isa_name,
        "length": result.length,
        "agent": agent,
        "seed": options.seed,
        "workers": options.workers,
        "time": "%.2f s" % result.elapsed,
        "programs explored": result.explored,
        "optimal": optimality(game, result),
    }
    if game.pruning != frozenset(default_pruning(game.n)):
        header["pruning"] = ",".join(sorted(game.pruning)) or "none"
    if result.latency:
        lat = result.latency
        screened = "" if lat["programs_screened"] == lat["programs_timed"] else (
            ", the fastest of %d after a quick screen" % lat["programs_screened"])
        if lat.get("programs_modelled", 0) > lat["programs_screened"]:
            screened += ", those the shortest dependency chains of %d" % lat["programs_modelled"]
        header["latency"] = "%.2f cycles (fastest of %d correct programs measured natively side by side%s)" % (
            lat["best"], lat["programs_timed"], screened)
    return header
