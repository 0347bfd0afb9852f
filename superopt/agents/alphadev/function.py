"""The AlphaDev agent on function tasks: self-play MCTS + network on the value game
(superopt.game.valueplay), its CPU-state encoder reading the values as bits.

The same actor, learner and MCTS as for the sort tasks (superopt.agents.alphadev.agent), with
what only the sort game has left out: no lower bound or dead-state test (they reason about
ranks in array slots), no shaping potential (shaping 0), latency from the cost model (the
length objective uses it as a tie-break only). Always from scratch: nothing is shipped for
function tasks, and --model takes a checkpoint of the same task and action space. The actors
run in this process (the value game is rebuilt from the ScalarGame, not from a task name, so
worker processes are not supported yet). Every correct program the games find loses the
instructions it is right without (`shorten`), then goes through CEGIS's Unicorn run and SMT
proof (superopt.agents.cegis), shortest first; the first that passes is the result.
"""
from __future__ import annotations

from dataclasses import replace

from superopt.agents.alphadev.agent import agent_config
from superopt.agents.alphadev.checkpoint import load_or_create
from superopt.agents.alphadev.params import AlphaDevParams
from superopt.agents.alphadev.selfplay import SelfPlay
from superopt.agents.base import SearchResult, SearchStats
from superopt.agents.cegis import Checker
from superopt.game.valueplay import ValuePlay

DEFAULT_PATIENCE = 20.0     # seconds without a shorter program, once one is found
DEFAULT_TIME_CAP = 120.0    # seconds, when the caller sets no time limit
PROVE = 10.0                # seconds per proof attempt


def run(game, options, report, should_stop):
    """Agent "alphadev" on a function task (the module docstring)."""
    params = AlphaDevParams.of(options.params)
    play = ValuePlay(game, max_length=params.horizon)
    net, source, _ = load_or_create(play, params.model, from_scratch=not params.model, seed=options.seed)
    if params.simulations is None:
        params = replace(params, simulations=200)
    config = agent_config(params, 1)
    config.shaping = params.shaping or 0.0
    config.prune_dead = False
    config.latency = "model"
    target = options.target_length
    selfplay = SelfPlay(play, net, config, seed=options.seed,
                        latency_weight=params.latency_weight if params.latency_weight is not None else 0.0,
                        bound_slack=params.bound_slack or 0)

    def stop() -> bool:
        best = selfplay.progress.best_length
        return should_stop() or (target is not None and best is not None and best <= target)

    def forward(p) -> None:
        actions = p.best_actions if p.best_actions is not None else p.best_incomplete_actions
        report(SearchStats(elapsed=p.elapsed, explored=p.explored, deduplicated=p.duplicates,
                           best_length=p.best_length, best_correct=p.best_incomplete[0] / max(p.best_incomplete[1], 1),
                           best_program=list(play.to_program(actions).instrs),
                           phase="games %d, learner steps %d" % (p.games, p.steps)))

    patience = DEFAULT_PATIENCE if params.patience is None else params.patience
    cap = None if options.time_limit is not None else (DEFAULT_TIME_CAP if params.time_cap is None else params.time_cap)
    p = selfplay.run(max_steps=options.steps, should_stop=stop, report=forward, patience=patience, time_limit=cap)
    checker = Checker(game.task, PROVE)
    program, label = None, None
    pairs = [(a, shorten(play, a)) for a in p.candidates]
    shortened = sorted({s for _, s in pairs}, key=lambda a: (len(a), a))
    for actions in shortened:
        outcome = checker(play.to_program(actions).instrs)
        if outcome.passed:
            program, label = play.to_program(actions), outcome.label
            break
    return SearchResult(
        program=program, length=len(program) if program is not None else None, optimal=False,
        explored=p.explored, elapsed=p.elapsed, deduplicated=p.duplicates,
        candidates=[program] if program is not None else [],
        extras={"network": source, "games": p.games, "learner_steps": p.steps, "evaluations": p.evaluations,
                "actions": play.num_actions, "horizon": play.max_length, "simulations": config.mcts.simulations,
                "checked": label, "shortened": sum(len(s) < len(a) for a, s in pairs),
                "found_after": round(selfplay.best_time, 3) if selfplay.best_time is not None else None, "solved_programs": len(p.candidates),
                "emulated": checker.emulated, "proofs": checker.proofs})


def shorten(play: ValuePlay, actions: tuple) -> tuple:
    """`actions` without the moves it solves without (a game only appends, so a solved program
    may carry dead instructions: p03's first games solved with an `andl $2, %eax` before blsi),
    deleting one at a time from the last while the rest still solve."""
    actions = tuple(actions)
    k = len(actions) - 1
    while k >= 0 and len(actions) > 1:
        shorter = actions[:k] + actions[k + 1:]
        state = play.initial()
        for a in shorter:
            state = play.step(state, a)
        if state.solved:
            actions = shorter
        k -= 1
    return actions
