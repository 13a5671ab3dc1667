#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Group runs into columns (kernels or runs) and compare each column with
the baseline column: per metric of every point, and conformance test by test.

A kernel column holds all its runs: its runs are the unit of a comparison
(stats.compare_groups: the mean of the run means, the variance of the run
means), the pooled samples are what the tables and charts show;
pool_runs=True pools the samples as if they were independent (the rule
before).  A run column holds one run: its samples are the unit, with the
between-run variance of the host's other runs of the kernel when there
are several.  Emulated runs (qemu TCG) take part in the conformance
comparison only.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Iterator

from aiosuite import stats
from aiosuite.report import normalize as norm_mod
from aiosuite.report.collect import FAILING, ConfResult, MetricDef, Point, Run, version_key


@dataclass
class Column:
    id: str  # what the report calls it: a release, host/release or run id
    host: str
    release: str
    runs: list[Run] = field(default_factory=list)

    @property
    def perf_runs(self) -> list[Run]:
        return [r for r in self.runs if not r.emulated]

    @property
    def emulated(self) -> bool:
        return bool(self.runs) and not self.perf_runs

    def conform_run(self) -> Run | None:
        """The latest run of the column with conformance results."""
        have = [r for r in self.runs if r.conform is not None]
        return have[-1] if have else None


def run_ids(runs: list[Run]) -> dict[int, str]:
    """id(run) -> the name of its column with --by run: the run id, with
    the host in front when the store has several hosts, and the whole
    host/release/run id when that is not unique (one run id under two
    releases: a copied run, or two hosts' clocks)."""
    hosts = {r.host for r in runs}
    short = {id(r): (r.run_id if len(hosts) == 1 else f"{r.host}/{r.run_id}") for r in runs}
    count: dict[str, int] = {}
    for v in short.values():
        count[v] = count.get(v, 0) + 1
    return {id(r): short[id(r)] if count[short[id(r)]] == 1 else r.name for r in runs}


def duplicate_run_ids(runs: list[Run]) -> list[str]:
    """A note for every run id that names more than one run."""
    where: dict[str, list[str]] = {}
    for r in runs:
        where.setdefault(r.run_id, []).append(f"{r.host}/{r.release}")
    return [f"run id {rid} names {len(w)} runs ({', '.join(w)}): a run column is "
            "named host/release/run id" for rid, w in sorted(where.items()) if len(w) > 1]


def make_columns(runs: list[Run], by: str) -> list[Column]:
    """Kernel columns in version order, or run columns in time order."""
    cols: dict[tuple[str, str, str], Column] = {}
    hosts = {r.host for r in runs}
    names = run_ids(runs)
    for r in runs:
        if by == "run":
            cid = names[id(r)]
            key = (cid, "", "")
        else:
            key = (r.host, r.release, "")
            cid = r.release if len(hosts) == 1 else f"{r.host}/{r.release}"
        cols.setdefault(key, Column(cid, r.host, r.release)).runs.append(r)
    out = list(cols.values())
    if by == "run":
        out.sort(key=lambda c: (c.runs[0].run_id, c.host))
    else:
        out.sort(key=lambda c: (version_key(c.release), c.host))
    return out


@dataclass
class Cell:
    samples: list[float]
    summary: stats.Summary
    cmp: stats.Comparison | None  # None in the baseline column
    status: str = "ok"  # the point's status in this column
    reason: str = ""
    floor_pct: float = stats.DEFAULT_NOISE_PCT  # the floor this cell was judged with
    floor_why: str = ""  # what set a floor above --noise: "drift <where>", "machine"
    # The smallest change these samples could show as significant (stats.compare_groups)
    detectable_pct: float = math.nan
    # The samples of each run of the column, in the column's run order
    # (an empty list: the point is not in that run)
    groups: list[list[float]] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.cmp is None:
            return stats.BASE if self.summary.n else stats.MISSING
        return self.cmp.verdict


@dataclass
class Row:
    key: str
    point: Point  # a representative point (labels, raw files of the latest run)
    metric: str
    mdef: MetricDef
    cells: dict[str, Cell]  # column id -> cell (each with the floor it was judged with)
    # Compared relative to the machine of each sample's round (normalize.py)
    normalized: bool = False

    @property
    def title(self) -> str:
        return self.point.title


@dataclass
class MachineCmp:
    """A column's machine probes against the baseline's (aiosuite/machine.py).

    The probe times fixed user-space work: the kernel under test is not in
    it.  When it changed significantly (the same rule as a metric: Welch at
    alpha, at least --noise), the machine itself was faster or slower by
    change_pct, and no change of the column's metrics up to that size can
    be told from it: floor_pct is the column's floor."""
    column: str
    baseline: str
    cmp: stats.Comparison | None  # None when a side has no probes
    steal_pct: float  # mean CPU steal over the column's probes (nan: none)
    base_steal_pct: float
    floor_pct: float = 0.0  # 0: the machine did not move significantly

    @property
    def moved(self) -> bool:
        return self.floor_pct > 0.0


def machine_cmp(base: Column, col: Column, noise_pct: float, alpha: float) -> MachineCmp:
    bs = [x for r in base.perf_runs for x in r.machine_ns]
    cs = [x for r in col.perf_runs for x in r.machine_ns]
    steal = stats.summarize([x for r in col.perf_runs for x in r.steal_pct]).mean
    bsteal = stats.summarize([x for r in base.perf_runs for x in r.steal_pct]).mean
    if not bs or not cs:
        return MachineCmp(col.id, base.id, None, steal, bsteal)
    c = stats.compare(bs, cs, "lower", noise_pct, alpha)
    floor = abs(c.change_pct) if c.verdict in (stats.REGRESSION, stats.IMPROVEMENT) else 0.0
    return MachineCmp(col.id, base.id, c, steal, bsteal, floor)


@dataclass
class ConfDiff:
    column: str
    baseline: str
    new_failures: list[tuple[str, str, str]] = field(default_factory=list)  # test, was, now
    fixed: list[tuple[str, str, str]] = field(default_factory=list)
    skip_changes: list[tuple[str, str, str]] = field(default_factory=list)
    other: list[tuple[str, str, str]] = field(default_factory=list)  # added/removed/xfail


@dataclass
class Comparison:
    by: str
    columns: list[Column]  # every column (performance and conformance)
    perf_columns: list[Column]
    baseline: Column | None  # performance baseline
    conf_baseline: Column | None
    rows: list[Row]
    conf: dict[str, dict[str, ConfResult]]  # column id -> test -> result
    conf_diffs: list[ConfDiff]
    noise_pct: float
    alpha: float
    pooled: dict[str, dict[str, Point]]  # column id -> point key -> pooled point
    notes: list[str] = field(default_factory=list)
    fdr: bool = True
    drift: bool = True
    machine: dict[str, MachineCmp] = field(default_factory=dict)  # column id ->
    use_machine: bool = True
    pool_runs: bool = False
    # column id -> the significance level after the correction over its metrics
    levels: dict[str, float] = field(default_factory=dict)
    # column id -> (point key, metric) -> the variance components its
    # comparisons took from the host's other runs (--by run)
    history: dict[str, dict[tuple[str, str], stats.Between]] = field(default_factory=dict)
    # Which metric families are compared normalized (normalize.choose())
    normalization: norm_mod.Normalization = field(default_factory=norm_mod.Normalization)

    @property
    def regressions(self) -> list[tuple[Row, str]]:
        return [(r, c) for r in self.rows for c, cell in r.cells.items()
                if cell.verdict == stats.REGRESSION]

    @property
    def improvements(self) -> list[tuple[Row, str]]:
        return [(r, c) for r in self.rows for c, cell in r.cells.items()
                if cell.verdict == stats.IMPROVEMENT]

    @property
    def new_failures(self) -> int:
        return sum(len(d.new_failures) for d in self.conf_diffs)


def pooled_points(col: Column) -> dict[str, Point]:
    """Point key -> a point whose samples pool the column's non-emulated runs."""
    out: dict[str, Point] = {}
    for r in col.perf_runs:
        for k, p in r.points.items():
            have = out.get(k)
            if have is None:
                out[k] = Point(p.source, p.target, dict(p.labels), p.variant, p.status,
                               p.reason, {m: list(x) for m, x in p.samples.items()},
                               dict(p.metrics), list(p.raw), p.stage)
                continue
            for m, xs in p.samples.items():
                have.samples.setdefault(m, []).extend(xs)
            have.metrics.update(p.metrics)  # the latest run's definitions win
            have.raw = list(p.raw)  # the latest run's raw files
            if p.status != "ok":
                have.status, have.reason = p.status, p.reason
    return out


def run_groups(col: Column, key: str, metric: str, pool: bool = False) -> list[list[float]]:
    """The samples of a point's metric in each run of the column (run order;
    [] where the run lacks the point or it is not ok there).  pool: one
    group of every sample, as if they came from one run."""
    out: list[list[float]] = []
    for r in col.perf_runs:
        p = r.points.get(key)
        out.append(list(p.samples.get(metric, [])) if p is not None and p.status == "ok" else [])
    if pool:
        return [[x for g in out for x in g]]
    return out


def kernel_groups(runs: list[Run]) -> dict[tuple[str, str], list[Run]]:
    """(host, release) -> its non-emulated runs, for the kernels with two or more."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for r in runs:
        if not r.emulated:
            groups.setdefault((r.host, r.release), []).append(r)
    return {k: rs for k, rs in groups.items() if len(rs) >= 2}


def ok_samples(r: Run) -> Iterator[tuple[tuple[str, str], list[float]]]:
    """((point key, metric), samples) of every metric of the run's ok points."""
    for k, p in r.points.items():
        if p.status == "ok":
            for m, xs in p.samples.items():
                if xs:
                    yield (k, m), xs


def history_between(runs: list[Run]) -> dict[tuple[str, str], stats.Between]:
    """(point key, metric) -> the between-run variance of the runs given
    (stats.between_var), each kernel on each host a set of runs."""
    per: dict[tuple[str, str], list[list[list[float]]]] = {}
    for rs in kernel_groups(runs).values():
        sets: dict[tuple[str, str], list[list[float]]] = {}
        for r in rs:
            for km, xs in ok_samples(r):
                sets.setdefault(km, []).append(list(xs))
        for km, gs in sets.items():
            if len(gs) >= 2:
                per.setdefault(km, []).append(gs)
    out: dict[tuple[str, str], stats.Between] = {}
    for km, sets_ in per.items():
        b = stats.between_var(sets_)
        if b is not None:
            out[km] = b
    return out


def run_drift(runs: list[Run]) -> dict[tuple[str, str], tuple[float, str]]:
    """(point key, metric) -> (largest % change between the means of two runs
    of the same kernel on the same host, that kernel).

    Repeats inside one run share the machine's state of the run; two runs
    of one kernel differ by everything that drifts in between (page cache,
    device and host state).  That difference is noise by definition, and the
    rule never calls a change smaller than it.  Comparing runs (--by run),
    the caller leaves the two runs compared out: their difference is what
    is being judged, the other runs of the host are the history it is
    judged against.
    """
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for (_, release), rs in kernel_groups(runs).items():
        means: dict[tuple[str, str], list[float]] = {}
        for r in rs:
            for km, xs in ok_samples(r):
                means.setdefault(km, []).append(stats.summarize(xs).mean)
        for km, ms in means.items():
            if len(ms) < 2:
                continue
            # Against the smaller mean: the largest % change either run shows
            # against the other.
            ref = min(abs(x) for x in ms)
            if ref == 0.0:
                continue
            d = 100.0 * (max(ms) - min(ms)) / ref
            if d > out.get(km, (0.0, ""))[0]:
                out[km] = (d, release)
    return out


def _labelled(r: ConfResult | None) -> str:
    """A result with the kernel's reason for it: why a difference exists
    ("skip (EOPNOTSUPP: ...)" on one kernel, "pass" on the next)."""
    if r is None:
        return "absent"
    return f"{r.result} ({r.reason})" if r.reason and r.result != "pass" else r.result


def conf_results(r: Run) -> dict[str, ConfResult]:
    """Test -> result of a run's conformance run.  A run that was
    interrupted, with a conformance JSON from before aio-conform said so
    itself (no "complete" key), recorded the test it was interrupted in as
    "timeout": in such a run a timeout is "interrupted", not a failure."""
    assert r.conform is not None
    out = {x.test: x for x in r.conform}
    if r.interrupted and r.conform_legacy:
        for t, x in out.items():
            if x.result == "timeout":
                out[t] = ConfResult(x.name, x.variant, "interrupted",
                                    f"timeout recorded when the run was interrupted by "
                                    f"{r.interrupted}" + (f": {x.reason}" if x.reason else ""))
    return out


def conf_diff(base: dict[str, ConfResult], cand: dict[str, ConfResult],
              cid: str, bid: str) -> ConfDiff:
    d = ConfDiff(cid, bid)
    for t in sorted(set(base) | set(cand)):
        was = base[t].result if t in base else "absent"
        now = cand[t].result if t in cand else "absent"
        if was == now:
            continue
        entry = (t, _labelled(base.get(t)), _labelled(cand.get(t)))
        if now in FAILING and was not in FAILING:
            d.new_failures.append(entry)
        elif was in FAILING and now not in FAILING:
            d.fixed.append(entry)
        elif "skip" in (was, now):
            d.skip_changes.append(entry)
        else:
            d.other.append(entry)
    return d


def compare_runs(runs: list[Run], by: str = "kernel", baseline: str = "",
                 noise_pct: float = stats.DEFAULT_NOISE_PCT,
                 alpha: float = stats.DEFAULT_ALPHA, drift: bool = True,
                 fdr: bool = True, use_machine: bool = True,
                 pool_runs: bool = False, normalize: bool = True) -> Comparison:
    """Compare every column with the baseline column.

    The test of a cell is stats.compare_groups(): a kernel's runs are the
    unit when it has several (pool_runs: its samples, pooled); a side of
    one run takes the between-run variance of the other side's runs, or,
    comparing runs (--by run), of the host's other runs of the kernel (the
    history: never the pair compared); without any, its samples are the
    unit.

    baseline is a column id (release or run id); "" takes the oldest column.
    A cell's noise floor is the largest of:
      - noise_pct;
      - with drift, the metric's run-to-run drift (run_drift()): by kernel,
        between two runs of one kernel; by run, between two runs of one
        kernel on the host other than the two compared;
      - with use_machine, how much the machine probes (machine.json) of the
        column moved against the baseline's, when they moved significantly
        (machine_cmp()).
    With normalize, the metric families whose normalized figures spread
    less than the raw ones in the baseline's own runs are compared
    normalized (normalize.py): the runs' samples of those families are
    replaced in place, the raw ones kept in Point.raw_samples.
    With fdr, the t-tests of one column are a family: Benjamini-Hochberg at
    alpha decides which p-values count (hundreds of metrics at 5% each would
    otherwise give false regressions on a noisy machine).
    """
    cols = make_columns(runs, by)
    notes: list[str] = []
    perf_cols = [c for c in cols if c.perf_runs]
    for c in cols:
        if c.emulated:
            notes.append(f"{c.id}: emulated (TCG) runs only, used for conformance, "
                         "never as performance")
    chosen = next((c for c in cols if c.id == baseline), None) if baseline else None
    if chosen is not None and not chosen.perf_runs:
        base = perf_cols[0] if perf_cols else None
        if base:
            notes.append(f"baseline {chosen.id} has no performance data; "
                         f"performance is compared with {base.id}")
    else:
        base = chosen or (perf_cols[0] if perf_cols else None)
    conf_cols = [c for c in cols if c.conform_run() is not None]
    if chosen is not None and chosen.conform_run() is not None:
        conf_base: Column | None = chosen
    else:
        conf_base = conf_cols[0] if conf_cols else None

    perf = [r for c in perf_cols for r in c.perf_runs]
    normalization = norm_mod.choose(base.perf_runs if base else [], perf, normalize,
                                    base.id if base else "")
    norm_mod.apply(perf, normalization)
    pooled = {c.id: pooled_points(c) for c in perf_cols}
    # The drift of a kernel's runs is the floor for comparing kernels.
    # Between single runs (--by run) the drift of the very pair under
    # comparison would hide every change between them: each column gets
    # the drift of the host's other runs (none when there are no others).
    drifts: dict[str, dict[tuple[str, str], tuple[float, str]]] = {}
    kernel_drift = run_drift(runs) if drift and by == "kernel" else {}
    history: dict[str, dict[tuple[str, str], stats.Between]] = {}
    for c in perf_cols:
        if base is None or c.id == base.id:
            drifts[c.id] = {}
            continue
        pair = {id(r) for r in base.runs + c.runs}
        hosts = {c.host, base.host}
        others = [r for r in runs if id(r) not in pair and r.host in hosts
                  and r.release in (c.release, base.release)]
        if by == "run" and not pool_runs:
            history[c.id] = history_between(others)
        if not drift:
            drifts[c.id] = {}
        elif by == "kernel":
            drifts[c.id] = kernel_drift
        else:
            drifts[c.id] = run_drift([r for r in runs if id(r) not in pair and r.host in hosts])
    mach: dict[str, MachineCmp] = {}
    if base is not None:
        for c in perf_cols:
            if c.id != base.id:
                mach[c.id] = machine_cmp(base, c, noise_pct, alpha)
        for mc in mach.values():
            if mc.cmp is None:
                notes.append(f"{mc.column}: no machine probes on one side (machine.json): "
                             "a change of the machine cannot be told from a change of the "
                             "kernel in this column")
            elif mc.moved and use_machine:
                notes.append(f"{mc.column}: the machine itself was "
                             f"{'slower' if mc.cmp.change_pct > 0 else 'faster'} than in "
                             f"{mc.baseline}: its probe changed {mc.cmp.change_pct:+.1f}% "
                             f"(p={mc.cmp.p:.2g}); changes up to {mc.floor_pct:.1f}% are "
                             "not called in this column")
    keys: list[str] = []
    seen: set[str] = set()
    for c in perf_cols:
        for k in pooled[c.id]:
            if k not in seen:
                seen.add(k)
                keys.append(k)
    rows: list[Row] = []
    tested: list[tuple[Row, str, list[list[float]], list[list[float]]]] = []
    for k in keys:
        rep = next(pooled[c.id][k] for c in reversed(perf_cols) if k in pooled[c.id])
        metrics: list[str] = []
        for c in perf_cols:
            p = pooled[c.id].get(k)
            for m in (p.samples if p else {}):
                if m not in metrics:
                    metrics.append(m)
        for m in metrics:
            defs = [rep.metrics.get(m)] + [pooled[c.id][k].metrics.get(m) for c in perf_cols
                                           if k in pooled[c.id]]
            mdef = next((x for x in defs if x is not None), MetricDef())
            bp = pooled[base.id].get(k) if base else None
            bgroups = run_groups(base, k, m, pool_runs) if base and bp and bp.status == "ok" \
                else []
            cells: dict[str, Cell] = {}
            for c in perf_cols:
                p = pooled[c.id].get(k)
                if p is None:
                    continue
                xs = p.samples.get(m, []) if p.status == "ok" else []
                # A change must reach --noise and exceed the drift and the
                # machine's own change.
                floor, why = noise_pct, ""
                dpct, dwhere = drifts.get(c.id, {}).get((k, m), (0.0, ""))
                dfloor = dpct * (1 + 1e-6) + 1e-6  # just above: the drift itself is noise
                if dpct and dfloor > floor:
                    floor, why = dfloor, f"drift {dwhere}"
                mcol = mach.get(c.id)
                if use_machine and mcol is not None and mcol.floor_pct > floor:
                    floor, why = mcol.floor_pct, "machine"
                groups = run_groups(c, k, m, pool_runs) if p.status == "ok" else []
                if base is not None and c.id == base.id:
                    cmp = None
                else:
                    cmp = stats.compare_groups(bgroups, groups, mdef.better, floor, alpha,
                                               history.get(c.id, {}).get((k, m)), m)
                cells[c.id] = Cell(xs, stats.summarize(xs), cmp, p.status, p.reason, floor, why,
                                   groups=groups)
                if cmp is not None:
                    cells[c.id].detectable_pct = cmp.detectable_pct
            row = Row(k, rep, m, mdef, cells,
                      normalization.is_normalized(rep.source, m) and normalization.enabled)
            rows.append(row)
            for cid, cell in cells.items():
                if cell.cmp is not None and not math.isnan(cell.cmp.p):
                    tested.append((row, cid, bgroups, cell.groups))
    levels: dict[str, float] = {c.id: alpha for c in perf_cols}
    if fdr:
        for col in perf_cols:
            fam = [t for t in tested if t[1] == col.id]
            ps = [c.p for c in (t[0].cells[col.id].cmp for t in fam) if c is not None]
            level = min(alpha, stats.bh_alpha(ps, alpha))
            levels[col.id] = level
            for row, cid, bgs, cgs in fam:
                row.cells[cid].cmp = stats.compare_groups(
                    bgs, cgs, row.mdef.better, row.cells[cid].floor_pct, alpha,
                    history.get(cid, {}).get((row.key, row.metric)), row.metric, level)

    conf: dict[str, dict[str, ConfResult]] = {}
    for c in conf_cols:
        r = c.conform_run()
        assert r is not None and r.conform is not None
        conf[c.id] = conf_results(r)
    diffs = []
    if conf_base is not None:
        for c in conf_cols:
            if c.id != conf_base.id:
                diffs.append(conf_diff(conf[conf_base.id], conf[c.id], c.id, conf_base.id))
    notes += duplicate_run_ids(runs)
    if base is not None and not pool_runs:
        notes += unit_notes(perf_cols, base, by, history)
    return Comparison(by, cols, perf_cols, base, conf_base, rows, conf, diffs,
                      noise_pct, alpha, pooled, notes, fdr, drift, mach, use_machine,
                      pool_runs, levels, history, normalization)


def unit_notes(cols: list[Column], base: Column, by: str,
               history: dict[str, dict[tuple[str, str], stats.Between]]) -> list[str]:
    """What the unit of each column's comparison is, when it is not the
    runs of both sides: one run a side falls back to its samples."""
    out = []
    for c in cols:
        if c.id == base.id:
            continue
        nb, nc = len(base.perf_runs), len(c.perf_runs)
        if nb >= 2 or nc >= 2:
            continue
        if history.get(c.id):
            out.append(f"{c.id}: one run a side; the between-run variance of the host's "
                       "other runs of the kernel is added to each side's samples, and their "
                       "samples' spread pooled with each side's")
        elif by == "kernel":
            out.append(f"{c.id}: one run a side: the samples are the unit (a kernel's "
                       "between-run variance needs two runs of it)")
        else:
            out.append(f"{c.id}: one run a side and no other runs of the kernel on the "
                       "host: the samples are the unit")
    return out


def main(argv: list[str]) -> int:
    print("compare.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
