"""Length distributions for the variable sorts: which n each timed call gets.

Branchy kernels run different code per length, and the branch predictor learns whatever
pattern the lengths have, so a latency figure holds for one distribution only: each call
draws its own length from the one stated here (never one length per run), and reports
name it (`describe`). Forms: `uniform` (every n in 0..N equally often, the default), a
single length `K` (every call), or weights `w0,w1,...,wN` (one per n = 0..N) or
`K:W,K:W,...` (the lengths not named get 0).
"""
from __future__ import annotations

from dataclasses import replace

from superopt.errors import SuperoptError

HELP = ("Lengths of the variable sorts' calls, drawn per call: uniform (every n = 0..N equally often), "
        "K (always n = K), or weights w0,...,wN or K:W,K:W,...")


def with_lengths(task, text: str | None):
    """`task` drawing its lengths from `text` (None: unchanged); bad text is a SuperoptError."""
    if text is None:
        return task
    if not getattr(task, "variable", False):
        raise SuperoptError("--lengths is for the variable sorts (varsort3..varsort5), not %s" % task.name)
    return replace(task, length_weights=parse(text, task.n))


def parse(text: str, n: int) -> tuple[float, ...] | None:
    """The weights of n = 0..N (normalised), or None for uniform."""
    text = text.strip()
    if text == "uniform":
        return None
    try:
        if "," not in text and ":" not in text:
            k = int(text)
            if not 0 <= k <= n:
                raise SuperoptError("--lengths %s: a length is 0..%d" % (text, n))
            return tuple(float(i == k) for i in range(n + 1))
        items = [s.strip() for s in text.split(",")]
        if all(":" in s for s in items):
            weights = [0.0] * (n + 1)
            for s in items:
                k, w = s.split(":", 1)
                if not 0 <= int(k) <= n:
                    raise SuperoptError("--lengths %s: a length is 0..%d" % (text, n))
                weights[int(k)] = float(w)
        else:
            weights = [float(s) for s in items]
            if len(weights) != n + 1:
                raise SuperoptError("--lengths %s: %d weights are needed (n = 0..%d)" % (text, n + 1, n))
    except ValueError:
        raise SuperoptError("--lengths %s: not uniform, a length, or weights (w0,...,w%d or K:W,...)"
                            % (text, n)) from None
    if min(weights) < 0 or sum(weights) <= 0 or any(w != w or w == float("inf") for w in weights):
        raise SuperoptError("--lengths %s: weights are finite, non-negative and not all 0" % text)
    total = sum(weights)
    return tuple(w / total for w in weights)


def describe(task) -> str | None:
    """The task's length distribution in words (None for a fixed-size task)."""
    if not getattr(task, "variable", False):
        return None
    weights = task.length_weights
    if weights is None:
        return "uniform over n = 0..%d" % task.n
    named = [(k, w) for k, w in enumerate(weights) if w > 0]
    if len(named) == 1:
        return "n = %d always" % named[0][0]
    return "n = " + ", ".join("%d: %.3g" % kw for kw in named)
