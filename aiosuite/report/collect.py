#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read the results store into runs, points and conformance results.

results/<host>/<kernel release>/<run id>/ (see docs/RESULTS-FORMAT.md).  Each
JSON file of a run is recognised by its content, never by scraping text:

  aio-suite-scenario/1  one point per entry of "points", samples as given
  aio-stress/1          one point per stage; files that differ only by a
                        trailing repeat number (-0, -r1) are repeats of one
                        point; files a scenario lists in "raw" are left to
                        the scenario
  fio JSON              one point per job, read and write metrics apart;
                        repeats by file name as for aio-stress; fio's
                        client mode (FIO_CLIENTS): one point per job
                        section over all the hosts, from the suite's own
                        merge (aiosuite/fio_clients.py), labelled with them
  aio-bare              the bare io_submit loop's IOPS
  aio-conform           conformance results ("tool": "aio-conform" or
                        "schema": "aio-conform/1")
  aio-suite-machine/2   machine.json: the machine probes of aiosuite/machine.py,
                        the control of a comparison (not a point); /1, the
                        same without aio-machine's "control", too

env.json says whether the run was emulated (qemu TCG): such runs keep their
conformance results but their timings are never used as performance.
summary.json and aio-conform's JSON say whether the run is complete
(docs/RESULTS-FORMAT.md): an incomplete run is listed with the reason and
left out of comparisons unless the caller asks for it.

Every file is read through aiosuite/schemas.py: only regular files of bounded
size, every value the report uses checked; a bad file is named in the
run's warnings and left out, the rest of the run is read.

Directions of the metrics this module defines itself (aio-stress, fio,
aio-bare): IOPS and bytes/s higher is better; latencies, submit cost and
CPU per I/O lower is better; ratios and CPU percentages are informational
(a CPU percentage rises with throughput, so it has no direction by itself:
cpu_ns_per_io is the comparable figure), and so is fio's achieved depth
(depth_achieved, from iodepth_level: the report's synchronous verdict
reads it, aiosuite/report/synchronous.py).
"""
from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, cast

from aiosuite import fio_clients, schemas, store
from aiosuite.schemas import (AioStressDoc, AioStressOptions, BadFile, ConformDoc, EnvDoc,
                              MachineDoc, MachineProbe, ScenarioDoc, Stage, SummaryDoc,
                              printable)

SCENARIO_SCHEMA = schemas.SCENARIO
AIO_STRESS_SCHEMA = schemas.AIO_STRESS
MACHINE_SCHEMA = schemas.MACHINE
FAILING = ("fail", "timeout", "crash", "stuck")
# Top-level directories of the store that are not hosts.
NOT_HOSTS = {"report", "check", "mutants", "calibrate"}  # mutants: ci/mutants.py;
# calibrate: aiosuite/calibrate (its runs are compared by it alone)


@dataclass
class MetricDef:
    unit: str = ""
    better: str = ""  # "higher", "lower" or "" (informational)


@dataclass
class Point:
    source: str  # scenario name, "aio-stress", "fio", "aio-bare"
    target: str
    labels: dict[str, Any]
    variant: str = ""  # what else must match: scenario params, file stem
    status: str = "ok"
    reason: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict[str, MetricDef] = field(default_factory=dict)
    raw: list[Path] = field(default_factory=list)  # aio-stress files behind it
    stage: str = ""  # aio-stress stage the point reads from its raw files
    # The machine probe of each sample's round (a scenario's control_probe:
    # an index into machine.json's probes), one per sample; [] when unknown
    control: list[int | None] = field(default_factory=list)
    # The raw samples of the metrics the report compares normalized
    # (aiosuite/report/normalize.py); samples then holds the normalized ones
    raw_samples: dict[str, list[float]] = field(default_factory=dict)
    # The bench round of each sample of a bench engine file
    # (aio-stress-<target>-<engine>-r<N>.json: round N + 1; None for any
    # other file), which names its control once machine.json is read
    bench_rounds: list[int | None] = field(default_factory=list)

    @property
    def key(self) -> str:
        lab = ",".join(f"{k}={self.labels[k]}" for k in sorted(self.labels))
        return f"{self.source}|{self.target}|{lab}|{self.variant}"

    @property
    def title(self) -> str:
        lab = " ".join(f"{k}={v}" for k, v in self.labels.items())
        # A raw file's stem tells which run of a tool it was; a scenario's
        # parameters are the same for all its points.
        raw = self.source in ("aio-stress", "fio", "aio-bare")
        parts = [self.source, self.target, lab, f"[{self.variant}]" if raw and self.variant else ""]
        return " ".join(p for p in parts if p)


@dataclass
class ConfResult:
    name: str
    variant: str
    result: str
    reason: str

    @property
    def test(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name


@dataclass
class Run:
    host: str
    release: str
    run_id: str
    path: Path
    env: EnvDoc
    points: dict[str, Point] = field(default_factory=dict)
    conform: list[ConfResult] | None = None
    conform_file: str = ""
    files: dict[str, int] = field(default_factory=dict)  # kind -> count
    warnings: list[str] = field(default_factory=list)  # bad files: "NAME: why"
    # Why the run is incomplete (summary.json or the conformance JSON say
    # so); empty for a complete run.
    incomplete: list[str] = field(default_factory=list)
    # The signal that interrupted the run or its conformance run, if any.
    interrupted: str = ""
    # The conformance JSON predates "complete" / "interrupted_by": an
    # interrupted test in it reads "timeout".
    conform_legacy: bool = False
    # aio-conform bailed out (the kernel left test processes it could not
    # kill): the reason.  Such a run is incomplete, and also a failure.
    bail_out: str = ""
    # machine.json's probes (aiosuite/machine.py): the machine's own speed
    machine: list[MachineProbe] = field(default_factory=list)

    @property
    def machine_ns(self) -> list[float]:
        """The machine probe's figure (fixed user-space work, ns) of every probe."""
        return [float(p["cpu_loop_ns"]) for p in self.machine
                if isinstance(p.get("cpu_loop_ns"), (int, float))]

    @property
    def steal_pct(self) -> list[float]:
        """CPU steal between consecutive probes, percent."""
        return [float(p["steal_pct_since_previous"]) for p in self.machine
                if isinstance(p.get("steal_pct_since_previous"), (int, float))]

    @property
    def emulated(self) -> bool:
        return bool(self.env.get("emulated")) or self.env.get("accelerator") == "tcg"

    @property
    def name(self) -> str:
        return f"{self.host}/{self.release}/{self.run_id}"


# ---- helpers ----

def version_key(release: str) -> list[tuple[int, Any]]:
    """Sort key that orders 5.10 < 6.1 < 6.12 < 6.18.44-foo."""
    key: list[tuple[int, Any]] = []
    for part in re.split(r"(\d+)", release):
        if not part:
            continue
        key.append((0, int(part)) if part.isdigit() else (1, part))
    return key


def read_json(path: Path) -> Any:
    """A result file, read and parsed safely (schemas.read_json(): BadFile,
    a ValueError, for anything the report cannot read)."""
    return schemas.read_json(path)


_REPEAT = re.compile(r"-(?:r|rep|repeat)?\d+$")


def repeat_stem(path: Path) -> str:
    """The file's name without .json and without a trailing repeat number."""
    return _REPEAT.sub("", printable(path.stem))


def _num(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"\d+", v):
        return int(v)
    return v


def _size(n: Any) -> str:
    if not isinstance(n, int) or n <= 0:
        return ""
    for div, suf in ((1 << 30, "g"), (1 << 20, "m"), (1 << 10, "k")):
        if n % div == 0:
            return f"{n // div}{suf}"
    return str(n)


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


# ---- aio-stress/1 ----

# name -> (unit, better, path into a stage)
AIO_STRESS_METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "iops": ("IO/s", "higher", ("iops",)),
    "bytes_per_s": ("B/s", "higher", ("bytes_per_s",)),
    "submit_ns_per_iocb_mean": ("ns", "lower", ("submit", "per_iocb_ns", "mean")),
    "submit_ns_per_iocb_p50": ("ns", "lower", ("submit", "per_iocb_ns", "p50")),
    "submit_ns_per_iocb_p99": ("ns", "lower", ("submit", "per_iocb_ns", "p99")),
    "submit_ns_per_iocb_p99_9": ("ns", "lower", ("submit", "per_iocb_ns", "p99_9")),
    "submit_ns_per_call_p50": ("ns", "lower", ("submit", "per_call_ns", "p50")),
    "submit_ns_per_call_p99": ("ns", "lower", ("submit", "per_call_ns", "p99")),
    "clat_ns_p50": ("ns", "lower", ("completion_latency_ns", "p50")),
    "clat_ns_p99": ("ns", "lower", ("completion_latency_ns", "p99")),
    "clat_ns_p99_9": ("ns", "lower", ("completion_latency_ns", "p99_9")),
    "cpu_ns_per_io": ("ns", "lower", ("cpu", "ns_per_io")),
    "inline_ratio": ("ratio", "", ("submit", "inline_ratio")),
    "submit_fraction": ("ratio", "", ("wall_split", "submit_fraction")),
}


def aio_stress_engine(opts: AioStressOptions) -> str:
    eng = str(opts.get("engine", ""))
    if opts.get("user_reap"):
        eng += "-user-reap"
    for flag in ("sqpoll", "iopoll", "fixed_files", "fixed_bufs"):
        if opts.get(flag):
            eng += f"+{flag}"
    return eng


def aio_stress_target(d: AioStressDoc) -> str:
    tg = (d.get("targets") or [{}])[0]
    kind = tg.get("kind", "")
    what = tg.get("fstype") or kind or "?"
    if "loop_backing" in tg:
        what = "loop-" + ("dio" if tg.get("loop_direct_io") else "buffered")
    elif kind in ("char", "block"):
        what = Path(str(tg.get("path", kind))).name
    direct = (d.get("options") or {}).get("o_direct")
    return f"{what}{' O_DIRECT' if direct else ''}"


_BENCH_ROUND = re.compile(r"-r(\d{1,6})$")


def bench_round_of(path: Path) -> int | None:
    """The round (from 1) of a bench engine file, aio-stress-*-r<N>.json
    (aiosuite/bench/cli.py writes round N + 1 there); None for any other."""
    m = _BENCH_ROUND.search(path.stem)
    return int(m.group(1)) + 1 if m and path.name.startswith("aio-stress-") else None


def bench_controls(run: Run) -> None:
    """The control of bench's own engine samples: the machine probe bench
    took at the start of the sample's round ("bench round N start", with
    its "round"), as a study point names its round's probe.  A point
    whose round has no probe keeps no control (all or nothing, so that a
    point's control list stays one per sample)."""
    by_round: dict[int, int] = {}
    for i, pr in enumerate(run.machine):
        rnd, label = pr.get("round"), str(pr.get("label", ""))
        if isinstance(rnd, int) and label.startswith("bench round") and rnd not in by_round:
            by_round[rnd] = int(pr.get("index", i))
    for p in run.points.values():
        if not p.bench_rounds or p.control:
            continue
        ctl = [None if r is None else by_round.get(r) for r in p.bench_rounds]
        if all(c is not None for c in ctl):
            p.control = ctl


def aio_stress_points(path: Path, d: AioStressDoc) -> list[Point]:
    opts = d.get("options") or {}
    pts = []
    for st in d.get("stages") or []:
        p = Point(
            source="aio-stress",
            target=aio_stress_target(d),
            labels={"engine": aio_stress_engine(opts), "depth": opts.get("depth"),
                    "batch": opts.get("max_io_submit"),
                    "record_bytes": opts.get("record_bytes"), "stage": st.get("name"),
                    # A quick run's smaller file is another workload.
                    "size": _size(opts.get("file_size_bytes"))},
            variant=repeat_stem(path),
            status="ok" if d.get("result", "ok") == "ok" else str(d.get("result")),
            reason=str(d.get("reason", "")),
            raw=[path], stage=str(st.get("name", "")),
            bench_rounds=[bench_round_of(path)])
        for name, (unit, better, keys) in AIO_STRESS_METRICS.items():
            v = _get(st, *keys)
            if isinstance(v, (int, float)):
                p.samples[name] = [float(v)]
                p.metrics[name] = MetricDef(unit, better)
        pts.append(p)
    return pts


# ---- fio ----

FIO_PCTS = {"p50": "50.000000", "p99": "99.000000", "p99_9": "99.900000"}


def fio_depth(levels: Any) -> float | None:
    """The mean depth in flight from fio's iodepth_level (percent of the
    time at depth 1, 2-3, 4-7, ..., >=64), each bucket at its lower bound:
    an achieved depth never above the real one.  None without data."""
    if not isinstance(levels, dict):
        return None
    tot = num = 0.0
    for k, v in levels.items():
        lo = str(k).lstrip(">=")
        if lo.isdigit() and isinstance(v, (int, float)) and v > 0:
            tot += v
            num += v * int(lo)
    return num / tot if tot else None


def fio_points(path: Path, d: dict[str, Any]) -> list[Point]:
    glob = d.get("global options") or {}
    jobs = d.get("jobs") or []
    hosts = ""
    if isinstance(d.get("client_stats"), list):
        # Each host's records are in its own run: here the merged ones.
        jobs = fio_clients.merged_jobs(d)
        hosts = ",".join(sorted(fio_clients.hosts_of(d)))
        glob = next(iter(glob), {}) if isinstance(glob, list) else glob
    pts = []
    for job in jobs:
        o = {**glob, **(job.get("job options") or {})}
        p = Point(
            source="fio", target=Path(str(o.get("filename", o.get("directory", "?")))).name,
            labels={"engine": o.get("ioengine", "psync"), "depth": _num(o.get("iodepth", 1)),
                    "batch": _num(o.get("iodepth_batch", o.get("iodepth_batch_submit", 1))),
                    "rw": o.get("rw", o.get("readwrite", "read")), "bs": o.get("bs", "4k"),
                    "size": o.get("size", ""),
                    "job": job.get("jobname", ""), **({"hosts": hosts} if hosts else {})},
            variant=repeat_stem(path), raw=[path],
            status="ok" if not job.get("error") else "failed",
            reason=f"fio error {job.get('error')}" if job.get("error") else "")

        def put(name: str, unit: str, better: str, v: Any) -> None:
            if isinstance(v, (int, float)):
                p.samples[name] = [float(v)]
                p.metrics[name] = MetricDef(unit, better)

        ios = 0
        for dirn in ("read", "write", "trim"):
            s = job.get(dirn) or {}
            if not s.get("total_ios") and not s.get("io_bytes"):
                continue
            ios += int(s.get("total_ios") or 0)
            put(f"{dirn}_iops", "IO/s", "higher", s.get("iops"))
            put(f"{dirn}_bw_bytes", "B/s", "higher", s.get("bw_bytes"))
            for short, key in FIO_PCTS.items():
                put(f"{dirn}_clat_ns_{short}", "ns", "lower",
                    _get(s, "clat_ns", "percentile", key))
            put(f"{dirn}_lat_ns_mean", "ns", "lower", _get(s, "lat_ns", "mean"))
            put(f"{dirn}_slat_ns_mean", "ns", "lower", _get(s, "slat_ns", "mean"))
        put("depth_achieved", "iocbs", "", fio_depth(job.get("iodepth_level")))
        put("usr_cpu", "%", "", job.get("usr_cpu"))
        put("sys_cpu", "%", "", job.get("sys_cpu"))
        rt_ms = job.get("job_runtime") or _get(job, "read", "runtime") or 0
        if ios and rt_ms and isinstance(job.get("usr_cpu"), (int, float)):
            cpu_ns = (job["usr_cpu"] + (job.get("sys_cpu") or 0)) / 100.0 * rt_ms * 1e6
            put("cpu_ns_per_io", "ns", "lower", cpu_ns / ios)
        pts.append(p)
    return pts


def bare_points(path: Path, d: dict[str, Any]) -> list[Point]:
    p = Point(source="aio-bare", target="", labels={}, variant=repeat_stem(path), raw=[path])
    if isinstance(d.get("iops"), (int, float)):
        p.samples["iops"] = [float(d["iops"])]
        p.metrics["iops"] = MetricDef("IO/s", "higher")
    return [p]


# ---- scenarios ----

def scenario_points(path: Path, d: ScenarioDoc) -> list[Point]:
    name = str(d.get("scenario") or printable(path.stem))
    params = d.get("params") or {}
    # What must match for two runs' points to be comparable: the scenario's
    # parameters except the repeat (or rounds) count and anything that looks
    # like a path.
    var = ",".join(f"{k}={params[k]}" for k in sorted(params)
                   if k not in ("repeat", "rounds", "rounds_measured", "seed")
                   and not (isinstance(params[k], str) and "/" in params[k]))
    mdefs = {m: MetricDef(str(v.get("unit") or ""), str(v.get("better") or ""))
             for m, v in (d.get("metrics") or {}).items() if isinstance(v, dict)}
    pts = []
    for pt in d.get("points") or []:
        p = Point(source=name, target=str(pt.get("target", "")),
                  labels=dict(pt.get("labels") or {}), variant=var,
                  status=str(pt.get("status") or "ok"), reason=str(pt.get("reason") or ""),
                  raw=[path.parent / r for r in pt.get("raw") or []])
        for m, xs in (pt.get("samples") or {}).items():
            if isinstance(xs, (int, float)):
                xs = [xs]
            vals = [float(x) for x in xs if isinstance(x, (int, float))]
            if vals:
                p.samples[m] = vals
                p.metrics[m] = mdefs.get(m, MetricDef())
        ctl = pt.get("control_probe") or []
        p.control = [int(c) if isinstance(c, (int, float)) else None for c in ctl]
        for k in ("stage", "op"):
            if isinstance(p.labels.get(k), str):
                p.stage = p.labels[k]
        pts.append(p)
    return pts


# ---- runs ----

def _merge(run: Run, pts: Iterable[Point]) -> None:
    for p in pts:
        have = run.points.get(p.key)
        if have is None:
            run.points[p.key] = p
            continue
        for m, xs in p.samples.items():
            have.samples.setdefault(m, []).extend(xs)
            have.metrics.setdefault(m, p.metrics[m])
        have.raw.extend(p.raw)
        have.control.extend(p.control)
        have.bench_rounds.extend(p.bench_rounds)
        if p.status != "ok" and have.status == "ok":
            have.status, have.reason = p.status, p.reason


def conform_results(d: ConformDoc) -> list[ConfResult]:
    return [ConfResult(str(r.get("name") or "?"), str(r.get("variant") or ""),
                       str(r.get("result") or "?"), str(r.get("reason") or ""))
            for r in d.get("results") or [] if isinstance(r, dict)]


def summary_state(d: SummaryDoc) -> tuple[list[str], str]:
    """(why the run is incomplete, the signal that interrupted it) from
    summary.json: complete false, or a signal in "interrupted"."""
    sig = str(d.get("interrupted") or "")
    if sig:
        return [f"interrupted by {sig} (summary.json)"], sig
    if d.get("complete") is False:
        return ["not finished: summary.json says complete false (killed, or still "
                "running)"], ""
    return [], ""


def conform_state(d: ConformDoc, name: str) -> tuple[list[str], str]:
    """The same from aio-conform's JSON: complete false, interrupted_by,
    bail_out."""
    sig = str(d.get("interrupted_by") or "")
    if sig:
        return [f"aio-conform interrupted by {sig} ({name})"], sig
    if d.get("bail_out"):
        return [f"aio-conform bailed out: {d['bail_out']} ({name})"], ""
    if d.get("complete") is False:
        return [f"aio-conform did not finish ({name} says complete false)"], ""
    return [], ""


def load_run(path: Path, host: str, release: str) -> Run:
    """The run in directory path; host and release are the names to show."""
    run = Run(host, release, printable(path.name), path, {})

    def bad(f: Path, e: BadFile) -> None:
        run.warnings.append(f"{printable(f.name)}: {e}")

    for special in ("env", "summary"):
        f = path / f"{special}.json"
        if not os.path.lexists(f):
            continue
        try:
            d = schemas.check(special, read_json(f))
        except BadFile as e:
            bad(f, e)
            if special == "summary":
                run.incomplete.append(f"summary.json cannot be read: {e}")
            continue
        # check() made sure d is the document its name says.
        if special == "env":
            run.env = cast(EnvDoc, d)
        else:
            run.incomplete, run.interrupted = summary_state(cast(SummaryDoc, d))
    docs: list[tuple[Path, str, dict[str, Any]]] = []
    try:
        files = sorted(path.glob("*.json"))
    except OSError as e:
        run.warnings.append(f"cannot list the run's files: {e.strerror}")
        files = []
    for f in files:
        if f.name in ("env.json", "summary.json"):
            continue
        try:
            d = read_json(f)
            k = schemas.kind(d)
            if k:
                docs.append((f, k, schemas.check(k, d)))
        except BadFile as e:
            bad(f, e)
    # Files a scenario covers are not points of their own.
    covered: set[Path] = set()
    for f, k, d in docs:
        if k == "scenario":
            for pt in cast(ScenarioDoc, d).get("points") or []:
                covered.update(path / r for r in pt.get("raw") or [])
    # Each takes the document of its kind (check() made sure it is).
    readers: dict[str, Callable[[Path, Any], list[Point]]] = {
        "scenario": scenario_points, "aio-stress": aio_stress_points, "fio": fio_points,
        "aio-bare": bare_points}
    conf_doc: ConformDoc | None = None
    for f, k, d in docs:
        run.files[k] = run.files.get(k, 0) + 1
        if k == "machine":
            run.machine = [p for p in cast(MachineDoc, d).get("probes") or []
                           if isinstance(p, dict)]
        elif k == "conform":
            if run.conform is None or f.name == "conform.json":
                conf_doc = cast(ConformDoc, d)
                run.conform = conform_results(conf_doc)
                run.conform_file = printable(f.name)
        elif f not in covered:
            _merge(run, readers[k](f, d))
    if conf_doc is not None:
        run.conform_legacy = "complete" not in conf_doc and "interrupted_by" not in conf_doc
        why, sig = conform_state(conf_doc, run.conform_file)
        run.incomplete += why
        run.interrupted = run.interrupted or sig
        if conf_doc.get("bail_out"):
            run.bail_out = printable(str(conf_doc["bail_out"]))
    bench_controls(run)
    return run


def _dirs(d: Path, root: Path, warnings: list[str]) -> list[Path]:
    """The directories in d, sorted; a symbolic link is followed only to a
    directory inside the store (root, resolved); a loop or a link that
    leads nowhere or out of the store is named in warnings."""
    try:
        entries = sorted(d.iterdir())
    except OSError as e:
        warnings.append(f"{printable(str(d))}: cannot list it: {e.strerror}")
        return []
    out = []
    for p in entries:
        link = p.is_symlink()
        try:
            st = p.stat()
        except OSError as e:
            if link:
                warnings.append(f"{printable(str(p))}: symbolic link not followed: {e.strerror}")
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        if link:
            real = p.resolve()
            if real != root and root not in real.parents:
                warnings.append(f"{printable(str(p))}: symbolic link out of the store "
                                f"(to {printable(str(real))}): not followed")
                continue
        out.append(p)
    return out


def load_store(root: Path | None = None, skip: Path | None = None,
               warnings: list[str] | None = None) -> list[Run]:
    """Every run under root (default: the store), oldest run id first.

    What is wrong with the store itself (a symbolic link loop, a directory
    that cannot be listed) goes to warnings; what is wrong with a file of a
    run, to that run's warnings."""
    root = root or store.results_root()
    warn = warnings if warnings is not None else []
    runs: list[Run] = []
    if not root.is_dir():
        return runs
    real = root.resolve()
    skip_r = skip.resolve() if skip else None
    for host in _dirs(root, real, warn):
        if host.name in NOT_HOSTS or host.name.startswith("."):
            continue
        for rel in _dirs(host, real, warn):
            for rd in _dirs(rel, real, warn):
                if skip_r and (rd.resolve() == skip_r or skip_r in rd.resolve().parents):
                    continue
                try:
                    if not any(rd.glob("*.json")):
                        continue
                except OSError as e:
                    warn.append(f"{printable(str(rd))}: cannot list it: {e.strerror}")
                    continue
                runs.append(load_run(rd, printable(host.name), printable(rel.name)))
    runs.sort(key=lambda r: (r.run_id, r.host, version_key(r.release)))
    return runs


def stage_of(d: AioStressDoc, stage: str) -> Stage | None:
    """The named stage of an aio-stress document (the last one if unnamed)."""
    stages: list[Stage] = d.get("stages") or []
    for st in stages:
        if st.get("name") == stage:
            return st
    return stages[-1] if stages and not stage else None


def main(argv: list[str]) -> int:
    """collect.py [DIR]: print what the store holds, point by point."""
    root = Path(argv[0]) if argv else None
    for r in load_store(root):
        print(f"{r.name} emulated={r.emulated} files={r.files}"
              + (f" incomplete: {'; '.join(r.incomplete)}" if r.incomplete else ""))
        for p in r.points.values():
            print(f"  {p.title}: " + ", ".join(f"{m}={len(x)}" for m, x in p.samples.items()))
        for w in r.warnings:
            print(f"  warning: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
