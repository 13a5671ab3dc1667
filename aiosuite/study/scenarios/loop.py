#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario loop (seed 001, "loop: Issue O_DIRECT aio using bio_vec"):
the same workload on a loop device with direct I/O off (loop does buffered
I/O to its backing file from a kernel thread) and on (loop issues O_DIRECT
AIO to the backing file).

aio-stress --loop buffered|dio attaches a loop device over a scratch file,
writes the device sequentially (64 KiB O_DIRECT requests, depth 16) with
--verify and reads it back, and detaches at exit.  Per point: write and
read throughput, the growth of Cached in /proc/meminfo over the run (the
backing file's pages that loop left in the page cache), and whether every
block written through loop is in the backing file after detach
(build/aio-vcheck: each block's offset and checksum).
"""
from __future__ import annotations

from typing import Any

from aiosuite.study.core import PointFailed, Scenario, Study, cpu_bound, first_stage
from aiosuite.study.plot import mean, write_rows
from aiosuite.study.targets import drop_file_cache, loop_attach, meminfo_cached

NAME = "loop"
SEED = "001"
QUESTION = "what does loop with direct-io on change: throughput, page cache, data in the backing file?"
METRICS = {
    "write_bytes_per_s": {"unit": "B/s", "better": "higher"},
    "read_bytes_per_s": {"unit": "B/s", "better": "higher"},
    "cached_growth_bytes": {"unit": "B", "better": "lower"},
    "backing_blocks_ok": {"unit": "blocks", "better": "higher"},
    "backing_blocks_bad": {"unit": "blocks", "better": "lower"},
    "write_cpu_ns_per_io": {"unit": "ns", "better": "lower"},
    "read_cpu_ns_per_io": {"unit": "ns", "better": "lower"},
}


def run(study: Study) -> Scenario:
    size = study.size(512 << 20, 64 << 20)
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"record_bytes": 65536, "depth": 16, "batch": 16, "device_bytes": size,
                     "o_direct_on_device": True, "verify": True}, METRICS)
    modes = [("off", "buffered"), ("on", "dio")]
    if not study.root:
        for dio, _ in modes:
            scen.skip(f"loop-dio-{dio}", {"direct_io": dio}, "needs root (loop devices)")
        return scen
    sc = study.targets.scratch_target
    for dio, mode in modes:
        backing = study.targets.scratch / f"loop-{dio}.img"
        tname = f"loop-dio-{dio}"
        scen.data["targets"][tname] = {"name": tname, "backing": str(backing),
                                       "backing_fstype": sc.fstype, "direct_io": dio}

        def one(r: int, dio: str = dio, mode: str = mode) -> tuple[dict[str, float], list[str]]:
            backing.unlink(missing_ok=True)
            with open(backing, "wb") as f:
                f.truncate(size)
            drop_file_cache(backing)
            cached0 = meminfo_cached()
            data, raw = study.aio_stress(
                scen, f"dio-{dio}-r{r}",
                ["-o", "0", "-o", "1", "-s", f"{size >> 20}m", "-r", "64k", "-d", "16", "-b", "16",
                 "-O", "--verify", "--loop", mode, str(backing)], timeout=300)
            cached1 = meminfo_cached()
            if data.get("result") != "ok":
                raise PointFailed(f"aio-stress: {data.get('result')} {data.get('reason', '')}")
            check, craw = study.helper(scen, "aio-vcheck", f"dio-{dio}-r{r}", ["-b", "4k", str(backing)])
            w, rd = first_stage(data, "write"), first_stage(data, "read")
            counts = check.get("counts", {})
            ok = float(counts.get("ok", 0))
            out = {"write_bytes_per_s": float(w["bytes_per_s"]),
                   "read_bytes_per_s": float(rd["bytes_per_s"]),
                   "write_cpu_ns_per_io": float(w["cpu"]["ns_per_io"]),
                   "read_cpu_ns_per_io": float(rd["cpu"]["ns_per_io"]),
                   "cached_growth_bytes": float(cached1 - cached0),
                   "backing_blocks_ok": ok,
                   "backing_blocks_bad": float(check.get("blocks", 0)) - ok,
                   # The kernel's answer (aio-stress reads it back from
                   # sysfs), not what was asked: loop falls back to
                   # buffered I/O where the backing file takes no O_DIRECT.
                   "loop_dio": 1.0 if data["targets"][0].get("loop_direct_io") else 0.0}
            backing.unlink(missing_ok=True)
            if out["backing_blocks_bad"]:
                bad = check.get("first_bad", {})
                raise PointFailed(f"backing file after detach: {out['backing_blocks_bad']:.0f} bad "
                                  f"blocks, first {bad.get('kind')} at {bad.get('offset')}")
            return out, [raw, craw]
        scen.measure(tname, {"direct_io": dio}, one, bound=cpu_bound(sc.fstype))
    # fio on the same kind of device: a loop device with direct I/O on.
    fio_backing = study.targets.block_file("loop-fio", size, fill=False)
    dev = loop_attach(study.cleanup, fio_backing, dio=True)
    study.crosscheck(scen, "write dio on", None,
                     {"filename": dev, "size": f"{size >> 20}m"}, 0, device_bound=False,
                     why="a loop device, not a file target", sections=["loop-direct"])
    chart(study, scen)
    print(table(scen), flush=True)
    return scen


def table(scen: Scenario) -> str:
    lines = ["| loop direct I/O | write MB/s | read MB/s | Cached growth MiB | backing file after detach |",
             "|---|---:|---:|---:|---|"]
    for p in scen.points:
        s = p["samples"]
        if p["status"] != "ok":
            lines.append(f"| {p['labels']['direct_io']} | | | | {p['status']}: {p['reason']} |")
            continue
        lines.append(f"| {p['labels']['direct_io']} | {mean(s['write_bytes_per_s']) / 1e6:.0f} | "
                     f"{mean(s['read_bytes_per_s']) / 1e6:.0f} | "
                     f"{mean(s['cached_growth_bytes']) / 2**20:.1f} | "
                     f"{mean(s['backing_blocks_ok']):.0f} blocks ok, "
                     f"{mean(s['backing_blocks_bad']):.0f} bad |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario) -> None:
    rows: list[list[Any]] = []
    for p in scen.ok_points():
        s = p["samples"]
        rows.append([f"direct-io {p['labels']['direct_io']}", mean(s["write_bytes_per_s"]) / 1e6,
                     mean(s["read_bytes_per_s"]) / 1e6, mean(s["cached_growth_bytes"]) / 2**20])
    if not rows:
        return
    dat = study.out / f"{NAME}.dat"
    write_rows(dat, ["loop", "write_MBps", "read_MBps", "cached_growth_MiB"], rows)
    scen.chart(dat)
