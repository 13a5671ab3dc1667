#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The in-run control as a yardstick: a sample relative to the machine
probe of its round (machine.json's probes; aiosuite/machine.py).

What the report compares normalized (aiosuite/report/normalize.py, which
also decides where) and what --repeat auto measures precision with
(aiosuite/study/auto.py) both come from here; this module imports nothing
of the package.  A probe's figures are its control's user-space loop
(aio-machine's, or the Python loop's without it): the median wall time
of its timings and their thread CPU time.  A sample's factor is its
probe's figure over a reference (the median over every probe of the runs
compared, per host and kind of control); by the metric:

  rate       (IO/s, B/s)               x * f_wall
  time       (ns, us, ms, s; lower)    x / f_wall
  cpu        (*cpu_ns*)                x / f_cpu
  cpu_rate   (IO per CPU-second)       x * f_cpu
  ""         anything else             not normalized
"""
from __future__ import annotations

import statistics
import sys
from typing import Any, Iterable

# The loop of a probe's control that makes its figure: user space only
# (getppid() and /dev/zero reads go through the kernel under test).
LOOP = "user_loop"
RATE_UNITS = ("IO/s", "B/s")
TIME_UNITS = ("ns", "us", "ms", "s")

# Probe index -> (kind of control, wall ns, CPU ns)
Figures = dict[int, tuple[str, float, float]]
# (host, kind of control) -> (wall ns, CPU ns) that a factor of 1 means
Reference = dict[tuple[str, str], tuple[float, float]]
# Probe index -> (f_wall, f_cpu)
Factors = dict[int, tuple[float, float]]


def kind(metric: str, unit: str, better: str) -> str:
    """How a metric is normalized: "rate", "time", "cpu", "cpu_rate" or ""."""
    if "cpu_ns" in metric:
        return "cpu"
    if unit == "IO per CPU-second" or metric.endswith("_per_cpu_s"):
        return "cpu_rate"
    if unit in RATE_UNITS:
        return "rate"
    if unit in TIME_UNITS and better == "lower":
        return "time"
    return ""


def probe_figures(p: dict[str, Any]) -> tuple[str, float, float] | None:
    """(the control's source, wall ns, CPU ns) of a machine probe, or None
    when it has no usable control."""
    c = p.get("control")
    if not isinstance(c, dict) or c.get("source") not in ("aio-machine", "python"):
        return None
    lp = c.get(LOOP)
    if not isinstance(lp, dict):
        return None
    w, u = lp.get("median_ns"), lp.get("cpu_median_ns")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0
               for x in (w, u)):
        return None
    return str(c["source"]), float(w), float(u)  # type: ignore[arg-type]


def figures(probes: Iterable[Any]) -> Figures:
    """Probe index -> probe_figures() of the probes (machine.json's
    "probes") that have a usable control."""
    out: Figures = {}
    for i, p in enumerate(probes):
        f = probe_figures(dict(p)) if isinstance(p, dict) else None
        if f is not None:
            idx = p.get("index")
            out[int(idx) if isinstance(idx, (int, float)) else i] = f
    return out


def references(runs: Iterable[tuple[str, Figures]]) -> Reference:
    """The reference of each (host, kind of control) over the (host,
    figures) of every run compared: the median of their figures."""
    figs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for host, fs in runs:
        for src, w, c in fs.values():
            figs.setdefault((host, src), []).append((w, c))
    return {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
            for k, v in figs.items()}


def factors(host: str, fs: Figures, ref: Reference) -> Factors:
    """Probe index -> (f_wall, f_cpu): a run's probes over the reference."""
    out = {}
    for i, (src, w, c) in fs.items():
        rw, rc = ref.get((host, src), (0.0, 0.0))
        if rw > 0 and rc > 0:
            out[i] = (w / rw, c / rc)
    return out


def normalize(xs: list[float], control: list[int | None], how: str,
              fac: Factors) -> list[float] | None:
    """xs relative to the machine of each sample's probe (control[j] the
    probe of xs[j]); None when how is "" or a sample has no usable probe."""
    if not how or not xs or len(control) != len(xs):
        return None
    out = []
    for x, c in zip(xs, control):
        f = fac.get(c) if c is not None else None
        if f is None:
            return None
        fw, fc = f
        out.append(x * fw if how == "rate" else x / fw if how == "time" else
                   x / fc if how == "cpu" else x * fc)
    return out


def main(argv: list[str]) -> int:
    print("control.py is a module of the report and the studies", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
