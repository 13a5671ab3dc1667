#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The "async became sync" verdict: which points ran synchronously, per
kernel (column), filesystem (target) and mode, and which turned
synchronous against the baseline.

A point is synchronous in a column when
  - its inline-completion ratio (aio-stress, and the studies built on it:
    the share of iocbs already complete when io_submit returned) averages
    SYNC_INLINE or more, or
  - its achieved queue depth averages less than SYNC_DEPTH_SHARE of the
    depth it asked for.  The achieved depth comes from fio's iodepth_level
    distribution (the I/Os in flight, collect.fio_points(): depth_achieved;
    fio's iodepth_submit and iodepth_complete are the batch sizes of its
    submit and reap calls, not depths).  aio-stress's JSON has no count of
    I/Os in flight (its completion latency runs to the reap, so Little's
    law on it counts iocbs that completed inline too): its inline ratio is
    its signal.
The depth asked is the point's label depth, qd or iodepth.  A benchmark
that silently ran synchronous I/O (fio's psync at iodepth=64 reports 100%
of its I/O at depth 1) is marked so.

A point that is synchronous in a column and not in the baseline (or the
other way round) has turned: a regression of its own ("became
synchronous"), whatever its IOPS did, or an improvement ("became
asynchronous").  It is called only when the figure that turned (the
inline ratio, or the achieved depth) changed significantly under the
point rule: its test's p below the column's level after the correction
over its metrics (compare.compare_runs()); fewer than 3 samples a side
are shown and never called.  The threshold is the size criterion, so no
noise floor applies.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

from aiosuite import stats
from aiosuite.report.collect import Point
from aiosuite.report.compare import Cell, Comparison, Row

SYNC_INLINE = 0.95  # inline ratio at or above: synchronous
SYNC_DEPTH_SHARE = 0.5  # achieved depth below this share of the asked: synchronous
DEPTH_LABELS = ("depth", "qd", "iodepth")
INLINE = "inline_ratio"
DEPTH = "depth_achieved"

BECAME_SYNC = "became synchronous"
BECAME_ASYNC = "became asynchronous"


@dataclass
class State:
    sync: bool
    why: str  # "inline 0.99", "depth 1.0 of 32"
    cell: Cell  # the cell of the figure that decided


@dataclass
class SyncRow:
    key: str
    point: Point
    states: dict[str, State]  # column id -> state (absent: no figure)
    verdicts: dict[str, str] = field(default_factory=dict)  # column id -> BECAME_* or ""
    notes: dict[str, str] = field(default_factory=dict)  # column id -> why not called

    def regression(self, cid: str) -> bool:
        return self.verdicts.get(cid) == BECAME_SYNC


@dataclass
class SyncReport:
    rows: list[SyncRow] = field(default_factory=list)

    @property
    def regressions(self) -> list[tuple[SyncRow, str]]:
        return [(r, c) for r in self.rows for c, v in r.verdicts.items() if v == BECAME_SYNC]

    @property
    def improvements(self) -> list[tuple[SyncRow, str]]:
        return [(r, c) for r in self.rows for c, v in r.verdicts.items() if v == BECAME_ASYNC]


def asked_depth(p: Point) -> float:
    """The queue depth a point asked for (nan: it names none)."""
    for k in DEPTH_LABELS:
        v = p.labels.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            return float(v)
        if isinstance(v, str) and v.isdigit() and int(v) > 0:
            return float(v)
    return math.nan


def mode_of(p: Point) -> str:
    """The point's mode: its label mode, else O_DIRECT from its target."""
    m = p.labels.get("mode")
    if m is not None and str(m):
        return str(m)
    return "O_DIRECT" if "O_DIRECT" in p.target else "-"


def filesystem_of(p: Point) -> str:
    return p.target.replace(" O_DIRECT", "") or "-"


def state(metric: str, cell: Cell, asked: float) -> State | None:
    """The state a cell's figure gives, None when it gives none."""
    if cell.status != "ok" or not cell.samples or math.isnan(cell.summary.mean):
        return None
    v = cell.summary.mean
    if metric == INLINE:
        return State(v >= SYNC_INLINE, f"inline {v:.2f}", cell)
    if metric == DEPTH and not math.isnan(asked):
        return State(v < SYNC_DEPTH_SHARE * asked, f"depth {v:.1f} of {asked:g}", cell)
    return None


def build(cmp: Comparison) -> SyncReport:
    """Every point with an inline ratio or an achieved depth, its state in
    each column and its verdict against the baseline."""
    out = SyncReport()
    base = cmp.baseline
    by_key: dict[str, list[Row]] = {}
    for r in cmp.rows:
        if r.metric in (INLINE, DEPTH):
            by_key.setdefault(r.key, []).append(r)
    for key, rows in by_key.items():
        point = rows[0].point
        asked = asked_depth(point)
        states: dict[str, State] = {}
        decided: dict[str, Row] = {}
        for row in sorted(rows, key=lambda r: r.metric != INLINE):
            for cid, cell in row.cells.items():
                s = state(row.metric, cell, asked)
                if s is None:
                    continue
                have = states.get(cid)
                # Either figure makes a point synchronous.
                if have is None or (s.sync and not have.sync):
                    states[cid] = s
                    decided[cid] = row
        if not states:
            continue
        sr = SyncRow(key, point, states)
        bst = states.get(base.id) if base is not None else None
        for cid, s in states.items():
            if base is None or cid == base.id or bst is None or s.sync == bst.sync:
                continue
            # The figure that turned: the one that decided the synchronous side.
            row = decided[cid] if s.sync else decided[base.id]
            turned = row.cells.get(cid)
            c = turned.cmp if turned is not None else None
            level = cmp.levels.get(cid, cmp.alpha)
            if c is None or c.verdict == stats.FEW or math.isnan(c.p):
                sr.notes[cid] = "too few samples to call"
            elif c.p >= level:
                sr.notes[cid] = f"not significant (p={c.p:.2g})"
            else:
                sr.verdicts[cid] = BECAME_SYNC if s.sync else BECAME_ASYNC
        out.rows.append(sr)
    return out


def summary(rep: SyncReport, columns: list[str]) -> list[tuple[str, str, str, int, int, int]]:
    """(column, filesystem, mode, synchronous points, points, turned) for
    each kernel, filesystem and mode that has points with a state."""
    acc: dict[tuple[str, str, str], list[int]] = {}
    for r in rep.rows:
        fs, mode = filesystem_of(r.point), mode_of(r.point)
        for cid, s in r.states.items():
            a = acc.setdefault((cid, fs, mode), [0, 0, 0])
            a[0] += 1 if s.sync else 0
            a[1] += 1
            a[2] += 1 if r.verdicts.get(cid) == BECAME_SYNC else 0
    order = {c: i for i, c in enumerate(columns)}
    return [(c, fs, m, a[0], a[1], a[2]) for (c, fs, m), a in
            sorted(acc.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1], kv[0][2]))]


def main(argv: list[str]) -> int:
    print("synchronous.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
