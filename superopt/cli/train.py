"""`superopt train TASK --steps N --out ckpt.pt`: self-play training of the AlphaDev network."""
from __future__ import annotations

import json
import signal

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from superopt.cli.app import console, emit_json
from superopt.cli.options import MAX_GAMES, MAX_LENGTH, MAX_SIMULATIONS, MAX_WORKERS, Seconds, backend_options
from superopt.measure.latency import SOURCES
from superopt.outputs import Appender, NotWritten, check_outputs


@click.command("train")
@click.argument("task_name", metavar="TASK")
@click.option("--steps", default=2000, show_default=True, type=click.IntRange(1),
              help="Learner steps to reach (counting the steps of a resumed checkpoint).")
@click.option("--out", "out", default=None, help="Checkpoint to write  [default: TASK-ISA.pt]")
@click.option("--resume", is_flag=True, help="Continue from --out (weights, optimizer, counters).")
@click.option("--isa", default="alphadev", show_default=True, help="Instruction set (see `superopt search --help`).")
@click.option("--max-length", type=click.IntRange(1, MAX_LENGTH), default=None,
              help="Longest program a game may grow to  [default: human benchmark + 4 per item]")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, MAX_WORKERS),
              help="Self-play processes; 1 plays and learns in this process.")
@click.option("--simulations", default=None, type=click.IntRange(1, MAX_SIMULATIONS),
              help="MCTS simulations per move  [default: 200 with --resume or up to 100 actions (sort3), else 800]")
@click.option("--games", "games_in_parallel", default=8, show_default=True, type=click.IntRange(1, MAX_GAMES),
              help="Games each actor plays in lockstep (their leaves share network batches).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0))
@click.option("--time-limit", type=Seconds(), default=None, help="Stop after this many seconds.")
@click.option("--save-every", default=200, show_default=True, type=click.IntRange(1), help="Checkpoint every N steps.")
@click.option("--log", "log_path", default=None, help="Append JSON-lines metrics here  [default: OUT.jsonl]")
@click.option("--log-every", default=20, show_default=True, type=click.IntRange(1), help="Log metrics every N steps.")
@click.option("--single-head", is_flag=True, help="One value head for correctness + latency (ablation).")
@click.option("--latency", "latency", type=click.Choice(list(SOURCES)), default="native", show_default=True,
              help="Latency of correct programs (terminal reward, latency head target): native = verified in "
                   "Unicorn, then measured on this CPU; model = dependency-chain cost model.")
@click.option("--potential", type=click.Choice(["lookahead", "placeable"]), default=None,
              help="Shaping potential  [default: lookahead; with --resume, the checkpoint's]")
@click.option("--demos", "demo_paths", multiple=True, type=click.Path(dir_okay=False),
              help="A known correct program (assembly file) to learn from as an expert game; repeat for several.")
@click.option("--demo-share", type=click.FloatRange(0, 1), default=None,
              help="Share of each learner batch taken from the demonstrations  [default: 0.25]")
@click.option("--demo-steps", default=0, show_default=True, type=click.IntRange(0),
              help="Learner steps on the demonstrations alone before self-play starts.")
@click.option("--restart", type=click.FloatRange(0, 1), default=None,
              help="Share of games started part-way along a demonstration or a shortest program found  "
                   "[default: 0.25 with --demos, else 0]")
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print the final metrics as one JSON object.")
def train(task_name, steps, out, resume, isa, max_length, workers, simulations, games_in_parallel, seed,
          time_limit, save_every, log_path, log_every, single_head, latency, potential, demo_paths, demo_share, demo_steps, restart,
          as_json, backend="local", address=None):
    """Train the AlphaDev network for TASK by self-play: MCTS actors play the assembly game
    (for varsortN the branch game: jumps, labels, ret),
    a replay buffer keeps their games, a learner fits the policy to the search's visit
    counts and the two value heads to the returns (correctness; latency measured natively
    on every correct program the games reach, or a cost model with --latency model).
    --demos adds known correct programs as expert games (policy toward their moves, values
    toward their returns; --demo-steps studies them alone first). Ctrl-C stops and saves the checkpoint.

    Use the checkpoint with `superopt search TASK --agent alphadev --model OUT`.
    """
    from superopt.agents.pool import check_backend, using
    check_backend(backend, address)   # (before torch is imported)
    from superopt.agents.alphadev.training import Training
    from superopt.tasks.registry import get_task

    from superopt import api
    task = get_task(task_name)
    demos = [api.load(path, task) for path in demo_paths]
    out = "%s-%s.pt" % (task.name, isa) if out is None else out
    log_path = out + ".jsonl" if log_path is None else log_path
    check_outputs({"--out": out, "--log": log_path})
    training = Training(task, out, isa=isa, max_length=max_length, resume=resume, workers=workers,
                        simulations=simulations, games_in_parallel=games_in_parallel, seed=seed, latency=latency,
                        potential=potential, single_head=single_head, demos=demos, restart=restart,
                        demo_share=demo_share, demo_steps=demo_steps)
    p = training.progress
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    last = {"logged": p.steps, "saved": p.steps}

    log = Appender(log_path)
    with Progress(
            TextColumn("[bold]train %s" % task.name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"), console=console, disable=as_json) as bar:
        job = bar.add_task("steps", total=steps, completed=p.steps, info="")

        def report(_):
            bar.update(job, completed=p.steps, info="games %d  best %s  explored %d  loss %s" % (
                p.games, p.best_length or "-", p.explored,
                " ".join("%s %.3f" % kv for kv in p.losses.items()) or "-"))
            if p.steps - last["logged"] >= log_every:
                log.write(json.dumps(training.metrics()) + "\n")
                last["logged"] = p.steps
            if p.steps - last["saved"] >= save_every:
                training.save()
                last["saved"] = p.steps

        try:
            with using(backend, address):
                training.run(steps, should_stop=lambda: bool(interrupted), report=report, time_limit=time_limit)
        finally:
            signal.signal(signal.SIGINT, previous)
            log.write(json.dumps(training.metrics()) + "\n")
    out, log_path = training.out, log.where   # a fallback file, if the one asked for could not be written
    result = dict(training.metrics(), checkpoint=out, log=log_path, interrupted=bool(interrupted))
    if as_json:
        emit_json(result)
    else:
        best = p.best_length if p.best_length is not None else "none"
        console.print("saved [bold]%s[/] after %d steps, %d games, %d programs explored; shortest correct program "
                      "found while training: %s%s" % (out, p.steps, p.games, p.explored, best,
                                                       " (interrupted)" if interrupted else ""))
    moved = [str(m) for m in (training.moved, log.moved) if m is not None]
    if moved:
        raise NotWritten("; ".join(moved))
