"""The search driver: runs an agent on the assembly game and keeps its best result.

`search_game` builds the game a search plays, `checked_options` turns the options' --param
values into the agent's typed Params and refuses options the agent does not use, and
`run_search` adds the time limit and Ctrl-C handling to an agent (superopt.agents.base),
re-verifies the result in Unicorn, optionally ranks the correct programs found by measured
latency; `write_program` writes the .s file with its header.
"""
from __future__ import annotations

import signal
import time
from dataclasses import replace
from typing import Callable

from superopt.agents.base import SearchOptions, SearchResult, SearchStats, agent_params, check_options, get_agent
from superopt.agents.watch import History, stopping_rule
from superopt.known import known_best
from superopt.errors import SuperoptError
from superopt.outputs import save
from superopt.game.game import ISAS, REGISTER_ORDER, RULES, Game, default_pruning
from superopt.game.scalar import ScalarGame, scalar_game
from superopt.measure.cost import cost_model
from superopt.tasks.base import Task
from superopt.tasks.lengths import describe as describe_lengths
from superopt.tasks.registry import get_task
from superopt.x86.isa import Program, format_program, instruction_count, with_ret
from superopt.x86.semantics import extensions


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


def warm_start_registers(task: Task, program: Program | None) -> tuple[str, ...] | None:
    """The default registers plus any other the warm-start program uses (in its order)."""
    if program is None:
        return None
    regs = list(REGISTER_ORDER[: min(task.n + 1, 8)])
    for ins in program.instrs:
        for op in ins.operands:
            family = getattr(op, "family", None)
            if family and family not in regs and family != "rdi":
                regs.append(family)
    return tuple(regs)


def search_game(task: str | Task, isa: str | None = None, max_length: int | None = None, no_prune=(),
                init: Program | None = None, restrict=None) -> Game | ScalarGame:
    """The game a search plays: for a sort task the assembly game over `isa` (default
    alphadev) with the task's default pruning rules but those in `no_prune`, with the
    registers a warm start (`init`) uses; for a function task the value game
    (superopt.game.scalar), over `restrict` (superopt.game.space.Restriction) if given."""
    task = get_task(task)
    if task.kind == "function":
        return scalar_game(task, isa, max_length, no_prune, init, restrict)
    if task.kind == "buffer":
        from superopt.game.buffer import buffer_game
        return buffer_game(task, isa, max_length, no_prune, init, restrict)
    if restrict is not None and (restrict.ops is not None or restrict.constants is not None):
        raise SuperoptError("--ops and --constants restrict a function or buffer task's space: %s is a sort task"
                            % task.name)
    if task.variable:   # the branch game (superopt.game.branches)
        from superopt.game.branches import BranchGame, default_rules
        return BranchGame(task, isa=isa or "alphadev", max_length=max_length,
                          pruning=[r for r in default_rules(task.n) if r not in no_prune])
    isa = isa or "alphadev"
    if isa not in ISAS:
        raise SuperoptError("--isa %s is for function tasks: %s searches over %s" % (isa, task.name, ", ".join(ISAS)))
    unknown = set(no_prune) - set(RULES)
    if unknown:   # (Game checks the rules it is given; these would be dropped unseen)
        raise SuperoptError("unknown pruning rule %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(RULES)))
    pruning = [r for r in default_pruning(task.n) if r not in no_prune]
    return Game(task, isa=isa, max_length=max_length, pruning=pruning, registers=warm_start_registers(task, init))


def checked_options(agent: str, options: SearchOptions, kind: str = "array") -> SearchOptions:
    """`options` with the agent's typed Params (for a task of `kind`); an unknown agent, a bad
    --param or an option the agent does not use is bad usage (SuperoptError), never silently
    ignored."""
    options = replace(options, params=agent_params(agent, options.params, kind))
    check_options(agent, options, kind)
    return options


def run_search(game: Game, agent: str, options: SearchOptions,
               report: Callable[[SearchStats], None] | None = None,
               should_stop: Callable[[], bool] | None = None,
               verify: bool = True) -> SearchResult:
    """Run `agent` on `game`; Ctrl-C (SIGINT) stops it cleanly and keeps its best result.
    The returned program is re-verified in Unicorn (result.verified) unless verify=False."""
    kind = getattr(game, "kind", "array")
    options = checked_options(agent, options, kind)
    run = get_agent(agent, kind)
    stopper = Stopper(options.time_limit, should_stop)
    rule, history = stopping_rule(agent, options), History()

    def watched(stats: SearchStats) -> None:
        history.see(stats.elapsed, stats.explored, stats.best_length)
        stats.stopping, stats.history = rule, history.points
        if report is not None:
            report(stats)
    previous = None
    try:
        previous = signal.signal(signal.SIGINT, stopper.interrupt)
    except ValueError:  # not the main thread: no Ctrl-C handling
        pass
    try:
        result = run(game, options, watched, stopper)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    history.see(result.elapsed, result.explored, result.length)
    result.stopping, result.history, result.known_best = rule, history.points, known_best(game)
    result.extras.setdefault("interrupted", stopper.interrupted)
    result.extras.setdefault("timed_out", stopper.timed_out)
    if result.program is not None and verify:
        result.verified = reverify(result.program, game)
        if not result.verified:
            raise SuperoptError("internal error: the %s agent's program failed re-verification in Unicorn" % agent)
    if options.objective == "latency" and result.program is not None:
        if kind == "function":   # a function task's kernels are not timed natively yet: the cost model ranks
            result.latency = {"best": float(cost_model(result.program.instrs)), "source": "model"}
        else:
            rank_by_latency(result, game)
    result.header = (function_header if kind == "function" else result_header)(game, agent, options, result)
    result.max_length = game.max_length
    return result


def reverify(program: Program, game: Game) -> bool:
    """Check the program in Unicorn on the task's proof inputs (superopt.check.verify)."""
    from superopt.check.verify import verify
    return bool(verify(with_ret(program), game.task).passed)


SHORTLIST = 16  # candidates timed precisely, side by side, after a quick screen of all of them
SCREEN = 512     # candidates screened natively; beyond that, the cost model picks which


def rank_by_latency(result: SearchResult, game: Game) -> None:
    """Measure every correct program found natively and keep the fastest (ties: shortest).
    Beyond SHORTLIST candidates, each is first timed alone with the search's cheap
    measurement (superopt.measure.latency, ~10 ms a program) and only the fastest SHORTLIST are
    measured precisely, interleaved. Beyond SCREEN (enum --all finds over a million for
    sort3, hours of screening), the dependency-chain cost model (~25 us a program) first
    keeps the SCREEN with the shortest chains."""
    from superopt.measure.latency import cost_model
    from superopt.measure.timing import measure_latencies  # native timing loads only for this objective
    candidates = result.candidates or [result.program]
    modelled = len(candidates)
    if modelled > SCREEN:
        chains = [cost_model(p.instrs) for p in candidates]
        order = sorted(range(modelled), key=lambda i: (chains[i], len(candidates[i])))[:SCREEN]
        candidates = [candidates[i] for i in sorted(order)]
    screened = len(candidates)
    if screened > SHORTLIST:
        from superopt.measure.latency import NativeLatency
        quick = NativeLatency(game.task)
        cycles = [quick(p) for p in candidates]
        order = sorted(range(screened), key=lambda i: (cycles[i], len(candidates[i])))[:SHORTLIST]
        candidates = [candidates[i] for i in order]
    cycles = measure_latencies([with_ret(p) for p in candidates], game.task)
    best = min(range(len(candidates)), key=lambda i: (cycles[i], len(candidates[i])))
    result.program = candidates[best]
    result.length = instruction_count(candidates[best])
    result.latency = {"cycles": [float(c) for c in cycles], "best": float(cycles[best]),
                      "programs_timed": len(candidates), "programs_screened": screened,
                      "programs_modelled": modelled}


def write_program(path: str, program: Program, header: dict[str, object]) -> None:
    """Write the program as AT&T text with `# key: value` header lines (and `# needs:` naming
    the CPU extensions it needs, if any) and a `ret`, atomically; if `path` cannot be written,
    to a fallback file (superopt.outputs.ResultMoved says where)."""
    needs = extensions(program)
    if needs and "needs" not in header:
        header = {**header, "needs": ", ".join(needs)}
    lines = ["# %s: %s" % (k, v) for k, v in header.items()]
    lines += ["\t.text", "\t.globl\t%s" % header.get("task", "kernel"), "%s:" % header.get("task", "kernel")]
    lines += format_program(with_ret(program))
    save(path, "\n".join(lines) + "\n", what="the kernel")


def optimality(game: Game, result: SearchResult) -> str:
    """enum's proof holds within the instruction set and pruning rules; with compared_select,
    a heuristic cut, that is not a proof that no shorter program exists at all."""
    if not result.optimal:
        return "not proven"
    if getattr(game, "kind", "array") == "function":
        restricted = game.space.restrict.text()
        return "proven within the %s (lea: base+disp, base+index*scale)" % (
            "space of " + restricted if restricted else "general ISA over its registers and constant pool")
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
    if game.pruning != frozenset(getattr(game, "default_rules", default_pruning(game.n))):
        header["pruning"] = ",".join(sorted(game.pruning)) or "none"
    if result.latency and getattr(game.task, "variable", False):
        header["lengths"] = describe_lengths(game.task) + ", drawn per call"
    if "produced_by" in result.extras:   # the agents cooperated (agents.cooperate): say whose program it is
        bound = result.extras["init_bound"]
        header["produced by"] = "%s (first upper bound: %s's %s in %.1f s)" % (
            result.extras["produced_by"], bound["source"], bound["length"] or "nothing", bound["seconds"])
    if result.latency:
        lat = result.latency
        screened = "" if lat["programs_screened"] == lat["programs_timed"] else (
            ", the fastest of %d after a quick screen" % lat["programs_screened"])
        if lat.get("programs_modelled", 0) > lat["programs_screened"]:
            screened += ", those the shortest dependency chains of %d" % lat["programs_modelled"]
        header["latency"] = "%.2f cycles (fastest of %d correct programs measured natively side by side%s)" % (
            lat["best"], lat["programs_timed"], screened)
    return header


def function_header(game: ScalarGame, agent: str, options: SearchOptions, result: SearchResult) -> dict[str, object]:
    """A function task's result header: the spec, how the kernel was checked, what it needs."""
    task = game.task
    header = {
        "task": task.name,
        "spec": task.source,
        "signature": str(task.signature),
        "isa": game.isa_name,
        "length": result.length,
        "reference": getattr(game, "reference_line", None) or (
            "%s, %s instructions" % (game.reference_name, game.reference_length) if game.reference_length is not None
            else "its listing is not readable (%s)" % game.reference_note),
        "checked": result.extras.get("checked") or "not checked",
        "agent": agent,
        "seed": options.seed,
        "workers": options.workers,
        "time": "%.2f s" % result.elapsed,
        "programs explored": result.explored,
        "optimal": optimality(game, result),
    }
    if game.space.restrict.text():
        header["space"] = "restricted by the user: " + game.space.restrict.text()
    if result.latency:
        header["latency"] = "%d cycles (the dependency-chain cost model)" % result.latency["best"]
    return header
