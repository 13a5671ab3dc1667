#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""--repeat auto: how far a run's samples are from the precision asked for,
and when to stop adding rounds.

After each round, every ok point of the run directory (tools/study.py:
its scenarios, scenario_points(); make bench also gives its aio-stress
runs, read as the report reads them) gets the
smallest change its samples could show as significant against a run
spread like it (stats.detectable_pct() of its samples against
themselves, at alpha 0.05, no noise floor): for each metric with a
direction that is not a tail figure (a p99 or a maximum would keep a run
going for ever), the smaller of the raw and the normalized figure
(aiosuite/control.py: the samples relative to the machine probe of their
round), and for the point the largest over those metrics.  A
point that does not get a sample every round (a cross-check's turns,
spread over the first rounds; a point that stopped) is not waited for.
The run stops when every other point is at most the target, when the next round
would end past the time budget (the mean round so far, from the
program's start), or at the most rounds.  What was reached is recorded
as "auto" in summary.json (docs/RESULTS-FORMAT.md).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosuite import control, schemas, stats

DEFAULT_TARGET_PCT = 5.0
DEFAULT_BUDGET_S = 3600.0
MAX_BUDGET_S = 7 * 86400.0
# The report calls nothing with fewer samples a side (stats.MIN_SAMPLES).
MIN_ROUNDS = stats.MIN_SAMPLES


@dataclass
class Sampled:
    """One point of a run, as the stopping rule sees it."""
    source: str
    target: str
    labels: dict[str, Any]
    samples: dict[str, list[float]]
    metrics: dict[str, tuple[str, str]]  # metric -> (unit, better)
    control: list[int | None] = field(default_factory=list)  # probe of each sample


def headline(metric: str, better: str) -> bool:
    """A metric the stopping rule waits for: a direction, not a tail."""
    q = stats.tail_quantile(metric)
    return better in ("higher", "lower") and (math.isnan(q) or q <= 0.5)


def point_detectable(p: Sampled, fac: control.Factors) -> tuple[float, str]:
    """(the point's detectable change in %, the metric that sets it); inf
    with fewer than MIN_ROUNDS samples, nan when no metric tells (every
    mean 0)."""
    worst, which = math.nan, ""
    for m, xs in p.samples.items():
        unit, better = p.metrics.get(m, ("", ""))
        if not headline(m, better):
            continue
        if len(xs) < MIN_ROUNDS:
            return math.inf, m
        d = stats.detectable_pct(xs, xs, 0.0)
        ys = control.normalize(xs, p.control, control.kind(m, unit, better), fac)
        if ys is not None:
            dn = stats.detectable_pct(ys, ys, 0.0)
            if not math.isnan(dn) and (math.isnan(d) or dn < d):
                d = dn
        if not math.isnan(d) and (math.isnan(worst) or d > worst):
            worst, which = d, m
    return worst, which


def scenario_points(run_dir: Path) -> tuple[list[Sampled], control.Factors]:
    """The ok points of the run directory's scenario files, and the factors
    of its machine probes (a file that cannot be read is left out)."""
    pts: list[Sampled] = []
    figs: control.Figures = {}
    for f in sorted(run_dir.glob("*.json")):
        try:
            d = schemas.read_json(f)
            k = schemas.kind(d)
            if k not in ("scenario", "machine"):
                continue
            d = schemas.check(k, d)
        except schemas.BadFile:
            continue
        if k == "machine":
            figs = control.figures(d.get("probes") or [])
            continue
        mdefs = {m: (str(v.get("unit") or ""), str(v.get("better") or ""))
                 for m, v in (d.get("metrics") or {}).items() if isinstance(v, dict)}
        for pt in d.get("points") or []:
            if pt.get("status", "ok") != "ok":
                continue
            samples = {m: [float(x) for x in (xs if isinstance(xs, list) else [xs])
                           if isinstance(x, (int, float))]
                       for m, xs in (pt.get("samples") or {}).items()}
            ctl = [int(c) if isinstance(c, (int, float)) else None
                   for c in pt.get("control_probe") or []]
            pts.append(Sampled(str(d.get("scenario") or f.stem), str(pt.get("target", "")),
                               dict(pt.get("labels") or {}), samples, mdefs, ctl))
    return pts, control.factors("", figs, control.references([("", figs)]))


def assess(points: list[Sampled], fac: control.Factors) -> list[dict[str, Any]]:
    """Every point with its detectable change: source, target, labels,
    metric, detectable_pct (null: fewer than 3 samples, or no metric
    tells), samples, note."""
    out: list[dict[str, Any]] = []
    for p in points:
        if not p.samples:
            continue
        d, m = point_detectable(p, fac)
        if not m:
            continue
        out.append({"source": p.source, "target": p.target, "labels": p.labels, "metric": m,
                    "detectable_pct": None if not math.isfinite(d) else round(d, 2),
                    "samples": max(len(xs) for xs in p.samples.values()),
                    "note": (f"fewer than {MIN_ROUNDS} samples" if math.isinf(d) else
                             "no metric tells" if math.isnan(d) else "")})
    return out


@dataclass
class Auto:
    """The state of a --repeat auto run, as summary.json's "auto"."""
    target_pct: float = DEFAULT_TARGET_PCT
    budget_s: float = DEFAULT_BUDGET_S
    max_rounds: int = 1000
    start: float = field(default_factory=time.monotonic)
    rounds: int = 0
    stopped: str | None = None  # "target", "budget", "max_rounds", "interrupted"
    points: list[dict[str, Any]] = field(default_factory=list)
    round_s: list[float] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def done_round(self, points: list[Sampled], fac: control.Factors, round_s: float) -> bool:
        """Record a round that ended, with the run's points and probe
        factors so far; True when no other round should start."""
        self.rounds += 1
        self.round_s.append(round_s)
        self.points = assess(points, fac)
        for p in self.points:
            # A cross-check's turns (spread over the first rounds), a point
            # that stopped: more rounds do not give it samples.
            p["waited_for"] = p["samples"] >= self.rounds
            if not p["waited_for"]:
                p["note"] = "not measured in every round: not waited for"
        waited = [p for p in self.points if p["waited_for"]]
        if self.rounds >= MIN_ROUNDS and waited and all(
                p["detectable_pct"] <= self.target_pct if p["detectable_pct"] is not None
                else p["note"] != f"fewer than {MIN_ROUNDS} samples" for p in waited):
            self.stopped = "target"
        elif self.elapsed() + sum(self.round_s) / len(self.round_s) > self.budget_s:
            self.stopped = "budget"
        elif self.rounds >= self.max_rounds:
            self.stopped = "max_rounds"
        return self.stopped is not None

    def waited(self) -> list[dict[str, Any]]:
        return [p for p in self.points if p.get("waited_for")]

    def reached(self) -> list[dict[str, Any]]:
        return [p for p in self.waited() if p["detectable_pct"] is not None
                and p["detectable_pct"] <= self.target_pct]

    def summary(self) -> dict[str, Any]:
        told = [p["detectable_pct"] for p in self.waited() if p["detectable_pct"] is not None]
        return {"target_pct": self.target_pct, "budget_s": self.budget_s,
                "max_rounds": self.max_rounds, "rounds": self.rounds,
                "stopped": self.stopped, "elapsed_s": round(self.elapsed(), 1),
                "round_s": [round(x, 1) for x in self.round_s],
                "points_total": len(self.waited()), "points_reached": len(self.reached()),
                "worst_detectable_pct": max(told) if told else None,
                "per_point": self.points}

    def line(self) -> str:
        """One line on the round just measured."""
        s = self.summary()
        w = s["worst_detectable_pct"]
        worst = (f"fewer than {MIN_ROUNDS} samples" if self.rounds < MIN_ROUNDS else
                 "-" if w is None else f"{w:.1f}%")
        return (f"round {self.rounds}: {s['points_reached']} of {s['points_total']} points "
                f"within {self.target_pct:g}% (largest detectable change {worst}), "
                f"{s['elapsed_s']:.0f} s of {self.budget_s:g} s"
                + (f": stop ({self.stopped})" if self.stopped else ""))


def add_options(ap: argparse.ArgumentParser) -> None:
    """--target-pct and --budget-s, as make study and make bench take them."""
    ap.add_argument("--target-pct", type=float, default=DEFAULT_TARGET_PCT, metavar="PCT",
                    help="with --repeat auto: the detectable change every point must reach "
                         f"(default {DEFAULT_TARGET_PCT:g})")
    ap.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S, metavar="S",
                    help="with --repeat auto: no round starts that would end after S seconds "
                         f"from the start (default {DEFAULT_BUDGET_S:g})")


def parse_repeat(text: str, max_repeat: int) -> int | None:
    """--repeat N (1 to max_repeat) or auto (0); None when neither."""
    if text == "auto":
        return 0
    try:
        n = int(text)
    except ValueError:
        return None
    return n if 1 <= n <= max_repeat else None


def check_options(target_pct: float, budget_s: float) -> str:
    """The problem with --target-pct or --budget-s, or ""."""
    if not (math.isfinite(target_pct) and 0 < target_pct <= 100):
        return f"bad value for --target-pct: '{target_pct:g}' (more than 0, at most 100)"
    if not (math.isfinite(budget_s) and 0 < budget_s <= MAX_BUDGET_S):
        return (f"bad value for --budget-s: '{budget_s:g}' (seconds, more than 0, at most "
                f"{MAX_BUDGET_S:.0f})")
    return ""


def main(argv: list[str]) -> int:
    print("auto.py is a module of tools/study.py and tools/bench.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
