#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario plug (seed 004, "[PATCH] AIO: Don't plug the I/O queue in
do_io_submit()"): the latency of the first iocb of a batch.

io_submit plugs the block queue around a batch, so the first request waits
until the batch is queued (or the plug fills and flushes) before it is
dispatched; sequential requests merge in the plug.  Batches of 1 to 8
(full run: also 16, 32 and 64, past the plug's flush threshold) sequential
4 KiB O_DIRECT writes and reads on a block device -- a loop device with
direct I/O over a scratch file (root) -- with the queue's nomerges 0 (merge)
and 2 (never merge).  Per point: first-iocb latency p50/p99, mean latency
over every iocb, io_submit time per call, and merges per request from
/sys/block/<dev>/stat.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from aiosuite.study.core import PointSkipped, Scenario, Study
from aiosuite.study.plot import mean
from aiosuite.study.targets import loop_attach

NAME = "plug"
SEED = "004"
QUESTION = "how long does the first iocb of a batch wait in io_submit's plug, with and without merging?"
METRICS = {
    "first_iocb_ns_p50": {"unit": "ns", "better": "lower"},
    "first_iocb_ns_p99": {"unit": "ns", "better": "lower"},
    "latency_ns_mean": {"unit": "ns", "better": "lower"},
    "submit_ns_per_call_mean": {"unit": "ns", "better": "lower"},
    "merges_per_request": {"unit": "ratio", "better": "higher"},
}


def disk_stat(dev: str) -> list[int]:
    return [int(x) for x in Path(f"/sys/block/{Path(dev).name}/stat").read_text().split()]


def run(study: Study) -> Scenario:
    batches = study.pick([1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64], [1, 2, 4, 8])
    rounds = study.count(1000, 60)
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"record_bytes": 4096, "batches": batches, "rounds": rounds,
                     "target": "loop device, direct I/O on", "nomerges": [0, 2]}, METRICS)
    labels = [{"op": op, "nomerges": nm, "batch": b}
              for nm in (0, 2) for op in ("write", "read") for b in batches]
    if not study.root:
        for lab in labels:
            scen.skip("loop-dio", lab, "needs root (a loop device as the block device)")
        return scen
    size = 64 << 20
    backing = study.targets.block_file("plug", size, fill=True)
    try:
        dev = loop_attach(study.cleanup, backing, dio=True)
    except OSError as e:
        for lab in labels:
            scen.skip("loop-dio", lab, str(e))
        return scen
    scen.data["targets"]["loop-dio"] = {"name": "loop-dio", "device": dev, "backing": str(backing),
                                        "fstype": "", "o_direct": True}
    qdir = Path(f"/sys/block/{Path(dev).name}/queue")
    nomerges = qdir / "nomerges"
    old = nomerges.read_text().strip()
    study.cleanup.push(f"{nomerges} back to {old}",
                       lambda: nomerges.write_text(old) if nomerges.exists() else None)
    for lab in labels:
        def one(r: int, lab: dict[str, Any] = lab) -> tuple[dict[str, float], list[str]]:
            try:
                nomerges.write_text(str(lab["nomerges"]))
            except OSError as e:
                raise PointSkipped(f"cannot set {nomerges}: {e}")
            before = disk_stat(dev)
            data, raw = study.helper(scen, "aio-plug",
                                     f"{lab['op']}-nm{lab['nomerges']}-b{lab['batch']}-r{r}",
                                     ["-b", str(lab["batch"]), "-o", "0" if lab["op"] == "write" else "1",
                                      "-n", str(rounds), dev])
            after = disk_stat(dev)
            # /sys/block/*/stat: read ios, read merges, ..., write ios (4), write merges (5)
            ios_i, mrg_i = (0, 1) if lab["op"] == "read" else (4, 5)
            ios = after[ios_i] - before[ios_i]
            merges = after[mrg_i] - before[mrg_i]
            return {
                "first_iocb_ns_p50": float(data["first_iocb_ns"]["p50"]),
                "first_iocb_ns_p99": float(data["first_iocb_ns"]["p99"]),
                "latency_ns_mean": float(data["latency_ns"]["mean"]),
                "submit_ns_per_call_mean": float(data["submit_per_call_ns"]["mean"]),
                "merges_per_request": merges / (ios + merges) if ios + merges else 0.0,
                "device_requests": float(ios),
                "merges": float(merges),
            }, [raw]
        scen.measure("loop-dio", lab, one)
    nomerges.write_text(old)
    study.crosscheck(scen, "write batch 8", None,
                     {"filename": dev, "rw": "write", "iodepth": "8", "iodepth_batch_submit": "8",
                      "iodepth_batch_complete_min": "8", "size": "64m",
                      "number_ios": str(rounds * 8)}, 0, device_bound=False,
                     why="a block device, not a file target")
    chart(study, scen)
    print(table(scen), flush=True)
    return scen


def table(scen: Scenario) -> str:
    lines = ["| op | nomerges | batch | first iocb µs p50 | p99 | mean µs (all iocbs) | "
             "io_submit µs/call | merged share |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in scen.ok_points():
        s, lab = p["samples"], p["labels"]
        lines.append(f"| {lab['op']} | {lab['nomerges']} | {lab['batch']} | "
                     f"{mean(s['first_iocb_ns_p50']) / 1e3:.1f} | {mean(s['first_iocb_ns_p99']) / 1e3:.1f} | "
                     f"{mean(s['latency_ns_mean']) / 1e3:.1f} | {mean(s['submit_ns_per_call_mean']) / 1e3:.1f} | "
                     f"{mean(s['merges_per_request']):.2f} |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario) -> None:
    series: list[tuple[str, list[list[Any]]]] = []
    for op in ("write", "read"):
        for nm in (0, 2):
            rows = []
            for p in scen.ok_points(op=op, nomerges=nm):
                s = p["samples"]
                rows.append([p["labels"]["batch"], mean(s["first_iocb_ns_p50"]) / 1e3,
                             mean(s["latency_ns_mean"]) / 1e3, mean(s["merges_per_request"]),
                             mean(s["submit_ns_per_call_mean"]) / 1e3])
            series.append((f"{op}, nomerges {nm}", rows))
    scen.chart_series(series)
