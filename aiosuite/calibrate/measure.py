# SPDX-License-Identifier: GPL-2.0
"""Description: the measurements of make calibrate: a short subset of the
batching study (aiosuite/study/scenarios/batching.py), measured through the
study's own Study and Scenario (rounds, samples, the machine probe of each
round, <scenario>.json), as run directories that the report's comparison
reads like any other.

Two sets of points:

  cpu     batching's /dev/null points (libaio, 4 KiB, depth 128, batches of
          1, 8 and 32 iocbs): CPU-bound; slowed by a CPU quota of the cpu
          cgroup giving 10% and 20% less CPU than the point used unthrottled;
  device  batching's 4 KiB O_DIRECT random reads, on a loop device with
          direct I/O over a scratch file (depths 1, 8 and 32): device-bound;
          slowed by block-layer throttling of the loop device's read IOPS
          at 90% and 80% of the point's unthrottled IOPS.

In each trial, for each set, five run directories one after the other, as
two runs of a benchmark follow each other: "base" first (unthrottled: the
CPU share and the IOPS the limits are taken from, the median of its
samples of each point), then in an order rotated from one trial to the
next "aa" and "aa2" (unthrottled: two A/A pairs with the base run) and the
two slowdowns.  Every measured program runs in the calibration cgroup
(limited or not, so that the group itself is no difference); the machine
probe (build/aio-machine) runs outside it, as a kernel regression would
not slow it either.  A sample that fails is tried again twice (another
test's contexts can fill fs.aio-max-nr for a moment) before its point is
given up.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiosuite import machine, store
from aiosuite.calibrate.cgroups import CPU_PERIOD_US, Group, device_of, wrapper_env
from aiosuite.features import Features
from aiosuite.study.core import (PointFailed, PointSkipped, Scenario, Study, first_stage,
                                 stage_metrics)
from aiosuite.study.scenarios import batching
from aiosuite.study.targets import Cleanup, Targets, loop_attach

RUN_SCHEMA = "aio-suite-calibrate-run/1"
CPU_BATCHES = (1, 8, 32)
DEVICE_DEPTHS = (1, 8, 32)
SEED = batching.SEED
METRICS = {
    "iops": {"unit": "IO/s", "better": "higher"},
    "submit_ns_per_iocb_p50": {"unit": "ns", "better": "lower"},
    "submit_ns_per_call_p50": {"unit": "ns", "better": "lower"},
    "cpu_ns_per_io": {"unit": "ns", "better": "lower"},
    "clat_ns_p50": {"unit": "ns", "better": "lower"},
    # The CPU time of the run over its wall time: what the quota takes away.
    "cpu_per_wall": {"unit": "ratio", "better": ""},
}
SETS = ("cpu", "device")
PROBE_EVERY = 2
ATTEMPTS = 3


@dataclass
class PointSpec:
    kind: str  # "cpu" or "device"
    name: str  # short and unique: null-b8, loop-d32
    target: str
    labels: dict[str, Any]
    args: list[str]  # aio-stress's, without --runtime and the path


@dataclass
class Condition:
    name: str  # base, aa, cpu-10, cpu-20, iops-90, iops-80
    kind: str
    role: str  # "baseline", "aa" or "slowdown"
    fraction: float | None = None  # of the unthrottled CPU share or IOPS; None: no limit

    @property
    def slowdown_pct(self) -> float:
        return 0.0 if self.fraction is None else round(100.0 * (1.0 - self.fraction), 6)


CONDITIONS = {
    "cpu": [Condition("base", "cpu", "baseline"), Condition("aa", "cpu", "aa"),
            Condition("aa2", "cpu", "aa"),
            Condition("cpu-10", "cpu", "slowdown", 0.90),
            Condition("cpu-20", "cpu", "slowdown", 0.80)],
    "device": [Condition("base", "device", "baseline"), Condition("aa", "device", "aa"),
               Condition("aa2", "device", "aa"),
               Condition("iops-90", "device", "slowdown", 0.90),
               Condition("iops-80", "device", "slowdown", 0.80)],
}


def cpu_points() -> list[PointSpec]:
    return [PointSpec("cpu", f"null-b{b}", "null",
                      {"engine": "libaio", "batch": b, "file": "/dev/null"},
                      ["-o", "0", "-s", "1g", "-r", "4k", "-d", str(batching.DEPTH),
                       "-b", str(b), "-i", str(b)])
            for b in CPU_BATCHES]


def device_points(size: int) -> list[PointSpec]:
    return [PointSpec("device", f"loop-d{d}", "loop-dio",
                      {"engine": "libaio", "depth": d, "batch": d, "file": "loop"},
                      ["-o", "3", "-s", f"{size >> 20}m", "-O", "-r", "4k", "-d", str(d),
                       "-b", str(d), "-i", str(d)])
            for d in DEVICE_DEPTHS]


def sample_metrics(data: Any) -> dict[str, float]:
    st = first_stage(data)
    m = stage_metrics(st)
    out = {k: m[k] for k in METRICS if k in m}
    cpu = st.get("cpu", {})
    elapsed = float(st.get("elapsed_ns") or 0)
    used = float(cpu.get("user_ns", 0)) + float(cpu.get("system_ns", 0))
    out["cpu_per_wall"] = used / elapsed if elapsed > 0 else 0.0
    return out


@dataclass
class Params:
    trials: int
    rounds: int
    runtime_s: float
    sets: list[str]
    quick: bool
    device_bytes: int

    def describe(self) -> dict[str, Any]:
        return {"trials": self.trials, "rounds": self.rounds,
                "sample_runtime_s": self.runtime_s,
                "sets": list(self.sets), "quick": self.quick,
                "device_file_bytes": self.device_bytes}


@dataclass
class RunState:
    """One run directory being measured: one set under one condition."""
    cond: Condition
    directory: Path
    study: Study
    points: list[PointSpec]
    limits: dict[str, int | None] = field(default_factory=dict)  # point -> quota us or IOPS
    retries: list[str] = field(default_factory=list)  # samples tried again, and why


class Measurer:
    """Measures the trials into out/runs/, a run directory each."""

    def __init__(self, out: Path, params: Params, targets: Targets, cleanup: Cleanup,
                 group: Group, wrapper: Path, features: Features) -> None:
        self.out = out
        self.params = params
        self.targets = targets
        self.cleanup = cleanup
        self.group = group
        self.wrapper = wrapper
        self.features = features
        self.env = store.environment()
        self.host = platform.node()
        self.release = platform.release()
        self.loopdev = ""
        self.devno = ""
        self.points: dict[str, list[PointSpec]] = {}
        if "cpu" in params.sets:
            self.points["cpu"] = cpu_points()
        if "device" in params.sets:
            self.points["device"] = device_points(params.device_bytes)
        os.environ.update(wrapper_env(group, store.BUILD / "aio-stress"))

    def path_of(self, p: PointSpec) -> str:
        return "/dev/null" if p.kind == "cpu" else self.loopdev

    def prepare_device(self) -> None:
        """The loop device of the device set (direct I/O on) over a filled
        scratch file: reads of a sparse file would never reach the disk."""
        backing = self.targets.block_file("calibrate-loop", self.params.device_bytes, fill=True)
        self.loopdev = loop_attach(self.cleanup, backing, dio=True)
        self.devno = device_of(self.loopdev)

    def new_run(self, name: str, cond: Condition, points: list[PointSpec]) -> RunState:
        d = self.out / "runs" / name
        d.mkdir(parents=True)
        store.write_json(d / "summary.json", {"schema": RUN_SCHEMA, "complete": False,
                                              "interrupted": None, "condition": cond.name})
        store.write_json(d / "env.json", self.env)
        study = Study(d, self.targets, self.cleanup, self.params.quick, self.params.rounds,
                      self.features)
        study.aio_stress_bin = self.wrapper
        return RunState(cond, d, study, points)

    def limit(self, rs: RunState, p: PointSpec, base: dict[str, dict[str, float]]) -> None:
        """Set the group's limits for point p of run rs."""
        cond = rs.cond
        if "cpu" in self.points:
            quota: int | None = None
            if p.kind == "cpu" and cond.fraction is not None:
                share = min(max(base[p.name]["cpu_per_wall"], 0.05), float(os.cpu_count() or 1))
                quota = round(cond.fraction * share * CPU_PERIOD_US)
            self.group.set_cpu(quota)
            if p.kind == "cpu":
                rs.limits[p.name] = quota
        if self.devno:
            iops: int | None = None
            if p.kind == "device" and cond.fraction is not None:
                iops = max(1, round(cond.fraction * base[p.name]["iops"]))
            self.group.set_read_iops(self.devno, iops)
            if p.kind == "device":
                rs.limits[p.name] = iops

    def measure_point(self, scen: Scenario, rs: RunState, p: PointSpec,
                      tag: str) -> Callable[[int], tuple[dict[str, float], list[str]]]:
        def one(r: int) -> tuple[dict[str, float], list[str]]:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    data, raw = rs.study.aio_stress(
                        scen, f"{p.name}-{tag}{r}",
                        [*p.args, "--runtime", str(self.params.runtime_s), self.path_of(p)])
                    return sample_metrics(data), [raw]
                except (PointSkipped, PointFailed) as e:
                    if attempt == ATTEMPTS:
                        raise
                    rs.retries.append(f"{p.name} round {r + 1}: {e}")
                    time.sleep(0.5)
            raise PointFailed("unreachable")
        return one

    def measure_round(self, rs: RunState, rnd: int, base: dict[str, dict[str, float]]) -> None:
        st = rs.study
        st.round = rnd
        # The control right beside the points, outside the group; every
        # PROBE_EVERY rounds (a probe takes longer than a sample), the
        # samples between naming the latest.
        if rnd % PROBE_EVERY == 0:
            st.control_probe = machine.record(rs.directory, f"calibrate round {rnd + 1}",
                                              rnd + 1)["index"]
        kind = rs.cond.kind
        scen = Scenario(st, f"calibrate-{kind}", SEED,
                        f"batching's {'/dev/null' if kind == 'cpu' else 'loop device'} points "
                        "for make calibrate",
                        {"runtime_s": self.params.runtime_s,
                         "depth": batching.DEPTH if kind == "cpu" else 0,
                         "device_bytes": self.params.device_bytes if kind == "device" else 0},
                        METRICS)
        scen.data["calibrate"] = {"condition": rs.cond.name, "role": rs.cond.role,
                                  "slowdown_pct": rs.cond.slowdown_pct}
        for p in rs.points:
            self.limit(rs, p, base)
            scen.measure(p.target, p.labels, self.measure_point(scen, rs, p, "r"),
                         bound=p.kind == "cpu")
        scen.data["calibrate"]["limits"] = dict(rs.limits)
        scen.write()
        st.carry[scen.name] = scen.data

    def finish_run(self, rs: RunState) -> None:
        store.write_json(rs.directory / "summary.json",
                         {"schema": RUN_SCHEMA, "complete": True, "interrupted": None,
                          "condition": rs.cond.name, "limits": rs.limits})

    def base_figures(self, rs: RunState) -> tuple[dict[str, dict[str, float]], str]:
        """The median of each point's samples in the base run rs; and why
        the set cannot be calibrated in this trial ("" when it can)."""
        got: dict[str, dict[str, float]] = {}
        data = rs.study.carry.get(f"calibrate-{rs.cond.kind}", {})
        by_key = {json.dumps([p["target"], p["labels"]], sort_keys=True): p
                  for p in data.get("points", [])}
        for p in rs.points:
            pt = by_key.get(json.dumps([p.target, p.labels], sort_keys=True))
            if pt is None or pt["status"] != "ok":
                why = f"{pt['status']}: {pt['reason']}" if pt else "not measured"
                return got, f"{p.name} in the base run: {why}"
            got[p.name] = {k: statistics.median(v) for k, v in pt["samples"].items() if v}
            if got[p.name].get("iops", 0.0) <= 0:
                return got, f"{p.name}: no I/O in the base run"
        return got, ""

    def trial(self, t: int, on_run: Callable[[str], None]) -> dict[str, Any]:
        """Measure trial t (from 1); return its record (without the
        comparisons, which the caller adds)."""
        rec: dict[str, Any] = {"trial": t, "base_figures": {}, "skipped": {}, "runs": {},
                               "order": [], "limits": {}, "retries": {}}
        for kind, pts in self.points.items():
            conds = CONDITIONS[kind]
            rest = conds[1:]
            k = (t - 1) % len(rest)
            base: dict[str, dict[str, float]] = {}
            for cond in [conds[0]] + rest[k:] + rest[:k]:
                rs = self.new_run(f"t{t:02d}-{kind}-{cond.name}", cond, pts)
                rec["runs"].setdefault(kind, {})[cond.name] = rs.directory.name
                rec["order"].append(rs.directory.name)
                on_run(rs.directory.name)
                for rnd in range(self.params.rounds):
                    self.measure_round(rs, rnd, base)
                self.finish_run(rs)
                rec["limits"][rs.directory.name] = rs.limits
                if rs.retries:
                    rec["retries"][rs.directory.name] = rs.retries
                if cond.role == "baseline":
                    base, why = self.base_figures(rs)
                    rec["base_figures"][kind] = base
                    if why:
                        rec["skipped"][kind] = why
                        break
        return rec
