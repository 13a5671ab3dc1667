#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario engines (seed 003, "[PATCHSET v5] Support for polled aio"):
libaio against io_uring and sync, per CPU, at QD 1 to 128.

4 KiB O_DIRECT random reads of a scratch file with libaio, libaio reaping
from the user-mapped ring, io_uring (plain, SQPOLL, registered files and
buffers, IOPOLL where the target supports polled I/O) and sync pread at
QD 1.  Per point: IOPS, IOPS per CPU-second (1 s / CPU time per I/O) and
completion latency p50/p99.  libaio and io_uring at QD 32 are
cross-checked against fio (jobs/engines.fio).
"""
from __future__ import annotations

from typing import Any

from study_core import (PointSkipped, Scenario, Study, check_errors, cpu_bound, first_stage,
                        stage_metrics)
from study_plot import mean
from study_targets import write_file

NAME = "engines"
SEED = "003"
QUESTION = "libaio, io_uring (polled or not) or sync: IOPS per CPU and latency, QD 1..128?"
ENGINES: list[tuple[str, list[str]]] = [
    ("libaio", ["--engine", "libaio"]),
    ("libaio-user-reap", ["--engine", "libaio", "--user-reap"]),
    ("io_uring", ["--engine", "io_uring"]),
    ("io_uring-sqpoll", ["--engine", "io_uring", "--sqpoll"]),
    ("io_uring-fixed", ["--engine", "io_uring", "--fixed-files", "--fixed-bufs"]),
    ("io_uring-iopoll", ["--engine", "io_uring", "--iopoll"]),
    ("sync", ["--engine", "sync"]),
]
METRICS = {
    "iops": {"unit": "IO/s", "better": "higher"},
    "iops_per_cpu_s": {"unit": "IO per CPU-second", "better": "higher"},
    "clat_ns_p50": {"unit": "ns", "better": "lower"},
    "clat_ns_p99": {"unit": "ns", "better": "lower"},
    "cpu_ns_per_io": {"unit": "ns", "better": "lower"},
}


def run(study: Study) -> Scenario:
    qds = study.pick([1, 2, 4, 8, 16, 32, 64, 128], [1, 8, 32])
    runtime = study.seconds(1.5, 0.2)
    size = study.pick(256 << 20, 32 << 20)
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"record_bytes": 4096, "access": "random read", "o_direct": True,
                     "queue_depths": qds, "runtime_s": runtime, "file_bytes": size,
                     "sync": "pread, QD 1 only (one request at a time)"}, METRICS)
    sc = study.targets.scratch_target
    scen.target(sc)
    path = sc.directory / "engines.dat"
    write_file(path, size, fill=True)
    base = ["-o", "3", "-s", f"{size >> 20}m", "-r", "4k", *(["-O"] if sc.odirect else [])]
    if not sc.odirect:
        scen.note(f"O_DIRECT refused on {sc.fstype}: the reads are buffered")
    scen.note("SQPOLL: the kernel's submission thread is not in aio-stress's CPU time, "
              "so io_uring-sqpoll's IOPS per CPU-second counts the submitting thread only")
    scen.note("sync: latency is the time inside pread (a request completes in the call)")
    scen.note("repeats interleaved: each round measures every engine and depth once")
    jobs = []
    for ename, eargs in ENGINES:
        for qd in qds:
            labels: dict[str, Any] = {"engine": ename, "qd": qd}
            if ename == "sync" and qd > 1:
                continue

            def one(r: int, ename: str = ename, eargs: list[str] = eargs,
                    qd: int = qd) -> tuple[dict[str, float], list[str]]:
                data, raw = study.aio_stress(
                    scen, f"{ename}-qd{qd}-r{r}",
                    [*base, *eargs, "-d", str(qd), "-b", str(qd), "--runtime", str(runtime),
                     str(path)])
                if data.get("result") not in ("ok", None) and not data.get("stages"):
                    raise PointSkipped(data.get("reason", "engine unavailable"))
                st = first_stage(data)
                try:
                    check_errors(data, st)
                except PointSkipped:
                    if ename.endswith("iopoll"):
                        raise PointSkipped("polled I/O (IOPOLL) is not supported by this "
                                           "target: every request failed")
                    raise
                m = stage_metrics(st)
                if ename == "sync":  # the request completes inside pread
                    m["clat_ns_p50"] = m["submit_ns_per_iocb_p50"]
                    m["clat_ns_p99"] = m["submit_ns_per_iocb_p99"]
                out = {k: m[k] for k in ("iops", "clat_ns_p50", "clat_ns_p99", "cpu_ns_per_io")}
                out["iops_per_cpu_s"] = 1e9 / m["cpu_ns_per_io"] if m["cpu_ns_per_io"] else 0.0
                return out, [raw]
            jobs.append(("scratch", labels, one))
    scen.measure_interleaved(jobs, bound=cpu_bound(sc.fstype))
    for ename in ("libaio", "io_uring"):
        eargs = dict(ENGINES)[ename]
        study.crosscheck(scen, f"{ename} qd32",
                         [*base, *eargs, "-d", "32", "-b", "32", "-i", "8", str(path)],
                         {"filename": str(path), "ioengine": ename, "iodepth": "32",
                          "iodepth_batch_submit": "32", "size": f"{size >> 20}m",
                          "direct": "1" if sc.odirect else "0", "iodepth_batch_complete_min": "8"},
                         study.seconds(2.0, 0.4), device_bound=sc.odirect,
                         why="the file is buffered here (no O_DIRECT)")
    path.unlink(missing_ok=True)
    chart(study, scen)
    print(table(scen), flush=True)
    return scen


def table(scen: Scenario) -> str:
    lines = ["| engine | QD | IOPS | IOPS per CPU-s | clat p50 µs | clat p99 µs |",
             "|---|---:|---:|---:|---:|---:|"]
    for p in scen.points:
        lab = p["labels"]
        if p["status"] != "ok":
            continue
        s = p["samples"]
        lines.append(f"| {lab['engine']} | {lab['qd']} | {mean(s['iops']):.0f} | "
                     f"{mean(s['iops_per_cpu_s']):.0f} | {mean(s['clat_ns_p50']) / 1e3:.1f} | "
                     f"{mean(s['clat_ns_p99']) / 1e3:.1f} |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario) -> None:
    series = []
    for ename, _ in ENGINES:
        rows = []
        for p in scen.ok_points(engine=ename):
            s = p["samples"]
            rows.append([p["labels"]["qd"], mean(s["iops"]) / 1e3, mean(s["iops_per_cpu_s"]) / 1e3,
                         mean(s["clat_ns_p50"]) / 1e3, mean(s["clat_ns_p99"]) / 1e3])
        series.append((ename, rows))
    scen.chart_series(series)
