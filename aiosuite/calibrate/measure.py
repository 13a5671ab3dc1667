# SPDX-License-Identifier: GPL-2.0
"""Description: the measurements of make calibrate: a short subset of the
batching study (aiosuite/study/scenarios/batching.py), measured through the
study's own Study and Scenario (rounds, samples, the machine probe of each
round, <scenario>.json), as run directories that the report's comparison
reads like any other.

Two sets of points:

  cpu     batching's /dev/null points (libaio, 4 KiB, depth 128, batches of
          1, 8 and 32 iocbs): CPU-bound; slowed by a CPU quota of the cpu
          cgroup giving 10% and 20% less CPU than the point got unthrottled;
  device  batching's 4 KiB O_DIRECT random reads, on a loop device with
          direct I/O over a scratch file (depths 1, 8 and 32): device-bound;
          slowed by block-layer throttling of the loop device's read IOPS
          at 90% and 80% of the point's unthrottled IOPS.

In each trial, for each set, five run directories one after the other, as
two runs of a benchmark follow each other, in an order rotated from one
trial to the next: "base", "aa" and "aa2" (unthrottled: two A/A pairs with
the base run) and the two slowdowns.  On a machine that others share, what
a program gets unthrottled changes from one second to the next, so a limit
taken from another run would impose another slowdown than it says: each
throttled sample is preceded by an unthrottled reference sample of the
same point, and its limit is that fraction of the reference's CPU share
(CPU time over wall time) or IOPS.  The references go to the run's
reference/ directory, which the report does not read as the run's; the
median change of the throttled samples against their references is
recorded as the slowdown really imposed (paired_change_pct).

The kernel does not take exactly what it is asked: a CPU quota of 90% of
a period left a single-threaded point 92% to 97% of its reference's CPU
share on this VM (the runtime left in the other CPU's local pool is
spent too), and blk-throttle's slices round an IOPS limit.  So each
point and slowdown has a correction, the median over its latest pairs of
(share or IOPS obtained / fraction asked): the limit asks for the
fraction over the correction, so that what the throttled sample gets is
the condition's fraction of its reference.  Before the first trial, a
short tuning (TUNE_PAIRS pairs a point and slowdown, in tune/, which
nothing reads as a run) learns the corrections; every pair of the trials
then updates them.  The corrections used are in calibrate.json.

Every measured program runs in the calibration cgroup (limited or not, so
that the group itself is no difference); the machine probe
(build/aio-machine) runs outside it, as a kernel regression would not slow
it either.  A sample that fails is tried again twice (another test's
contexts can fill fs.aio-max-nr for a moment) before its point is given
up.
"""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiosuite import machine, store
from aiosuite.calibrate.cgroups import CPU_PERIOD_US, MIN_QUOTA_US, Group, device_of, wrapper_env
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
# A device-bound sample is this many times as long as a CPU-bound one:
# blk-throttle accounts in slices of 100 ms and grants a new limit a slice
# at once, so that over 0.2 s a 90% limit took nothing away (measured on
# this VM: 1.02 of the reference), over 0.8 to 1 s it holds (0.92).
DEVICE_RUNTIME_FACTOR = 4
ATTEMPTS = 3
# The limit's correction: pairs a point and slowdown measured before the
# first trial; the median of the latest CORRECTION_WINDOW pairs is used,
# bounded to CORRECTION_RANGE (a pair far outside is a disturbed one).
TUNE_PAIRS = 3
CORRECTION_WINDOW = 9
CORRECTION_RANGE = (0.5, 2.0)


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
    history: bool = False  # judged with the earlier trials as history (analyse.py)

    def runtime_of(self, kind: str) -> float:
        return self.runtime_s * (DEVICE_RUNTIME_FACTOR if kind == "device" else 1)

    def describe(self) -> dict[str, Any]:
        return {"trials": self.trials, "rounds": self.rounds,
                "sample_runtime_s": self.runtime_s,
                "device_sample_runtime_s": self.runtime_of("device"),
                "sets": list(self.sets), "quick": self.quick,
                "device_file_bytes": self.device_bytes, "history": self.history}


@dataclass
class RunState:
    """One run directory being measured: one set under one condition."""
    cond: Condition
    directory: Path
    study: Study
    points: list[PointSpec]
    # Slowdowns: the unthrottled sample taken right before each throttled
    # one (in reference/, which the report does not read as the run's)
    ref_study: Study | None = None
    # point -> each round's limit: the quota in us a period, or the IOPS
    limits: dict[str, list[int | None]] = field(default_factory=dict)
    # point -> each round's [reference IOPS, throttled IOPS, reference CPU
    # share, throttled CPU share]
    pairs: dict[str, list[list[float]]] = field(default_factory=dict)
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
        self.loopdev = ""
        self.devno = ""
        self.points: dict[str, list[PointSpec]] = {}
        if "cpu" in params.sets:
            self.points["cpu"] = cpu_points()
        if "device" in params.sets:
            self.points["device"] = device_points(params.device_bytes)
        os.environ.update(wrapper_env(group, store.BUILD / "aio-stress"))
        # (point, condition) -> obtained / asked of each pair so far
        self.obtained: dict[tuple[str, str], list[float]] = {}

    def correction(self, point: str, cond: str) -> float:
        """What the kernel gives of what it is asked, for this point and
        slowdown: the median of the latest pairs, 1 before any."""
        xs = self.obtained.get((point, cond), [])[-CORRECTION_WINDOW:]
        if not xs:
            return 1.0
        lo, hi = CORRECTION_RANGE
        return min(hi, max(lo, statistics.median(xs)))

    def corrections(self) -> dict[str, dict[str, Any]]:
        """The corrections now and the pairs behind them, for calibrate.json."""
        return {f"{p}/{c}": {"correction": round(self.correction(p, c), 4), "pairs": len(xs)}
                for (p, c), xs in sorted(self.obtained.items())}

    def path_of(self, p: PointSpec) -> str:
        return "/dev/null" if p.kind == "cpu" else self.loopdev

    def prepare_device(self) -> None:
        """The loop device of the device set (direct I/O on) over a filled
        scratch file: reads of a sparse file would never reach the disk."""
        backing = self.targets.block_file("calibrate-loop", self.params.device_bytes, fill=True)
        self.loopdev = loop_attach(self.cleanup, backing, dio=True)
        self.devno = device_of(self.loopdev)

    def study_in(self, d: Path) -> Study:
        """A Study writing into d whose aio-stress runs through the
        calibration cgroup's wrapper."""
        study = Study(d, self.targets, self.cleanup, self.params.quick, self.params.rounds,
                      self.features)
        study.aio_stress_bin = self.wrapper
        return study

    def new_run(self, name: str, cond: Condition, points: list[PointSpec]) -> RunState:
        d = self.out / "runs" / name
        d.mkdir(parents=True)
        store.write_json(d / "summary.json", {"schema": RUN_SCHEMA, "complete": False,
                                              "interrupted": None, "condition": cond.name})
        store.write_json(d / "env.json", self.env)
        rs = RunState(cond, d, self.study_in(d), points)
        if cond.fraction is not None:
            (d / "reference").mkdir()
            rs.ref_study = self.study_in(d / "reference")
        return rs

    def unlimit(self) -> None:
        if "cpu" in self.points:
            self.group.set_cpu(None)
        if self.devno:
            self.group.set_read_iops(self.devno, None)

    def sample(self, study: Study, scen: Scenario, rs: RunState, p: PointSpec,
               tag: str) -> tuple[dict[str, float], str]:
        """One aio-stress run of point p; a failure is tried again
        (ATTEMPTS in all) before it counts."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                data, raw = study.aio_stress(
                    scen, f"{p.name}-{tag}",
                    [*p.args, "--runtime", str(self.params.runtime_of(p.kind)),
                     self.path_of(p)])
                return sample_metrics(data), raw
            except (PointSkipped, PointFailed) as e:
                if attempt == ATTEMPTS:
                    raise
                rs.retries.append(f"{p.name} {tag}: {e}")
                time.sleep(0.5)
        raise PointFailed("unreachable")

    def measure_point(self, scen: Scenario, rs: RunState,
                      p: PointSpec) -> Callable[[int], tuple[dict[str, float], list[str]]]:
        """The point's measure() function: for a slowdown, an unthrottled
        reference sample first, the limit taken from it, then the sample."""
        def one(r: int) -> tuple[dict[str, float], list[str]]:
            if rs.cond.fraction is None or rs.ref_study is None:
                self.unlimit()
                m, raw = self.sample(rs.study, scen, rs, p, f"r{r}")
                return m, [raw]
            ref, m, raw, limit = self.throttled_pair(rs.ref_study, rs.study, scen, rs, p,
                                                     rs.cond, f"r{r}", f"ref{r}")
            rs.limits.setdefault(p.name, []).append(limit)
            rs.pairs.setdefault(p.name, []).append(
                [ref["iops"], m["iops"], ref["cpu_per_wall"], m["cpu_per_wall"]])
            return m, [raw]
        return one

    def throttled_pair(self, ref_study: Study, study: Study, scen: Scenario, rs: RunState,
                       p: PointSpec, cond: Condition, tag: str,
                       ref_tag: str) -> tuple[dict[str, float], dict[str, float], str, int]:
        """An unthrottled reference sample of p, then a sample throttled to
        cond's fraction of what the reference got (CPU share for a CPU
        quota, IOPS for an IOPS limit), the correction applied; the pair
        updates the correction.  tag and ref_tag name the two samples'
        files.  Returns (reference, throttled, its raw file, the limit)."""
        assert cond.fraction is not None
        self.unlimit()
        ref, _ = self.sample(ref_study, scen, rs, p, ref_tag)
        key = "cpu_per_wall" if p.kind == "cpu" else "iops"
        asked = cond.fraction / self.correction(p.name, cond.name)
        limit: int
        if p.kind == "cpu":
            share = min(max(ref["cpu_per_wall"], 0.02), float(os.cpu_count() or 1))
            limit = max(MIN_QUOTA_US, round(asked * share * CPU_PERIOD_US))
            self.group.set_cpu(limit)
        else:
            limit = max(1, round(asked * ref["iops"]))
            self.group.set_read_iops(self.devno, limit)
        try:
            m, raw = self.sample(study, scen, rs, p, tag)
        finally:
            self.unlimit()
        if ref[key] > 0 and asked > 0:
            self.obtained.setdefault((p.name, cond.name), []).append(m[key] / ref[key] / asked)
        return ref, m, raw, limit

    def tune(self, on_step: Callable[[str], None]) -> dict[str, Any]:
        """Learn the corrections before the first trial: TUNE_PAIRS pairs
        of every point under every slowdown, in out/tune/ (no run the
        analysis reads).  Returns the corrections learned."""
        for kind, pts in self.points.items():
            for cond in CONDITIONS[kind]:
                if cond.fraction is None:
                    continue
                on_step(f"tuning the {kind} limits for {cond.name}")
                d = self.out / "tune" / f"{kind}-{cond.name}"
                d.mkdir(parents=True)
                study = self.study_in(d)
                rs = RunState(cond, d, study, pts)
                scen = Scenario(study, f"tune-{kind}", SEED, "the limits' corrections",
                                {}, METRICS)
                for i in range(TUNE_PAIRS):
                    for p in pts:
                        try:
                            self.throttled_pair(study, study, scen, rs, p, cond, f"t{i}",
                                                f"t{i}-ref")
                        except (PointSkipped, PointFailed) as e:
                            rs.retries.append(f"{p.name} tuning: {e}")
        return self.corrections()

    def measure_round(self, rs: RunState, rnd: int) -> None:
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
                        {"runtime_s": self.params.runtime_of(kind),
                         "depth": batching.DEPTH if kind == "cpu" else 0,
                         "device_bytes": self.params.device_bytes if kind == "device" else 0},
                        METRICS)
        scen.data["calibrate"] = {"condition": rs.cond.name, "role": rs.cond.role,
                                  "slowdown_pct": rs.cond.slowdown_pct}
        for p in rs.points:
            scen.measure(p.target, p.labels, self.measure_point(scen, rs, p),
                         bound=p.kind == "cpu")
        scen.data["calibrate"]["limits"] = dict(rs.limits)
        scen.write()
        st.carry[scen.name] = scen.data

    def finish_run(self, rs: RunState) -> None:
        store.write_json(rs.directory / "summary.json",
                         {"schema": RUN_SCHEMA, "complete": True, "interrupted": None,
                          "condition": rs.cond.name, "limits": rs.limits})

    def trial(self, t: int, on_run: Callable[[str], None]) -> dict[str, Any]:
        """Measure trial t (from 1); return its record (without the
        comparisons, which the caller adds)."""
        rec: dict[str, Any] = {"trial": t, "runs": {}, "order": [], "limits": {},
                               "paired_change_pct": {}, "retries": {}}
        for kind, pts in self.points.items():
            conds = CONDITIONS[kind]
            k = (t - 1) % len(conds)
            for cond in conds[k:] + conds[:k]:
                rs = self.new_run(f"t{t:02d}-{kind}-{cond.name}", cond, pts)
                rec["runs"].setdefault(kind, {})[cond.name] = rs.directory.name
                rec["order"].append(rs.directory.name)
                on_run(rs.directory.name)
                for rnd in range(self.params.rounds):
                    self.measure_round(rs, rnd)
                self.finish_run(rs)
                if rs.limits:
                    rec["limits"][rs.directory.name] = rs.limits
                    rec["paired_change_pct"][rs.directory.name] = paired_change(rs.pairs)
                if rs.retries:
                    rec["retries"][rs.directory.name] = rs.retries
        return rec


def paired_change(pairs: dict[str, list[list[float]]]) -> dict[str, float | None]:
    """The median change, in percent, of the throttled samples against the
    reference sample right before each: IOPS and CPU share (what the limit
    really took away)."""
    out: dict[str, float | None] = {}
    for name, i, j in (("iops", 0, 1), ("cpu_share", 2, 3)):
        xs = [100.0 * (q[j] / q[i] - 1.0) for ps in pairs.values() for q in ps if q[i] > 0]
        out[f"{name}_pct"] = round(statistics.median(xs), 2) if xs else None
    return out
