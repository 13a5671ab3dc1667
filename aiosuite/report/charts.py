#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The report's charts: write each chart's data (.dat) and draw it with
gnuplot through the templates in plots/report-*.gp, as PNG and SVG.

Charts are drawn from whatever data the comparison holds; one without data
is skipped with a note saying why, never an error.  Performance charts use
the performance columns only, so emulated (TCG) runs never appear in them;
the conformance matrix shows every kernel.

  iops-qd-<source>        IOPS against queue depth, a line per column/engine
  latency-qd-<source>     submit and completion percentiles against depth
  blocking-<column>       the io_submit blocking matrix of one column
  batch-cost-<source>     io_submit cost per iocb against batch size
  change                  % change against the baseline, significant outlined
  conform                 the conformance matrix, test x kernel
  latency-cdf             completion latency CDF at one depth, overlaid
  trend-<scenario>        the history: run means against run time, noise band
                          and change points (draw_trends(), apart)

No text of the store is ever gnuplot code (gp_args()): titles and axis
labels reach gnuplot as arguments of plots/report-run.gp, which sets them
as string variables without parsing them; series titles and tic labels
are fields of the data files (chart_text()); only numbers and words this
module made (file names in the charts directory, gnuplot's working
directory; palettes; formats) are gnuplot code, in -e.
"""
from __future__ import annotations

import datetime
import hashlib
import math
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, cast

from aiosuite import schemas, stats, store
from aiosuite.report.changepoints import ChangePoint, History, Trend
from aiosuite.report.collect import FAILING, AIO_STRESS_SCHEMA, Point, read_json, stage_of
from aiosuite.report.compare import Comparison, Row
from aiosuite.schemas import AioStressDoc, BadFile, Stage, printable

PLOTS = store.PLOTS
DEPTH_LABELS = ("depth", "qd", "iodepth", "queue_depth")
BATCH_LABELS = ("batch", "batch_size", "iodepth_batch")
MAX_SERIES = 14
MAX_CHANGE_ROWS = 40
PCTS = (("p50", "p50"), ("p99", "p99"), ("p99_9", "p99.9"))
CONF_CODE = {"pass": 0, "xfail": 1, "skip": 2, "fail": 3}  # FAILING others: 4


@dataclass
class Chart:
    name: str  # file stem under the charts directory
    title: str
    caption: str
    files: list[Path] = field(default_factory=list)  # .png first, then .svg


@dataclass
class Charts:
    made: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # charts skipped and why


@dataclass
class Series:
    title: str
    pts: list[tuple[float, float, float]]  # x, y, stddev


# ---- drawing ----

_GP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def chart_text(s: Any) -> str:
    """Text for a field of a data file gnuplot reads: printable ASCII (the
    rest as \\xNN, \\uNNNN escapes: pngcairo draws garbage for some
    characters read from data), a leading "#" (a comment) as \\x23, a
    double quote (gnuplot's data reader ends the field there) as two
    single quotes, and a backslash doubled (the reader takes it for an
    escape)."""
    t = printable(str(s)).encode("ascii", "backslashreplace").decode("ascii")
    if t.startswith("#"):
        t = "\\x23" + t[1:]
    return t.replace("\\", "\\\\").replace('"', "''")


_GP_TOKEN = re.compile(r"[A-Za-z0-9_.,/+-]*")
GP_MAX_TEXTS = 8  # gnuplot -c passes at most 9 arguments, the template is one


def gp_args(args: dict[str, Any], cwd: Path) -> tuple[str, list[str]]:
    """(the -e text, the report-run.gp arguments) for a template's
    variables.  Numbers, and strings made only of letters, digits and
    _.,/+- (file names in cwd, given relative to it, palettes, formats),
    are gnuplot assignments; any other text is a name=value argument that
    gnuplot never parses (at most GP_MAX_TEXTS of them)."""
    code: list[str] = []
    texts: list[str] = []
    for k, v in args.items():
        if not _GP_NAME.fullmatch(k):
            raise ValueError(f"chart variable {k!r} is not a name")
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, int):
            code.append(f"{k}={v}")
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(f"chart variable {k}: {v} is not finite")
            code.append(f"{k}={v!r}")
        else:
            if isinstance(v, Path):
                v = str(v.relative_to(cwd))  # a name charts.py made (safe())
            v = printable(str(v))
            if _GP_TOKEN.fullmatch(v):
                code.append(f"{k}='{v}'")
            else:
                texts.append(f"{k}={v}")
    if len(texts) > GP_MAX_TEXTS:
        raise ValueError(f"chart: {len(texts)} text variables, gnuplot takes {GP_MAX_TEXTS}")
    return "; ".join(code), texts


class Drawer:
    def __init__(self, outdir: Path, formats: Iterable[str]):
        self.dir = outdir.resolve()
        self.formats = list(formats)
        self.result = Charts()
        self.gnuplot = shutil.which("gnuplot")

    def skip(self, name: str, why: str) -> None:
        self.result.notes.append(f"chart {name}: not drawn: {why}")

    def draw(self, name: str, template: str, title: str, caption: str,
             args: dict[str, Any]) -> None:
        if not self.gnuplot:
            self.skip(name, "gnuplot is not installed")
            return
        chart = Chart(name, title, caption)
        for fmt in self.formats:
            out = self.dir / f"{name}.{fmt}"
            out.unlink(missing_ok=True)
            code, texts = gp_args({**args, "out": out, "fmt": fmt, "title": title}, self.dir)
            cmd = [self.gnuplot] + (["-e", code] if code else []) + [
                "-c", str(PLOTS.resolve() / "report-run.gp"), str(PLOTS.resolve() / template),
                *texts]
            try:
                # In the charts directory: every file gnuplot opens is named
                # relative to it, by a name this module made.
                p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                   timeout=120, cwd=self.dir)
            except subprocess.TimeoutExpired:
                self.skip(name, f"gnuplot took more than 120 s ({fmt})")
                return
            if p.returncode != 0 or not out.exists() or out.stat().st_size == 0:
                err = printable((p.stderr.strip().splitlines() or ["no output"])[-1])
                self.skip(name, f"gnuplot failed ({fmt}): {err}")
                return
            chart.files.append(out)
        self.result.made.append(chart)

    def write_blocks(self, name: str, series: list[Series]) -> Path:
        """Series as tab-separated blocks: a title line, then x, y, stddev."""
        path = self.dir / f"{name}.dat"
        with path.open("w", encoding="utf-8") as f:
            for s in series:
                f.write(f"{chart_text(s.title)}\t-\n")
                pts = s.pts or [(1.0, math.nan, 0.0)]
                for x, y, sd in sorted(pts):
                    f.write(f"{x:g}\t{y:.6g}\t{sd:.6g}\n")
                f.write("\n\n")
        return path

    def write_tics(self, name: str, labels: list[str]) -> Path:
        """Tic labels, one a line: position, label (xticlabels/yticlabels)."""
        path = self.dir / f"{name}.dat"
        with path.open("w", encoding="utf-8") as f:
            for i, lab in enumerate(labels):
                f.write(f"{i}\t{chart_text(lab)}\n")
        return path


def key_height(n: int) -> int:
    """Pixels for a chart whose key lists n series below the plot."""
    return 440 + 17 * n


# ---- data helpers ----

def label_value(p: Point, names: tuple[str, ...]) -> float | None:
    for n in names:
        v = p.labels.get(n)
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)):
            return float(v)
        if isinstance(v, str) and re.fullmatch(r"\d+(\.\d+)?", v):
            return float(v)
    return None


def safe(name: str) -> str:
    """A file name part for name: itself when it is made of letters,
    digits, "_", "." and "-" and short; otherwise its safe characters and
    a hash of it, so that two names never share a file."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:60]
    if s == name:
        return s
    h = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{s}-{h}" if s else h


class RawCache:
    """aio-stress documents behind points, read once."""

    def __init__(self) -> None:
        self.docs: dict[Path, AioStressDoc | None] = {}

    def doc(self, path: Path) -> AioStressDoc | None:
        if path not in self.docs:
            try:
                d = cast(AioStressDoc, schemas.check("aio-stress", read_json(path)))
                self.docs[path] = d if d.get("schema") == AIO_STRESS_SCHEMA else None
            except BadFile:
                self.docs[path] = None
        return self.docs[path]

    def stages(self, p: Point) -> list[Stage]:
        out = []
        for r in p.raw:
            d = self.doc(r)
            st = stage_of(d, p.stage) if d else None
            if st:
                out.append(st)
        return out


def _mean(xs: list[float]) -> float:
    return math.fsum(xs) / len(xs) if xs else math.nan


def group_series(cmp: Comparison, xnames: tuple[str, ...],
                 value: Callable[[Point], list[tuple[str, list[float]]]]
                 ) -> dict[str, list[tuple[tuple[str, ...], str, float, list[float]]]]:
    """source -> [(series key parts, column, x, samples)] for points with x."""
    out: dict[str, list[tuple[tuple[str, ...], str, float, list[float]]]] = {}
    for col in cmp.perf_columns:
        for p in cmp.pooled.get(col.id, {}).values():
            if p.status != "ok":
                continue
            x = label_value(p, xnames)
            if x is None:
                continue
            others = tuple(f"{k}={v}" for k, v in sorted(p.labels.items()) if k not in xnames)
            # Raw files of one family differ only in numbers (-qd1, -qd32);
            # a scenario's variant (its parameters) is the same for all.
            others += (re.sub(r"\d+", "#", p.variant),)
            for what, ys in value(p):
                if ys:
                    out.setdefault(p.source, []).append(
                        ((col.id, p.target, *others, what), col.id, x, ys))
    return out


def to_series(entries: list[tuple[tuple[str, ...], str, float, list[float]]]) -> list[Series]:
    """Name series by the parts of their keys that vary; drop constant parts."""
    keys = sorted({e[0] for e in entries}, key=str)
    width = max(len(k) for k in keys)
    vary = [i for i in range(width) if len({k[i] if i < len(k) else "" for k in keys}) > 1]
    if 0 not in vary:
        vary.insert(0, 0)  # always name the column (kernel or run)
    pooled: dict[tuple[str, ...], dict[float, list[float]]] = {}
    for e in entries:
        pooled.setdefault(e[0], {}).setdefault(e[2], []).extend(e[3])
    out = []
    for k in keys:
        title = " ".join(k[i] for i in vary if i < len(k) and k[i] and "#" not in k[i])
        pts = []
        for x, ys in pooled[k].items():
            s = stats.summarize(ys)
            pts.append((x, s.mean, s.stddev))
        out.append(Series(title, pts))
    # A "line" of one point says nothing about the x axis: leave it out.
    return [s for s in out if len({x for x, _, _ in s.pts}) >= 2]


def source_series(d: Drawer, groups: dict[str, list[tuple[tuple[str, ...], str, float, list[float]]]],
                  chart: str) -> Iterator[tuple[str, list[Series]]]:
    """(source, its series) for every source of group_series() with points
    at two or more x values and a line to draw; at most MAX_SERIES series,
    with a note of how many were left out."""
    for source, entries in sorted(groups.items()):
        if len({e[2] for e in entries}) < 2:
            continue
        series = to_series(entries)
        if not series:
            continue
        if len(series) > MAX_SERIES:
            d.result.notes.append(f"chart {chart}-{source}: {len(series)} series, "
                                  f"only the first {MAX_SERIES} drawn")
            series = series[:MAX_SERIES]
        yield source, series


# ---- the charts ----

def chart_iops_qd(cmp: Comparison, d: Drawer) -> None:
    def value(p: Point) -> list[tuple[str, list[float]]]:
        for m in ("iops", "read_iops", "write_iops"):
            if p.samples.get(m):
                return [("", p.samples[m])]
        return []

    groups = group_series(cmp, DEPTH_LABELS, value)
    drawn = False
    for source, series in source_series(d, groups, "iops-qd"):
        name = f"iops-qd-{safe(source)}"
        dat = d.write_blocks(name, series)
        err = int(any(sd > 0 for s in series for _, _, sd in s.pts))
        d.draw(name, "report-lines.gp", f"IOPS against queue depth: {source}",
               "A line per kernel (or run) and engine; error bars: one standard deviation "
               "over the repeats.",
               {"data": dat, "n": len(series), "h": key_height(len(series)), "xl": "queue depth (iocbs in flight, log scale)",
                "yl": "IOPS (I/O per second)", "err": err})
        drawn = True
    if not drawn:
        d.skip("iops-qd", "no point has IOPS at two or more queue depths")


def chart_latency_qd(cmp: Comparison, d: Drawer, raw: RawCache) -> None:
    def values(kind: str) -> Callable[[Point], list[tuple[str, list[float]]]]:
        def value(p: Point) -> list[tuple[str, list[float]]]:
            sts = raw.stages(p)
            out = []
            for key, show in PCTS:
                if sts:
                    path = ("submit", "per_iocb_ns") if kind == "submit" else ("completion_latency_ns",)
                    xs = []
                    for st in sts:
                        v: Any = st
                        for k in path:
                            v = v.get(k, {}) if isinstance(v, dict) else {}
                        if isinstance(v, dict) and isinstance(v.get(key), (int, float)):
                            xs.append(v[key] / 1e3)
                else:
                    names = ([f"submit_ns_per_iocb_{key}"] if kind == "submit" else
                             [f"clat_ns_{key}", f"read_clat_ns_{key}", f"write_clat_ns_{key}"])
                    xs = next(([x / 1e3 for x in p.samples[n]] for n in names if p.samples.get(n)), [])
                out.append((show, xs or [math.nan]))
            # Three blocks per series or none: the template styles by position.
            return out if any(not math.isnan(x) for _, xs in out for x in xs) else []
        return value

    sub = group_series(cmp, DEPTH_LABELS, values("submit"))
    clat = group_series(cmp, DEPTH_LABELS, values("clat"))
    drawn = False
    for source in sorted(set(sub) | set(clat)):
        parts = {}
        for kind, groups in (("sub", sub), ("clat", clat)):
            entries = groups.get(source, [])
            if len({e[2] for e in entries}) < 2:
                entries = []
            # Keep all three percentiles of a series together, in order.
            series = to_series(entries) if entries else []
            order = {show: i for i, (_, show) in enumerate(PCTS)}
            series.sort(key=lambda s: (s.title.rsplit(" ", 1)[0], order.get(s.title.rsplit(" ", 1)[-1], 9)))
            limit = (MAX_SERIES // 2) * 3
            if len(series) > limit:
                d.result.notes.append(f"chart latency-qd-{source}: {len(series) // 3} series, only the first {limit // 3} drawn")
                series = series[:limit]
            parts[kind] = series
        if not parts["sub"] and not parts["clat"]:
            continue
        name = f"latency-qd-{safe(source)}"
        args: dict[str, Any] = {"ns": len(parts["sub"]), "nc": len(parts["clat"]), "w": 1200,
                                "h": key_height(max(len(parts["sub"]), len(parts["clat"])))}
        for kind in ("sub", "clat"):
            args[kind] = d.write_blocks(f"{name}-{kind}", parts[kind]) if parts[kind] else "/dev/null"
        d.draw(name, "report-latency-qd.gp", f"Latency percentiles against queue depth: {source}",
               "Left: io_submit time per iocb; right: completion latency (submit to reap). "
               "Solid p50, dashed p99, dotted p99.9; means over the repeats.", args)
        drawn = True
    if not drawn:
        d.skip("latency-qd", "no point has latency percentiles at two or more queue depths")


def _heat_dims(d: Drawer, name: str, rows: list[str], cols: list[str], cell_w: int = 64,
               cell_h: int = 22, extra_w: int = 200) -> dict[str, Any]:
    """Size and margins of a heatmap (the cells, the tic labels, the colour
    box), and its tic label files."""
    lm = max((len(r) for r in rows), default=10) + 4
    # Column names are rotated by 30 degrees: about a quarter of their length
    # in lines of text, plus the axis label.
    bm = int(max((len(c) for c in cols), default=6) * 0.25) + 4
    w = max(600, int(lm * 7.6) + max(len(cols) * cell_w, 240) + extra_w)
    h = max(300, len(rows) * cell_h + bm * 17 + 90)
    return {"lm": lm, "bm": bm, "w": w, "h": h, "nx": len(cols), "ny": len(rows),
            "xtf": d.write_tics(f"{name}-xtics", cols), "ytf": d.write_tics(f"{name}-ytics", rows)}


def chart_blocking(cmp: Comparison, d: Drawer) -> None:
    drawn = False
    for col in cmp.perf_columns:
        pts = [p for p in cmp.pooled.get(col.id, {}).values()
               if {"mode", "op", "state"} <= set(p.labels)]
        if not pts:
            continue
        rowkeys = ["mode"]
        colkeys = [k for k in ("op", "state", "cache") if any(k in p.labels for p in pts)]
        colkeys += sorted({k for p in pts for k in p.labels} - set(rowkeys) - set(colkeys))

        def rname(p: Point) -> str:
            return " ".join([p.target] + [str(p.labels.get(k, "")) for k in rowkeys])

        def cname(p: Point) -> str:
            return " ".join(str(p.labels.get(k, "")) for k in colkeys)

        rows = sorted({rname(p) for p in pts})
        cols = sorted({cname(p) for p in pts}, key=lambda c: [
            (0, x) for x in c.split()])
        metric = "inline_ratio" if any(p.samples.get("inline_ratio") for p in pts) else ""
        if not metric:
            d.skip(f"blocking-{col.id}", "the blocking points have no inline_ratio")
            continue
        name = f"blocking-{safe(col.id)}"
        # One cell, one label: points that differ in what the matrix does not
        # show (a kernel's runs with other parameters) are pooled.
        cells: dict[tuple[int, int], list[Point]] = {}
        for p in pts:
            cells.setdefault((cols.index(cname(p)), rows.index(rname(p))), []).append(p)
        path = d.dir / f"{name}.dat"
        with path.open("w", encoding="utf-8") as f:
            for (x, y), ps in sorted(cells.items()):
                ok = [p for p in ps if p.status == "ok"]
                v = _mean([s for p in ok for s in p.samples.get(metric, [])])
                lab = _mean([s for p in ok for s in p.samples.get("submit_ns_per_iocb_p50", [])]) / 1e3
                text = "n/a" if not ok else ("" if math.isnan(lab) else f"{lab:.3g}")
                f.write(f"{x}\t{y}\t{v:.4g}\t{text}\n")
        dims = _heat_dims(d, name, rows, cols, cell_w=58, cell_h=24, extra_w=300)
        d.draw(name, "report-heatmap.gp", f"Does io_submit block? {col.id}",
               "Colour: inline-completion ratio (share of iocbs already complete when "
               "io_submit returned: the call did the I/O synchronously); label: io_submit "
               "time per iocb, p50, in µs; n/a: the cell was skipped.",
               {"data": path, **dims, "pal": "heat", "cbmin": 0, "cbmax": 1,
                "cbl": "inline-completion ratio (0 to 1)",
                "xl": "operation, file state, page cache (label: io_submit µs per iocb, p50)",
                "yl": "target filesystem, mode"})
        drawn = True
    if not drawn:
        d.skip("blocking", "no performance run has points labelled mode, op and state")


def chart_batch_cost(cmp: Comparison, d: Drawer) -> None:
    def value(p: Point) -> list[tuple[str, list[float]]]:
        out: list[tuple[str, list[float]]] = []
        for m, show in (("submit_ns_per_iocb_p50", "io_submit p50"),
                        ("submit_ns_per_iocb_mean", "io_submit mean"),
                        ("cpu_ns_per_io", "CPU per I/O")):
            if p.samples.get(m):
                if show == "io_submit mean" and out:
                    continue
                out.append((show, p.samples[m]))
        return out

    groups = group_series(cmp, BATCH_LABELS, value)
    drawn = False
    for source, series in source_series(d, groups, "batch-cost"):
        name = f"batch-cost-{safe(source)}"
        dat = d.write_blocks(name, series)
        d.draw(name, "report-lines.gp", f"Cost per iocb against batch size: {source}",
               "io_submit time per iocb (p50, or the mean) and CPU time per I/O, "
               "against the iocbs given to one io_submit call.",
               {"data": dat, "n": len(series), "h": key_height(len(series)), "xl": "batch size (iocbs per io_submit call, log scale)",
                "yl": "ns per iocb (log scale)", "logy": 10, "yfmt": "%g"})
        drawn = True
    if not drawn:
        d.skip("batch-cost", "no point has a per-iocb cost at two or more batch sizes")


def row_name(r: Row, omit: set[str] | None = None) -> str:
    p = r.point
    lab = " ".join(f"{k}={v}" for k, v in p.labels.items()
                   if k != "file" and k not in (omit or set()))
    return " ".join(x for x in (p.source, p.target, lab) if x) + f": {r.metric}"


def chart_change(cmp: Comparison, d: Drawer) -> None:
    if cmp.baseline is None:
        d.skip("change", "no performance data")
        return
    cols = [c.id for c in cmp.perf_columns if c.id != cmp.baseline.id]
    if not cols:
        d.skip("change", f"only one {'run' if cmp.by == 'run' else 'kernel'} with performance "
               "data: nothing to compare with the baseline")
        return
    sig = (stats.REGRESSION, stats.IMPROVEMENT, stats.CHANGED)

    def has_change(r: Row, c: str) -> bool:
        cell = r.cells.get(c)
        return bool(cell and cell.cmp and not math.isnan(cell.cmp.change_pct))

    # Only columns that share a point with the baseline.
    cols = [c for c in cols if any(has_change(r, c) for r in cmp.rows)]
    if not cols:
        d.skip("change", "no point of another column is also in the baseline")
        return
    cand = []
    for r in cmp.rows:
        if r.mdef.better not in ("higher", "lower"):
            continue
        changes = [cc.change_pct for cc in (r.cells[c].cmp for c in cols if c in r.cells)
                   if cc is not None and not math.isnan(cc.change_pct)]
        if not changes:
            continue
        nsig = sum(1 for c in cols if c in r.cells and r.cells[c].verdict in sig)
        # Headline figures before tails: a p99.9 moves most and says least.
        tail = int(bool(re.search(r"(p99|p99_9|max)$", r.metric)))
        cand.append((-nsig, tail, -max(abs(x) for x in changes), row_name(r), r))
    if not cand:
        d.skip("change", "no metric with a direction is present in the baseline and another column")
        return
    cand.sort(key=lambda t: (t[0], t[1], t[2], t[3]))
    shown = cand[:MAX_CHANGE_ROWS]
    # Labels every row shares go to the caption, not into each row's name.
    common = set.intersection(*(set(t[4].point.labels.items()) for t in shown))
    rows = [row_name(t[4], {k for k, _ in common}) for t in shown]
    name = "change"
    path, marks = d.dir / "change.dat", d.dir / "change-marks.dat"
    with path.open("w", encoding="utf-8") as f, marks.open("w", encoding="utf-8") as fm:
        for y, (_, _, _, _, r) in enumerate(shown):
            for x, c in enumerate(cols):
                cell = r.cells.get(c)
                if not cell or not cell.cmp or math.isnan(cell.cmp.change_pct):
                    f.write(f"{x}\t{y}\tNaN\t-\n")
                    continue
                ch = cell.cmp.change_pct
                good = ch if r.mdef.better == "higher" else -ch
                text = (f"{ch:+.0f}%" if abs(ch) >= 100 else f"{ch:+.1f}%") + (
                    "?" if cell.cmp.verdict == stats.FEW else "")
                f.write(f"{x}\t{y}\t{max(-20.0, min(20.0, good)):.3f}\t{text}\n")
                if cell.verdict in sig:
                    fm.write(f"{x}\t{y}\n")
    dims = _heat_dims(d, name, rows, cols, cell_w=96, cell_h=22, extra_w=260)
    args: dict[str, Any] = {"data": path, **dims, "pal": "diverge", "cbmin": -20, "cbmax": 20,
                            "xl": f"{cmp.by} compared with {cmp.baseline.id}",
                            "cbl": "change for the better (%, clipped at 20)"}
    if marks.stat().st_size:
        args["marks"] = marks
    more = f" The {len(cand) - len(shown)} smaller changes are in the CSV." if len(cand) > len(shown) else ""
    d.draw(name, "report-heatmap.gp", f"% change against {cmp.baseline.id}",
           "Green is better, red worse, whatever the metric's direction; outlined cells are "
           f"significant (Welch p < {cmp.alpha:g} and at least the noise floor, {cmp.noise_pct:g}% "
           "or the metric's run-to-run drift); "
           f"?: fewer than 3 samples, shown but never called. Headline figures come "
           f"before tail percentiles.{more}"
           + (" Every row has " + ", ".join(f"{k}={v}" for k, v in sorted(common, key=str)) + "."
              if common else ""), args)


def conform_code(results: list[str]) -> tuple[int, str]:
    if any(r in FAILING for r in results):
        worst = next(r for r in ("fail", "timeout", "crash", "stuck") if r in results)
        return (3 if worst == "fail" else 4), worst
    for r in ("pass", "xfail", "skip"):
        if r in results:
            return CONF_CODE[r], "" if r == "pass" else r
    return 2, results[0] if results else ""


def chart_conform(cmp: Comparison, d: Drawer) -> None:
    cols = [c for c in cmp.columns if c.id in cmp.conf]
    if not cols:
        d.skip("conform", "no run has conformance results")
        return
    per: dict[str, dict[str, list[str]]] = {}  # test -> column -> results of its variants
    for c in cols:
        for r in cmp.conf[c.id].values():
            per.setdefault(r.name, {}).setdefault(c.id, []).append(r.result)
    cells = {t: {c: conform_code(v) for c, v in byc.items()} for t, byc in per.items()}
    rows: list[tuple[str, dict[str, tuple[int, str]]]] = []
    if len(cells) > 60:
        # Fold the groups whose tests pass everywhere into one row each.
        groups: dict[str, list[str]] = {}
        for t in sorted(cells):
            groups.setdefault(t.split(".")[0], []).append(t)
        for g, ts in groups.items():
            clean = [t for t in ts if all(cells[t].get(c.id, (0, ""))[0] == 0 for c in cols)
                     and len(cells[t]) == len(cols)]
            if len(clean) > 1:
                rows.append((f"{g}.* ({len(clean)} passing)", {c.id: (0, "") for c in cols}))
            else:
                clean = []
            rows.extend((t, cells[t]) for t in ts if t not in clean)
    else:
        rows = [(t, cells[t]) for t in sorted(cells)]
    names = [c.id + (" (TCG)" if any(r.emulated for r in c.runs if r.conform) else "") for c in cols]
    path = d.dir / "conform.dat"
    with path.open("w", encoding="utf-8") as f:
        for y, (_, byc) in enumerate(rows):
            for x, c in enumerate(cols):
                code, text = byc.get(c.id, (math.nan, "absent"))
                f.write(f"{x}\t{y}\t{code}\t{chart_text(text)}\n")
    dims = _heat_dims(d, "conform", [r[0] for r in rows], names, cell_w=110, cell_h=16,
                      extra_w=200)
    d.draw("conform", "report-heatmap.gp", "Conformance: test x kernel",
           "A test with variants (one per filesystem) is fail when a variant failed, else "
           "pass when a variant passed (variant skips are in the report's lists); groups "
           "whose tests pass on every kernel are folded into one row. The latest run of "
           "each kernel; emulated kernels (TCG) count for conformance.",
           {"data": path, **dims, "pal": "conform", "cbl": ""})


def chart_cdf(cmp: Comparison, d: Drawer, raw: RawCache, depth: int | None) -> None:
    cands: list[tuple[str, Point, float]] = []  # column, point, depth
    for col in cmp.perf_columns:
        for p in cmp.pooled.get(col.id, {}).values():
            x = label_value(p, DEPTH_LABELS)
            if x is not None and p.status == "ok" and raw.stages(p):
                cands.append((col.id, p, x))
    if not cands:
        d.skip("latency-cdf", "no point has aio-stress completion latency histograms")
        return
    depths = sorted({x for _, _, x in cands})
    want = float(depth) if depth is not None else (32.0 if 32.0 in depths else
                                                    max(depths, key=lambda v: sum(1 for c in cands if c[2] == v)))
    at = [c for c in cands if c[2] == want]
    if not at:
        d.skip("latency-cdf", f"no histogram at queue depth {want:g} "
               f"(there are: {', '.join(f'{x:g}' for x in depths)})")
        return
    # One family of points (source, target, stage): the one most columns have,
    # preferring the engines study, then random reads.
    fams: dict[tuple[str, str, str], list[tuple[str, Point]]] = {}
    for cid, p, _ in at:
        fams.setdefault((p.source, p.target, p.stage), []).append((cid, p))

    def rank(k: tuple[str, str, str]) -> tuple[int, int, int, int]:
        cols = {c for c, _ in fams[k]}
        return (len(cols), k[0] == "engines", "rand" in k[2] and "read" in k[2], len(fams[k]))

    fam = max(fams, key=rank)
    series = []
    for cid, p in fams[fam]:
        counts: dict[tuple[int, int], int] = {}
        for st in raw.stages(p):
            for lo, hi, n in (st.get("completion_latency_ns") or {}).get("buckets") or []:
                counts[(lo, hi)] = counts.get((lo, hi), 0) + n
        total = sum(counts.values())
        if not total:
            continue
        pts: list[tuple[float, float, float]] = []
        acc = 0
        for (lo, hi), n in sorted(counts.items()):
            if not pts:
                pts.append((lo / 1e3, 0.0, 0.0))
            acc += n
            pts.append((hi / 1e3, acc / total, 0.0))
        others = " ".join(f"{v}" for k, v in p.labels.items()
                          if k not in DEPTH_LABELS and k not in ("stage", "file"))
        series.append(Series(f"{cid} {others}".strip(), pts))
    if not series:
        d.skip("latency-cdf", "the histograms are empty")
        return
    series.sort(key=lambda s: s.title)
    series = series[:MAX_SERIES]
    dat = d.write_blocks("latency-cdf", series)
    src, tgt, stage = fam
    d.draw("latency-cdf", "report-lines.gp",
           f"Completion latency CDF at queue depth {want:g}: {src} {tgt} {stage}".strip(),
           "Share of I/Os completed within a latency (submit to reap), from aio-stress's "
           "completion_latency_ns histogram, repeats merged; a line per kernel (or run) "
           "and engine.",
           {"data": dat, "n": len(series), "h": key_height(len(series)), "xl": "completion latency (µs, log scale)",
            "yl": "fraction of I/Os completed", "logx": 10, "ymin": 0, "ymax": 1.0,
            "yfmt": "%.1f", "w": 1000, "pts": 0})


def draw_all(cmp: Comparison, outdir: Path, formats: Iterable[str] = ("png", "svg"),
             cdf_depth: int | None = None) -> Charts:
    outdir.mkdir(parents=True, exist_ok=True)
    d = Drawer(outdir, formats)
    raw = RawCache()
    chart_iops_qd(cmp, d)
    chart_latency_qd(cmp, d, raw)
    chart_blocking(cmp, d)
    chart_batch_cost(cmp, d)
    chart_change(cmp, d)
    chart_conform(cmp, d)
    chart_cdf(cmp, d, raw, cdf_depth)
    return d.result


# ---- trends (the history of the store: aiosuite/report/changepoints.py) ----

MAX_TREND_SERIES = 8


def _oriented(t: Trend) -> Callable[[float], float]:
    """A run mean as % of the series' median run, higher is better (a
    lower-is-better metric inverted), so series of any unit share an axis."""
    ms = sorted(m for m in t.means if m > 0)
    med = ms[len(ms) // 2] if ms else math.nan
    if t.series.better == "lower":
        return lambda v: 100.0 * med / v if v > 0 else math.nan
    return lambda v: 100.0 * v / med if med > 0 else math.nan


def trend_pick(trends: list[Trend]) -> list[Trend]:
    """What a scenario's chart shows: its composites (the scenario's, then
    each engine's), then the points' key metrics that shifted, the biggest
    latest shift first; at most MAX_TREND_SERIES."""
    comps = sorted((t for t in trends if t.series.composite),
                   key=lambda t: (t.series.host, t.series.release, bool(t.series.engine),
                                  t.series.point))
    moved = sorted((t for t in trends if not t.series.composite and t.series.key_metric
                    and t.cps and t.series.better),
                   key=lambda t: (-abs(t.cps[-1].change_pct) if math.isfinite(
                       t.cps[-1].change_pct) else -1e300, t.series.key))
    rest = [t for t in trends if not t.series.composite and t.series.key_metric
            and not t.cps and t.series.better]
    pick = comps[:MAX_TREND_SERIES] + moved
    if not comps:
        pick += rest  # no composite: a scenario of one point still has a line
    return pick[:MAX_TREND_SERIES]


def _trend_title(t: Trend, groups: int) -> str:
    s = t.series
    what = s.point[len(s.group):].strip() if s.point.startswith(s.group) else s.point
    where = f"{s.host}/{s.release} " if groups > 1 else ""
    if s.composite:
        return f"{where}{what}" + ("" if s.engine else " (every point)")
    return f"{where}{what}: {s.metric}" + (" (inverted)" if s.better == "lower" else "")


def chart_trend(group: str, trends: list[Trend], d: Drawer) -> None:
    shown = trend_pick(trends)
    name = f"trend-{safe(group)}"
    if not shown:
        d.skip(name, "no series with a direction")
        return
    groups = len({(t.series.host, t.series.release) for t in shown})
    # Bands for the composites (for every line, there are none): eight
    # overlapping bands hide the lines.
    banded = {id(t) for t in shown if t.series.composite} or {id(t) for t in shown}
    path, band, cps = (d.dir / f"{name}{x}.dat" for x in ("", "-band", "-cps"))
    ys: list[float] = []
    ts: list[float] = []
    marks: dict[float, list[tuple[ChangePoint, int]]] = {}  # time -> shifts, linetype
    with path.open("w", encoding="utf-8") as f, band.open("w", encoding="utf-8") as fb:
        for i, t in enumerate(shown):
            o = _oriented(t)
            f.write(f"{chart_text(_trend_title(t, groups))}\t-\n")
            for ob, m in zip(t.series.obs, t.means):
                y = o(m)
                f.write(f"{ob.time:.0f}\t{y:.6g}\n")
                if math.isfinite(y):
                    ys.append(y)
                ts.append(ob.time)
            f.write("\n\n")
            for sg in t.segments if id(t) in banded else []:
                lo, hi = sorted((o(sg.mean - sg.sd), o(sg.mean + sg.sd)))
                for ob in t.series.obs[sg.start:sg.end]:
                    fb.write(f"{ob.time:.0f}\t{lo:.6g}\t{hi:.6g}\n")
                    ys += [v for v in (lo, hi) if math.isfinite(v)]
                fb.write("\n")
            if id(t) not in banded:  # an empty block keeps the indices
                fb.write(f"{t.series.obs[0].time:.0f}\tNaN\tNaN\n")
            fb.write("\n\n")
            for c in t.cps:
                marks.setdefault(c.time, []).append((c, i + 1))
    if not ys:
        d.skip(name, "no finite values")
        return
    lo, hi = min(ys), max(ys)
    pad = max(1.0, 0.08 * (hi - lo))
    ymin, ymax = lo - pad, hi + 3 * pad
    with cps.open("w", encoding="utf-8") as fc:
        # A line per time a series shifted, in the colour of the first line
        # that did, labelled with its change (and how many shifted then).
        for x, cs in sorted(marks.items()):
            c, lt = cs[0]
            label = f"{c.change_pct:+.1f}%" + (f" ({len(cs)} lines)" if len(cs) > 1 else "")
            fc.write(f"{x:.0f}\t{ymin:.6g}\t{ymax - ymin:.6g}\t{hi + 1.5 * pad:.6g}\t"
                     f"{chart_text(label)}\t{lt}\n")
    span = max(ts) - min(ts) if ts else 0.0
    xfmt = "%H:%M" if span < 86400 else "%m-%d %H:%M" if span < 30 * 86400 else "%Y-%m-%d"
    nshift = sum(1 for t in shown if t.cps)
    where = sorted({f"{t.series.host}/{t.series.release}" for t in shown})
    d.draw(name, "report-trend.gp", f"Trend: {group}",
           f"Runs of {', '.join(where)} in time order (run time, UTC; the day is "
           f"{_day(min(ts))} at the left). Each line is a run mean as % of the series' "
           "median run, higher is better (a lower-is-better metric is inverted); a "
           "composite is the geometric mean over the scenario's points (or an engine's) of "
           "their key metric. Band: one standard deviation of the run means of each segment "
           "between change points (of the composites). Dashed lines: change points "
           "(E-Divisive, permutation test), labelled with the change of the first line "
           f"that shifted there, in its colour. {nshift} of the {len(shown)} lines shifted.",
           {"data": path, "band": band, "cps": cps, "n": len(shown), "ncp": len(marks),
            "ymin": float(ymin), "ymax": float(ymax), "xfmt": xfmt,
            "h": key_height(len(shown)), "w": 1000,
            "yl": "% of the median run (higher is better)"})


def _day(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")


def draw_trends(hist: History, outdir: Path, formats: Iterable[str] = ("png", "svg")) -> Charts:
    """A trend chart per scenario of the history (charts/trend-<scenario>)."""
    outdir.mkdir(parents=True, exist_ok=True)
    d = Drawer(outdir, formats)
    by: dict[str, list[Trend]] = {}
    for t in hist.trends:
        by.setdefault(t.series.group, []).append(t)
    # No history at all is said in the report's Trends section, not as a
    # chart not drawn.
    for group in sorted(by):
        chart_trend(group, by[group], d)
    return d.result


def main(argv: list[str]) -> int:
    print("charts.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
