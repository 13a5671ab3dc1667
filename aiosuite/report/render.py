#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a comparison into documents: Markdown, one self-contained HTML page
(charts embedded as base64 PNG) and CSV of every compared metric.

The report is built once as a list of blocks (headings, paragraphs, lists,
tables, images); the Markdown and HTML writers only format blocks.  Long
tables are cut in the Markdown (the HTML and the CSV have every row).

Text from the store (names of hosts, kernels, runs, labels, reasons) is
printable by the time it gets here (aiosuite/schemas.py); the writers escape
it for their format: HTML with html.escape, Markdown with md_text() (no
raw HTML, no link, no line break gets through).
"""
from __future__ import annotations

import base64
import csv
import html
import io
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from aiosuite import stats
from aiosuite.report.charts import Charts
from aiosuite.report.collect import FAILING, Run, version_key
from aiosuite.report.compare import Comparison, Row
from aiosuite.report.normalize import SPREAD_RATIO_MAX
from aiosuite.report.composite import Composites, CompositeRow
from aiosuite.report.synchronous import (BECAME_ASYNC, BECAME_SYNC, SyncReport, filesystem_of,
                                         mode_of)
from aiosuite.report.synchronous import summary as sync_summary

MD_TABLE_ROWS = 25

Cell = Union[str, tuple[str, str]]  # text, or (text, css class)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    md_limit: int = MD_TABLE_ROWS
    more: str = "the HTML report and report.csv have every row"


@dataclass
class Image:
    path: Path  # PNG
    title: str
    caption: str
    svg: Path | None = None


@dataclass
class Details:
    summary: str
    blocks: list[Any] = field(default_factory=list)


Block = Union[tuple[str, int, str], tuple[str, str], tuple[str, list[str]], Table, Image, Details]


# ---- numbers ----

def fmt_value(v: float, unit: str = "") -> str:
    """A number in three significant digits, SI prefixes for big values."""
    if v is None or math.isnan(v):
        return "-"
    a = abs(v)
    if unit not in ("%", "ratio"):
        for div, suf in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{v / div:.3g}{suf}"
    if a >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.3g}"


def fmt_pct(v: float) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:+.1f}%"


def fmt_p(p: float) -> str:
    if p is None or math.isnan(p):
        return "-"
    return f"{p:.2g}" if p >= 0.001 else "<0.001"


MARK = {stats.REGRESSION: "▼ regression", stats.IMPROVEMENT: "▲ improvement",
        stats.CHANGED: "changed", stats.SAME: "", stats.FEW: "n<3", stats.BASE: "baseline",
        stats.MISSING: "-", stats.TAIL: "tail"}


def labels_text(labels: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in labels.items() if k != "file")


# ---- building the report ----

def run_contents(r: Run) -> str:
    parts = [f"{n} {k}" for k, n in sorted(r.files.items())]
    return ", ".join(parts) if parts else "no results"


def cmp_cell(row: Row, cid: str) -> Cell:
    cell = row.cells.get(cid)
    if cell is None:
        return "-"
    if cell.status != "ok":
        return (f"{cell.status}", "skip")
    s = cell.summary
    text = fmt_value(s.mean, row.mdef.unit)
    if s.n > 1:
        text += f" ±{s.cv_pct:.1f}%"
    if cell.cmp is not None and not math.isnan(cell.cmp.change_pct):
        text += f" ({fmt_pct(cell.cmp.change_pct)})"
    v = cell.verdict
    if v == stats.REGRESSION:
        return (text + " ▼", "bad")
    if v == stats.IMPROVEMENT:
        return (text + " ▲", "good")
    if v == stats.CHANGED:
        return (text + " *", "changed")
    if v == stats.FEW and cell.cmp is not None:
        return (text + " n<3", "few")
    if v == stats.TAIL:
        return (text + " tail", "few")
    return text


def metric_name(r: Row) -> str:
    """The metric as the tables show it: "(normalized)" when compared
    relative to the machine of each sample's round."""
    return f"{r.metric} (normalized)" if r.normalized else r.metric


def verdict_rows(cmp: Comparison, which: list[tuple[Row, str]]) -> list[list[Cell]]:
    out: list[list[Cell]] = []
    for r, cid in which:
        c = r.cells[cid]
        assert c.cmp is not None
        out.append([f"{r.point.source} {r.point.target}", labels_text(r.point.labels),
                    metric_name(r),
                    f"{r.mdef.better} is better", cid,
                    f"{fmt_value(c.cmp.base.mean, r.mdef.unit)} ±{c.cmp.base.cv_pct:.1f}% (n={c.cmp.base.n})",
                    f"{fmt_value(c.cmp.cand.mean, r.mdef.unit)} ±{c.cmp.cand.cv_pct:.1f}% (n={c.cmp.cand.n})",
                    fmt_pct(c.cmp.change_pct), fmt_p(c.cmp.p)])
    return out


def conform_counts(cmp: Comparison, cid: str) -> str:
    res = cmp.conf.get(cid, {})
    n: dict[str, int] = {}
    for r in res.values():
        k = "fail" if r.result in FAILING else r.result
        n[k] = n.get(k, 0) + 1
    return ", ".join(f"{n[k]} {k}" for k in ("pass", "fail", "skip", "xfail") if n.get(k))


def guest_blocks(B: list[Any], runs: list[Run]) -> None:
    """The figures measured inside each emulated (TCG) guest: a table per
    kernel, from its latest run.  Emulated timings compare only within one
    guest, so each IOPS is also given relative to the best IOPS of the same
    target and stage in that guest; none of this is charted or compared
    across kernels."""
    latest: dict[str, Run] = {}
    for r in runs:
        if r.emulated and any(p.source == "aio-stress" for p in r.points.values()):
            if r.release not in latest or r.run_id > latest[r.release].run_id:
                latest[r.release] = r
    if not latest:
        return
    B.append(("h", 2, "Inside the guests (emulated)"))
    B.append(("p", "aio-stress inside each qemu guest (TCG: emulated timings). Compare "
                   "figures only within one guest: \"relative\" is the IOPS against "
                   "the best of the same target and stage in that guest."))
    for rel in sorted(latest, key=version_key):
        r = latest[rel]
        pts = [p for p in r.points.values() if p.source == "aio-stress" and p.status == "ok"
               and p.samples.get("iops")]
        best: dict[tuple[str, str], float] = {}
        for p in pts:
            k = (p.target, p.stage)
            best[k] = max(best.get(k, 0.0), max(p.samples["iops"]))
        rows: list[list[Cell]] = []
        for p in sorted(pts, key=lambda p: (p.target, p.stage, str(p.labels.get("engine")),
                                            str(p.labels.get("depth")))):
            iops = sum(p.samples["iops"]) / len(p.samples["iops"])
            top = best[(p.target, p.stage)]
            sub = p.samples.get("submit_ns_per_iocb_p50") or [0.0]
            inl = p.samples.get("inline_ratio")
            rows.append([p.target, str(p.labels.get("engine")), str(p.labels.get("depth")),
                         p.stage, fmt_value(iops), f"{100 * iops / top:.0f}%" if top else "",
                         fmt_value(sum(sub) / len(sub), "ns"),
                         f"{sum(inl) / len(inl):.2f}" if inl else "", p.variant])
        B.append(("p", f"{rel}, run {r.run_id}:"))
        B.append(Table(["target", "engine", "depth", "stage", "IOPS", "relative",
                        "submit ns/iocb p50", "inline", "file"], rows, md_limit=60))


def machine_block(B: list[Any], cmp: Comparison) -> None:
    """The control: the machine probes of each column against the baseline's."""
    if not cmp.machine:
        return
    B.append(("h", 2, "Machine"))
    B.append(("p", "The machine probe (tools/machine.py, machine.json) times a fixed piece "
                   "of user-space work at every round of a run; the kernel under test is "
                   "not in it. When it changed significantly (the rule above), the machine "
                   "was slower or faster by that much, and "
                   + ("no change of the column's metrics up to that size is called."
                      if cmp.use_machine else
                      "changes of that size may be the machine's (--no-machine-floor: "
                      "not used as a floor).")))
    rows: list[list[Cell]] = []
    for cid, mc in cmp.machine.items():
        if mc.cmp is None:
            rows.append([cid, mc.baseline, "-", "-", "-", "-", "no probes on one side", "-"])
            continue
        c = mc.cmp
        rows.append([cid, mc.baseline,
                     f"{c.base.mean / 1e6:.2f} ±{c.base.cv_pct:.0f}% (n={c.base.n})",
                     f"{c.cand.mean / 1e6:.2f} ±{c.cand.cv_pct:.0f}% (n={c.cand.n})",
                     fmt_pct(c.change_pct), fmt_p(c.p),
                     f"{fmt_steal(mc.base_steal_pct)} → {fmt_steal(mc.steal_pct)}",
                     f"{mc.floor_pct:.1f}%" if mc.moved else "not moved"])
    B.append(Table(["column", "baseline", "baseline probe ms", "probe ms", "change", "p",
                    "CPU steal", "machine floor"], rows))


def normalization_block(B: list[Any], cmp: Comparison) -> None:
    """Which metric families are compared normalized, and the A/A spread
    that decided it (aiosuite/report/normalize.py)."""
    nz = cmp.normalization
    if not nz.families:
        return
    B.append(("h", 2, "Normalized figures"))
    B.append(("p", "Every study sample names the machine probe of its round (aio-machine). "
                   "Normalized, a rate is multiplied and a wall time divided by the wall time "
                   "of the probe's user-space loop over the median of every probe compared on "
                   "the host, a CPU time by its CPU time: relative to the machine of that "
                   "minute. A metric family (scenario, metric) "
                   "is compared normalized when that reduces the spread of its samples by "
                   f"{100 * (1 - SPREAD_RATIO_MAX):.0f}% or more in the baseline's own runs "
                   "(A/A data: one kernel); the tables mark it \"(normalized)\". "
                   + ("--no-normalize: every figure compared raw." if not nz.enabled else
                      f"{len(nz.used)} of {len(nz.families)} families compared normalized.")))
    rows: list[list[Cell]] = []
    for f in sorted(nz.families.values(), key=lambda f: (f.source, f.metric)):
        rows.append([f.source, f.metric, f.kind, str(f.point_runs),
                     "-" if math.isnan(f.raw_cv_pct) else f"{f.raw_cv_pct:.1f}%",
                     "-" if math.isnan(f.norm_cv_pct) else f"{f.norm_cv_pct:.1f}%",
                     ("normalized", "good") if f.normalized else "raw", f.why])
    B.append(Table(["source", "metric", "kind", "point-runs", "raw CV (median)",
                    "normalized CV", "compared", "why"], rows))


def fmt_steal(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:.1f}%"


def incomplete_blocks(B: list[Any], runs: list[Run], included: bool) -> None:
    """The runs that did not finish, and why."""
    inc = [r for r in runs if r.incomplete]
    if not inc:
        return
    B.append(("h", 2, "Incomplete runs"))
    B.append(("p", "These runs did not finish: summary.json or the conformance JSON says "
                   "complete false (the run was killed, interrupted, or aio-conform bailed "
                   "out). "
                   + ("They are compared like the others (--include-incomplete); an "
                      "interrupted test is never a conformance failure."
                      if included else
                      "They are left out of every comparison, performance and "
                      "conformance; --include-incomplete compares them too.")))
    B.append(Table(["host", "kernel", "run", "why"],
                   [[r.host, r.release, r.run_id, ("; ".join(r.incomplete), "skip")]
                    for r in sorted(inc, key=lambda r: (version_key(r.release), r.run_id))],
                   md_limit=60))


# ---- composites and synchronous points ----

def fmt_ci(r: CompositeRow) -> str:
    if r.result is None:
        return "-"
    return f"{fmt_pct(r.result.low_pct)} .. {fmt_pct(r.result.high_pct)}"


def verdict_extra(comps: Composites | None, sync: SyncReport | None) -> list[str]:
    """The Verdict section's lines on composites and synchronous points."""
    out = []
    if comps is not None and comps.rows:
        made = [c for c in comps.rows if c.result is not None]
        det = sorted(c.detectable_pct for c in made if not math.isnan(c.detectable_pct))
        out.append(f"Composites: {len(comps.regressions)} regressions, "
                   f"{len(comps.improvements)} improvements of {len(made)} composites "
                   "(geometric means over the points of a scenario, an engine, or all)"
                   + (f"; the smallest change they could call: median {det[len(det) // 2]:.1f}%, "
                      f"smallest {det[0]:.1f}%" if det else "") + ".")
    if sync is not None and sync.rows:
        out.append(f"Synchronous points: {len(sync.regressions)} became synchronous, "
                   f"{len(sync.improvements)} became asynchronous (inline ratio >= 0.95 or "
                   "achieved depth below half the asked).")
    return out


def composite_blocks(B: list[Any], cmp: Comparison, comps: Composites | None) -> None:
    """The composites of each column: significant ones first, then by size."""
    if comps is None or not comps.rows:
        return
    B.append(("h", 2, "Composites"))
    B.append(("p", "The geometric mean of the per-point ratios against the baseline, per "
                   "scenario, per engine and over all points, of every metric with a "
                   "direction that is a rate or a time (ratios and tail figures stay with "
                   "their points). The interval is a bootstrap of "
                   f"{comps.resamples} resamples paired by point (seeded: the report is "
                   "reproducible): every point keeps its own baseline, and the rounds of a run "
                   "(or the runs of a kernel) are drawn for every point at once, since one "
                   "round's samples share the machine's state; with few rounds the interval "
                   "is widened (Hesterberg's expanded interval). A composite is called like a point: "
                   "significant after the correction over the composites of its column, and "
                   "at least its floor (--noise, the machine's change, or the same "
                   "composite's drift between other runs). A broad slowdown that no single "
                   "point can prove is called here."))
    order = {c.id: i for i, c in enumerate(cmp.perf_columns)}

    def weight(c: CompositeRow) -> tuple[int, int, float]:
        sig = c.verdict in (stats.REGRESSION, stats.IMPROVEMENT)
        ch = abs(c.result.change_pct) if c.result is not None else 0.0
        return (0 if sig else 1, order.get(c.column, 99), -ch)

    rows: list[list[Cell]] = []
    for c in sorted(comps.rows, key=weight):
        r = c.result
        v: Cell = MARK.get(c.verdict, c.verdict)
        if c.verdict == stats.REGRESSION:
            v = (MARK[c.verdict], "bad")
        elif c.verdict == stats.IMPROVEMENT:
            v = (MARK[c.verdict], "good")
        elif c.verdict == stats.FEW:
            v = ("fewer than 2 rounds or runs a side", "few")
        rows.append([c.column, c.kind, c.group or "-", c.metric, c.better,
                     str(r.points) if r else str(len(c.keys)),
                     fmt_pct(r.change_pct) if r else "-", fmt_ci(c), fmt_p(r.p) if r else "-",
                     f"{c.floor_pct:.1f}%" + (f" ({c.floor_why})" if c.floor_why else ""),
                     f"{c.detectable_pct:.1f}%" if not math.isnan(c.detectable_pct) else "-",
                     r.resampled if r else "-", v])
    B.append(Table(["column", "group", "name", "metric", "better", "points", "change",
                    "interval", "p", "floor", "detectable", "resampled", "verdict"],
                   rows, md_limit=30))


def sync_blocks(B: list[Any], cmp: Comparison, sync: SyncReport | None) -> None:
    """Synchronous points: per kernel, filesystem and mode, and the points
    that turned against the baseline."""
    if sync is None or not sync.rows:
        return
    B.append(("h", 2, "Synchronous points"))
    B.append(("p", "A point is synchronous when its inline-completion ratio (the share of "
                   "iocbs complete when io_submit returned) averages 0.95 or more, or its "
                   "achieved queue depth (fio's iodepth_level) is below half the depth it "
                   "asked for. A point that turns synchronous against the baseline is a "
                   "regression of its own, whatever its IOPS did, when the figure that "
                   "turned changed significantly (the point rule's test, after the "
                   "correction)."))
    cols = [c.id for c in cmp.perf_columns]
    B.append(Table(["column", "filesystem", "mode", "synchronous", "points", "became synchronous"],
                   [[c, fs, m, str(ns), str(n), (str(t), "bad") if t else "0"]
                    for c, fs, m, ns, n, t in sync_summary(sync, cols)], md_limit=40))
    turned: list[list[Cell]] = []
    for r in sync.rows:
        base = cmp.baseline.id if cmp.baseline else ""
        for cid, v in r.verdicts.items():
            bs, cs = r.states.get(base), r.states.get(cid)
            turned.append([f"{r.point.source} {filesystem_of(r.point)}", mode_of(r.point),
                           labels_text(r.point.labels), cid, bs.why if bs else "-",
                           cs.why if cs else "-",
                           (v, "bad") if v == BECAME_SYNC else (v, "good")])
        for cid, why in r.notes.items():
            bs, cs = r.states.get(base), r.states.get(cid)
            turned.append([f"{r.point.source} {filesystem_of(r.point)}", mode_of(r.point),
                           labels_text(r.point.labels), cid, bs.why if bs else "-",
                           cs.why if cs else "-", (f"turned, not called: {why}", "few")])
    if turned:
        B.append(Table(["point", "mode", "labels", "column", "baseline", "now", "verdict"],
                       turned, md_limit=40))
    else:
        B.append(("p", "No point turned synchronous or asynchronous against the baseline."))


def rule_text(cmp: Comparison) -> str:
    """How a point's change is tested: the units, the tests, the tail rule."""
    kernel = ("A kernel's runs are the unit when it has several: its mean is the mean of its "
              "run means, its variance that of the run means (never less than its samples "
              "say); a kernel of one run against one of several takes their between-run "
              "variance. " if cmp.by == "kernel" and not cmp.pool_runs else
              "A kernel's samples are pooled, as if independent (--pool-runs). "
              if cmp.by == "kernel" else
              "A run's samples are the unit, with the between-run variance and the samples' "
              "spread of the host's other runs of the kernel when it has several (never the "
              "pair compared). ")
    return (kernel + f"The test is Welch's t, or Mann-Whitney's rank test where each side has "
            f"{stats.MW_MIN_SAMPLES} or more samples (or runs); a tail figure (p99.9 and "
            "beyond, max) is informational (\"tail\") unless each side has 0.01 / (1 - q) "
            "samples (10 for a p99.9; a maximum never), and then is compared by ranks only.")


def build(cmp: Comparison, runs: list[Run], charts: Charts, meta: dict[str, str],
          bad: list[str] | None = None, include_incomplete: bool = False,
          comps: Composites | None = None, sync: SyncReport | None = None) -> list[Any]:
    B: list[Any] = []
    unit = "run" if cmp.by == "run" else "kernel"
    B.append(("h", 1, "aio-suite report"))
    B.append(("p", f"Generated {meta.get('time', '')} from {meta.get('root', '')}: "
                   f"{len(runs)} runs, {len({r.release for r in runs})} kernels. "
                   f"Columns are {unit}s"
                   + ((" (the samples of all its runs are shown pooled)" if unit == "kernel"
                       else ""))
                   + ". Performance baseline: "
                   + (cmp.baseline.id if cmp.baseline else "none (no performance data)")
                   + "; conformance baseline: "
                   + (cmp.conf_baseline.id if cmp.conf_baseline else "none") + "."))
    B.append(("p", f"The rule: a change is significant when both sides have at least "
                   f"{stats.MIN_SAMPLES} samples, its test is significant at "
                   f"{cmp.alpha:g} ("
                   + ("Benjamini-Hochberg over all metrics of a column" if cmp.fdr
                      else "each metric on its own: --no-fdr")
                   + f") and the means differ by at least the noise floor, {cmp.noise_pct:g}%"
                   + (" or the metric's run-to-run drift" if cmp.drift else "")
                   + (" or the machine's own change (below)" if cmp.use_machine else "") + ". "
                   "A significant change is a regression or an improvement according to "
                   "the metric's direction; a metric without a direction is informational. "
                   "Changes with fewer samples are shown (n<3) but never called. Emulated "
                   "(TCG) runs count for conformance only. " + rule_text(cmp)))
    raised = [c.floor_pct for r in cmp.rows for c in r.cells.values()
              if c.cmp is not None and c.floor_why.startswith("drift")]
    if raised:
        big = sorted(raised)
        where = ("two runs of one kernel" if cmp.by == "kernel" else
                 "two runs of one kernel on this host, other than the two compared")
        B.append(("p", f"Run-to-run drift: for {len(raised)} comparisons the floor is raised "
                       f"to the largest change seen between {where} (median "
                       f"{big[len(big) // 2]:.1f}%, largest {big[-1]:.1f}%): repeats inside a "
                       "run share the machine's state of that run and understate the noise "
                       "between runs. --no-drift-floor turns this off."))
    machine_block(B, cmp)
    normalization_block(B, cmp)
    regs, imps = cmp.regressions, cmp.improvements
    few = sum(1 for r in cmp.rows for c in r.cells.values() if c.verdict == stats.FEW)
    B.append(("h", 2, "Verdict"))
    det = sorted(c.detectable_pct for r in cmp.rows if r.mdef.better
                 for c in r.cells.values() if not math.isnan(c.detectable_pct))
    sens = ([f"Sensitivity: the smallest change these samples could call is "
             f"{det[len(det) // 2]:.1f}% for the median metric with a direction "
             f"(a quarter of them {det[len(det) // 4]:.1f}% or less, a quarter "
             f"{det[(3 * len(det)) // 4]:.1f}% or more; at --alpha before the correction, "
             "never below the floor; column detectable_pct of report.csv). A change smaller "
             "than that is not called, whatever its cause: more rounds (REPEAT) or "
             "more runs narrow it."] if det else [])
    B.append(("ul", [
        f"Performance: {len(regs)} significant regressions, {len(imps)} improvements, "
        f"{few} comparisons with fewer than {stats.MIN_SAMPLES} samples (not called), "
        f"{len(cmp.rows)} metrics compared.", *sens,
        "Conformance: " + (", ".join(
            f"{d.column}: {len(d.new_failures)} new failures, {len(d.fixed)} fixed, "
            f"{len(d.skip_changes)} skip changes" for d in cmp.conf_diffs)
            if cmp.conf_diffs else "nothing to compare (fewer than two columns with results)") + ".",
        *verdict_extra(comps, sync),
    ]))

    B.append(("h", 2, "Runs"))
    B.append(Table(["host", "kernel", "run", "emulated", "complete", "contents"],
                   [[r.host, r.release, r.run_id, ("TCG", "skip") if r.emulated else "no",
                     ("no", "bad") if r.incomplete else "yes",
                     run_contents(r)] for r in sorted(
                        runs, key=lambda r: (version_key(r.release), r.run_id))], md_limit=60))
    incomplete_blocks(B, runs, include_incomplete)
    if bad:
        B.append(("h", 2, "Files not read"))
        B.append(("p", "These files of the store cannot be used as results (each reason "
                       "says why); they are left out, the rest of their runs is read."))
        B.append(("ul", bad))

    vh = ["point", "labels", "metric", "direction", unit, "baseline", "now", "change", "p"]
    B.append(("h", 2, "Regressions"))
    if regs:
        B.append(Table(vh, verdict_rows(cmp, regs), md_limit=100))
    else:
        B.append(("p", "None."))
    B.append(("h", 2, "Improvements"))
    if imps:
        B.append(Table(vh, verdict_rows(cmp, imps), md_limit=50))
    else:
        B.append(("p", "None."))
    composite_blocks(B, cmp, comps)
    sync_blocks(B, cmp, sync)

    B.append(("h", 2, "Conformance"))
    ccols = [c for c in cmp.columns if c.id in cmp.conf]
    if ccols:
        trows: list[list[Cell]] = []
        for c in ccols:
            cr = c.conform_run()
            trows.append([c.id + (" (TCG)" if cr and cr.emulated else ""),
                          cr.run_id if cr else "", conform_counts(cmp, c.id)])
        B.append(Table([unit, "run", "results"], trows))
        for d in cmp.conf_diffs:
            items = []
            for what, lst in (("new failure", d.new_failures), ("fixed", d.fixed),
                              ("skip change", d.skip_changes), ("other change", d.other)):
                items += [f"{what}: {t}: {was} → {now}" for t, was, now in lst]
            B.append(("p", f"{d.column} against {d.baseline}: "
                           + ("no change." if not items else f"{len(items)} changes:")))
            if items:
                B.append(("ul", items))
    else:
        B.append(("p", "No run has conformance results (aio-conform --json)."))

    guest_blocks(B, runs)

    B.append(("h", 2, "Charts"))
    for ch in charts.made:
        png = next((f for f in ch.files if f.suffix == ".png"), None)
        svg = next((f for f in ch.files if f.suffix == ".svg"), None)
        if png:
            B.append(Image(png, ch.title, ch.caption, svg))
    if charts.notes:
        B.append(("ul", charts.notes))

    B.append(("h", 2, "All metrics"))
    pcols = [c.id for c in cmp.perf_columns]
    B.append(("p", "Mean ±CV over the samples, (% change against the baseline); "
                   "▼ significant regression, ▲ significant improvement, * significant change "
                   "of an informational metric, n<3 too few samples to call."))
    by_source: dict[str, list[Row]] = {}
    for r in cmp.rows:
        by_source.setdefault(r.point.source, []).append(r)
    for source, rows in by_source.items():
        # Markdown shows the biggest changes first; HTML keeps the order.
        def weight(r: Row) -> float:
            ch = [abs(c.cmp.change_pct) for c in r.cells.values()
                  if c.cmp and not math.isnan(c.cmp.change_pct)]
            return -(max(ch) if ch else 0.0) - (1000.0 if any(
                c.verdict in (stats.REGRESSION, stats.IMPROVEMENT) for c in r.cells.values()) else 0)
        ordered = sorted(rows, key=weight) if len(pcols) > 1 else rows
        trows = []
        for r in ordered:
            cells: list[Cell] = [r.point.target, labels_text(r.point.labels), metric_name(r),
                                 r.mdef.unit, r.mdef.better or "info"]
            trows.append(cells + [cmp_cell(r, c) for c in pcols])
        t = Table(["target", "labels", "metric", "unit", "better"] + pcols, trows, md_limit=15)
        B.append(Details(f"{source}: {len(rows)} metrics", [t]))

    if cmp.notes:
        B.append(("h", 2, "Notes"))
        B.append(("ul", cmp.notes))
    return B


# ---- Markdown ----

_MD_HTML = re.compile(r"<(?=[A-Za-z/!?])")


def md_text(s: str) -> str:
    """Text as Markdown that shows it as it is: no line break, no raw HTML
    tag or comment, no link or image (backslash escapes)."""
    s = str(s).replace("\\", "\\\\").replace("\r", " ").replace("\n", " ")
    s = _MD_HTML.sub(r"\\<", s)
    return s.replace("[", "\\[").replace("]", "\\]")


def _md_cell(c: Cell) -> str:
    text = c[0] if isinstance(c, tuple) else c
    return md_text(str(text)).replace("|", "\\|")


def md_url(p: Path) -> str:
    """A file path as a Markdown link destination in <...>."""
    return re.sub(r"[<>\s\\]", lambda m: f"%{ord(m.group()):02X}", printable_path(p))


def printable_path(p: Path) -> str:
    return str(p).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def to_markdown(blocks: list[Any], base: Path) -> str:
    """Markdown; images are linked relative to base (the report's directory)."""
    out: list[str] = []
    base = base.resolve()

    def emit(b: Any) -> None:
        if isinstance(b, Table):
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out.append("|" + "---|" * len(b.headers))
            for row in b.rows[:b.md_limit]:
                out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            if len(b.rows) > b.md_limit:
                out.append("")
                out.append(f"... {len(b.rows) - b.md_limit} more rows: {b.more}.")
            out.append("")
        elif isinstance(b, Image):
            rel = b.path.relative_to(base) if b.path.is_relative_to(base) else b.path
            out.append(f"### {md_text(b.title)}")
            out.append("")
            out.append(f"![{md_text(b.title)}](<{md_url(rel)}>)")
            out.append("")
            out.append(md_text(b.caption) + (f" ([SVG](<{md_url(b.svg.relative_to(base))}>))"
                                             if b.svg and b.svg.is_relative_to(base) else ""))
            out.append("")
        elif isinstance(b, Details):
            out.append(f"### {md_text(b.summary)}")
            out.append("")
            for x in b.blocks:
                emit(x)
        elif b[0] == "h":
            out.append("#" * b[1] + " " + md_text(b[2]))
            out.append("")
        elif b[0] == "p":
            out.append(md_text(b[1]))
            out.append("")
        elif b[0] == "ul":
            out.extend(f"- {md_text(x)}" for x in b[1])
            out.append("")

    for b in blocks:
        emit(b)
    return "\n".join(out).rstrip() + "\n"


# ---- HTML ----

CSS = """
body{font:14px/1.45 'DejaVu Sans',sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:12px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
td.bad{background:#f8d0d0} td.good{background:#d3efd3} td.few{color:#888}
td.skip{color:#777;background:#f4f4f4} td.changed{background:#fff3c4}
figure{margin:1em 0 2em} figcaption{color:#444;max-width:900px}
img{max-width:100%;height:auto;border:1px solid #eee}
details{margin:.3em 0} summary{cursor:pointer;font-weight:bold}
th{cursor:pointer} th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
"""

# Click a column's heading to sort the table by it (again: the other way).
# A cell sorts by the number it starts with (SI prefixes k M G T: "1.5k",
# "+3.2%", "<0.001"), else by its text; empty and "-" cells last.  One line,
# inline: the page stays one file that loads nothing.
SORTER = ("<script>/* aio-suite: sortable tables */ (function(){"
          "var SI={k:1e3,M:1e6,G:1e9,T:1e12};"
          "function key(c){var s=c?c.textContent.trim():'';"
          "var m=/^[<>]?([-+]?[0-9]*[.]?[0-9]+(?:e[-+]?[0-9]+)?)([kMGT]?)/.exec(s);"
          "return {n:m?parseFloat(m[1])*(SI[m[2]]||1):null,s:s,e:s===''||s==='-'};}"
          "function cmp(a,b){if(a.e!==b.e)return a.e?1:-1;"
          "if(a.n!==null&&b.n!==null&&a.n!==b.n)return a.n-b.n;"
          "if((a.n===null)!==(b.n===null))return a.n===null?1:-1;"
          "return a.s.localeCompare(b.s);}"
          "Array.prototype.forEach.call(document.querySelectorAll('table'),function(t){"
          "if(!t.tHead||!t.tBodies.length)return;var hs=t.tHead.rows[0].cells;"
          "Array.prototype.forEach.call(hs,function(th,i){th.title='click to sort';"
          "th.addEventListener('click',function(){"
          "var d=th.getAttribute('aria-sort')==='ascending'?-1:1;"
          "Array.prototype.forEach.call(hs,function(h){h.removeAttribute('aria-sort');});"
          "th.setAttribute('aria-sort',d>0?'ascending':'descending');"
          "var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);"
          "rows.sort(function(x,y){var a=key(x.cells[i]),c=key(y.cells[i]);"
          "return a.e||c.e?cmp(a,c):d*cmp(a,c);});"
          "rows.forEach(function(r){b.appendChild(r);});});});});})();</script>")


def _html_cell(c: Cell, tag: str = "td") -> str:
    if isinstance(c, tuple):
        return f'<{tag} class="{c[1]}">{html.escape(str(c[0]))}</{tag}>'
    return f"<{tag}>{html.escape(str(c))}</{tag}>"


def to_html(blocks: list[Any]) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>aio-suite report</title>", f"<style>{CSS}</style></head><body>"]

    def emit(b: Any) -> None:
        if isinstance(b, Table):
            out.append("<table><thead><tr>" + "".join(_html_cell(h, "th") for h in b.headers)
                       + "</tr></thead><tbody>")
            for row in b.rows:
                out.append("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>")
            out.append("</tbody></table>")
        elif isinstance(b, Image):
            data = base64.b64encode(b.path.read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{html.escape(b.title)}" '
                       f'src="data:image/png;base64,{data}">'
                       f"<figcaption><b>{html.escape(b.title)}</b>. "
                       f"{html.escape(b.caption)}</figcaption></figure>")
        elif isinstance(b, Details):
            out.append(f"<details><summary>{html.escape(b.summary)}</summary>")
            for x in b.blocks:
                emit(x)
            out.append("</details>")
        elif b[0] == "h":
            out.append(f"<h{b[1]}>{html.escape(b[2])}</h{b[1]}>")
        elif b[0] == "p":
            out.append(f"<p>{html.escape(b[1])}</p>")
        elif b[0] == "ul":
            out.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in b[1]) + "</ul>")

    for b in blocks:
        emit(b)
    out.append(SORTER)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ---- CSV ----

CSV_FIELDS = ["column", "baseline", "source", "target", "labels", "variant", "metric", "unit",
              "better", "status", "n", "mean", "stddev", "cv_pct", "base_n", "base_mean",
              "base_stddev", "change_pct", "p_value", "floor_pct", "floor_from", "detectable_pct",
              "verdict", "incomplete", "test", "tested_unit", "runs", "base_runs",
              "ci_low_pct", "ci_high_pct", "points", "normalized"]


def to_csv(cmp: Comparison, comps: Composites | None = None,
           sync: SyncReport | None = None) -> str:
    """Every compared metric of every column; then each composite (source
    "composite", target its kind, labels its group, n its points) and each
    point's synchronous state (metric "synchronous", mean 1 or 0, verdict
    regression when it became synchronous)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    nruns = {c.id: len(c.perf_runs) for c in cmp.perf_columns}
    bid = cmp.baseline.id if cmp.baseline else ""

    def num(v: float) -> str:
        return "" if v is None or math.isnan(v) else f"{v:.6g}"

    # A column holding an incomplete run (--include-incomplete).
    partial = {col.id for col in cmp.columns if any(run.incomplete for run in col.runs)}
    for r in cmp.rows:
        for cid, c in r.cells.items():
            b = c.cmp.base if c.cmp else None
            w.writerow([cid, cmp.baseline.id if cmp.baseline else "", r.point.source,
                        r.point.target, ";".join(f"{k}={v}" for k, v in r.point.labels.items()),
                        r.point.variant, r.metric, r.mdef.unit, r.mdef.better, c.status,
                        c.summary.n, num(c.summary.mean), num(c.summary.stddev),
                        num(c.summary.cv_pct) if c.summary.n else "",
                        b.n if b else "", num(b.mean) if b else "", num(b.stddev) if b else "",
                        num(c.cmp.change_pct) if c.cmp else "", num(c.cmp.p) if c.cmp else "",
                        num(c.floor_pct), c.floor_why, num(c.detectable_pct), c.verdict,
                        "true" if cid in partial else "false",
                        c.cmp.test if c.cmp else "", c.cmp.unit if c.cmp else "",
                        nruns.get(cid, ""), nruns.get(bid, "") if c.cmp else "", "", "", "",
                        "true" if r.normalized else "false"])
    for cr in comps.rows if comps is not None else []:
        res = cr.result
        w.writerow([cr.column, bid, "composite", cr.kind, cr.group, "", cr.metric, cr.unit,
                    cr.better, "ok", "", "", "", "", "", "", "",
                    num(res.change_pct) if res else "", num(res.p) if res else "", num(cr.floor_pct),
                    cr.floor_why, num(cr.detectable_pct), cr.verdict,
                    "true" if cr.column in partial else "false", "bootstrap",
                    res.resampled if res else "", nruns.get(cr.column, ""), nruns.get(bid, ""),
                    num(res.low_pct) if res else "", num(res.high_pct) if res else "",
                    res.points if res else len(cr.keys),
                    "true" if cr.keys and all(cmp.normalization.is_normalized(
                        k.split("|", 1)[0], cr.metric) for k in cr.keys) else "false"])
    for sr in sync.rows if sync is not None else []:
        p = sr.point
        bst = sr.states.get(bid)
        for cid, st in sr.states.items():
            v = sr.verdicts.get(cid, "")
            few = st.cell.cmp is not None and st.cell.cmp.verdict == stats.FEW
            verdict = (stats.BASE if cid == bid else stats.REGRESSION if v == BECAME_SYNC
                       else stats.IMPROVEMENT if v == BECAME_ASYNC else stats.FEW if few
                       else stats.SAME)
            w.writerow([cid, bid, p.source, p.target,
                        ";".join(f"{k}={x}" for k, x in p.labels.items()), p.variant,
                        "synchronous", "", "", "ok", st.cell.summary.n, 1 if st.sync else 0,
                        "", "", "", ("" if bst is None or cid == bid else 1 if bst.sync else 0),
                        "", "", "", "", "", "", verdict,
                        "true" if cid in partial else "false", st.why, "", nruns.get(cid, ""),
                        nruns.get(bid, ""), "", "", "", "false"])
    return buf.getvalue()


def main(argv: list[str]) -> int:
    print("render.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
