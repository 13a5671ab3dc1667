#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Statistics for the report: summaries, Welch's t-test, the Mann-Whitney
U test, a two-level (runs and samples) comparison, the bootstrap composite
of many points, and the rule that decides whether a change between two
sets of samples is a regression.

Standard library only.  The t distribution's CDF comes from the regularized
incomplete beta function, evaluated by its continued fraction (modified
Lentz), with math.lgamma for the prefactor.  Mann-Whitney's exact
distribution comes from the Gaussian binomial coefficients (integers).

The rule (verdict()):
  - fewer than MIN_SAMPLES on either side: the change is shown but never
    called anything ("few");
  - otherwise the change is significant when Welch's two-sided p-value is
    below alpha AND the relative change of the means is at least the noise
    floor (percent);
  - a significant change is a "regression" or an "improvement" according to
    the metric's direction ("higher" or "lower" is better); a metric with
    no direction is informational and only ever "changed".

compare_groups() is the rule the report applies to a point's metric: each
side is a list of runs, each run a list of samples, and
  - runs are the unit when a side has several (side()): its mean is the
    mean of its run means, and the variance of that mean the larger of
    the run means' variance and the samples' variance inside the runs,
    over the number of runs; a side of one run takes the between-run
    variance of the other side's runs, or of the host's other runs
    (between_var()), so that a single run is not more certain than runs
    of its kind have been; with no such variance the samples are the unit;
  - where samples are many (MW_MIN_SAMPLES a side, the same unit on both
    sides and nothing borrowed) the test is Mann-Whitney's rank test, so
    that one sample's size cannot carry a verdict;
  - a tail metric (p99.9, p99.99, max) is informational ("tail") unless
    each side has tail_min_samples() samples, and is then compared by
    ranks only.
composite() is the geometric mean of the per-point ratios of many points
with a bootstrap confidence interval.
"""
from __future__ import annotations

import functools
import math
import random
import re
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
TAIL = "tail"  # a tail figure without the samples to back it: informational
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
    p: float  # two-sided p of the test; nan when not tested
    verdict: str
    test: str = "welch"  # "welch", "mann-whitney" or "" (not tested)
    unit: str = "samples"  # what the test counted: "samples", "runs", "samples+runs"
    detectable_pct: float = math.nan  # the smallest change the test could call


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


# ---- Mann-Whitney U ----

MW_MIN_SAMPLES = 8  # samples (or runs) a side before the rank test decides
MW_EXACT_MAX = 30  # the exact distribution up to this many a side, without ties


@dataclass
class MannWhitney:
    u: float  # U of the candidate: pairs with cand > base, ties counted half
    p: float  # two-sided
    exact: bool  # from the exact distribution (else normal, tie-corrected)


@functools.lru_cache(maxsize=256)
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """How many of the C(n1 + n2, n1) orderings give U = 0, 1, ..., n1 * n2:
    the coefficients of the Gaussian binomial [n1 + n2, n1]_q, the product
    of (1 - q^(n2 + i)) / (1 - q^i) for i = 1..n1, each step a polynomial."""
    poly = [1]
    for i in range(1, n1 + 1):
        grown = poly + [0] * (n2 + i)
        for k in range(len(poly)):  # times (1 - q^(n2 + i))
            grown[k + n2 + i] -= poly[k]
        for k in range(i, len(grown)):  # divided by (1 - q^i): exact
            grown[k] += grown[k - i]
        poly = grown[:len(grown) - i]
    return tuple(poly)


def _normal_sf(z: float) -> float:
    """P(Z > z) for the standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_whitney(base: Sequence[float], cand: Sequence[float]) -> MannWhitney:
    """The Mann-Whitney U test of cand against base, two-sided.

    Exact when there are no ties and each side has at most MW_EXACT_MAX
    samples: p = 2 P(U >= max(U, n1 n2 - U)) under the null, from the
    counts of orderings.  Otherwise the normal approximation with the tie
    correction of the variance and a continuity correction of 1/2 (as
    scipy.stats.mannwhitneyu, method "asymptotic")."""
    n1, n2 = len(cand), len(base)
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney: each side needs at least 1 sample")
    allx = sorted([(x, 0) for x in cand] + [(x, 1) for x in base])
    rank_sum, ties, i, n = 0.0, 0, 0, n1 + n2
    tie_term = 0.0
    while i < n:
        j = i
        while j + 1 < n and allx[j + 1][0] == allx[i][0]:
            j += 1
        t = j - i + 1
        mid = (i + j) / 2.0 + 1.0  # the mean rank of the tied run
        rank_sum += mid * sum(1 for k in range(i, j + 1) if allx[k][1] == 0)
        if t > 1:
            ties += 1
            tie_term += t ** 3 - t
        i = j + 1
    u = rank_sum - n1 * (n1 + 1) / 2.0
    big = max(u, n1 * n2 - u)
    if not ties and max(n1, n2) <= MW_EXACT_MAX:
        counts = _u_counts(min(n1, n2), max(n1, n2))
        total = math.comb(n, n1)
        tail = sum(counts[int(round(big)):])
        return MannWhitney(u, min(1.0, 2.0 * tail / total), True)
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0.0:  # every value the same
        return MannWhitney(u, 1.0, False)
    z = (big - mu - 0.5) / math.sqrt(var)
    return MannWhitney(u, min(1.0, max(0.0, 2.0 * _normal_sf(z))), False)


# ---- tail metrics ----

_QUANTILE = re.compile(r"(?:^|_)p(\d+)(?:_(\d+))?(?:_|$)")
_MAX = re.compile(r"(?:^|_)max(?:_|$)")


def tail_quantile(metric: str) -> float:
    """The quantile a metric's name says it is (p99_9 -> 0.999, max -> 1.0),
    nan when it names none."""
    if _MAX.search(metric):
        return 1.0
    m = _QUANTILE.search(metric)
    if not m:
        return math.nan
    q = float(f"{m.group(1)}.{m.group(2) or 0}") / 100.0
    return q if 0.0 < q < 1.0 else math.nan


def tail_min_samples(metric: str) -> int:
    """Samples a side needs before a tail figure is called (0: not a tail).

    A sample's quantile q rests on the (1 - q) share of its requests that
    lie beyond it: a stall of a few requests moves a p99.9 by orders of
    magnitude.  The reference is the p99, which the report calls like any
    metric.  A figure beyond it is trusted when the samples of a side
    together put as many requests beyond it as one sample puts beyond its
    p99: n (1 - q) >= 1%, n >= 0.01 / (1 - q).  p99.9 needs 10 samples a
    side, p99.99 100; a maximum rests on one request and is never called.
    """
    q = tail_quantile(metric)
    if math.isnan(q) or q <= 0.99:
        return 0
    if q >= 1.0:
        return sys.maxsize
    return math.ceil(0.01 / (1.0 - q) - 1e-9)


# ---- runs and samples: the two-level comparison ----

@dataclass
class Between:
    """The variance components of a metric from runs of one kind, relative
    to its mean squared: between runs (the runs' own spread beyond what
    their samples explain) and inside runs (the samples' spread)."""
    rel_var: float  # between runs
    df: float
    rel_within: float  # inside runs, pooled
    within_df: float
    runs: int  # how many runs they were estimated from


@dataclass
class Side:
    mean: float  # mean of the run means (of the samples for one run)
    var: float  # variance of that mean
    df: float  # degrees of freedom of var
    n: int  # samples
    runs: int
    unit: str  # "samples", "runs" or "samples+runs" (one run, a borrowed between-run variance)
    units: list[float]  # what a rank test compares: samples, or run means


def _within(groups: Sequence[Sequence[float]]) -> tuple[float, float]:
    """(pooled variance of the samples inside the runs, its df); df 0: none."""
    ss, df = 0.0, 0
    for g in groups:
        if len(g) > 1:
            m = math.fsum(g) / len(g)
            ss += math.fsum((x - m) ** 2 for x in g)
            df += len(g) - 1
    return (ss / df, float(df)) if df else (0.0, 0.0)


def between_var(sets: Sequence[Sequence[Sequence[float]]]) -> Between | None:
    """The between-run variance from sets of runs of one kind (each set: the
    runs of one kernel on one host, each run its samples), by the method of
    moments: the variance of a set's run means less what the samples'
    variance inside the runs explains, relative to the set's mean squared,
    pooled over the sets by their degrees of freedom (runs - 1); never below
    0.  The samples' variance inside the runs is pooled over every run of
    the sets the same way.  None when no set has two runs."""
    num, df, runs = 0.0, 0, 0
    wnum, wdf_all = 0.0, 0.0
    for groups in sets:
        gs = [g for g in groups if g]
        if len(gs) < 2:
            continue
        means = [math.fsum(g) / len(g) for g in gs]
        grand = math.fsum(means) / len(means)
        if not grand:
            continue
        var_m = summarize(means).stddev ** 2
        w, wdf = _within(gs)
        inv_n = math.fsum(1.0 / len(g) for g in gs) / len(gs)
        num += (len(gs) - 1) * max(0.0, var_m - w * inv_n) / (grand * grand)
        df += len(gs) - 1
        runs += len(gs)
        wnum += wdf * w / (grand * grand)
        wdf_all += wdf
    if not df:
        return None
    return Between(num / df, float(df), wnum / wdf_all if wdf_all else 0.0, wdf_all, runs)


def side(groups: Sequence[Sequence[float]], between: Between | None = None) -> Side:
    """A side of a comparison from its runs' samples.

    Several runs: the runs are the unit.  The mean is the mean of the run
    means; its variance is max(variance of the run means, pooled variance
    inside the runs x mean(1/n)) / runs: the run means vary at least as
    much as their samples say, more when the runs differ by more than
    that (the between-run variance).  Its degrees of freedom are those of
    the estimate that is larger (runs - 1, or samples - runs).
    One run: the samples are the unit; with variance components from
    other runs of its kind (between), the samples' variance is pooled with
    theirs (a run's few samples estimate it poorly: a stall that hit every
    round of one run, and none of another, would look certain), and the
    mean's variance also holds the between-run variance, with the degrees
    of freedom of the sum (Satterthwaite)."""
    gs = [list(g) for g in groups if g]
    allx = [x for g in gs for x in g]
    n = len(allx)
    if len(gs) >= 2:
        means = [math.fsum(g) / len(g) for g in gs]
        r = len(means)
        mean = math.fsum(means) / r
        var_m = summarize(means).stddev ** 2
        w, wdf = _within(gs)
        w *= math.fsum(1.0 / len(g) for g in gs) / r
        if wdf and w > var_m:
            return Side(mean, w / r, wdf, n, r, "samples", means)
        return Side(mean, var_m / r, float(r - 1), n, r, "runs", means)
    s = summarize(allx)
    v = s.stddev ** 2 / n if n > 1 else 0.0
    df = float(n - 1)
    if between is not None and n:
        m2 = s.mean * s.mean
        wdf = df + between.within_df
        w = (s.stddev ** 2 * df + between.rel_within * m2 * between.within_df) / wdf \
            if wdf else 0.0
        vw, vb = w / n, between.rel_var * m2
        tot = vw + vb
        if tot > 0.0:
            den = (vw * vw / wdf if vw and wdf else 0.0) + \
                  (vb * vb / between.df if vb else 0.0)
            return Side(s.mean, tot, tot * tot / den, n, 1, "samples+runs", allx)
    return Side(s.mean, v, df, n, 1, "samples", allx)


def _judge(sb: Summary, sc: Summary, change: float, p: float, better: str,
           noise_pct: float, alpha: float) -> str:
    """The verdict of a tested change: significant at alpha and reaching the floor."""
    big = not math.isnan(change) and abs(change) >= noise_pct - 1e-9
    if not (p < alpha and big):
        return SAME
    if better not in ("higher", "lower"):
        return CHANGED
    worse = (sc.mean < sb.mean) if better == "higher" else (sc.mean > sb.mean)
    return REGRESSION if worse else IMPROVEMENT


def compare_groups(base: Sequence[Sequence[float]], cand: Sequence[Sequence[float]],
                   better: str = "", noise_pct: float = DEFAULT_NOISE_PCT,
                   alpha: float = DEFAULT_ALPHA, between: Between | None = None,
                   metric: str = "", level: float | None = None) -> Comparison:
    """Compare a candidate's runs with the baseline's (each a list of runs,
    each run a list of samples) under the rule (the module's docstring).

    between: the between-run variance to give a side of one run (from the
    other side's runs or the host's other runs); None leaves such a side
    with its samples.  metric: its name, for the tail rule.  level: the
    significance level after a correction over many tests (default alpha);
    detectable_pct is always at alpha, never below noise_pct."""
    lvl = alpha if level is None else level
    bflat = [x for g in base for x in g]
    cflat = [x for g in cand for x in g]
    sb, sc = summarize(bflat), summarize(cflat)
    if sb.n == 0 or sc.n == 0:
        return Comparison(sb, sc, math.nan, math.nan, MISSING, "")
    # A side of one run borrows the other side's between-run variance when
    # it has several runs, else the one given.
    bgs, cgs = [g for g in base if g], [g for g in cand if g]
    own = between_var([g for g in (bgs, cgs) if len(g) >= 2])
    borrowed = own if own is not None else between
    a = side(bgs, borrowed if len(bgs) == 1 else None)
    b = side(cgs, borrowed if len(cgs) == 1 else None)
    mean_a, mean_b = a.mean, b.mean
    change = pct_change(mean_a, mean_b)
    unit = a.unit if a.unit == b.unit else f"{a.unit}/{b.unit}"
    if sb.n < MIN_SAMPLES or sc.n < MIN_SAMPLES:
        return Comparison(sb, sc, change, math.nan, FEW, "", unit)
    # The means the verdict compares: of the run means when runs are the unit.
    sb2, sc2 = Summary(sb.n, mean_a, sb.stddev), Summary(sc.n, mean_b, sc.stddev)
    se2 = a.var + b.var
    if se2 > 0.0:
        den = (a.var ** 2 / a.df if a.var and a.df else 0.0) + \
              (b.var ** 2 / b.df if b.var and b.df else 0.0)
        df = se2 * se2 / den if den else float(sb.n + sc.n - 2)
        det = 100.0 * t_critical(alpha, df) * math.sqrt(se2) / abs(mean_a) if mean_a \
            else math.nan
    else:
        df, det = float(sb.n + sc.n - 2), 0.0
    det = max(noise_pct, det) if not math.isnan(det) else det
    # Ranks of like units (samples against samples, run means against run
    # means), when nothing was borrowed and there are many.
    ranks_ok = ((a.runs == 1) == (b.runs == 1) and "+" not in a.unit + b.unit
                and min(len(a.units), len(b.units)) >= MW_MIN_SAMPLES)
    need = tail_min_samples(metric)
    if need and (min(sb.n, sc.n) < need or not ranks_ok):
        return Comparison(sb2, sc2, change, math.nan, TAIL, "", unit)
    if ranks_ok:
        p = mann_whitney(a.units, b.units).p
        test = "mann-whitney"
    elif se2 == 0.0:
        p = 1.0 if mean_a == mean_b else 0.0
        test = "welch"
    else:
        p = t_two_sided_p((mean_b - mean_a) / math.sqrt(se2), df)
        test = "welch"
    verdict = _judge(sb2, sc2, change, p, better, noise_pct, lvl)
    return Comparison(sb2, sc2, change, p, verdict, test, unit, det)


# ---- composites: many points at once ----

MIN_POINTS = 3  # points a composite needs
DEFAULT_RESAMPLES = 1000


@dataclass
class Composite:
    points: int
    change_pct: float  # geometric mean of the per-point ratios, as a change
    low_pct: float  # the confidence interval at alpha, as changes
    high_pct: float
    p: float  # two-sided, from the interval's t
    detectable_pct: float  # the smallest change the interval could exclude 0 for
    se_log: float  # bootstrap standard error of the log ratio
    units: int  # the fewer resampling units (rounds or runs) of the two sides
    resampled: str  # what was resampled, in words


def _side_units(groups_by_point: Sequence[Sequence[Sequence[float]]]) -> tuple[str, int]:
    """("runs", R) when the side has several runs, else ("rounds", K): the
    most samples a point of its one run has."""
    runs = max((sum(1 for g in gs if g) for gs in groups_by_point), default=0)
    if runs >= 2:
        return "runs", max(len(gs) for gs in groups_by_point)
    return "rounds", max((len(g) for gs in groups_by_point for g in gs if g), default=0)


def _resampled_log_means(groups_by_point: Sequence[Sequence[Sequence[float]]], kind: str,
                         idx: Sequence[int]) -> list[float]:
    """log of each point's side mean, with the runs (kind "runs") or the
    samples (kind "rounds") drawn as idx says; a point missing a drawn unit
    uses the units it has."""
    out = []
    for gs in groups_by_point:
        if kind == "runs":
            ms = [math.fsum(gs[i]) / len(gs[i]) for i in idx if i < len(gs) and gs[i]]
            if not ms:
                ms = [math.fsum(g) / len(g) for g in gs if g]
        else:
            xs = [x for g in gs for x in g]
            ms = [xs[i] for i in idx if i < len(xs)] or xs
        out.append(math.log(math.fsum(ms) / len(ms)))
    return out


def composite(points: Sequence[tuple[Sequence[Sequence[float]], Sequence[Sequence[float]]]],
              alpha: float = DEFAULT_ALPHA, resamples: int = DEFAULT_RESAMPLES,
              seed: str = "", between: tuple[float, float] | None = None,
              between_sides: int = 0) -> Composite | None:
    """The geometric mean of the per-point ratios cand / base of many points,
    with a bootstrap confidence interval, paired by point.

    points: per point (base runs, cand runs), each run a list of samples,
    every sample > 0; run i of a side is the same run for every point, and
    so is sample i of a run (make bench's round i).  The estimate: the
    mean over the points of log(mean cand / mean base), each side's mean
    the mean of its run means.

    The bootstrap (`resamples` draws, seeded by seed: the report is
    reproducible) keeps every point with its own baseline, paired, and
    draws inside the points: the runs of a side with several runs, or the
    samples of a side of one run, with replacement and jointly for every
    point.  Jointly, because the samples of one round share the machine's
    state of that minute across every point (on this project's VM whole
    rounds differ by tens of percent): drawing each point's samples on its
    own would average the rounds' common shifts away over hundreds of
    points and give intervals far too narrow.  Two sides of one run with
    as many rounds draw the same round indices (paired by round: make
    bench measures the rounds in the same order).  The points are not
    drawn: they are the scenario's design, not a sample of
    configurations, and the composite is about them; drawing them would
    count the real differences between their changes as noise.  The
    interval is the estimate +- z' x the bootstrap standard error, with
    Hesterberg's small-sample expansion z' = sqrt(n / (n - 1)) t(alpha,
    n - 1), n the fewer rounds (or runs) of the two sides.

    between: (variance, df) of the composite's log level between runs of
    one kernel (composite_between()), added once for each of
    between_sides sides that hold a single run (its samples know nothing
    of how runs differ); the degrees of freedom of the sum by
    Satterthwaite.  None with fewer than MIN_POINTS points or fewer than
    2 rounds or runs a side."""
    pts = [(b, c) for b, c in points
           if any(b) and any(c) and all(x > 0 for g in b for x in g)
           and all(x > 0 for g in c for x in g)]
    npts = len(pts)
    if npts < MIN_POINTS:
        return None
    bgs = [b for b, _ in pts]
    cgs = [c for _, c in pts]
    bkind, bk = _side_units(bgs)
    ckind, ck = _side_units(cgs)
    n = min(bk, ck)
    if n < 2:
        return None
    paired = bkind == ckind == "rounds" and bk == ck
    full_b, full_c = list(range(bk)), list(range(ck))
    lb = _resampled_log_means(bgs, bkind, full_b)
    lc = _resampled_log_means(cgs, ckind, full_c)
    diffs = [c - b for b, c in zip(lb, lc)]
    est = math.fsum(diffs) / npts
    rng = random.Random(f"composite:{seed}")
    cache_b: dict[tuple[int, ...], list[float]] = {}
    cache_c: dict[tuple[int, ...], list[float]] = {}
    boots = []
    for _ in range(max(2, resamples)):
        ib = tuple(sorted(rng.choices(full_b, k=bk)))
        ic = ib if paired else tuple(sorted(rng.choices(full_c, k=ck)))
        if ib not in cache_b:
            cache_b[ib] = _resampled_log_means(bgs, bkind, ib)
        if ic not in cache_c:
            cache_c[ic] = _resampled_log_means(cgs, ckind, ic)
        rb, rc = cache_b[ib], cache_c[ic]
        boots.append(math.fsum(rc[i] - rb[i] for i in range(npts)) / npts)
    se = summarize(boots).stddev
    # The bootstrap's variance of a mean of n units is (n - 1) / n of the
    # unbiased one: Hesterberg's expansion puts that back.
    vboot = se * se * n / (n - 1.0)
    vb = between[0] * between_sides if between is not None and between_sides else 0.0
    vtot = vboot + vb
    if vtot > 0.0:
        den = (vboot * vboot / (n - 1.0) if vboot else 0.0) + \
              (vb * vb / between[1] if vb and between is not None else 0.0)
        df = vtot * vtot / den
        half = t_critical(alpha, df) * math.sqrt(vtot)
        p = t_two_sided_p(est / math.sqrt(vtot), df)
    else:
        half = 0.0
        p = 1.0 if est == 0.0 else 0.0
    what = "rounds (paired)" if paired else f"{bkind}/{ckind}" if bkind != ckind else bkind
    if vb:
        what += f" + between-run variance x{between_sides}"
    return Composite(npts, 100.0 * math.expm1(est), 100.0 * math.expm1(est - half),
                     100.0 * math.expm1(est + half), p, 100.0 * math.expm1(half),
                     math.sqrt(vtot), n, what)


def composite_between(sets: Sequence[Sequence[Sequence[Sequence[float]]]]) -> \
        tuple[float, float] | None:
    """The between-run variance of a composite's log level and its df.

    sets: per kernel (a set of runs of one kind), per run, per point of
    the composite, the point's samples in that run (every point in every
    run, samples > 0).  A run's level is the mean over the points of the
    log of its means; the variance of the levels of a set, less what the
    rounds inside the runs explain (the variance of the rounds' levels
    over the rounds), pooled over the sets by their runs - 1, never below
    0.  None when no set has two runs."""
    num, df = 0.0, 0
    for runs in sets:
        if len(runs) < 2:
            continue
        levels, within = [], []
        for pts in runs:
            levels.append(math.fsum(math.log(math.fsum(x) / len(x)) for x in pts) / len(pts))
            k = min(len(x) for x in pts)
            if k >= 2:
                rl = [math.fsum(math.log(x[j]) for x in pts) / len(pts) for j in range(k)]
                within.append(summarize(rl).stddev ** 2 / k)
        var_l = summarize(levels).stddev ** 2
        w = math.fsum(within) / len(within) if within else 0.0
        num += (len(runs) - 1) * max(0.0, var_l - w)
        df += len(runs) - 1
    return (num / df, float(df)) if df else None


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
