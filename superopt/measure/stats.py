"""Distribution-free statistics for timing runs: quantiles with order-statistic
confidence intervals, and ratios of quantiles with a joint interval.

Timing noise is one-sided (interrupts, cache misses, migrations only ever add time), so
AlphaDev reported a low quantile (the 5th percentile) of its runs. Its confidence interval
comes from the order statistics alone: the number of runs below the true quantile is
Binomial(n, q), so [x_(l), x_(u)] covers it with probability B(u-1) - B(l-1), whatever the
distribution of the runs (no normality assumption).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def binomial_cdf(n: int, p: float) -> np.ndarray:
    """P(X <= k) for k = 0..n, X ~ Binomial(n, p), computed in log space (n up to ~10^6)."""
    k = np.arange(n + 1)
    if p <= 0.0 or p >= 1.0:
        return (k >= (0 if p <= 0.0 else n)).astype(float)
    lg = np.array([math.lgamma(i + 1) for i in range(n + 1)])
    logpmf = lg[n] - lg - lg[::-1] + k * math.log(p) + (n - k) * math.log1p(-p)
    return np.minimum(np.cumsum(np.exp(logpmf)), 1.0)


def quantile_ci_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int | None, int | None, float]:
    """1-based ranks (l, u) of the order statistics bounding the q-quantile of n samples,
    and the exact coverage. A bound that n samples cannot supply is None (one-sided, open)."""
    if n < 1:
        return None, None, 0.0
    alpha = 1.0 - confidence
    cdf = np.concatenate([[0.0], binomial_cdf(n, q)])   # cdf[j] = P(X <= j-1) = P(X < j)
    # lower: largest l with P(X < l) <= alpha/2; upper: smallest u with P(X < u) >= 1-alpha/2
    lows = np.nonzero(cdf[1:n + 1] <= alpha / 2)[0]
    ups = np.nonzero(cdf[1:n + 1] >= 1 - alpha / 2)[0]
    l = int(lows[-1]) + 1 if len(lows) else None
    u = int(ups[0]) + 1 if len(ups) else None
    coverage = (cdf[u] if u else 1.0) - (cdf[l] if l else 0.0)
    return l, u, float(coverage)


@dataclass(frozen=True)
class QuantileEstimate:
    q: float
    value: float
    ci_low: float | None    # None: too few runs for this bound
    ci_high: float | None
    coverage: float         # exact probability that [ci_low, ci_high] holds the true quantile
    n: int


def quantile(samples, q: float) -> float:
    """The q-quantile as one of the samples (the ceil(q*n)-th smallest; no interpolation,
    so it is always a value that was actually measured)."""
    xs = np.sort(np.asarray(samples, dtype=float))
    return float(xs[max(1, math.ceil(q * len(xs))) - 1])


def quantile_ci(samples, q: float = 0.05, confidence: float = 0.95) -> QuantileEstimate:
    """The q-quantile of `samples` with its distribution-free confidence interval."""
    xs = np.sort(np.asarray(samples, dtype=float))
    if len(xs) == 0:
        raise ValueError("no samples")
    l, u, coverage = quantile_ci_ranks(len(xs), q, confidence)
    return QuantileEstimate(q, quantile(xs, q), float(xs[l - 1]) if l else None,
                            float(xs[u - 1]) if u else None, coverage, len(xs))


@dataclass(frozen=True)
class Ratio:
    value: float | None      # None when the denominator cannot be told from zero
    ci_low: float | None
    ci_high: float | None
    note: str = ""

    def excludes_one(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None and (self.ci_high < 1 or self.ci_low > 1)


def ratio_ci(num, den, q: float = 0.05, confidence: float = 0.95, offset: float = 0.0) -> Ratio:
    """(q-quantile(num) - offset) / (q-quantile(den) - offset) with a joint interval.

    Each quantile gets a (1+confidence)/2 interval, so by Bonferroni both hold at once with
    probability >= confidence, and the ratio interval is their extreme quotients. `offset`
    (the harness overhead) is subtracted from both before dividing."""
    each = (1.0 + confidence) / 2.0
    a, b = quantile_ci(num, q, each), quantile_ci(den, q, each)
    den_value = b.value - offset
    if den_value <= 0 or (b.ci_low is not None and b.ci_low - offset <= 0):
        return Ratio(None, None, None, "denominator within noise of zero")
    low = high = None
    if a.ci_low is not None and b.ci_high is not None:
        low = (a.ci_low - offset) / (b.ci_high - offset)
    if a.ci_high is not None and b.ci_low is not None:
        high = (a.ci_high - offset) / (b.ci_low - offset)
    note = "" if low is not None and high is not None else "too few runs for a two-sided interval"
    return Ratio((a.value - offset) / den_value, low, high, note)
