#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Change points in the history of the store.

The store keeps every run.  The runs of one host and kernel, in the order
of their time (the UTC time a run id starts with, else env.json's
time_utc), make a series for every point's metric: one value per run, the
mean of its samples (runs are the unit: the samples of one run share the
machine's state of that run).  A change point is where the level of a
series shifts and stays shifted.

The method is E-Divisive (Matteson and James, "A Nonparametric Approach
for Multiple Change Point Analysis of Multivariate Data", 2014), the one
Apache Otava (Hunter) and MongoDB's CI build on: the split of a segment
into [s, tau) and [tau, kappa) that maximizes the energy divergence

  Q = n1 n2 / (n1 + n2) * (2 mean|X - Y| - mean|X - X'| - mean|Y - Y'|)

over the segment's mean |X - X'| (so that the statistic depends on
neither the level nor the scale of the values) is the candidate.  It is
significant when the chance that the null gives a split at least as
divergent, searched the same way, is at most alpha (--cp-alpha, 0.01):
by default the null is normal noise (run means that scatter normally;
its distribution depends only on the segment's length, drawn once), or,
with null="permutation", the segment's own values shuffled (no
assumption, but few runs have few orders: about 10 runs are needed to
reach 0.01).  Either accounts for the search over every position: Otava's
t-test at the best split does not (on flat normal series of 12 it is
below 0.01 in 11% of them).  Splitting goes on, segment by segment, until
the best remaining candidate is not significant.  Then, as Otava's merge
step does, a change smaller than the noise floor (--noise) is dropped, the
smallest first, and its neighbours' segments are joined.  Every segment
holds at least MIN_SIZE runs: a single run out of line is a passing
disturbance, not a shift (the newest run against the history is what
ci/history.sh compare judges).

Each change point: its position (the first run after the shift), the
means of the segments before and after, the change in percent, the
p-value, and a verdict by the metric's direction.  Every draw is seeded:
the same store gives the same report.

A series is a list of (time, run, values): per point metric
(point_series()), and per composite: composite_series() gives each
scenario, and each engine of a scenario, an index per run, the geometric
mean over its points of the key metric against the point's median run,
oriented so that higher is better.  Anything else that can be given one
value per run (another composite) goes through analyse() the same way.
"""
from __future__ import annotations

import bisect
import datetime
import hashlib
import math
import random
import re
import sys
from dataclasses import dataclass, field
from typing import Sequence

from aiosuite import stats
from aiosuite.report.collect import Point, Run

DEFAULT_ALPHA = 0.01  # a change point's significance level, per series
DRAWS = 999  # shuffles per permutation test: p resolution 0.001
MIN_SIZE = 2  # runs on each side of a change point, at least
MAX_RUNS = 30  # the newest runs of a host and kernel that are analysed
# The metric that stands for a point in the charts and the composites: the
# first of these the point has, else the first with a direction.
KEY_METRICS = ("iops", "read_iops", "write_iops", "bytes_per_s", "read_bytes_per_s",
               "write_bytes_per_s", "read_bw_bytes", "write_bw_bytes")


# ---- the detector ----

class _Energy:
    """Sums of |x_i - x_j| over blocks of a series, from a 2-D prefix sum."""

    def __init__(self, xs: Sequence[float]):
        n = len(xs)
        self.p = [[0.0] * (n + 1) for _ in range(n + 1)]
        for i in range(n):
            row, prev = self.p[i + 1], self.p[i]
            acc = 0.0
            xi = xs[i]
            for j in range(n):
                acc += abs(xi - xs[j])
                row[j + 1] = prev[j + 1] + acc

    def block(self, a0: int, a1: int, b0: int, b1: int) -> float:
        p = self.p
        return p[a1][b1] - p[a0][b1] - p[a1][b0] + p[a0][b0]

    def within(self, a: int, b: int) -> float:
        """Mean |x_i - x_j| over pairs i != j of [a, b) (0 for one value)."""
        n = b - a
        return self.block(a, b, a, b) / (n * (n - 1)) if n > 1 else 0.0

    def best(self, s: int, e: int, min_size: int) -> tuple[float, int]:
        """(Q, tau) of the most divergent split of [s, e): X = [s, tau),
        Y = [tau, kappa) for any kappa <= e; (-1, -1) when [s, e) is too
        short to split."""
        top, at = -1.0, -1
        for tau in range(s + min_size, e - min_size + 1):
            n1 = tau - s
            wx = self.within(s, tau)
            for kappa in range(tau + min_size, e + 1):
                n2 = kappa - tau
                between = self.block(s, tau, tau, kappa) / (n1 * n2)
                q = n1 * n2 / (n1 + n2) * (2.0 * between - wx - self.within(tau, kappa))
                if q > top + 1e-12 * abs(top):
                    top, at = q, tau
        return top, at


def _best_of(xs: Sequence[float], bounds: list[int], min_size: int) -> tuple[float, int]:
    """(statistic, tau) of the best split over every segment of xs (bounds
    are the segments' edges): the largest Q of a segment divided by its
    mean |x_i - x_j|, so that the statistic does not depend on the scale
    of the values; (-1, -1) when no segment can be split."""
    en = _Energy(xs)
    top = (-1.0, -1)
    for k in range(len(bounds) - 1):
        s, e = bounds[k], bounds[k + 1]
        q, tau = en.best(s, e, min_size)
        g = en.within(s, e)
        if tau >= 0 and g > 0 and q / g > top[0]:
            top = (q / g, tau)
    return top


NULLS = ("normal", "permutation")
# The best statistic of NULL_DRAWS series of normal draws, sorted, for each
# (length, min_size): the statistic does not depend on the mean or scale
# of the values, so the normal null of a segment depends on its length
# only and is drawn once per report (seeded: the same every time).
NULL_DRAWS = 1999
_normal_null: dict[tuple[int, int, int], list[float]] = {}


def _null_of(n: int, min_size: int, draws: int) -> list[float]:
    key = (n, min_size, draws)
    if key not in _normal_null:
        rng = random.Random(f"aio-suite changepoints null {n} {min_size}")
        _normal_null[key] = sorted(
            _best_of([rng.gauss(0.0, 1.0) for _ in range(n)], [0, n], min_size)[0]
            for _ in range(draws))
    return _normal_null[key]


def _normal_p(q: float, bounds: list[int], min_size: int, draws: int) -> float:
    """P(the best split of independent normal segments of these lengths is
    at least q): 1 - the product over the segments of P(theirs is not)."""
    keep = 1.0
    for k in range(len(bounds) - 1):
        n = bounds[k + 1] - bounds[k]
        if n < 2 * min_size:
            continue
        null = _null_of(n, min_size, draws)
        over = len(null) - bisect.bisect_left(null, q * (1 - 1e-9))
        keep *= 1.0 - (1 + over) / (1 + len(null))
    return 1.0 - keep


def edivisive(xs: Sequence[float], alpha: float = DEFAULT_ALPHA,
              draws: int = DRAWS, min_size: int = MIN_SIZE,
              rng: random.Random | None = None, null: str = "normal") -> list[tuple[int, float]]:
    """The significant change points of xs, (index, p), by index.

    An index is the position of the first value after the shift.  The
    statistic of a split is E-Divisive's Q over the segment's mean
    |x_i - x_j| (the best over every segment); its p-value is the chance
    that the null gives a best split at least as divergent:

      normal       every segment is independent normal draws (the
                   statistic does not depend on their mean or scale):
                   any number of runs can reach a small p, on the
                   assumption that run means scatter normally
                   (NULL_DRAWS draws per segment length, _null_of());
      permutation  every segment's values shuffled within it (Matteson
                   and James; Otava's original mode), draws times: no
                   assumption, but n values have few distinct orders:
                   with fewer than about 10 runs no p is below 0.01.  The
                   shuffles stop early once the split cannot reach alpha
                   any more (its p is then only known to be above alpha).
    """
    if null not in NULLS:
        raise ValueError(f"null {null!r}: not one of {', '.join(NULLS)}")
    rng = rng or random.Random(0)
    # Enough draws that alpha can be reached at all.
    draws = max(draws, math.ceil(10.0 / alpha) - 1)
    bounds = [0, len(xs)]
    found: list[tuple[int, float]] = []
    # More exceedances than this and p > alpha, whatever the rest does.
    allowed = math.floor(alpha * (draws + 1)) - 1
    while True:
        q, tau = _best_of(xs, bounds, min_size)
        if tau < 0 or q <= 1e-9:
            break
        if null == "normal":
            p = _normal_p(q, bounds, min_size, max(NULL_DRAWS, draws))
        else:
            over = done = 0
            for _ in range(draws):
                ys = list(xs)
                for k in range(len(bounds) - 1):
                    seg = ys[bounds[k]:bounds[k + 1]]
                    rng.shuffle(seg)
                    ys[bounds[k]:bounds[k + 1]] = seg
                done += 1
                if _best_of(ys, bounds, min_size)[0] >= q * (1 - 1e-9):
                    over += 1
                    if over > allowed:
                        break
            p = (1 + over) / (1 + done)
        if p > alpha:
            break
        found.append((tau, p))
        bounds = sorted(bounds + [tau])
    return sorted(found)


def _segments(means: Sequence[float], cps: list[int]) -> list[tuple[int, int]]:
    edges = [0] + sorted(cps) + [len(means)]
    return [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs) if xs else math.nan


def detect(means: Sequence[float], alpha: float = DEFAULT_ALPHA,
           min_change_pct: float = stats.DEFAULT_NOISE_PCT,
           draws: int = DRAWS, min_size: int = MIN_SIZE,
           seed: str = "", null: str = "normal") -> list[tuple[int, float]]:
    """The change points of a series of run means, (index, p): the
    significant ones of edivisive() whose change between the means of
    the segments either side reaches min_change_pct (the smallest is
    dropped first, its segments joined, until every one reaches it)."""
    xs = [float(x) for x in means]
    if len(xs) < 2 * min_size or any(not math.isfinite(x) for x in xs):
        return []
    h = int.from_bytes(hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()[:8], "big")
    cps = edivisive(xs, alpha, draws, min_size, random.Random(h), null)
    while cps:
        segs = _segments(xs, [i for i, _ in cps])
        changes = []
        for k, (i, _) in enumerate(cps):
            before, after = _mean(xs[segs[k][0]:segs[k][1]]), _mean(xs[segs[k + 1][0]:segs[k + 1][1]])
            ch = stats.pct_change(before, after)
            changes.append(math.inf if math.isnan(ch) else abs(ch))
        k = min(range(len(cps)), key=lambda j: changes[j])
        if changes[k] >= min_change_pct - 1e-9:
            break
        del cps[k]
    return cps


# ---- series ----

@dataclass
class Obs:
    time: float  # seconds since the epoch, UTC
    run: str  # the run's id
    values: list[float]  # its samples (the series' value is their mean)

    @property
    def mean(self) -> float:
        return _mean(self.values)


@dataclass
class Series:
    key: str  # unique: host, release, point key and metric (or composite)
    group: str  # charted under: the scenario (point source)
    point: str  # what it is: the point's title, or the composite's
    metric: str
    unit: str
    better: str  # "higher", "lower" or "" (informational)
    host: str
    release: str
    obs: list[Obs] = field(default_factory=list)  # in time order
    composite: bool = False
    key_metric: bool = False  # the point's metric in the charts and composites
    engine: str = ""  # the point's engine label, if it has one


@dataclass
class ChangePoint:
    index: int  # the first run after the shift, from 0
    run: str
    time: float
    before: float  # mean of the run means of the segment before
    after: float  # and after
    change_pct: float
    p: float
    verdict: str  # stats.REGRESSION, IMPROVEMENT or CHANGED (no direction)


@dataclass
class Segment:
    start: int
    end: int  # exclusive
    mean: float
    sd: float  # standard deviation of its run means (0 for one run)


@dataclass
class Trend:
    series: Series
    means: list[float]
    cps: list[ChangePoint]
    segments: list[Segment]

    @property
    def latest(self) -> ChangePoint | None:
        return self.cps[-1] if self.cps else None


def verdict(better: str, change_pct: float) -> str:
    if better not in ("higher", "lower") or math.isnan(change_pct):
        return stats.CHANGED
    worse = change_pct < 0 if better == "higher" else change_pct > 0
    return stats.REGRESSION if worse else stats.IMPROVEMENT


def analyse(s: Series, alpha: float = DEFAULT_ALPHA,
            noise_pct: float = stats.DEFAULT_NOISE_PCT,
            draws: int = DRAWS, min_size: int = MIN_SIZE, null: str = "normal") -> Trend:
    means = [o.mean for o in s.obs]
    found = detect(means, alpha, noise_pct, draws, min_size, s.key, null)
    idx = [i for i, _ in found]
    segs = []
    for a, b in _segments(means, idx):
        sm = stats.summarize(means[a:b])
        segs.append(Segment(a, b, sm.mean, sm.stddev))
    cps = []
    for k, (i, p) in enumerate(found):
        before, after = segs[k].mean, segs[k + 1].mean
        ch = stats.pct_change(before, after)
        cps.append(ChangePoint(i, s.obs[i].run, s.obs[i].time, before, after, ch, p,
                               verdict(s.better, ch)))
    return Trend(s, means, cps, segs)


_RUN_TIME = re.compile(r"(\d{8}T\d{6})Z")


def run_time(r: Run) -> float | None:
    """When a run ran: the UTC time its run id starts with, else env.json's
    time_utc; None when neither says."""
    m = _RUN_TIME.match(r.run_id)
    if m:
        try:
            t = datetime.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S")
            return t.replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            pass
    v = r.env.get("time_utc")
    if isinstance(v, str):
        try:
            t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
            if t.tzinfo is None:
                t = t.replace(tzinfo=datetime.timezone.utc)
            return t.timestamp()
        except ValueError:
            return None
    return None


def key_metric(p: Point) -> str:
    """The metric that stands for a point: throughput if it has one, else
    its first metric with a direction ("" when it has none)."""
    for m in KEY_METRICS:
        if p.samples.get(m) and p.metrics.get(m) and p.metrics[m].better:
            return m
    return next((m for m, d in p.metrics.items() if d.better and p.samples.get(m)), "")


def history(runs: list[Run], notes: list[str] | None = None,
            max_runs: int = MAX_RUNS) -> list[tuple[str, str, list[tuple[Run, float]]]]:
    """(host, release, [(run, time)]) of every host and kernel, oldest run
    first; emulated runs are left out, and so are runs with no time (named
    in notes).  At most the newest max_runs of each."""
    groups: dict[tuple[str, str], list[tuple[Run, float]]] = {}
    for r in runs:
        if r.emulated or not r.points:
            continue
        t = run_time(r)
        if t is None:
            if notes is not None:
                notes.append(f"{r.name}: no time (run id or env.json time_utc): "
                             "left out of the history")
            continue
        groups.setdefault((r.host, r.release), []).append((r, t))
    out = []
    for (host, release), rs in sorted(groups.items()):
        rs.sort(key=lambda x: (x[1], x[0].run_id))
        if len(rs) > max_runs and notes is not None:
            notes.append(f"{host}/{release}: {len(rs)} runs; the newest {max_runs} analysed")
        out.append((host, release, rs[-max_runs:]))
    return out


def point_series(runs: list[Run], min_runs: int = 2 * MIN_SIZE,
                 notes: list[str] | None = None) -> list[Series]:
    """A series per host, kernel, point and metric, over the runs that
    measured it (status ok), when at least min_runs did."""
    out: list[Series] = []
    for host, release, rs in history(runs, notes):
        if len(rs) < min_runs:
            continue
        byk: dict[tuple[str, str], Series] = {}
        for r, t in rs:
            for k, p in r.points.items():
                if p.status != "ok":
                    continue
                km = key_metric(p)
                for m, xs in p.samples.items():
                    if not xs:
                        continue
                    s = byk.get((k, m))
                    if s is None:
                        d = p.metrics.get(m)
                        s = byk[(k, m)] = Series(
                            f"{host}/{release}|{k}|{m}", p.source, p.title, m,
                            d.unit if d else "", d.better if d else "", host, release,
                            key_metric=(m == km), engine=str(p.labels.get("engine") or ""))
                    s.obs.append(Obs(t, r.run_id, list(xs)))
        out += [s for s in byk.values() if len(s.obs) >= min_runs]
    return out


def composite_series(series: list[Series], min_runs: int = 2 * MIN_SIZE) -> list[Series]:
    """Per host, kernel and scenario, and per engine of a scenario: an index
    per run, the geometric mean over the points of their key metric
    against the point's median run (lower-is-better metrics inverted), so
    100% is a typical run and higher is better.  Only the points measured
    in every run that any of them ran in take part (a point that comes or
    goes would move the index by itself)."""
    groups: dict[tuple[str, str, str, str], list[Series]] = {}
    for s in series:
        if not s.key_metric or s.composite or s.better not in ("higher", "lower"):
            continue
        eng = s.engine
        groups.setdefault((s.host, s.release, s.group, ""), []).append(s)
        if eng:
            groups.setdefault((s.host, s.release, s.group, eng), []).append(s)
    out = []
    for (host, release, group, eng), ss in sorted(groups.items()):
        runs = sorted({(o.time, o.run) for s in ss for o in s.obs})
        full = [s for s in ss if len(s.obs) == len(runs)]
        if len(full) < 2 or len(runs) < min_runs:
            continue
        logs: list[list[float]] = [[] for _ in runs]
        for s in full:
            ms = [o.mean for o in s.obs]
            med = sorted(ms)[len(ms) // 2] if len(ms) % 2 else _mean(sorted(ms)[len(ms) // 2 - 1:len(ms) // 2 + 1])
            if med <= 0 or any(m <= 0 for m in ms):
                continue
            for i, m in enumerate(ms):
                logs[i].append(math.log(m / med) if s.better == "higher" else math.log(med / m))
        n = min(len(x) for x in logs)
        if n < 2:
            continue
        what = f"{group} composite" + (f" engine={eng}" if eng else "")
        c = Series(f"{host}/{release}|composite|{group}|{eng}", group, what, "index", "%",
                   "higher", host, release, composite=True, engine=eng)
        for (t, run), ls in zip(runs, logs):
            c.obs.append(Obs(t, run, [100.0 * math.exp(_mean(ls))]))
        out.append(c)
    return out


_TAIL = re.compile(r"(p99|p99_9|p999|max)$")


@dataclass
class History:
    trends: list[Trend]  # every series analysed, points then composites
    groups: int  # hosts and kernels with enough runs
    runs: int  # runs in them
    alpha: float
    noise_pct: float
    null: str = "normal"
    notes: list[str] = field(default_factory=list)

    @property
    def shifted(self) -> list[Trend]:
        """Series with a change point, the newest latest shift first; at one
        time composites, then the points' key metrics, then the others,
        tail percentiles and maxima last (they move most and say least),
        the biggest change first."""
        have = [t for t in self.trends if t.cps]

        def order(t: Trend) -> tuple[float, int, int, float, str]:
            c = t.cps[-1]
            rank = 0 if t.series.composite else 1 if t.series.key_metric else 2
            return (-c.time, rank, int(bool(_TAIL.search(t.series.metric))),
                    -abs(c.change_pct) if math.isfinite(c.change_pct) else -1e300,
                    t.series.key)

        return sorted(have, key=order)


def analyse_store(runs: list[Run], alpha: float = DEFAULT_ALPHA,
                  noise_pct: float = stats.DEFAULT_NOISE_PCT, null: str = "normal") -> History:
    """Every series of the runs, with its change points."""
    notes: list[str] = []
    pts = point_series(runs, notes=notes)
    comps = composite_series(pts)
    trends = [analyse(s, alpha, noise_pct, null=null) for s in pts + comps]
    hist = history(runs)
    groups = [g for g in hist if len(g[2]) >= 2 * MIN_SIZE]
    return History(trends, len(groups), sum(len(g[2]) for g in groups), alpha, noise_pct,
                   null, notes)


def main(argv: list[str]) -> int:
    """changepoints.py [--alpha P] [--noise PCT] V1 V2 ...: the change points
    of one series of values (for trying the detector by hand)."""
    import argparse
    ap = argparse.ArgumentParser(prog="changepoints", description=main.__doc__)
    ap.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    ap.add_argument("--noise", type=float, default=stats.DEFAULT_NOISE_PCT)
    ap.add_argument("values", type=float, nargs="+")
    a = ap.parse_args(argv)
    for i, p in detect(a.values, a.alpha, a.noise, seed="cli"):
        print(f"change point at {i + 1}: p={p:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
