#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario vectored (seed 002, "Vectored AIO for Linux"): IOCB_CMD_PREADV
and PWRITEV with 1 to IOV_MAX (1024) segments against scalar requests that
move the same bytes.

Each segment is 4 KiB; a vectored request of N segments is compared with a
scalar request of N x 4 KiB.  Sequential O_DIRECT writes then reads of a
scratch file through libaio with --verify (every block carries its offset,
a generation and a checksum, so misplaced or stale data is found).  Per
point: IOPS, bytes/s, CPU per byte (write and read) and the verification
verdict.  The scalar 256 KiB read is cross-checked against fio
(jobs/vectored.fio; fio has no N-segment libaio request, so its job is the
scalar equivalent).
"""
from __future__ import annotations

from typing import Any

from aiosuite.study.core import PointFailed, Scenario, Study, cpu_bound, first_stage, stage_metrics
from aiosuite.study.plot import mean
from aiosuite.study.targets import write_file

NAME = "vectored"
SEED = "002"
QUESTION = "what do PREADV/PWRITEV cost against scalar requests of the same bytes, and are they correct?"
SEG = 4096
METRICS = {
    "iops": {"unit": "IO/s", "better": "higher"},
    "bytes_per_s": {"unit": "B/s", "better": "higher"},
    "cpu_ns_per_kib": {"unit": "ns/KiB", "better": "lower"},
    "cpu_ns_per_io": {"unit": "ns", "better": "lower"},
    "verified_blocks": {"unit": "blocks", "better": "higher"},
    "verify_failures": {"unit": "blocks", "better": "lower"},
}


def run(study: Study) -> Scenario:
    segs = study.pick([1, 4, 16, 64, 256, 1024], [1, 16, 1024])
    size = study.size(128 << 20, 16 << 20)
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"segment_bytes": SEG, "segments": segs, "file_bytes": size, "depth": 8,
                     "engine": "libaio", "verify": True, "o_direct": True}, METRICS)
    sc = study.targets.scratch_target
    scen.target(sc)
    path = sc.directory / "vectored.dat"
    direct = ["-O"] if sc.odirect else []
    if not sc.odirect:
        scen.note(f"O_DIRECT refused on {sc.fstype}: the requests are buffered")
    for n in segs:
        rec = n * SEG
        for kind in ("vectored", "scalar"):
            def one(r: int, n: int = n, kind: str = kind,
                    rec: int = rec) -> tuple[dict[str, float], list[str]]:
                path.unlink(missing_ok=True)
                vec = ["--iovecs", str(n)] if kind == "vectored" else []
                data, raw = study.aio_stress(
                    scen, f"{kind}-{n}-r{r}",
                    ["-o", "0", "-o", "1", "-s", f"{size >> 20}m", "-r", f"{rec // 1024}k",
                     "-d", "8", "-b", "8", "--verify", *direct, *vec, str(path)])
                out: dict[str, float] = {}
                for stage in ("write", "read"):
                    st = first_stage(data, stage)
                    m = stage_metrics(st)
                    out[f"{stage}_iops"] = m["iops"]
                    out[f"{stage}_bytes_per_s"] = m["bytes_per_s"]
                    out[f"{stage}_cpu_ns_per_kib"] = m["cpu_ns_per_io"] / (rec / 1024)
                    out[f"{stage}_cpu_ns_per_io"] = m["cpu_ns_per_io"]
                    if st.get("errors"):
                        raise PointFailed(f"{st['errors']} {stage} requests failed")
                ver = first_stage(data, "read").get("verify", {})
                out["verified_blocks"] = float(ver.get("blocks_checked", 0))
                out["verify_failures"] = float(ver.get("failures", 0))
                if data.get("result") != "ok" or out["verify_failures"]:
                    raise PointFailed(f"verification failed: {data.get('reason', '')}")
                out["iops"] = out["read_iops"]
                out["bytes_per_s"] = out["read_bytes_per_s"]
                out["cpu_ns_per_kib"] = out["read_cpu_ns_per_kib"]
                out["cpu_ns_per_io"] = out["read_cpu_ns_per_io"]
                return out, [raw]
            scen.measure("scratch", {"segments": n, "kind": kind, "record_bytes": rec}, one,
                         bound=cpu_bound(sc.fstype))
    n = 64 if 64 in segs else segs[len(segs) // 2]
    write_file(path, size, fill=True)
    study.crosscheck(scen, f"scalar read {n * SEG // 1024}k",
                     ["-o", "1", "-s", f"{size >> 20}m", "-r", f"{n * SEG // 1024}k",
                      "-d", "8", "-b", "8", "-i", "8", *direct, str(path)],
                     {"filename": str(path), "bs": f"{n * SEG // 1024}k", "rw": "read",
                      "iodepth": "8", "iodepth_batch_submit": "8", "size": f"{size >> 20}m",
                      "direct": "1" if sc.odirect else "0", "iodepth_batch_complete_min": "8"},
                     study.seconds(2.0, 0.4), device_bound=sc.odirect,
                     why="the file is buffered here (no O_DIRECT)")
    path.unlink(missing_ok=True)
    chart(study, scen)
    print(table(scen), flush=True)
    return scen


def table(scen: Scenario) -> str:
    lines = ["| segments | kind | request | write MB/s | read MB/s | write CPU ns/KiB | "
             "read CPU ns/KiB | verified blocks | bad |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in scen.ok_points():
        s, lab = p["samples"], p["labels"]
        lines.append(f"| {lab['segments']} | {lab['kind']} | {lab['record_bytes'] // 1024} KiB | "
                     f"{mean(s['write_bytes_per_s']) / 1e6:.0f} | {mean(s['read_bytes_per_s']) / 1e6:.0f} | "
                     f"{mean(s['write_cpu_ns_per_kib']):.1f} | {mean(s['read_cpu_ns_per_kib']):.1f} | "
                     f"{mean(s['verified_blocks']):.0f} | {mean(s['verify_failures']):.0f} |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario) -> None:
    series: list[tuple[str, list[list[Any]]]] = []
    for kind in ("vectored", "scalar"):
        for stage in ("write", "read"):
            rows = []
            for p in scen.ok_points(kind=kind):
                s = p["samples"]
                rows.append([p["labels"]["segments"], mean(s[f"{stage}_cpu_ns_per_kib"]),
                             mean(s[f"{stage}_bytes_per_s"]) / 1e6])
            series.append((f"{kind} {stage}", rows))
    scen.chart_series(series)
