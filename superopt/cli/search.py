"""`superopt search TASK`: play the assembly game with a searcher and write the best kernel found."""
from __future__ import annotations

import os
import sys

import click
from rich.live import Live
from rich.table import Table

from superopt.cli.app import console, emit_json, err_console
from superopt.cli.options import MAX_LENGTH, MAX_WORKERS, Seconds, backend_options
from superopt.errors import SuperoptError
from superopt.game.game import ISAS, RULES
from superopt.game.branches import BRANCH_RULES
from superopt.tasks.lengths import HELP as LENGTHS_HELP, with_lengths
from superopt.agents.base import (AGENT_PATHS, BRANCH_AGENTS, BRANCH_DEFAULT_AGENT, DEFAULT_AGENT,
                                  FUNCTION_DEFAULT_AGENT, SearchStats, parse_params)
from superopt.agents.pool import check_backend, using
from superopt.game.scalar import ISA as SCALAR_ISA, ISA_TEXT as SCALAR_ISA_TEXT
from superopt import api
from superopt.driver import write_program
from superopt.outputs import ResultMoved, check_outputs


# the result header's facts that --json passes on as they are (its length, time, "programs explored"
# and "optimal" text become instructions, seconds, programs and proof: docs/json.md)
_HEADER_KEYS = ("task", "isa", "agent", "seed", "workers", "pruning", "spec", "signature", "reference", "checked",
                "space")


def _display(stats: SearchStats, task: str, agent: str, isa: str) -> Table:
    table = Table(title="superopt search %s (agent %s, isa %s)" % (task, agent, isa), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("elapsed", "%.1f s" % stats.elapsed)
    if stats.stopping is not None:
        left = stats.stopping.remaining(stats.elapsed, stats.history)
        table.add_row("stops after", stats.stopping.text)
        table.add_row("remaining", "-" if left is None else "%.1f s at most" % left)
    table.add_row("phase", stats.phase or "-")
    table.add_row("programs explored", "{:,}".format(stats.explored))
    table.add_row("states deduplicated", "{:,}".format(stats.deduplicated))
    table.add_row("best correct length", "-" if stats.best_length is None else str(stats.best_length))
    if stats.history:   # the last improvements, oldest first
        table.add_row("improvements", "\n".join("%d at %.1f s (%s programs)" % (h["instructions"], h["seconds"],
                                                format(h["programs"], ",")) for h in stats.history[-5:]))
    if stats.best_length is None and stats.best_program:   # (enum tracks complete programs only)
        table.add_row("best incomplete", "%.1f%% of items correct" % (100 * stats.best_correct))
    if stats.best_program:
        table.add_row("best program", "\n".join(i.att() for i in stats.best_program))
    return table


@click.command("search")
@click.argument("task_name", metavar="TASK")
@click.option("--agent", type=click.Choice(sorted(set(AGENT_PATHS) | set(BRANCH_AGENTS))), default=None,
              help="Searcher: enum (exhaustive, proves optimality), stochastic (AlphaDev-S; on function tasks "
                   "STOKE's chain), alphadev (MCTS + network), rewrite (sorting networks compiled with AlphaDev's "
                   "saving, then polished). Default: %s for the sort tasks; %s for function "
                   "tasks, measured on the Hacker's Delight suite, 60 s each (bench/bench_hackers.py): stochastic "
                   "found all 25, none longer than gcc -O2; alphadev, untrained, 5 of 12 (the 1-2 instruction "
                   "ones); enum needs a minute for length 2. Variable sorts: %s (a network with a branch per "
                   "length into its shared tail), enum (depth-first on the branch game), stochastic "
                   "(AlphaDev-S's chain on it) or alphadev (MCTS + network on it)." % (DEFAULT_AGENT, FUNCTION_DEFAULT_AGENT, BRANCH_DEFAULT_AGENT))
@click.option("--isa", "isa_name", type=click.Choice(sorted(ISAS) + [SCALAR_ISA]), default=None,
              help="Instruction set (decides what 'optimal' means): " +
                   "; ".join("%s = %s" % kv for kv in ISAS.items()) + " (sort tasks; default alphadev); " +
                   "%s = %s (function tasks, their only one)" % (SCALAR_ISA, SCALAR_ISA_TEXT))
@click.option("--objective", type=click.Choice(["length", "latency"]), default="length", show_default=True,
              help="length: shortest program; latency: time every correct program found natively, keep the fastest.")
@click.option("--time-limit", type=Seconds(), default=None,
              help="Stop after this many seconds and keep the best program so far.")
@click.option("--max-length", type=click.IntRange(1, MAX_LENGTH), default=None,
              help="Longest program considered (default: the human benchmark's length).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Random seed (runs are deterministic per seed and worker count).")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=os.cpu_count() or 1, show_default=True,
              help="Worker processes.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the kernel (default TASK.s in the current directory).")
@click.option("--all", "all_optimal", is_flag=True, help="enum: collect every optimal program (ranked by latency "
              "with --objective latency); refused by the other agents.")
@click.option("--init", "init_path", type=click.Path(dir_okay=False), default=None,
              help="stochastic: warm-start from this program (AT&T .s, or FILE.s:NAME); rewrite: compile its "
                   "network too; refused by the other agents.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="stochastic: proposals per chain (default 300,000); alphadev: stop after this many learner "
                   "steps; refused by enum.")
@click.option("--target-length", type=click.IntRange(min=1), default=None,
              help="Stop as soon as a correct program this short is found.")
@click.option("--lengths", default=None,
              help=LENGTHS_HELP + ": the calls --objective latency times (variable sorts only; default uniform).")
@click.option("--no-prune", "no_prune", multiple=True, type=click.Choice(RULES + BRANCH_RULES),
              help="Switch off a pruning rule (repeatable): AlphaDev's five, or compared_select (on from "
                   "sort4 up), a heuristic cut that keeps cmov to selecting between the two values the "
                   "last cmp compared; on variable sorts also no_dead_write and length_branches "
                   "(superopt.game.branches).")
@click.option("--ops", default=None, metavar="OP,OP,...",
              help="Function and buffer tasks: search over these opcodes only (as STOKE lets its user choose), "
                   "e.g. mov,movzx,shl,or,andn,blsmsk,pext; the result header says so.")
@click.option("--constants", default=None, metavar="C,C,...",
              help="Function and buffer tasks: exactly these immediates instead of the constant pool (decimal "
                   "or 0x..); the result header says so.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Agent-specific setting, e.g. alpha=0.4 for stochastic, latency=model for alphadev "
                   "(the cost model instead of native measurement) (repeatable; an unknown key is refused "
                   "with the list of known ones).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="alphadev: start from this checkpoint (from `superopt train`) instead of the shipped one.")
@click.option("--from-scratch", is_flag=True, help="alphadev: ignore the shipped checkpoint; start untrained.")
@click.option("--signature", default=None, metavar="PROTOTYPE",
              help="The C prototype of an assembly spec (TASK = FILE.s), e.g. \"uint32_t f(uint32_t x)\".")
@click.option("--cc", default="gcc", show_default=True, help="The compiler of a C spec (TASK = FILE.c).")
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def search(task_name, agent, isa_name, objective, time_limit, max_length, seed, workers, out_path, all_optimal,
           init_path, steps, target_length, lengths, no_prune, ops, constants, params, signature, cc, as_json,
           model_path=None, from_scratch=False, backend="local", address=None):
    """Search for a short (or fast) correct kernel for TASK, e.g. `superopt search sort3`,
    or `superopt search f.c` (the C function is the spec; `f.c:NAME` picks one).

    Sort tasks: every program is checked on all weak orderings of the input by the game's
    evaluator. Function tasks: candidates are checked on the task's inputs by the value
    evaluator, then in Unicorn and by an SMT proof (a counterexample joins the inputs); the
    result file says how it was checked. Every result is re-verified in Unicorn before it is
    written. Ctrl-C stops the search and still writes the best correct program found. Exit
    code 0 when a correct program was found, 1 when none was, 2 on bad usage.
    """
    check_backend(backend, address)
    task = with_lengths(api.get_task(task_name, signature, cc), lengths)
    if lengths is not None and task.kind == "buffer":
        raise SuperoptError("--lengths: %s's search ranks by the cost model, which no length distribution changes "
                            "(superopt bench --lengths times it per distribution)" % task.name)
    agent = agent or (FUNCTION_DEFAULT_AGENT if task.kind in ("function", "buffer") else
                      BRANCH_DEFAULT_AGENT if getattr(task, "variable", False) else DEFAULT_AGENT)
    isa_name = isa_name or (SCALAR_ISA if task.kind in ("function", "buffer") else "alphadev")
    if (model_path or from_scratch) and agent != "alphadev":
        raise SuperoptError("--model and --from-scratch are for the alphadev agent (got --agent %s)" % agent)
    params = dict(parse_params(params), **({"model": model_path} if model_path else {}),
                  **({"from_scratch": True} if from_scratch else {}))
    out_path = "%s.s" % task.name if out_path is None else out_path
    check_outputs({"--out": out_path})
    live = []   # the display starts with the first report, once every option has been checked

    def report(stats: SearchStats) -> None:
        if not live:
            live.append(Live(_display(stats, task.name, agent, isa_name), console=console, auto_refresh=False,
                             transient=False))
            live[0].start()
        live[0].update(_display(stats, task.name, agent, isa_name), refresh=True)

    try:
        with using(backend, address):
            result = api.search(task, agent, workers=workers, time_limit=time_limit, seed=seed, objective=objective,
                                target_length=target_length, steps=steps, all_optimal=all_optimal, init=init_path,
                                isa=isa_name, max_length=max_length, no_prune=no_prune, params=params,
                                report=None if as_json else report, signature=signature, cc=cc,
                                ops=None if ops is None else ops.split(","),
                                constants=None if constants is None else [c for c in constants.split(",") if c.strip()])
    finally:
        if live:
            live[0].stop()
            if not console.is_terminal:  # rich leaves a non-terminal Live's last frame unterminated
                console.line()
    header = result.header
    moved = None
    if result.program is not None:
        try:
            write_program(out_path, result.program, header)
        except ResultMoved as exc:   # the summary still says what was found, and where it went
            moved, out_path = exc, exc.where
    summary = {**{k: header[k] for k in _HEADER_KEYS if k in header}, "objective": objective, "backend": backend,
               "found": result.program is not None, "output": out_path if result.program is not None else None,
               "instructions": result.length, "optimal": bool(result.optimal), "proof": header["optimal"],
               "seconds": round(result.elapsed, 3), "programs": result.explored,
               "deduplicated": result.deduplicated, "verified": result.verified,
               "program": [i.att() for i in result.program.instrs] if result.program else None,
               "interrupted": result.extras.get("interrupted", False), "latency": result.latency or None,
               "extras": {k: v for k, v in result.extras.items() if k != "interrupted"},
               "stopping": result.stopping.to_json(), "history": result.history,
               "known_best": result.known_best.to_json() if result.known_best else None}
    known = result.known_best
    worse = known is not None and (result.length is None or result.length > known.instructions)
    if as_json:
        emit_json(summary)
    elif result.program is not None:
        checked = "; %s" % header["checked"] if "checked" in header else ""
        console.print("[green]found[/] a correct %d-instruction %s kernel (%s, optimality %s), re-verified in Unicorn%s; "
                      "written to %s" % (result.length, task.name, isa_name, header["optimal"], checked, out_path))
        if result.extras.get("interrupted"):
            console.print("stopped by Ctrl-C: this is the best program found so far")
    else:
        why = "stopped before" if result.extras.get("interrupted") or result.extras.get("timed_out") else "search ended"
        err_console.print("no correct program found (%s; longest length searched: %s)" % (why, result.max_length))
    if worse and not as_json:   # (next to the line it qualifies: stdout when found, stderr when not)
        (console if result.program is not None else err_console).print(
            "[yellow]worse than shipped[/]: %s; the shipped %s has %d (`superopt examples copy %s .`)" % (
                "%d instructions" % result.length if result.program is not None else "none found", known.file,
                known.instructions, known.file), soft_wrap=True)
    if moved is not None:
        raise moved
    sys.exit(0 if result.program is not None else 1)
