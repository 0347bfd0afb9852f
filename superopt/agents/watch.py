"""What a search says about itself while it runs: the rule that will stop it, and the best
length over time (`run_search` attaches both to every SearchStats it passes on and to the result).

The history is sampled at the agent's reports (how often depends on the agent) and at its end:
a point's seconds and programs are those of the first report that showed the length.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from superopt.agents.alphadev.params import DEFAULT_PATIENCE, DEFAULT_TIME_CAP


@dataclass(frozen=True)
class StoppingRule:
    text: str                    # the whole rule in words, e.g. "20 s without a shorter program; 300 s at most"
    time_limit: float | None     # seconds (--time-limit, or the agent's own cap)
    patience: float | None       # seconds without a shorter program, once one is found
    target: int | None           # --target-length: stop at a correct program this short

    def remaining(self, elapsed: float, history: list[dict]) -> float | None:
        """Seconds left at most (None: the rule has no clock), counting patience from the last
        improvement seen."""
        left = [] if self.time_limit is None else [self.time_limit - elapsed]
        if self.patience is not None and history:
            left.append(history[-1]["seconds"] + self.patience - elapsed)
        return max(0.0, min(left)) if left else None

    def to_json(self) -> dict:
        return {"text": self.text, "time_limit": self.time_limit, "patience": self.patience, "target": self.target}


def stopping_rule(agent: str, options) -> StoppingRule:
    """The rule `agent` stops by under `options` (a SearchOptions whose params are the agent's
    Params, as run_search passes them)."""
    params, patience, cap = options.params, None, None
    if agent == "enum":
        words = ["every length in turn until the shortest correct program (optimality proven)"]
    elif agent == "alphadev":
        patience = DEFAULT_PATIENCE if params.patience is None else params.patience
        cap = None if options.time_limit is not None else (
            DEFAULT_TIME_CAP if params.time_cap is None else params.time_cap)
        words = ["%g s without a shorter program, once one is found" % patience]
        if options.steps:
            words.append("%s learner steps" % format(options.steps, ","))
    else:   # stochastic: each chain runs its proposals (on function tasks, ends early without progress);
        # the others (splice, rewrite, ...) end when their space is searched
        steps = options.steps or getattr(params, "steps", None)
        words = ["each chain's %s proposals" % format(steps, ",") if steps else "%s's space searched" % agent]
        if getattr(params, "patience", 0):
            words[0] += ", or %s without a better program" % format(params.patience, ",")
    limit = options.time_limit if options.time_limit is not None else cap
    if options.target_length is not None:
        words.append("a correct program of %d instructions (--target-length)" % options.target_length)
    if limit is not None:
        words.append("%g s at most%s" % (limit, " (--time-limit)" if options.time_limit is not None else ""))
    return StoppingRule("; ".join(words), limit, patience, options.target_length)


@dataclass
class History:
    """The best correct length over time: one point per improvement."""
    points: list[dict] = field(default_factory=list)

    def see(self, seconds: float, programs: int, length: int | None) -> None:
        if length is not None and (not self.points or length < self.points[-1]["instructions"]):
            self.points.append({"seconds": round(seconds, 3), "programs": programs, "instructions": length})
