#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario blocking (seed 004, "blocking io_submit" and "libaio status";
seed 000): does io_submit block on regular files, and where?

The matrix: filesystem x {O_DIRECT, buffered} x {read, write} x file state
{overwrite of written blocks, extending, sparse holes, fallocated} x
{cold, warm page cache}.  Per cell, 4 KiB sequential libaio requests,
depth 32, batches of 8: the inline-completion ratio (the share of iocbs
already complete when io_submit returned), io_submit time per iocb
p50/p99/max and the share of the stage's wall time spent inside io_submit.
Prints and saves a Markdown matrix (blocking.md) and draws a heatmap.
Cold is posix_fadvise(DONTNEED) after fsync; warm is a full read first.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiosuite.study.core import PointSkipped, Scenario, Study, cpu_bound, first_stage, stage_metrics
from aiosuite.study.plot import mean, write_rows
from aiosuite.study.targets import Target, drop_file_cache, warm_file, write_file

NAME = "blocking"
SEED = "004"
QUESTION = "does io_submit block on regular files (is libaio good for files on ext4)?"
MODES = ["odirect", "buffered"]
OPS = ["write", "read"]
STATES = ["overwrite", "extend", "sparse", "fallocated"]
CACHES = ["cold", "warm"]
METRICS = {
    "inline_ratio": {"unit": "ratio", "better": "lower"},
    "submit_ns_per_iocb_p50": {"unit": "ns", "better": "lower"},
    "submit_ns_per_iocb_p99": {"unit": "ns", "better": "lower"},
    "submit_ns_per_iocb_max": {"unit": "ns", "better": "lower"},
    "submit_wall_fraction": {"unit": "ratio", "better": "lower"},
    "iops": {"unit": "IO/s", "better": "higher"},
    "cpu_ns_per_io": {"unit": "ns", "better": "lower"},
}
SHORT = {"odirect": "DIO", "buffered": "buf"}


def cells() -> list[dict[str, Any]]:
    return [{"mode": m, "op": o, "state": s, "cache": c}
            for m in MODES for o in OPS for s in STATES for c in CACHES]


def prepare(path: Path, state: str, size: int, cache: str) -> None:
    path.unlink(missing_ok=True)
    if state == "overwrite":
        write_file(path, size, fill=True)
    elif state == "sparse":
        write_file(path, size, fill=False)
    elif state == "fallocated":
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)
    if state == "extend":
        return
    if cache == "cold":
        drop_file_cache(path)
    else:
        warm_file(path)


def run(study: Study) -> Scenario:
    size = study.size(32 << 20, 4 << 20)
    names = study.pick(["scratch", "ext4", "xfs", "btrfs", "tmpfs"], ["scratch", "tmpfs"])
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"record_bytes": 4096, "depth": 32, "batch": 8, "file_bytes": size,
                     "access": "sequential", "engine": "libaio",
                     "cold": "fsync + posix_fadvise(DONTNEED)", "warm": "read the file first"},
                    METRICS)
    for tname in names:
        t = study.targets.fs(tname)
        if isinstance(t, str):
            for c in cells():
                scen.skip(tname, c, t)
            continue
        scen.target(t)
        if t.fstype == "tmpfs":
            scen.note("tmpfs: no cold cache (its pages are the storage); cold equals warm there")
        measure_target(study, scen, t, size)
        if tname == "scratch":
            crosscheck(study, scen, t, size)
    table = matrix_table(scen, names)
    (study.out / f"{NAME}.md").write_text(table + "\n")
    scen.data["tables"].append(f"{NAME}.md")
    print(table, flush=True)
    chart(study, scen, names)
    return scen


def measure_target(study: Study, scen: Scenario, t: Target, size: int) -> None:
    path = t.directory / "blocking.dat"
    for c in cells():
        def one(r: int, c: dict[str, Any] = c) -> tuple[dict[str, float], list[str]]:
            if c["mode"] == "odirect" and not t.odirect:
                raise PointSkipped(f"O_DIRECT refused on {t.fstype}")
            if c["op"] == "read" and c["state"] == "extend":
                raise PointSkipped("reads past the end of the file have nothing to read")
            prepare(path, c["state"], size, c["cache"])
            tag = f"{t.name}-{c['mode']}-{c['op']}-{c['state']}-{c['cache']}-r{r}"
            args = ["-o", "0" if c["op"] == "write" else "1", "-s", f"{size >> 20}m",
                    "-r", "4k", "-d", "32", "-b", "8",
                    *(["-O"] if c["mode"] == "odirect" else []), str(path)]
            data, raw = study.aio_stress(scen, tag, args)
            m = stage_metrics(first_stage(data))
            return {k: m[k] for k in METRICS}, [raw]
        scen.measure(t.name, c, one, bound=cpu_bound(t.fstype))
    path.unlink(missing_ok=True)


def crosscheck(study: Study, scen: Scenario, t: Target, size: int) -> None:
    """The device-bound cell (O_DIRECT reads of written blocks, QD 32)
    through aio-stress and through jobs/blocking.fio."""
    path = t.directory / "blocking-xcheck.dat"
    write_file(path, size, fill=True)
    direct = ["-O"] if t.odirect else []
    study.crosscheck(scen, "odirect read overwrite",
                     ["-o", "1", "-s", f"{size >> 20}m", "-r", "4k", "-d", "32", "-b", "8",
                      "-i", "8", *direct, str(path)],
                     {"filename": str(path), "rw": "read", "size": f"{size >> 20}m",
                      "direct": "1" if t.odirect else "0", "iodepth_batch_complete_min": "8"},
                     study.seconds(2.0, 0.4), device_bound=t.odirect,
                     why="the file is buffered here (no O_DIRECT)")
    path.unlink(missing_ok=True)


def _cell(p: dict[str, Any] | None) -> tuple[str, str, str]:
    if p is None:
        return "", "", ""
    if p["status"] != "ok":
        return p["status"], "", ""
    s = p["samples"]
    us = [mean(s[k]) / 1e3 for k in ("submit_ns_per_iocb_p50", "submit_ns_per_iocb_p99",
                                     "submit_ns_per_iocb_max")]
    return (f"{mean(s['inline_ratio']):.2f}", " / ".join(f"{v:.1f}" for v in us),
            f"{mean(s['submit_wall_fraction']) * 100:.0f}%")


def find(scen: Scenario, target: str, labels: dict[str, Any]) -> dict[str, Any] | None:
    for p in scen.points:
        if p["target"] == target and p["labels"] == labels:
            return p
    return None


def matrix_table(scen: Scenario, names: list[str]) -> str:
    head = ("| target | mode | op | file state | cold: inline | cold: io_submit µs/iocb "
            "p50 / p99 / max | cold: wall in io_submit | warm: inline | warm: io_submit "
            "µs/iocb p50 / p99 / max | warm: wall in io_submit |")
    lines = [f"io_submit blocking matrix (libaio, 4 KiB sequential, depth 32, batch 8); "
             f"inline = share of iocbs complete when io_submit returned", "",
             head, "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for tname in names:
        if all(p["status"] == "skipped" for p in scen.points if p["target"] == tname):
            reason = next((p["reason"] for p in scen.points if p["target"] == tname), "")
            lines.append(f"| {tname} | skipped: {reason} | | | | | | | | |")
            continue
        for m in MODES:
            for o in OPS:
                for s in STATES:
                    row = [tname, m, o, s]
                    for c in CACHES:
                        p = find(scen, tname, {"mode": m, "op": o, "state": s, "cache": c})
                        if p and p["status"] == "skipped":
                            row += ["n/a", "", ""]
                        else:
                            row += list(_cell(p))
                    lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario, names: list[str]) -> None:
    shown = [n for n in names
             if any(p["status"] == "ok" for p in scen.points if p["target"] == n)]
    rows: list[list[Any]] = []
    for y, c in enumerate(cells()):
        ylab = f"{SHORT[c['mode']]} {c['op']} {c['state']} {c['cache']}"
        for x, tname in enumerate(shown):
            p = find(scen, tname, c)
            if p and p["status"] == "ok":
                s = p["samples"]
                ratio = mean(s["inline_ratio"])
                label = f"{mean(s['submit_ns_per_iocb_p50']) / 1e3:.1f}"
            else:
                ratio, label = float("nan"), "n/a"
            fs = scen.data["targets"].get(tname, {}).get("fstype", tname)
            rows.append([x, y, ratio, label, tname if fs == tname else f"{tname} ({fs})", ylab])
    dat = study.out / f"{NAME}.dat"
    write_rows(dat, ["x", "y", "inline_ratio", "p50_us", "target", "cell"], rows)
    if shown:
        scen.chart(dat)
