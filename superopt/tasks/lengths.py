"""Length distributions: which length each timed call gets, for the variable sorts (n = 0..N
elements) and the varint tasks (1..size bytes: superopt.tasks.buffer).

Branchy kernels run different code per length, and the branch predictor learns whatever
pattern the lengths have (gcc's varint loop exits after the terminating byte), so a latency
figure holds for one distribution only: each call draws its own length from the one stated
here (never one length per run), and reports name it (`describe`). Forms: `uniform` (every
length equally often, the default), a single length `K` (every call), or weights
`w_low,...,w_high` (one per length, in order) or `K:W,K:W,...` (the lengths not named get 0).
"""
from __future__ import annotations

from dataclasses import replace

from superopt.errors import SuperoptError

HELP = ("Lengths of the calls, drawn per call (variable sorts: n = 0..N elements; varint tasks: 1..size bytes): "
        "uniform (every length equally often), K (always K), or weights w,...,w (one per length) or K:W,K:W,...")


def span(task) -> tuple[int, int, str] | None:
    """The lengths a task's calls take: (lowest, highest, what a length counts), None if fixed."""
    if getattr(task, "variable", False):
        return 0, task.n, "n"
    if getattr(task, "kind", None) == "buffer":
        return 1, task.size, "bytes"
    return None


def with_lengths(task, text: str | None):
    """`task` drawing its lengths from `text` (None: unchanged); bad text is a SuperoptError."""
    if text is None:
        return task
    where = span(task)
    if where is None:
        raise SuperoptError("--lengths is for the variable sorts (varsort3..varsort5) and the varint tasks, not %s"
                            % task.name)
    return replace(task, length_weights=parse(text, where[1], where[0]))


def parse(text: str, high: int, low: int = 0) -> tuple[float, ...] | None:
    """The weights of the lengths low..high (normalised), or None for uniform."""
    text, count = text.strip(), high - low + 1
    if text == "uniform":
        return None
    try:
        if "," not in text and ":" not in text:
            k = int(text)
            if not low <= k <= high:
                raise SuperoptError("--lengths %s: a length is %d..%d" % (text, low, high))
            return tuple(float(i == k) for i in range(low, high + 1))
        items = [s.strip() for s in text.split(",")]
        if all(":" in s for s in items):
            weights = [0.0] * count
            for s in items:
                k, w = s.split(":", 1)
                if not low <= int(k) <= high:
                    raise SuperoptError("--lengths %s: a length is %d..%d" % (text, low, high))
                weights[int(k) - low] = float(w)
        else:
            weights = [float(s) for s in items]
            if len(weights) != count:
                raise SuperoptError("--lengths %s: %d weights are needed (lengths %d..%d)" % (text, count, low, high))
    except ValueError:
        raise SuperoptError("--lengths %s: not uniform, a length, or weights (%d of them, or K:W,...)"
                            % (text, count)) from None
    if min(weights) < 0 or sum(weights) <= 0 or any(w != w or w == float("inf") for w in weights):
        raise SuperoptError("--lengths %s: weights are finite, non-negative and not all 0" % text)
    total = sum(weights)
    return tuple(w / total for w in weights)


def describe(task) -> str | None:
    """The task's length distribution in words (None for a fixed-size task)."""
    where = span(task)
    if where is None:
        return None
    low, high, unit = where
    weights = task.length_weights
    if weights is None:
        return "uniform over n = %d..%d" % (low, high) if unit == "n" else "uniform over %d..%d bytes" % (low, high)
    named = [(low + k, w) for k, w in enumerate(weights) if w > 0]
    if len(named) == 1:
        k = named[0][0]
        return "n = %d always" % k if unit == "n" else "%d byte%s always" % (k, "s" if k > 1 else "")
    text = ", ".join("%d: %.3g" % kw for kw in named)
    return "n = " + text if unit == "n" else "bytes " + text
