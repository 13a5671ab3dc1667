#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Composites: one figure for many points of a column against the baseline.

A composite is the geometric mean of the per-point ratios (column /
baseline) of one metric over a group of points, with a bootstrap
confidence interval paired by point (stats.composite()).  The groups:

  scenario <name>   the points of one scenario (or of aio-stress, fio);
  engine <name>     the points labelled with that engine, of any source;
  all               every point that has the metric.

A composite is made of every metric with a direction whose values are
rates or times (not a ratio, which is bounded, nor a tail figure: those
stay with their points), over at least stats.MIN_POINTS points that are
ok and positive on both sides with stats.MIN_SAMPLES samples a side or
more (a point too thin to be called is no part of a composite).  A broad slowdown that no single point can
prove is called here.

The rule is a point's (compare.compare_runs()), with a composite's own
numbers: a composite is significant when its interval's p is below the
Benjamini-Hochberg level over the composites of its column (at --alpha;
--no-fdr: each at --alpha), and its change reaches its floor, the largest
of --noise, the machine's own change (the column's, as for its points)
and the composite's run-to-run drift: the largest change of the same
composite between two runs of one kernel on the host (--by kernel), or
between two runs of the host other than the pair compared (--by run),
computed from the runs' means over the same points.  A significant
composite is a regression or an improvement by the metric's direction
and counts for --fail-on-regression like a point.
"""
from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass, field

from aiosuite import stats
from aiosuite.report.collect import Run
from aiosuite.report.compare import Comparison, Row, kernel_groups

# Units of metrics that are not multiplicative figures (a ratio, a share)
NOT_COMPOSED = ("ratio", "%")


@dataclass
class CompositeRow:
    column: str
    kind: str  # "scenario", "engine" or "all"
    group: str  # the scenario's or engine's name; "" for all
    metric: str
    unit: str
    better: str
    keys: list[str]  # the point keys it is made of
    result: stats.Composite | None  # None: fewer than MIN_POINTS usable points
    floor_pct: float = stats.DEFAULT_NOISE_PCT
    floor_why: str = ""
    detectable_pct: float = math.nan
    verdict: str = stats.SAME

    @property
    def name(self) -> str:
        return f"{self.kind} {self.group}: {self.metric}" if self.group else \
            f"{self.kind}: {self.metric}"


@dataclass
class Composites:
    rows: list[CompositeRow] = field(default_factory=list)
    resamples: int = stats.DEFAULT_RESAMPLES
    seed: str = ""
    levels: dict[str, float] = field(default_factory=dict)  # column -> BH level

    @property
    def regressions(self) -> list[CompositeRow]:
        return [r for r in self.rows if r.verdict == stats.REGRESSION]

    @property
    def improvements(self) -> list[CompositeRow]:
        return [r for r in self.rows if r.verdict == stats.IMPROVEMENT]


def composed(row: Row) -> bool:
    """Whether a row's metric goes into composites."""
    return (row.mdef.better in ("higher", "lower") and row.mdef.unit not in NOT_COMPOSED
            and not stats.tail_min_samples(row.metric))


def groups_of(row: Row) -> list[tuple[str, str]]:
    """The composite groups a row's point belongs to."""
    out = [("scenario", row.point.source)]
    eng = row.point.labels.get("engine")
    if eng is not None and str(eng):
        out.append(("engine", str(eng)))
    out.append(("all", ""))
    return out


def _log_ratio(a: list[float], b: list[float]) -> float:
    """log(mean b / mean a); nan unless both are positive."""
    if not a or not b:
        return math.nan
    ma, mb = math.fsum(a) / len(a), math.fsum(b) / len(b)
    return math.log(mb / ma) if ma > 0 and mb > 0 else math.nan


def composite_drift(runs: list[Run], keys: list[str], metric: str) -> tuple[float, str]:
    """The largest change of the composite over keys between two runs of one
    kernel on one host (against the smaller), and that kernel."""
    best, where = 0.0, ""
    for (_, release), rs in kernel_groups(runs).items():
        for r1, r2 in itertools.combinations(rs, 2):
            logs = []
            for k in keys:
                p1, p2 = r1.points.get(k), r2.points.get(k)
                if p1 is None or p2 is None or p1.status != "ok" or p2.status != "ok":
                    continue
                v = _log_ratio(p1.samples.get(metric, []), p2.samples.get(metric, []))
                if not math.isnan(v):
                    logs.append(v)
            if len(logs) < stats.MIN_POINTS:
                continue
            d = 100.0 * math.expm1(abs(math.fsum(logs) / len(logs)))
            if d > best:
                best, where = d, release
    return best, where


def between_of(runs: list[Run], keys: list[str], metric: str) -> tuple[float, float] | None:
    """The composite's between-run variance (stats.composite_between()) from
    the runs given, each kernel on each host a set, over the keys that are
    ok and positive in every run of the set."""
    sets = []
    for rs in kernel_groups(runs).values():
        common = []
        for k in keys:
            per = []
            for r in rs:
                p = r.points.get(k)
                xs = p.samples.get(metric, []) if p is not None and p.status == "ok" else []
                if not xs or min(xs) <= 0:
                    break
                per.append(xs)
            else:
                common.append(per)
        if len(common) >= stats.MIN_POINTS:
            sets.append([[pt[i] for pt in common] for i in range(len(rs))])
    return stats.composite_between(sets)


def build(cmp: Comparison, runs: list[Run], resamples: int = stats.DEFAULT_RESAMPLES,
          seed: str = "1") -> Composites:
    """Every composite of every column against the baseline."""
    out = Composites(resamples=resamples, seed=seed)
    base = cmp.baseline
    if base is None:
        return out
    members: dict[tuple[str, str, str], list[Row]] = {}
    for row in cmp.rows:
        if composed(row):
            for kind, group in groups_of(row):
                members.setdefault((kind, group, row.metric), []).append(row)
    for col in cmp.perf_columns:
        if col.id == base.id:
            continue
        pair = {id(r) for r in base.runs + col.runs}
        hosts = {col.host, base.host}
        history = ([r for r in runs if r.host in hosts] if cmp.by == "kernel" else
                   [r for r in runs if id(r) not in pair and r.host in hosts])
        # A side of one run knows nothing of how runs differ: the between-run
        # variance of the other side's runs (--by kernel), or of the host's
        # other runs of the kernel (--by run).
        singles = sum(1 for c in (base, col) if len(c.perf_runs) == 1)
        lenders = ([] if cmp.pool_runs or not singles else
                   [r for c in (base, col) if len(c.perf_runs) >= 2 for r in c.perf_runs]
                   if cmp.by == "kernel" else
                   [r for r in history if r.release in (col.release, base.release)])
        mach = cmp.machine.get(col.id)
        crows: list[CompositeRow] = []
        for (kind, group, metric), rows in members.items():
            pts = []
            keys = []
            for row in rows:
                bcell, ccell = row.cells.get(base.id), row.cells.get(col.id)
                # A point is in when its own comparison could be called:
                # MIN_SAMPLES a side at least.
                if bcell is None or ccell is None or bcell.status != "ok" or \
                        ccell.status != "ok" or len(bcell.samples) < stats.MIN_SAMPLES or \
                        len(ccell.samples) < stats.MIN_SAMPLES:
                    continue
                pts.append((bcell.groups, ccell.groups))
                keys.append(row.key)
            if len({k for k in keys}) < stats.MIN_POINTS:
                continue
            name = f"{kind} {group}: {metric}" if group else f"{kind}: {metric}"
            between = between_of(lenders, keys, metric) if lenders else None
            res = stats.composite(pts, cmp.alpha, resamples, f"{seed}:{col.id}:{name}",
                                  between, singles)
            mdef = rows[0].mdef
            floor, why = cmp.noise_pct, ""
            if cmp.drift:
                d, where = composite_drift(history, keys, metric)
                dfloor = d * (1 + 1e-6) + 1e-6
                if d and dfloor > floor:
                    floor, why = dfloor, f"drift {where}"
            if cmp.use_machine and mach is not None and mach.floor_pct > floor:
                floor, why = mach.floor_pct, "machine"
            cr = CompositeRow(col.id, kind, group, metric, mdef.unit, mdef.better, keys, res,
                              floor, why)
            if res is not None:
                cr.detectable_pct = max(floor, res.detectable_pct)
            crows.append(cr)
        ps = [c.result.p for c in crows if c.result is not None]
        level = min(cmp.alpha, stats.bh_alpha(ps, cmp.alpha)) if cmp.fdr else cmp.alpha
        out.levels[col.id] = level
        for c in crows:
            c.verdict = judge(c, level)
        out.rows += crows
    return out


def judge(c: CompositeRow, level: float) -> str:
    """A composite's verdict: significant at level and reaching its floor."""
    r = c.result
    if r is None:
        return stats.FEW
    big = abs(r.change_pct) >= c.floor_pct - 1e-9
    if not (r.p < level and big):
        return stats.SAME
    worse = r.change_pct < 0 if c.better == "higher" else r.change_pct > 0
    return stats.REGRESSION if worse else stats.IMPROVEMENT


def main(argv: list[str]) -> int:
    print("composite.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
