"""The AlphaDev agent against its targets, on this machine.

  network    evaluations per second of the default network (batched, one thread)
  scratch    sort3 from scratch (no checkpoint): time and programs explored to reach 17
             (target < 5 min; AlphaDev: 6 min and 446K programs on TPUs)
  shipped    from the shipped checkpoint: sort3 to 17 (target < 30 s); --shipped-task sort4: to 28
             (target < 600 s), sort5: to 42 (target < 3600 s)
  sort4      sort4 from scratch to 28 (target < 1 h; AlphaDev: 30 min, 1.3M programs);
             only with --sort4, it takes long

Run: .venv/bin/python bench/bench_alphadev.py [--seeds 3] [--scratch-limit 300] [--sort4]
Every search is a superopt.search call (as `superopt search` makes), so each program it
reports was re-verified in Unicorn; the network section times the network evaluator itself.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import numpy as np
import torch

import superopt
from superopt.agents.alphadev.network import NetConfig, NetworkEvaluator, count_parameters, new_network
from superopt.agents.base import parse_params
from superopt.game.game import Game

ALPHADEV = {"sort3": "6 min, 446K programs", "sort4": "30 min, 1.3M programs", "sort5": "0.73 days, 6.23M programs"}
SHIPPED = {"sort3": (17, "30 s"), "sort4": (28, "600 s"), "sort5": (42, "3600 s")}  # target length, time target


def network_rate(batch: int, seconds: float = 3.0) -> float:
    game = Game(superopt.get_task("sort3"))
    net = new_network(game, NetConfig())
    evaluator = NetworkEvaluator(net, game)
    rng = np.random.default_rng(0)
    states = []
    for _ in range(batch):
        state = game.initial()
        for _ in range(rng.integers(0, 12)):
            legal = np.flatnonzero(game.legal_mask(state))
            if len(legal) == 0:
                break
            state = game.step(state, int(rng.choice(legal)))
        states.append(state)
    legal = np.stack([game.legal_mask(s) for s in states])
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        evaluator(states, legal)
        count += batch
    return count / (time.perf_counter() - start)


def search_to(task: str, target: int, limit: float, seed: int, from_scratch: bool, workers: int,
              params: dict | None = None):
    """(seconds to reach target or None, programs explored then, best length, network source,
    [(seconds, length, programs explored)] at each shorter correct program)."""
    start = time.monotonic()
    found = []

    def report(stats) -> None:
        if stats.best_length is not None and (not found or stats.best_length < found[-1][1]):
            found.append((stats.elapsed, stats.best_length, stats.explored))

    result = superopt.search(task, "alphadev", workers=workers, time_limit=limit, seed=seed, target_length=target,
                             params={"from_scratch": from_scratch, "patience": 1e9, **(params or {})},
                             report=report)
    reached = result.length is not None and result.length <= target
    return (time.monotonic() - start if reached else None, result.explored if reached else None,
            result.length, result.extras.get("network"), found)


def summary(name: str, runs: list, target: int, limit: float) -> str:
    hits = [r for r in runs if r[0] is not None]
    lengths = " ".join(str(r[2]) for r in runs)
    if len(runs) == 1:   # one long run: when each shorter program came
        lengths += "; " + ", ".join("%d at %.0f s (%d programs)" % (n, t, e) for t, n, e in runs[0][4])
    if not hits:
        return "%-26s reached %d in 0/%d runs within %.0f s (best lengths: %s)" % (name, target, len(runs), limit, lengths)
    return ("%-26s reached %d in %d/%d runs; median %.1f s (range %.1f-%.1f), median %d programs explored "
            "(best lengths: %s)" % (name, target, len(hits), len(runs), statistics.median(r[0] for r in hits),
                                    min(r[0] for r in hits), max(r[0] for r in hits),
                                    statistics.median(r[1] for r in hits), lengths))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--scratch-limit", type=float, default=300.0)
    ap.add_argument("--shipped-limit", type=float, default=60.0)
    ap.add_argument("--shipped-task", default="sort3", choices=sorted(SHIPPED))
    ap.add_argument("--sort4", action="store_true", help="also run sort4 from scratch (up to --sort4-limit)")
    ap.add_argument("--sort4-limit", type=float, default=3600.0)
    ap.add_argument("--sort4-seeds", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: network,scratch,shipped")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="agent setting for every search, as `superopt search --param`")
    ap.add_argument("--sort4-param", action="append", default=[], metavar="KEY=VALUE",
                    help="agent setting for the sort4 search only (e.g. simulations=800)")
    args = ap.parse_args(argv)
    params, sort4_params = parse_params(args.param), parse_params(args.param + args.sort4_param)
    warnings.filterwarnings("ignore")
    skip = set(filter(None, args.skip.split(",")))
    torch.set_num_threads(1)

    if "network" not in skip:
        net = new_network(Game(superopt.get_task("sort3")), NetConfig())
        print("default network: %d parameters" % count_parameters(net))
        for batch in (1, 16, 64, 256):
            print("network evaluations/s at batch %-4d %8.0f" % (batch, network_rate(batch)), flush=True)
    if "shipped" not in skip:
        task, (target, goal) = args.shipped_task, SHIPPED[args.shipped_task]
        runs = [search_to(task, target, args.shipped_limit, s, False, args.workers, params) for s in range(args.seeds)]
        print(summary("%s, shipped checkpoint" % task, runs, target, args.shipped_limit) +
              "  [target < %s; network: %s; AlphaDev: %s]" % (goal, runs[0][3], ALPHADEV[task]), flush=True)
    if "scratch" not in skip:
        runs = [search_to("sort3", 17, args.scratch_limit, s, True, args.workers, params) for s in range(args.seeds)]
        print(summary("sort3, from scratch", runs, 17, args.scratch_limit) + "  [target < 300 s; AlphaDev: %s]"
              % ALPHADEV["sort3"], flush=True)
    if args.sort4:
        runs = [search_to("sort4", 28, args.sort4_limit, s, True, args.workers, sort4_params)
                for s in range(args.sort4_seeds)]
        print(summary("sort4, from scratch", runs, 28, args.sort4_limit) + "  [target < 3600 s; AlphaDev: %s]"
              % ALPHADEV["sort4"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
