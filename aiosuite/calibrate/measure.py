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

Each trial first measures every point once unthrottled (the premeasure:
the CPU share and the IOPS the limits are taken from), then, for each set,
four run directories: "base" and "aa" (both unthrottled: the A/A pair)
and the two slowdowns.  Every measured program runs in the calibration
cgroup (limited or not, so that the group itself is no difference); the
machine probe (build/aio-machine) runs outside it, as a kernel regression
would not slow it either.  With the sequential schedule each run's rounds
follow each other, as two runs of a benchmark do; with interleaved, every
round measures each run once.  The order of the runs is rotated from one
trial to the next.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiosuite import machine, store
from aiosuite.calibrate.cgroups import CPU_PERIOD_US, Group, device_of, wrapper_env
from aiosuite.features import Features
from aiosuite.study.core import Scenario, Study, first_stage, stage_metrics
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
            Condition("cpu-10", "cpu", "slowdown", 0.90),
            Condition("cpu-20", "cpu", "slowdown", 0.80)],
    "device": [Condition("base", "device", "baseline"), Condition("aa", "device", "aa"),
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
    schedule: str  # "sequential" or "interleaved"
    sets: list[str]
    quick: bool
    device_bytes: int

    def describe(self) -> dict[str, Any]:
        return {"trials": self.trials, "rounds": self.rounds,
                "sample_runtime_s": self.runtime_s, "schedule": self.schedule,
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
            data, raw = rs.study.aio_stress(
                scen, f"{p.name}-{tag}{r}",
                [*p.args, "--runtime", str(self.params.runtime_s), self.path_of(p)])
            return sample_metrics(data), [raw]
        return one

    def premeasure(self, trial: int) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
        """Every point once, unthrottled (in the group): point -> its
        figures; and set -> why it cannot be calibrated this trial."""
        cond = Condition("premeasure", "all", "premeasure")
        pts = [p for ps in self.points.values() for p in ps]
        rs = self.new_run(f"t{trial:02d}-premeasure", cond, pts)
        rs.study.round = 0
        scen = Scenario(rs.study, "calibrate-premeasure", SEED,
                        "unthrottled figures the limits are taken from", {}, METRICS)
        got: dict[str, dict[str, float]] = {}
        why: dict[str, str] = {}
        for p in pts:
            self.limit(rs, p, {})
            pt = scen.measure(p.target, p.labels, self.measure_point(scen, rs, p, "pre"))
            if pt["status"] != "ok":
                why.setdefault(p.kind, f"{p.name}: {pt['status']}: {pt['reason']}")
                continue
            got[p.name] = {k: v[0] for k, v in pt["samples"].items()}
            if got[p.name].get("iops", 0.0) <= 0:
                why.setdefault(p.kind, f"{p.name}: no I/O in the premeasure")
        scen.write()
        self.finish_run(rs)
        return got, why

    def measure_round(self, rs: RunState, rnd: int, base: dict[str, dict[str, float]]) -> None:
        st = rs.study
        st.round = rnd
        # The control right beside the points, outside the group.
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

    def trial(self, t: int, on_run: Callable[[str, str], None]) -> dict[str, Any]:
        """Measure trial t (from 1); return its record (without the
        comparisons, which the caller adds)."""
        base, why = self.premeasure(t)
        rec: dict[str, Any] = {"trial": t, "premeasure": base, "skipped": dict(why),
                               "runs": {}}
        runs: list[RunState] = []
        for kind, pts in self.points.items():
            if kind in why:
                continue
            conds = CONDITIONS[kind]
            k = (t - 1) % len(conds)
            for cond in conds[k:] + conds[:k]:
                rs = self.new_run(f"t{t:02d}-{kind}-{cond.name}", cond, pts)
                runs.append(rs)
                rec["runs"].setdefault(kind, {})[cond.name] = rs.directory.name
        rec["order"] = [rs.directory.name for rs in runs]
        if self.params.schedule == "sequential":
            for rs in runs:
                on_run(rs.directory.name, "measuring")
                for rnd in range(self.params.rounds):
                    self.measure_round(rs, rnd, base)
                self.finish_run(rs)
        else:
            for rnd in range(self.params.rounds):
                on_run(f"round {rnd + 1}", "measuring every run")
                # Each round in another order: no run always goes first.
                k = rnd % max(1, len(runs))
                for rs in runs[k:] + runs[:k]:
                    self.measure_round(rs, rnd, base)
            for rs in runs:
                self.finish_run(rs)
        rec["limits"] = {rs.directory.name: rs.limits for rs in runs}
        return rec

