"""The AlphaDev agent: self-play actors, a replay buffer and a learner, around MCTS + network.

This module is the search agent `run` and its defaults. Small interfaces, one module each,
so each part could move to its own machine later:
  actor.Actor.play_round()   -> finished Trajectory list (several games in lockstep, one
                                batched network call per group of leaves)
  learner.ReplayBuffer.add/sample
  learner.Learner.step(batch) -> losses; Learner.weights() for the actors
  selfplay.SelfPlay          -> runs actors in this process or in worker processes, feeds the
                                buffer, steps the learner, tracks the best program; used by
                                `superopt train` and by the search agent `run`.
  remote.learn               -> the buffer and learner as a worker of their own (Ray backend)
  mcts (the trees), network (the net and its evaluator), shaping (potentials, dead states),
  checkpoint (save, load, the shipped networks), config (AgentConfig).

Values: the correctness head predicts the sum of the rewards still to come (the game's
correctness deltas, all-correct bonus and length cost, plus a potential-based shaping term);
the latency head predicts the latency reward paid when a game ends correct,
-latency_weight x the program's latency. That latency is measured natively by default
(superopt.measure.latency: Unicorn verification, then the bench harness, cached per program), or
comes from a dependency-chain cost model (AgentConfig.latency = "model"); the same figure
is the terminal reward inside the search trees and the latency head's Monte Carlo target.

What makes it work on 2 cores rather than a TPU fleet, each switchable in AgentConfig:
- shaping: reward for sorted values becoming available in some location (`placeable`),
  potential-based, so it changes no program's rank among the correct ones;
- prune_dead: a game ends as soon as no continuation can be correct within the length
  bound: a wrong store, a value no location can still deliver (`dead`), or more
  instructions still needed than the bound leaves (superopt.game.bounds, as `enum` uses);
- the MCTS backs up the best return as well as the mean (the game is deterministic) and
  closes fully explored lines; the games of an actor share one transposition table;
- imitate: the shortest programs the searches find are replayed to the learner as games
  with their moves as policy targets (self-imitation: only the agent's own discoveries);
- restart: a share of games starts part-way along one of the shortest programs found, its
  first move searched as hard as a whole round, to look for a shorter way on from there.
"""
from __future__ import annotations

from dataclasses import replace

from superopt.agents.alphadev.checkpoint import load_or_create
from superopt.agents.alphadev.config import AgentConfig
from superopt.agents.alphadev.mcts import MCTSConfig
from superopt.agents.alphadev.actor import build_game, game_spec
from superopt.agents.alphadev.selfplay import Progress, SelfPlay, SelfPlayError
from superopt.agents.alphadev.params import DEFAULT_PATIENCE, DEFAULT_TIME_CAP, AlphaDevParams
from superopt.agents.base import SearchResult, SearchStats
from superopt.agents.cooperate import upper_bound
from superopt.game.branchplay import BranchPlay
from superopt.game.game import human_length


def playable(game, max_length: int | None = None):
    """The game the agent plays for the driver's `game` (superopt.game.protocol), in the same
    action space, with room for mistakes (`horizon`) unless the user chose its maximum
    (--max-length: no longer program may come back); the branch game with rewards and
    features (superopt.game.branchplay). `max_length` (--param horizon) overrides both."""
    if game.kind == "branch":
        room = horizon(game) if game.max_length == game.default_max_length else game.max_length
        return BranchPlay(game.task, isa=game.isa_name, max_length=max_length or room,
                          pruning=game.pruning, registers=game.registers, labels=game.num_labels)
    room = horizon(game) if game.max_length == human_length(game.n) else game.max_length
    return build_game({**game_spec(game), "max_length": max_length or room})


def horizon(game) -> int:
    """How long the agent's games may grow: the game's maximum length plus room to make
    mistakes (4 per array item), which finds a first correct program far sooner; the
    length bound then closes in on the shortest."""
    return game.max_length + 4 * game.n


def default_bound_slack(game, latency_objective: bool) -> int:
    """Games end at the best length + this. Slack 1 lets them reach the best length again,
    for equally short but faster programs: sort3's latency objective needs it (17 is reached at
    once, and only more 17s can be faster). From sort4 up it stalled the descent (from scratch,
    2,700 s: a 31), while slack 0 reached a 28 in 1,440 s that ties enum's fastest 28."""
    return 1 if latency_objective and game.n < 4 else 0


def default_simulations(game, trained: bool) -> int:
    """Simulations per move when none are asked for. An untrained prior is flat, and pUCT
    needs several visits per legal action before visit counts mean anything: from scratch,
    sort3's 96 actions do well with 200 (17 in seconds), while on sort4's 160 the agent
    found nothing with 100-200, 32-33 with 400 and 30 with 800 (AlphaDev's figure). A
    trained prior concentrates the visits: from the shipped sort4 network, 200 reach 30 in
    about 10 s and 800 in 26 s. The branch game (varsort3's 124 actions, ~5-40 legal) wants
    games more than deep moves: from scratch in 240 s, 800 played 5 games and found nothing,
    200 played 33 and found a 39 (2026-12-08, load ~4)."""
    return 200 if trained or game.num_actions <= 100 or game.kind == "branch" else 800


def agent_config(params: AlphaDevParams, workers: int) -> AgentConfig:
    """The agent's configuration from its Params (`superopt search --param key=value`)."""
    def given(key, default):
        value = getattr(params, key)
        return default if value is None else value

    mcts = MCTSConfig(simulations=given("simulations", MCTSConfig.simulations), max_weight=given("max_weight", 1.0),
                      root=given("root", MCTSConfig.root), considered=given("considered", MCTSConfig.considered),
                      c_scale=given("c_scale", MCTSConfig.c_scale))
    config = AgentConfig(mcts=mcts, workers=max(1, int(workers)))
    for key in ("games_in_parallel", "batch_size", "updates_per_round", "learning_rate", "shaping", "latency_weight",
                "restart", "potential", "latency", "table_size"):
        setattr(config, key, given(key, getattr(config, key)))
    return config


def run(game, options, report, should_stop):
    """Agent "alphadev": self-play MCTS + network training while searching.

    Stops on should_stop() (time limit, Ctrl-C), at options.target_length, after options.steps
    learner steps (--steps), DEFAULT_PATIENCE seconds after the last improvement (params.patience),
    or after DEFAULT_TIME_CAP seconds when no time limit is set."""
    params = AlphaDevParams.of(options.params)
    play = playable(game, params.horizon)
    net, source, potential = load_or_create(play, params.model, params.from_scratch, seed=options.seed)
    if params.simulations is None:
        params = replace(params, simulations=default_simulations(play, source != "from scratch"))
    config = agent_config(params, options.workers if params.workers is None else params.workers)
    if potential is not None and params.potential is None:
        config.potential = potential
    latency_objective = options.objective == "latency"
    weight = params.latency_weight if params.latency_weight is not None else (
        0.01 if latency_objective else config.latency_weight)
    slack = params.bound_slack if params.bound_slack is not None else default_bound_slack(play, latency_objective)
    selfplay = SelfPlay(play, net, config, seed=options.seed, latency_weight=weight, bound_slack=slack)
    bound = None
    if params.init_bound is not None:   # another searcher's program: the first upper bound
        actions, bound = upper_bound(game, params.init_bound, should_stop)
        if game.kind == "branch":   # the same action ids, labels and rets included
            bound["length"] = play.length(actions)
            selfplay.seed_best(actions)
        elif actions is not None:   # (the same action space: play differs from game in its length only)
            selfplay.seed_best([play.action_id(ins) for ins in game.to_program(actions).instrs])
    patience = DEFAULT_PATIENCE if params.patience is None else params.patience
    cap = None if options.time_limit is not None else (DEFAULT_TIME_CAP if params.time_cap is None else params.time_cap)
    target = options.target_length

    def stop() -> bool:
        best = selfplay.progress.best_length
        return should_stop() or (target is not None and best is not None and best <= target)

    def forward(p: Progress) -> None:
        actions = p.best_actions if p.best_actions is not None else p.best_incomplete_actions
        report(SearchStats(elapsed=p.elapsed, explored=p.explored, deduplicated=p.duplicates,
                           best_length=p.best_length, best_correct=p.best_incomplete[0] / max(p.best_incomplete[1], 1),
                           best_program=list(play.to_program(actions).instrs),
                           phase="games %d, learner steps %d, loss %.3f" % (p.games, p.steps, p.losses.get("loss", float("nan")))))

    p = selfplay.run(max_steps=options.steps, should_stop=stop, report=forward, patience=patience, time_limit=cap)
    if p.failure and p.best_actions is None:
        raise SelfPlayError("the AlphaDev agent found no program before it failed: " + p.failure)
    ranked = sorted(p.candidates.items(), key=lambda kv: (kv[1], kv[0]))
    program = play.to_program(p.best_actions) if p.best_actions is not None else None
    return SearchResult(
        program=program, length=p.best_length, optimal=False, explored=p.explored + (bound["explored"] if bound else 0),
        elapsed=p.elapsed + (bound["seconds"] if bound else 0),
        deduplicated=p.duplicates, candidates=[play.to_program(a) for a, _ in ranked],
        extras={"network": source, "games": p.games, "learner_steps": p.steps, "evaluations": p.evaluations,
                "horizon": play.max_length, "simulations": config.mcts.simulations,
                "latency_source": config.latency, "potential": config.potential, "latency_programs_measured": p.latency_measured,
                "cost_model_latency": p.best_latency, **({"failure": p.failure} if p.failure else {}),
                **({"lost": p.lost} if p.lost else {}),
                **({"init_bound": bound, "produced_by": "alphadev" if bound["length"] is None or (
                    p.best_length is not None and p.best_length < bound["length"]) else bound["source"]}
                   if bound else {})})
