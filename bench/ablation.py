"""What the network buys: the AlphaDev search with the same budget and different guidance.

Variants (each searches the task (default sort3) from the empty program, with the same time
budget, seeds, MCTS settings and shaping; every variant but `plain` keeps training while it searches):
  trained      the network after --train-seconds of self-play (two value heads), one per seed;
               or, with --trained PATH, that checkpoint (e.g. one `superopt train --demos` wrote)
  single-head  the same training with one value head for correctness + latency (--single-head PATH:
               that checkpoint)
  untrained    a freshly initialised network
  plain        uniform prior and no value estimate (plain MCTS), no learning
  shipped      the checkpoint shipped in the package (if there is one)

Measures the AlphaDev agent's parts (superopt.agents.alphadev self-play, network, MCTS) directly.

Run: .venv/bin/python bench/ablation.py [--task sort3] [--budget 60] [--seeds 3] [--train-seconds 180]
         [--trained PATH] [--single-head PATH] [--variants trained,plain,...] [--first-seed 0]
Prints one table: runs that reached the target length, median and range of the time and
programs explored to reach it, the best length per run, and AlphaDev's programs explored.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import torch

from superopt.agents.alphadev.agent import horizon
from superopt.agents.alphadev.checkpoint import load_checkpoint, shipped_checkpoint
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.network import copy_network, new_network
from superopt.agents.alphadev.selfplay import SelfPlay
from superopt.game.game import Game, human_length
from superopt.agents.alphadev.mcts import MCTSConfig, uniform_evaluator
from superopt.agents.alphadev.network import NetConfig
from superopt.tasks.registry import get_task

TARGETS = {"sort3": 17, "sort4": 28, "sort5": 42}
ALPHADEV_EXPLORED = {"sort3": 446_000, "sort4": 1_300_000, "sort5": 6_230_000}   # the paper's figures
VARIANTS = ("trained", "single-head", "untrained", "plain", "shipped")


def train(game, seconds: float, two_heads: bool, seed: int, simulations: int):
    torch.manual_seed(seed)
    net = new_network(game, NetConfig(two_heads=two_heads))
    config = AgentConfig(mcts=MCTSConfig(simulations=simulations, max_weight=1.0))
    # games end at the best length + 1, as in `superopt train`: under a strict bound every
    # game ends hopeless once the optimum is found, and the network unlearns (measured)
    progress = SelfPlay(game, net, config, seed=seed, bound_slack=1).run(time_limit=seconds)
    return net, progress


def search(game, net, budget: float, seed: int, target: int, simulations: int, plain: bool = False):
    """One search; returns (seconds to target or None, explored at target or None, best length, explored)."""
    config = AgentConfig(mcts=MCTSConfig(simulations=simulations, max_weight=1.0))
    if plain:  # SelfPlay still wants a network object; it is never evaluated nor trained
        net = new_network(game, NetConfig())
    selfplay = SelfPlay(game, net, config, seed=seed, evaluator=uniform_evaluator if plain else None)
    hit = {}

    def report(p):
        if p.best_length is not None and p.best_length <= target and not hit:
            hit.update(time=p.elapsed, explored=p.explored)

    p = selfplay.run(time_limit=budget, report=report,
                     should_stop=lambda: bool(hit))
    return hit.get("time"), hit.get("explored"), p.best_length, p.explored


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="sort3")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per search")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--train-seconds", type=float, default=180.0)
    ap.add_argument("--simulations", type=int, default=200)
    ap.add_argument("--trained", default=None, help="checkpoint for the trained variant (else trained here)")
    ap.add_argument("--single-head", default=None, help="checkpoint for the single-head variant (else trained here)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of: " + ", ".join(VARIANTS))
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        ap.error("unknown variant %s (choose from %s)" % (unknown[0], ", ".join(VARIANTS)))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    task = get_task(args.task)
    base = Game(task)
    game = Game(task, max_length=horizon(base))
    target = TARGETS.get(task.name, human_length(task.n))
    print("task %s, instruction set %s, target length %d, budget %.0f s per search, %d seeds, "
          "%d simulations per move" % (task.name, game.isa_name, target, args.budget, args.seeds, args.simulations))

    # each search seed gets a network trained with that seed: training outcomes vary by
    # seed as much as searches do, so one trained network would stand for luck, not a variant
    trained = {}
    given = {"trained": args.trained, "single-head": args.single_head}
    for name, heads in (("trained", True), ("single-head", False)):
        if name not in variants:
            continue
        if given[name]:
            net = load_checkpoint(given[name], game)[0]
            for seed in seeds:   # each search trains its own copy further
                trained[name, seed] = copy_network(net)
            print("%-11s from %s" % (name, given[name]), flush=True)
            continue
        for seed in seeds:
            t0 = time.monotonic()
            net, prog = train(game, args.train_seconds, heads, seed, args.simulations)
            print("training %-11s seed %d, %.0f s: %d learner steps, %d games, best %s, %d programs explored" %
                  (name, seed, time.monotonic() - t0, prog.steps, prog.games, prog.best_length, prog.explored),
                  flush=True)
            trained[name, seed] = net
    shipped = shipped_checkpoint(task.name, game.isa_name)
    shipped_net = load_checkpoint(shipped, game)[0] if shipped is not None else None

    def start(name: str, seed: int):
        """The network a variant's search with `seed` starts from (None: plain MCTS)."""
        if name == "untrained":
            torch.manual_seed(100 + seed)
            return new_network(game, NetConfig())
        if name == "shipped":
            return copy_network(shipped_net)
        return None if name == "plain" else trained[name, seed]

    rows = []
    for name in [v for v in variants if v != "shipped" or shipped_net is not None]:
        results = []
        for seed in seeds:
            net = start(name, seed)
            results.append(search(game, net, args.budget, seed, target, args.simulations, plain=net is None))
            print("  %-11s seed %d: %s" % (name, seed, results[-1]), flush=True)
        reached = [r for r in results if r[0] is not None]
        rows.append((name, "%d/%d" % (len(reached), len(results)),
                     "%.1f (%.1f-%.1f)" % spread([r[0] for r in reached]) if reached else "-",
                     "%d (%d-%d)" % spread([r[1] for r in reached]) if reached else "-",
                     " ".join(str(r[2]) if r[2] is not None else "-" for r in results),
                     "%d" % statistics.median(r[3] for r in results)))

    header = ("variant", "reached %d" % target, "median s (range)", "median explored (range)", "best lengths",
              "median explored per run")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print()
    for row in (header,) + tuple(rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    if task.name in ALPHADEV_EXPLORED:
        print("AlphaDev explored %s programs for %s (the paper, on TPUs)" % (format(ALPHADEV_EXPLORED[task.name], ","),
                                                                          task.name))
    return 0


def spread(values: list) -> tuple:
    """(median, low, high)."""
    return statistics.median(values), min(values), max(values)


if __name__ == "__main__":
    sys.exit(main())
