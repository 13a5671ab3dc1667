#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Statistics for the report: summaries, Welch's t-test and the rule that
decides whether a change between two sets of samples is a regression.

Standard library only.  The t distribution's CDF comes from the regularized
incomplete beta function, evaluated by its continued fraction (modified
Lentz), with math.lgamma for the prefactor.

The rule (verdict()):
  - fewer than MIN_SAMPLES on either side: the change is shown but never
    called anything ("few");
  - otherwise the change is significant when Welch's two-sided p-value is
    below alpha AND the relative change of the means is at least the noise
    floor (percent);
  - a significant change is a "regression" or an "improvement" according to
    the metric's direction ("higher" or "lower" is better); a metric with
    no direction is informational and only ever "changed".
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Sequence

MIN_SAMPLES = 3
DEFAULT_ALPHA = 0.05
DEFAULT_NOISE_PCT = 5.0

# Verdicts, in the words the report prints.
REGRESSION = "regression"
IMPROVEMENT = "improvement"
CHANGED = "changed"  # significant, but the metric has no direction
SAME = "same"  # enough samples, not significant
FEW = "few"  # fewer than MIN_SAMPLES on a side: never called
BASE = "baseline"
MISSING = "missing"  # no baseline (or no candidate) for this point


@dataclass
class Summary:
    n: int
    mean: float
    stddev: float  # sample standard deviation (n - 1); 0 for n < 2

    @property
    def cv_pct(self) -> float:
        """Coefficient of variation in percent (0 when the mean is 0)."""
        return 100.0 * self.stddev / abs(self.mean) if self.mean else 0.0


def summarize(xs: Sequence[float]) -> Summary:
    n = len(xs)
    if n == 0:
        return Summary(0, math.nan, math.nan)
    mean = math.fsum(xs) / n
    if n < 2:
        return Summary(n, mean, 0.0)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return Summary(n, mean, math.sqrt(var))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    eps = 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        # even step: d_{2m}
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        # odd step: d_{2m+1}
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc: x={x} outside [0, 1]")
    if x == 0.0 or x == 1.0:
        return x
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log1p(-x))
    # The continued fraction converges fast for x < (a + 1) / (a + b + 2);
    # use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df (> 0, not necessarily whole)."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    x = df / (df + t * t)
    tail = 0.5 * betainc(df / 2.0, 0.5, x)  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|)."""
    if math.isinf(t):
        return 0.0
    return betainc(df / 2.0, 0.5, df / (df + t * t))


@dataclass
class Welch:
    t: float
    df: float
    p: float  # two-sided


def welch(a: Sequence[float], b: Sequence[float]) -> Welch:
    """Welch's unequal-variance t-test of mean(b) - mean(a)."""
    sa, sb = summarize(a), summarize(b)
    if sa.n < 2 or sb.n < 2:
        raise ValueError("welch: each side needs at least 2 samples")
    va, vb = sa.stddev ** 2 / sa.n, sb.stddev ** 2 / sb.n
    diff = sb.mean - sa.mean
    se2 = va + vb
    if se2 == 0.0:
        # No spread at all: any difference is certain, none is none.
        if diff == 0.0:
            return Welch(0.0, float(sa.n + sb.n - 2), 1.0)
        return Welch(math.copysign(math.inf, diff), float(sa.n + sb.n - 2), 0.0)
    t = diff / math.sqrt(se2)
    den = (va * va / (sa.n - 1) if va else 0.0) + (vb * vb / (sb.n - 1) if vb else 0.0)
    df = se2 * se2 / den
    return Welch(t, df, t_two_sided_p(t, df))


@dataclass
class Comparison:
    base: Summary
    cand: Summary
    change_pct: float  # (cand - base) / |base| * 100; nan when undefined
    p: float  # Welch two-sided p; nan when not tested
    verdict: str


def pct_change(base: float, cand: float) -> float:
    """Percent change; from a zero baseline any change is infinitely big."""
    if math.isnan(base) or math.isnan(cand):
        return math.nan
    if base == 0.0:
        return 0.0 if cand == 0.0 else math.copysign(math.inf, cand)
    return 100.0 * (cand - base) / abs(base)


def compare(base: Sequence[float], cand: Sequence[float], better: str = "",
            noise_pct: float = DEFAULT_NOISE_PCT,
            alpha: float = DEFAULT_ALPHA) -> Comparison:
    """Compare candidate samples against baseline samples under the rule.

    better is "higher", "lower" or "" (informational).
    """
    sb, sc = summarize(base), summarize(cand)
    if sb.n == 0 or sc.n == 0:
        return Comparison(sb, sc, math.nan, math.nan, MISSING)
    change = pct_change(sb.mean, sc.mean)
    if sb.n < MIN_SAMPLES or sc.n < MIN_SAMPLES:
        return Comparison(sb, sc, change, math.nan, FEW)
    w = welch(base, cand)
    # A tiny tolerance: a change of exactly the floor counts as reaching it.
    big = not math.isnan(change) and abs(change) >= noise_pct - 1e-9
    if not (w.p < alpha and big):
        return Comparison(sb, sc, change, w.p, SAME)
    if better not in ("higher", "lower"):
        return Comparison(sb, sc, change, w.p, CHANGED)
    worse = (sc.mean < sb.mean) if better == "higher" else (sc.mean > sb.mean)
    return Comparison(sb, sc, change, w.p, REGRESSION if worse else IMPROVEMENT)


def t_critical(alpha: float, df: float) -> float:
    """The t with P(|T| >= t) = alpha for df degrees of freedom (bisection)."""
    lo, hi = 0.0, 1.0
    while t_two_sided_p(hi, df) > alpha:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_two_sided_p(mid, df) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9 * hi:
            break
    return hi


def detectable_pct(base: Sequence[float], cand: Sequence[float],
                   noise_pct: float = DEFAULT_NOISE_PCT,
                   alpha: float = DEFAULT_ALPHA) -> float:
    """The smallest change (percent of the baseline mean) that compare()
    could call between samples spread like these: Welch's critical t at
    alpha times the standard error, and never below the noise floor.  A
    lower bound when a correction over many tests lowers alpha.  nan with
    fewer than MIN_SAMPLES on a side or a zero baseline mean."""
    sb, sc = summarize(base), summarize(cand)
    if sb.n < MIN_SAMPLES or sc.n < MIN_SAMPLES or not sb.mean:
        return math.nan
    va, vb = sb.stddev ** 2 / sb.n, sc.stddev ** 2 / sc.n
    se2 = va + vb
    if se2 == 0.0:
        return noise_pct
    den = (va * va / (sb.n - 1) if va else 0.0) + (vb * vb / (sc.n - 1) if vb else 0.0)
    df = se2 * se2 / den
    return max(noise_pct, 100.0 * t_critical(alpha, df) * math.sqrt(se2) / abs(sb.mean))


def bh_alpha(ps: Sequence[float], alpha: float = DEFAULT_ALPHA) -> float:
    """Benjamini-Hochberg: the per-test level that keeps the false discovery
    rate of the whole family of p-values at alpha.

    With m tests, the k-th smallest p-value p(k) is a discovery when some
    j >= k has p(j) <= alpha * j / m.  Returns a level such that p < level
    exactly for the discoveries (0.0: none).
    """
    srt = sorted(p for p in ps if not math.isnan(p))
    m = len(srt)
    passed: float | None = None
    for j, p in enumerate(srt, 1):
        if p <= alpha * j / m:
            passed = p
    return 0.0 if passed is None else math.nextafter(passed, math.inf)


def main(argv: list[str]) -> int:
    """stats.py A,B,C X,Y,Z [higher|lower]: compare two sample lists."""
    if len(argv) not in (2, 3) or argv[0] in ("-h", "--help"):
        print("usage: stats.py BASE_SAMPLES CAND_SAMPLES [higher|lower]\n"
              "  samples are comma-separated numbers", file=sys.stderr if argv else sys.stdout)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        a = [float(x) for x in argv[0].split(",")]
        b = [float(x) for x in argv[1].split(",")]
    except ValueError as e:
        print(f"stats: bad sample list: {e}", file=sys.stderr)
        return 2
    c = compare(a, b, argv[2] if len(argv) == 3 else "")
    print(f"base n={c.base.n} mean={c.base.mean:g} sd={c.base.stddev:g} | "
          f"cand n={c.cand.n} mean={c.cand.mean:g} sd={c.cand.stddev:g} | "
          f"change {c.change_pct:+.2f}% p={c.p:.4g} -> {c.verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
