#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The report's history sections: "Trends" (the trend charts) and "Change
points" (the latest shift of every point metric and composite, newest
first), changepoints.csv (every change point), and the dashboard order
of the report: the preamble, the verdict, the trends, the change points
and the charts first, then the tables.

The blocks are render.py's (headings, paragraphs, tables, images); text
from the store reaches them as the rest of the report's does (printable,
escaped by the writers).
"""
from __future__ import annotations

import csv
import datetime
import io
import math
import sys
from typing import Any

from aiosuite import stats
from aiosuite.report.changepoints import MIN_SIZE, ChangePoint, History, Trend
from aiosuite.report.charts import Charts
from aiosuite.report.render import Cell, Image, Table, fmt_p, fmt_pct, fmt_value

# The dashboard: these sections first, in this order, then the others as
# they come.
DASHBOARD = ("Verdict", "Trends", "Change points", "Charts")
CSV_FIELDS = ["host", "release", "series", "point", "metric", "unit", "better", "composite",
              "runs", "position", "run", "time_utc", "before", "after", "change_pct", "p_value",
              "verdict", "latest"]


def fmt_time(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def verdict_cell(c: ChangePoint) -> Cell:
    if c.verdict == stats.REGRESSION:
        return ("▼ regression", "bad")
    if c.verdict == stats.IMPROVEMENT:
        return ("▲ improvement", "good")
    return ("changed", "changed")


def _point(t: Trend) -> str:
    return ("◆ " if t.series.composite else "") + t.series.point


def blocks(hist: History, charts: Charts, md_limit: int = 40) -> list[Any]:
    """The "Trends" and "Change points" sections."""
    B: list[Any] = []
    B.append(("h", 2, "Trends"))
    if not hist.trends:
        B.append(("p", f"No history: no host and kernel has {2 * MIN_SIZE} or more runs with "
                       "performance data (runs of one host and kernel, in time order, are a "
                       "history; change points need at least "
                       f"{MIN_SIZE} runs on each side)."))
    else:
        B.append(("p", f"The history of {hist.groups} host and kernel"
                       + ("s" if hist.groups != 1 else "") + f" ({hist.runs} runs, in the "
                       "order of their time: the UTC time of the run id, else env.json's "
                       "time_utc): a chart per scenario, its composites and the key metric of "
                       "each point that shifted."))
    for ch in charts.made:
        png = next((f for f in ch.files if f.suffix == ".png"), None)
        svg = next((f for f in ch.files if f.suffix == ".svg"), None)
        if png:
            B.append(Image(png, ch.title, ch.caption, svg))
    if charts.notes:
        B.append(("ul", charts.notes))

    B.append(("h", 2, "Change points"))
    shifted = hist.shifted
    n_series = len(hist.trends)
    test = ("the same statistic on normal draws (run means assumed to scatter normally; "
            "any number of runs can reach a small p)" if hist.null == "normal" else
            "shuffling each segment's run means (no assumption; fewer than about 10 runs "
            "cannot reach p below 0.01)")
    B.append(("p", f"Each series (a point's metric, or a composite ◆, over the runs of one "
                   "host and kernel; a run counts by its mean) is split where its level "
                   "shifts: E-Divisive (Matteson and James's energy statistic, as Apache Otava "
                   "and MongoDB's CI use it); a split is significant when its divergence is "
                   f"rarer than {hist.alpha:g} (--cp-alpha) against {test}, with at least "
                   f"{MIN_SIZE} runs on each side and a change of at least {hist.noise_pct:g}% "
                   "(--noise). Below: the latest shift of each series, newest first "
                   "(composites, then the points' key metrics, tail percentiles last); "
                   "changepoints.csv has every change point. Position: the first run after "
                   f"the shift, counted from the oldest. {len(shifted)} of {n_series} series "
                   "shifted."))
    if shifted:
        rows: list[list[Cell]] = []
        for t in shifted:
            c = t.cps[-1]
            s = t.series
            rows.append([fmt_time(c.time), f"{s.host}/{s.release}", c.run,
                         f"{c.index + 1} of {len(s.obs)}", _point(t), s.metric,
                         fmt_value(c.before, s.unit), fmt_value(c.after, s.unit),
                         fmt_pct(c.change_pct), fmt_p(c.p), verdict_cell(c),
                         str(len(t.cps))])
        B.append(Table(["time (UTC)", "host/kernel", "run", "position", "point", "metric",
                        "before", "after", "change", "p", "verdict", "shifts"], rows,
                       md_limit=md_limit, more="the HTML report has every row, "
                       "changepoints.csv every change point"))
    if hist.notes:
        B.append(("ul", hist.notes))
    return B


def dashboard(blocks: list[Any], order: tuple[str, ...] = DASHBOARD) -> list[Any]:
    """The blocks with the sections named in order moved to the front (after
    the preamble before the first section), in that order; the others keep
    theirs.  A section is a level 2 heading and what follows it."""
    pre: list[Any] = []
    sections: list[list[Any]] = []
    for b in blocks:
        if isinstance(b, tuple) and b[0] == "h" and b[1] == 2:
            sections.append([b])
        elif sections:
            sections[-1].append(b)
        else:
            pre.append(b)
    first = [s for name in order for s in sections if s[0][2] == name]
    rest = [s for s in sections if not any(s is f for f in first)]
    return pre + [b for s in first + rest for b in s]


def to_csv(hist: History) -> str:
    """Every change point of every series, one row each."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)

    def num(v: float) -> str:
        return "" if math.isnan(v) else f"{v:.6g}"

    for t in hist.trends:
        s = t.series
        for c in t.cps:
            w.writerow([s.host, s.release, s.key, s.point, s.metric, s.unit, s.better,
                        "true" if s.composite else "false", len(s.obs), c.index + 1, c.run,
                        fmt_time(c.time), num(c.before), num(c.after), num(c.change_pct),
                        num(c.p), c.verdict, "true" if c is t.cps[-1] else "false"])
    return buf.getvalue()


def main(argv: list[str]) -> int:
    print("trends.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
