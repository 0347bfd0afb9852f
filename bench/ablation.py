"""What the network buys: the AlphaDev search with the same budget and different guidance.

Variants (each searches sort3 from the empty program, with the same time budget, seeds,
MCTS settings and shaping; every variant but `plain` keeps training while it searches):
  trained      the network after --train-seconds of self-play (two value heads), one per seed
  single-head  the same training with one value head for correctness + latency
  untrained    a freshly initialised network
  plain        uniform prior and no value estimate (plain MCTS), no learning
  shipped      the checkpoint shipped in the package (if there is one)

Measures the AlphaDev agent's parts (superopt.agents.alphadev self-play, network, MCTS) directly.

Run: .venv/bin/python bench/ablation.py [--task sort3] [--budget 60] [--seeds 3] [--train-seconds 180]
Prints one table: runs that reached the target length, median time and programs explored
to reach it, and the best length per run.
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
    args = ap.parse_args(argv)
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
    for name, heads in (("trained", True), ("single-head", False)):
        for seed in range(args.seeds):
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
    for name in ("trained", "single-head", "untrained", "plain") + (("shipped",) if shipped_net is not None else ()):
        results = []
        for seed in range(args.seeds):
            net = start(name, seed)
            results.append(search(game, net, args.budget, seed, target, args.simulations, plain=net is None))
            print("  %-11s seed %d: %s" % (name, seed, results[-1]), flush=True)
        reached = [r for r in results if r[0] is not None]
        rows.append((name, "%d/%d" % (len(reached), len(results)),
                     "%.1f" % statistics.median(r[0] for r in reached) if reached else "-",
                     "%d" % statistics.median(r[1] for r in reached) if reached else "-",
                     " ".join(str(r[2]) if r[2] is not None else "-" for r in results),
                     "%d" % statistics.median(r[3] for r in results)))

    header = ("variant", "reached %d" % target, "median s", "median explored", "best lengths", "explored per run")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print()
    for row in (header,) + tuple(rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
