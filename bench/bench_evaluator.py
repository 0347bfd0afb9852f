"""Instruction-steps per second of the game's evaluator, next to the two obvious alternatives.

One "instruction-step" applies one instruction to the CPU state of EVERY test input (the
whole proof set: 13 inputs for sort3, 75 sort4, 541 sort5, 545,835 sort8) and returns a
new state (search needs the parent intact). All three run the same random legal
programs in this one process, so the ratios compare like with like:

- packed:  superopt.game.evaluator (Python integers as bitsets, one field per input);
- tuples:  a tuple of per-input tuples, updated input by input;
- numpy:   an int8 array (inputs x locations) plus a flags array, copied per step.

Measures the game's evaluator (superopt.game.evaluator) itself, below the library API.

Usage: .venv/bin/python bench/bench_evaluator.py [--seconds 1.0] [--tasks sort3,sort4,sort5,sort8]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from superopt.game.evaluator import CMP, MOV, dense_ranks
from superopt.game.game import Game
from superopt.tasks.registry import get_task

_TAKE = {"l": lambda f: f < 0, "g": lambda f: f > 0, "le": lambda f: f <= 0, "ge": lambda f: f >= 0}


def tuples_initial(ranks, registers):
    return tuple(tuple([-1] * registers + [int(v) for v in row]) + (0,) for row in ranks)


def tuples_step(state, op):
    kind, d, s, cond = op
    out = []
    for row in state:
        if kind == MOV:
            row = row[:d] + (row[s],) + row[d + 1:]
        elif kind == CMP:
            row = row[:-1] + ((row[d] > row[s]) - (row[d] < row[s]),)
        elif _TAKE[cond](row[-1]):
            row = row[:d] + (row[s],) + row[d + 1:]
        out.append(row)
    return tuple(out)


def numpy_initial(ranks, registers):
    locs = np.full((len(ranks), registers + ranks.shape[1]), -1, dtype=np.int8)
    locs[:, registers:] = ranks
    return locs, np.zeros(len(ranks), dtype=np.int8)


def numpy_step(state, op):
    locs, flags = state
    kind, d, s, cond = op
    if kind == CMP:
        return locs, np.sign(locs[:, d].astype(np.int16) - locs[:, s]).astype(np.int8)
    new = locs.copy()
    if kind == MOV:
        new[:, d] = locs[:, s]
    else:
        np.copyto(new[:, d], locs[:, s], where=_TAKE[cond](flags))
    return new, flags


def programs(game, count, length, rng):
    out = []
    for _ in range(count):
        state, prog = game.initial(), []
        for _ in range(length):
            legal = game.legal_mask(state).nonzero()[0]
            if not len(legal):
                break
            a = int(rng.choice(legal))
            prog.append(game.ops[a])
            state = game.step(state, a)
        out.append(prog)
    return out


def rate(initial, step, progs, seconds):
    """Instruction-steps per second over `seconds` of repeated runs of `progs`."""
    steps, start = 0, time.perf_counter()
    while True:
        for prog in progs:
            state = initial()
            for op in prog:
                state = step(state, op)
            steps += len(prog)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per implementation and task")
    parser.add_argument("--tasks", default="sort3,sort4,sort5,sort8")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("%-6s %9s %14s %14s %14s %8s %8s" % ("task", "inputs", "packed/s", "tuples/s", "numpy/s",
                                                "vs tup", "vs np"))
    for name in args.tasks.split(","):
        game = Game(get_task(name), pruning=())
        ev = game.evaluator
        ranks = dense_ranks(game.inputs)
        R = len(game.registers)
        progs = programs(game, 20, 17, rng)
        big = len(ranks) > 10_000
        packed = rate(ev.initial, ev.step, progs, args.seconds)
        tuples = float("nan") if big else rate(lambda: tuples_initial(ranks, R), tuples_step, progs, args.seconds)
        numpy_ = rate(lambda: numpy_initial(ranks, R), numpy_step, progs, args.seconds)
        print("%-6s %9d %14.0f %14.0f %14.0f %7.1fx %7.1fx" % (name, len(ranks), packed, tuples, numpy_,
                                                               packed / tuples, packed / numpy_), flush=True)


if __name__ == "__main__":
    main()
