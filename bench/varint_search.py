"""Why `superopt search varint32` finds no decoder: the space's size, and where STOKE's chain
gets stuck, in counts (proposals, not seconds, so a run is reproducible).

    .venv/bin/python bench/varint_search.py --proposals 1000000 \
        --ops mov,movzx,shl,or,andn,blsmsk,pext --constants 32,0x80808080 [--init prefix.s]

Prints the instructions per position of the space (full, and restricted by --ops/--constants
as `superopt search` would be), the number of programs of the shipped kernel's length, whether
the shipped 9 (asm/varint32_found.s) is inside the restricted space, and for one chain (the
stochastic agent's `Chain`, seed 0, its default parameters but `--param`-style overrides) the
lowest-cost program it met: its cost beside a correct 9's (alpha x 9), and the share of the
verification set it decodes right per varint length: how close the chain came, and whether its
cost even prefers the correct program.
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import superopt
from superopt.agents.base import parse_params
from superopt.agents.cegis import Checker
from superopt.agents.stoke import Chain, StokeParams
from superopt.game.buffer import BufferGame
from superopt.game.space import restriction
from superopt.tasks.buffer import lengths_of
from superopt.tasks.registry import get_task

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "asm", "varint32_found.s")


def per_length(game: BufferGame, program: list) -> list[str]:
    """The share of the game's verification set `program` gets right, per varint length."""
    ev = game.evaluator(game.args, game.expected)
    right = ~ev.errors(ev.run(program))[:len(game.args)].astype(bool)
    lengths = lengths_of(game.args)
    return ["%d: %.3f" % (k, right[lengths == k].mean()) for k in range(1, game.task.size + 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="varint32")
    ap.add_argument("--proposals", type=int, default=200_000)
    ap.add_argument("--ops", default=None)
    ap.add_argument("--constants", default=None)
    ap.add_argument("--init", default=None, help="the chain's start (default: empty)")
    ap.add_argument("--max-length", type=int, default=10)
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    task = get_task(args.task)
    restrict = restriction(args.ops and args.ops.split(","),
                           None if args.constants is None else [c for c in args.constants.split(",") if c])
    full = BufferGame(task, args.max_length)
    init = superopt.load(args.init, task) if args.init else None
    game = BufferGame(task, args.max_length, init, restrict=restrict)
    shipped = [i for i in superopt.load(SHIPPED, "varint32").instrs if i.op != "ret"]
    n_full, n_game = len(full.space.every()), len(game.space.every())
    print("uptime: %s" % os.popen("uptime").read().strip())
    print("instructions per position: %d (full space), %d (%s)" % (n_full, n_game, restrict.text() or "unrestricted"))
    print("programs of %d instructions: %.2e (full), %.2e (restricted)" % (
        len(shipped), float(n_full) ** len(shipped), float(n_game) ** len(shipped)))
    print("the shipped %d inside the restricted space: %s" % (
        len(shipped), all(game.space.contains(i) for i in shipped) if task.name == "varint32" else "-"))
    params = StokeParams.of(parse_params(args.param))
    chain = Chain(game, params, 0, game.warm or [], Checker(task, params.prove))
    chain.run(args.proposals, lambda: False)
    cost, closest = chain.closest
    print("chain: %d proposals from %s; best checked: %s" % (
        chain.explored, args.init or "empty", "%d instructions" % len(chain.best) if chain.best else "none"))
    print("lowest cost met: %.3f (%d instructions; a correct %d costs %.3f), right per length on the %d-buffer "
          "verification set: %s" % (cost, len(closest), len(shipped), params.alpha * len(shipped), len(game.args),
                                    ", ".join(per_length(game, closest))))
    for ins in closest:
        print("    " + ins.att())
    print("uptime: %s" % os.popen("uptime").read().strip())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
