#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Normalized figures: a study point's samples relative to the machine of
the minute each was measured in (the arithmetic: aiosuite/control.py),
and which metric families the report compares that way.

Every scenario point names, for each sample, the machine probe of its
round (control_probe, an index into machine.json's probes;
aiosuite/machine.py).  The probe's C control (build/aio-machine) times
fixed work that does not enter the AIO code.  Its user-space loop gives
two figures (the median of its timings):

  wall  its wall time: how much CPU this process got that minute and how
        fast that CPU ran (another process, the hypervisor, the clock all
        slow it);
  cpu   its thread CPU time: how fast the CPU was while it ran (clock,
        caches), without the time others ran.

The factor of a sample is its probe's figure over a reference: the
median figure over every probe of every run compared on that host (with
the same kind of control).  One reference for all the runs: the
machine's moves inside a run and between runs both cancel.  Normalizing
by each run's own median would keep each run's level as its rounds
happened to fall, while the spread that covered it shrinks: on synthetic
data with 10% round noise such a pair called a 5% slowdown an
improvement of 7%.  Only the user-space loop: getppid() and the
/dev/zero reads run through the kernel under test, and a kernel that
makes every system call slower would slow them too and cancel its own
regression.  What cancels what:

  IO/s, B/s                  x * f_wall   (a slower minute: fewer I/Os)
  wall times (ns, lower)     x / f_wall   (latency, submit cost)
  cpu_ns_per_io, ns/KiB      x / f_cpu    (CPU time: the share of the CPU
                                           the process got is not in it)
  IO per CPU-second          x * f_cpu
  anything else (ratios, counts, bytes): not normalized.

A device-bound figure does not follow the CPU: normalizing it adds the
control's own noise.  So the report compares normalized figures only for
the families (scenario, metric) whose spread they reduce on A/A data: the
baseline column's own runs, in which every sample of a point was measured
on one kernel.  For each ok point of the family with at least 3 samples
in a run, the coefficient of variation of its samples raw and
normalized (the between-round spread: one sample a round); the family is
normalized when the median ratio normalized/raw over those point-runs is
at most SPREAD_RATIO_MAX and there are at least MIN_POINT_RUNS of them.
"""
from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass, field

from aiosuite import control
from aiosuite.report.collect import MetricDef, Point, Run

SPREAD_RATIO_MAX = 0.9  # normalized spread at most 90% of the raw one
MIN_POINT_RUNS = 3
MIN_SAMPLES = 3


def kind(metric: str, mdef: MetricDef) -> str:
    """How a metric is normalized (control.kind()): "rate", "time", "cpu",
    "cpu_rate", or ""."""
    return control.kind(metric, mdef.unit, mdef.better)


def references(runs: list[Run]) -> control.Reference:
    """(host, kind of control) -> the median figures over every probe of
    the runs: what a factor of 1 means."""
    return control.references((r.host, control.figures(r.machine)) for r in runs)


def run_factors(run: Run, ref: control.Reference) -> control.Factors:
    """Probe index -> (f_wall, f_cpu): the run's probes over the reference."""
    return control.factors(run.host, control.figures(run.machine), ref)


def normalized(p: Point, metric: str, factors: control.Factors) -> list[float] | None:
    """The point's samples of metric relative to the machine of their
    rounds; None when the metric is not normalized or a sample has no
    usable probe."""
    return control.normalize(p.samples.get(metric, []), p.control,
                             kind(metric, p.metrics.get(metric, MetricDef())), factors)


def cv(xs: list[float]) -> float:
    m = statistics.fmean(xs)
    return statistics.stdev(xs) / abs(m) if m else math.nan


@dataclass
class Family:
    """One metric of one source (scenario): whether it is compared normalized."""
    source: str
    metric: str
    kind: str
    normalized: bool = False
    point_runs: int = 0  # point-runs of the baseline's runs measured
    raw_cv_pct: float = math.nan  # median CV of those point-runs' samples
    norm_cv_pct: float = math.nan
    ratio: float = math.nan  # median of normalized CV / raw CV
    why: str = ""


@dataclass
class Normalization:
    enabled: bool = True  # False: --no-normalize
    families: dict[tuple[str, str], Family] = field(default_factory=dict)
    baseline: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def used(self) -> list[Family]:
        return [f for f in self.families.values() if f.normalized]

    def is_normalized(self, source: str, metric: str) -> bool:
        f = self.families.get((source, metric))
        return f is not None and f.normalized

    def summary(self) -> str:
        """One line for the console."""
        if not self.enabled:
            return "normalization: off (--no-normalize): raw figures compared"
        n, tot = len(self.used), len(self.families)
        if not tot:
            return "normalization: no metric with control probes: raw figures compared"
        if not n:
            return (f"normalization: none of {tot} metric families spreads less relative to "
                    f"the machine of its round in {self.baseline}'s own runs: raw figures "
                    "compared")
        names = ", ".join(f"{f.source}:{f.metric}" for f in self.used[:6])
        more = f" and {n - 6} more" if n > 6 else ""
        return (f"normalization: {n} of {tot} metric families compared relative to the "
                f"machine of their round (spread reduced on {self.baseline}'s own runs)"
                + f": {names}{more}; the others raw")


def choose(base_runs: list[Run], runs: list[Run], enabled: bool = True,
           baseline: str = "") -> Normalization:
    """Decide per (source, metric) from the baseline's runs whether the
    normalized figures spread less; a family is normalized only when every
    run in runs that has it can be normalized."""
    out = Normalization(enabled, baseline=baseline)
    ratios: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    ref = references(runs)
    factors = {id(r): run_factors(r, ref) for r in runs}
    for r in runs:
        for p in r.points.values():
            if not p.control:
                continue
            for m, mdef in p.metrics.items():
                k = kind(m, mdef)
                if k and (p.source, m) not in out.families:
                    out.families[(p.source, m)] = Family(p.source, m, k)
    # A family that cannot be normalized in some run stays raw everywhere.
    broken: dict[tuple[str, str], str] = {}
    for r in runs:
        for p in r.points.values():
            if p.status != "ok":
                continue
            for m in p.samples:
                fam = (p.source, m)
                if fam in out.families and fam not in broken and \
                        normalized(p, m, factors[id(r)]) is None:
                    broken[fam] = f"{r.name}: a sample without a usable control probe"
    for r in base_runs:
        for p in r.points.values():
            if p.status != "ok":
                continue
            for m, xs in p.samples.items():
                fam = (p.source, m)
                if fam not in out.families or len(xs) < MIN_SAMPLES:
                    continue
                ys = normalized(p, m, factors[id(r)])
                if ys is None:
                    continue
                a, b = cv(xs), cv(ys)
                if a > 0 and math.isfinite(a) and math.isfinite(b):
                    ratios.setdefault(fam, []).append((b / a, a, b))
    for fam, f in out.families.items():
        rs = ratios.get(fam, [])
        f.point_runs = len(rs)
        if rs:
            f.ratio = statistics.median(x[0] for x in rs)
            f.raw_cv_pct = 100 * statistics.median(x[1] for x in rs)
            f.norm_cv_pct = 100 * statistics.median(x[2] for x in rs)
        if not enabled:
            f.why = "--no-normalize"
        elif fam in broken:
            f.why = broken[fam]
        elif len(rs) < MIN_POINT_RUNS:
            f.why = (f"{len(rs)} point-runs of {MIN_POINT_RUNS}+ samples with controls in "
                     f"the baseline: too few to tell")
        elif f.ratio <= SPREAD_RATIO_MAX:
            f.normalized = True
            f.why = f"spread {100 * (1 - f.ratio):.0f}% smaller normalized"
        else:
            f.why = ("normalizing does not reduce the spread" if f.ratio < 1 + 1e-9 else
                     f"spread {100 * (f.ratio - 1):.0f}% larger normalized")
    return out


def apply(runs: list[Run], norm: Normalization) -> int:
    """Replace, in place, the samples of every chosen family by their
    normalized figures (the raw ones go to Point.raw_samples); the number
    of point metrics replaced."""
    n = 0
    if not norm.enabled:
        return 0
    ref = references(runs)
    for r in runs:
        fac = run_factors(r, ref)
        for p in r.points.values():
            for m in list(p.samples):
                if not norm.is_normalized(p.source, m):
                    continue
                ys = normalized(p, m, fac)
                if ys is None:
                    continue
                p.raw_samples[m] = p.samples[m]
                p.samples[m] = ys
                n += 1
    return n


def main(argv: list[str]) -> int:
    print("normalize.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
