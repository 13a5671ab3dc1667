# SPDX-License-Identifier: GPL-2.0
"""Description: what make calibrate's runs say, through the report's own
comparison: each run of a trial against the trial's "base" run of its set,
as `aio-report --by run` compares two runs (aiosuite/report/compare.py for
the points, composite.py for the composites, with their defaults), then
counted over the trials:

  A/A ("aa" and "aa2" against "base"): a false alarm at point level when any metric
      of any point is called a regression or an improvement; at composite
      level when any composite is;
  a slowdown: detected at point level when the IOPS of at least one point
      is called a regression; at composite level when the IOPS composite
      of the set (the geometric mean over its points) is.

The measured change is the IOPS composite's change against the base run,
and for the CPU-bound set also the change of the CPU share the program got
(its CPU time over its wall time, cpu_per_wall); the change the kernel
imposed is the median change of each throttled sample against the
unthrottled reference sample right before it (measure.py).
Writes calibrate.md (the table) and calibrate.dat with calibrate.png and
.svg (plots/calibrate.gp through the report's Drawer: the data in a file,
the titles as arguments gnuplot never parses).
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from aiosuite import stats
from aiosuite.calibrate.measure import CONDITIONS
from aiosuite.report import collect, composite
from aiosuite.report.charts import Drawer, chart_text
from aiosuite.report.compare import compare_runs
from aiosuite.schemas import CalibrateSummaryRow

SCHEMA = "aio-suite-calibrate/1"
# --history: the kernel names the comparison gives the history with the
# base run, and the run judged; and how many earlier runs it keeps
HISTORY_KERNEL = "history"
CANDIDATE_KERNEL = "candidate"
HISTORY_RUNS = 12
HEADLINE = "iops"
CALLED = (stats.REGRESSION, stats.IMPROVEMENT)
SET_TITLE = {"cpu": "CPU-bound (/dev/null)", "device": "device-bound (loop device)"}
COND_TITLE = {"aa": "A/A (no slowdown)", "cpu-10": "CPU quota: 10% less CPU",
              "cpu-20": "CPU quota: 20% less CPU", "iops-90": "read IOPS limit: 90%",
              "iops-80": "read IOPS limit: 80%"}
SHORT = {"aa": "A/A", "cpu-10": "quota -10%", "cpu-20": "quota -20%", "iops-90": "IOPS 90%",
         "iops-80": "IOPS 80%"}


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) or math.isinf(x) else round(x, 4)


def compare_pair(base_dir: Path, cand_dir: Path, host: str, release: str,
                 history: list[Path] | None = None) -> dict[str, Any]:
    """One comparison of two run directories, as the report makes it:
    without history, run against run (aio-report --by run, one run a
    side); with history, the base run and the history as the runs of one
    kernel, the candidate as a kernel of one run (--by kernel), as CI
    compares a new kernel's run with the store of the old one's: the
    candidate then takes the between-run variance and the drift of the
    history's runs."""
    if history:
        runs = [collect.load_run(d, host, HISTORY_KERNEL) for d in [*history, base_dir]]
        runs.append(collect.load_run(cand_dir, host, CANDIDATE_KERNEL))
        cmp = compare_runs(runs, by="kernel", baseline=HISTORY_KERNEL)
        col = CANDIDATE_KERNEL
    else:
        runs = [collect.load_run(base_dir, host, release),
                collect.load_run(cand_dir, host, release)]
        cmp = compare_runs(runs, by="run", baseline=runs[0].run_id)
        col = runs[1].run_id
    comps = composite.build(cmp, runs)
    flagged: list[dict[str, Any]] = []
    iops: list[dict[str, Any]] = []
    share: list[float] = []
    compared = 0
    for row in cmp.rows:
        cell = row.cells.get(col)
        if cell is None or cell.cmp is None:
            continue
        compared += 1
        if cell.verdict in CALLED:
            flagged.append({"point": row.title, "metric": row.metric, "verdict": cell.verdict,
                            "change_pct": _num(cell.cmp.change_pct), "p": _num(cell.cmp.p)})
        if row.metric == "cpu_per_wall" and not math.isnan(cell.cmp.change_pct):
            share.append(cell.cmp.change_pct)
        if row.metric == HEADLINE:
            iops.append({"point": row.title, "verdict": cell.verdict,
                         "change_pct": _num(cell.cmp.change_pct),
                         "detectable_pct": _num(cell.cmp.detectable_pct)})
    cflagged = [{"composite": c.name, "verdict": c.verdict,
                 "change_pct": _num(c.result.change_pct) if c.result else None}
                for c in comps.rows if c.verdict in CALLED]
    head = next((c for c in comps.rows if c.kind == "all" and c.metric == HEADLINE), None)
    res = head.result if head is not None else None
    return {
        "baseline_run": base_dir.name, "run": cand_dir.name,
        "history_runs": [d.name for d in history or []],
        "metrics_compared": compared,
        "points_flagged": flagged,
        "iops_points": iops,
        "iops_points_regressed": sum(1 for x in iops if x["verdict"] == stats.REGRESSION),
        "composites_flagged": cflagged,
        "cpu_share_change_pct": _num(statistics.mean(share)) if share else None,
        "iops_composite": None if head is None else {
            "verdict": head.verdict, "points": len(head.keys),
            "change_pct": _num(res.change_pct) if res else None,
            "ci_low_pct": _num(res.low_pct) if res else None,
            "ci_high_pct": _num(res.high_pct) if res else None,
            "p": _num(res.p) if res else None,
            "floor_pct": _num(head.floor_pct), "floor_why": head.floor_why,
            "detectable_pct": _num(head.detectable_pct)},
        "notes": list(cmp.notes),
    }


def history_of(out: Path, earlier: list[dict[str, Any]], kind: str) -> list[Path]:
    """The store a CI run would have for the set kind: the unthrottled
    runs (base and A/A) of the earlier trials, the latest HISTORY_RUNS."""
    unthrottled = [c.name for c in CONDITIONS[kind] if c.fraction is None]
    dirs = []
    for t in earlier:
        names = t.get("runs", {}).get(kind, {})
        dirs += [out / "runs" / names[c] for c in unthrottled if c in names]
    return dirs[-HISTORY_RUNS:]


def trial_comparisons(out: Path, rec: dict[str, Any], host: str, release: str,
                      earlier: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every comparison of one trial (rec from Measurer.trial()); with
    earlier (the trials before it), judged with their unthrottled runs as
    the history (compare_pair())."""
    found = []
    for kind, names in rec["runs"].items():
        base = names.get("base")
        if base is None:
            continue
        hist = history_of(out, earlier, kind) if earlier is not None else None
        for cond in CONDITIONS[kind]:
            if cond.role == "baseline" or cond.name not in names:
                continue
            c = compare_pair(out / "runs" / base, out / "runs" / names[cond.name], host, release,
                             hist)
            c.update(set=kind, condition=cond.name, role=cond.role,
                     slowdown_imposed_pct=cond.slowdown_pct,
                     paired_change_pct=rec.get("paired_change_pct", {}).get(names[cond.name]))
            found.append(c)
    return found


def called(c: dict[str, Any], level: str) -> bool:
    """Whether a comparison called something at level ("point" or
    "composite"): for A/A anything (a false alarm), for a slowdown the IOPS
    regression (a detection)."""
    if c["role"] == "aa":
        return bool(c["points_flagged"] if level == "point" else c["composites_flagged"])
    if level == "point":
        return bool(c["iops_points_regressed"])
    head = c["iops_composite"]
    return head is not None and head["verdict"] == stats.REGRESSION


def _median(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 2) if xs else None


def summarize(trials: list[dict[str, Any]]) -> list[CalibrateSummaryRow]:
    """One line per set and condition (the A/A pairs of a set in one):
    counts over the trials."""
    out: list[CalibrateSummaryRow] = []
    for kind, conds in CONDITIONS.items():
        seen = set()
        for cond in conds:
            name = "aa" if cond.role == "aa" else cond.name
            if cond.role == "baseline" or name in seen:
                continue
            seen.add(name)
            cs = [c for t in trials for c in t.get("comparisons", [])
                  if c["set"] == kind and (c["role"] == "aa" if name == "aa"
                                           else c["condition"] == name)]
            if not cs:
                continue
            n = len(cs)
            changes = [c["iops_composite"]["change_pct"] for c in cs
                       if c["iops_composite"] and c["iops_composite"]["change_pct"] is not None]
            pt = sum(1 for c in cs if called(c, "point"))
            co = sum(1 for c in cs if called(c, "composite"))
            shares = [c["cpu_share_change_pct"] for c in cs
                      if c.get("cpu_share_change_pct") is not None]
            detectable = [c["iops_composite"]["detectable_pct"] for c in cs
                          if c["iops_composite"] and c["iops_composite"]["detectable_pct"] is not None]
            paired = [c["paired_change_pct"] for c in cs if c.get("paired_change_pct")]
            p_iops = [x["iops_pct"] for x in paired if x.get("iops_pct") is not None]
            p_share = [x["cpu_share_pct"] for x in paired if x.get("cpu_share_pct") is not None]
            out.append({
                "set": kind, "condition": name, "role": cond.role,
                "slowdown_imposed_pct": cond.slowdown_pct, "comparisons": n,
                "called_point_level": pt, "called_composite_level": co,
                "rate_point_level_pct": round(100.0 * pt / n, 1),
                "rate_composite_level_pct": round(100.0 * co / n, 1),
                "iops_composite_change_median_pct": _median(changes),
                # What the report says it could have called, per comparison
                "iops_composite_detectable_median_pct": _median(detectable),
                "cpu_share_change_median_pct": _median(shares) if kind == "cpu" else None,
                "paired_iops_change_median_pct": _median(p_iops),
                "paired_cpu_share_change_median_pct": _median(p_share) if kind == "cpu" else None,
                "iops_composite_change_min_pct": round(min(changes), 2) if changes else None,
                "iops_composite_change_max_pct": round(max(changes), 2) if changes else None,
            })
    return out


def trials_text(n: int) -> str:
    return f"{n} trial{'' if n == 1 else 's'}"


def _abs_pct(x: Any) -> str:
    return "" if x is None else f"{x:.1f}%"


def _pct(x: Any) -> str:
    return "" if x is None else f"{x:+.1f}%"


def table(doc: dict[str, Any]) -> str:
    p = doc["params"]
    lines = [
        "# Calibration: what this machine can detect",
        "",
        f"Host {doc['host']}, kernel {doc['kernel']}: {trials_text(len(doc['trials']))} of "
        f"{p['rounds']} rounds, samples of {p['sample_runtime_s']} s "
        f"(device-bound: {p.get('device_sample_runtime_s', p['sample_runtime_s'])} s) "
        f"({doc['time_utc_start']} to {doc.get('time_utc_end') or '-'}"
        f"{', incomplete' if not doc['complete'] else ''}).",
        "",
        ("Each run is compared with its trial's base run by the report's rules "
         "(aio-report --by run). " if not p.get("history") else
         "Each run is judged as CI judges a new kernel's run against the store: its "
         "trial's base run and the unthrottled runs of the earlier trials (up to "
         f"{HISTORY_RUNS}) are the old kernel's runs (aio-report --by kernel), so that "
         "their between-run variance and drift enter the test; the first trial has "
         "only its base run. ") +
        "A/A: the count of comparisons in which anything "
        "was called (a false alarm). Slowdowns: the count in which the IOPS of a "
        "point (point level) or the IOPS composite of the set (composite level) "
        "was called a regression. Detectable: the smallest change of the IOPS "
        "composite the report says each comparison could call.",
        "",
        "| set | condition | comparisons | point level | composite level | "
        "imposed: throttled against reference samples, median | "
        "measured: IOPS composite change, median (range) | detectable, median |",
        "|---|---|---:|---:|---:|---|---|---:|",
    ]
    for s in doc["summary"]:
        n = s["comparisons"]
        if s["role"] == "aa":
            pt = f"{s['called_point_level']} false alarms of {n}"
            co = f"{s['called_composite_level']} false alarms of {n}"
        else:
            pt = f"detected {s['called_point_level']} of {n}"
            co = f"detected {s['called_composite_level']} of {n}"
        rng = ""
        if s["iops_composite_change_median_pct"] is not None:
            rng = (f"{_pct(s['iops_composite_change_median_pct'])} "
                   f"({_pct(s['iops_composite_change_min_pct'])} .. "
                   f"{_pct(s['iops_composite_change_max_pct'])})")
        if s.get("cpu_share_change_median_pct") is not None:
            rng += f"; CPU share {_pct(s['cpu_share_change_median_pct'])}"
        imp = ""
        if s.get("paired_iops_change_median_pct") is not None:
            imp = f"IOPS {_pct(s['paired_iops_change_median_pct'])}"
            if s.get("paired_cpu_share_change_median_pct") is not None:
                imp += f", CPU share {_pct(s['paired_cpu_share_change_median_pct'])}"
        lines.append(f"| {SET_TITLE[s['set']]} | {COND_TITLE[s['condition']]} | {n} | {pt} | "
                     f"{co} | {imp} | {rng} | "
                     f"{_abs_pct(s.get('iops_composite_detectable_median_pct'))} |")
    aa = [s for s in doc["summary"] if s["role"] == "aa"]
    if aa:
        n = sum(s["comparisons"] for s in aa)
        lines += ["", f"A/A false alarms over both sets: {sum(s['called_point_level'] for s in aa)}"
                  f" of {n} comparisons at point level, "
                  f"{sum(s['called_composite_level'] for s in aa)} of {n} at composite level."]
    for kind, why in sorted(doc["skipped"].items()):
        if why:
            lines += ["", f"{SET_TITLE.get(kind, kind)}: not calibrated: {why}"]
    return "\n".join(lines) + "\n"


def chart(out: Path, doc: dict[str, Any]) -> list[str]:
    """calibrate.png and .svg; returns notes (why a chart was not drawn)."""
    rows = doc["summary"]
    if not rows:
        return ["chart calibrate: not drawn: no comparisons"]
    d = Drawer(out, ("png", "svg"))
    dat = d.dir / "calibrate.dat"  # in the directory gnuplot runs in, resolved
    with dat.open("w", encoding="utf-8") as f:
        f.write("# condition\tpoint level %\tcomposite level %\n")
        for s in rows:
            label = f"{'CPU' if s['set'] == 'cpu' else 'device'} {SHORT[s['condition']]}"
            f.write(f"{chart_text(label)}\t{s['rate_point_level_pct']:g}\t"
                    f"{s['rate_composite_level_pct']:g}\n")
    d.draw("calibrate", "calibrate.gp",
           f"What this machine detects ({doc['host']}, {trials_text(len(doc['trials']))})",
           "A/A: false alarms; slowdowns: detections", {"data": dat, "n": len(rows)})
    return d.result.notes
