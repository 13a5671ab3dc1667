#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario buffered (seed 000, "buffered AIO via a readahead completion
notify"; seed 004): buffered random reads through libaio on a cold page
cache against a warm one, and the same through io_uring for contrast.

Without O_DIRECT, libaio's io_submit reads the page cache synchronously:
on a cold cache it waits for the disk inside the call.  io_uring hands a
read that would block to a worker and returns.  Cold is made by
drop_caches when root, else by posix_fadvise(DONTNEED) on the file; a
bounded number of 4 KiB random reads (depth 32, batches of 32) keeps the
cold run cold.  Per point: io_submit time per iocb p50/p99, the
inline-completion ratio, the share of wall time inside io_submit, IOPS.
"""
from __future__ import annotations

from typing import Any

from study_core import Scenario, Study, cpu_bound, first_stage, stage_metrics
from study_plot import mean
from study_targets import drop_caches, drop_file_cache, warm_file, write_file

NAME = "buffered"
SEED = "000"
QUESTION = "how long does io_submit block for buffered reads on a cold cache, against warm, and through io_uring?"
ENGINES = [("libaio", ["--engine", "libaio"]), ("io_uring", ["--engine", "io_uring"])]
METRICS = {
    "submit_ns_per_iocb_p50": {"unit": "ns", "better": "lower"},
    "submit_ns_per_iocb_p99": {"unit": "ns", "better": "lower"},
    "inline_ratio": {"unit": "ratio", "better": "lower"},
    "submit_wall_fraction": {"unit": "ratio", "better": "lower"},
    "iops": {"unit": "IO/s", "better": "higher"},
    "cpu_ns_per_io": {"unit": "ns", "better": "lower"},
}


def run(study: Study) -> Scenario:
    size = study.pick(256 << 20, 64 << 20)
    rounds = study.pick(128, 16)
    names = study.pick(["scratch", "ext4", "xfs", "btrfs"], ["scratch"])
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"record_bytes": 4096, "access": "random read", "depth": 32, "batch": 32,
                     "submission_rounds": rounds, "file_bytes": size,
                     "cold": "drop_caches (root) or posix_fadvise(DONTNEED)"}, METRICS)
    for tname in names:
        t = study.targets.fs(tname)
        if isinstance(t, str):
            for ename, _ in ENGINES:
                for cache in ("cold", "warm"):
                    scen.skip(tname, {"engine": ename, "cache": cache}, t)
            continue
        scen.target(t)
        path = t.directory / "buffered.dat"
        try:
            write_file(path, size, fill=True)
        except OSError as e:
            for ename, _ in ENGINES:
                for cache in ("cold", "warm"):
                    scen.fail(tname, {"engine": ename, "cache": cache},
                              f"cannot write {path}: {e.strerror}")
            continue
        for ename, eargs in ENGINES:
            for cache in ("cold", "warm"):
                def one(r: int, ename: str = ename, eargs: list[str] = eargs,
                        cache: str = cache) -> tuple[dict[str, float], list[str]]:
                    if cache == "cold":
                        drop_file_cache(path)
                        how = drop_caches()
                        scen.note(f"cold cache made by {how}")
                    else:
                        warm_file(path)
                    data, raw = study.aio_stress(
                        scen, f"{tname}-{ename}-{cache}-r{r}",
                        ["-o", "3", "-s", f"{size >> 20}m", "-r", "4k", "-d", "32", "-b", "32",
                         "-I", str(rounds), *eargs, str(path)])
                    m = stage_metrics(first_stage(data))
                    return {k: m[k] for k in METRICS}, [raw]
                scen.measure(tname, {"engine": ename, "cache": cache}, one,
                             bound=cpu_bound(t.fstype))
        if tname == "scratch":
            warm_file(path)
            study.crosscheck(scen, "libaio warm", None,
                             {"filename": str(path), "ioengine": "libaio", "iodepth": "32",
                              "iodepth_batch_submit": "32", "size": f"{size >> 20}m",
                              "number_ios": str(rounds * 32)},
                             0, device_bound=False,
                             why="buffered reads are not device-bound")
        path.unlink(missing_ok=True)
    chart(study, scen)
    print(table(scen), flush=True)
    return scen


def table(scen: Scenario) -> str:
    lines = ["| target | engine | cache | io_submit µs/iocb p50 | p99 | inline | wall in io_submit | IOPS |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for p in scen.ok_points():
        s, lab = p["samples"], p["labels"]
        lines.append(f"| {p['target']} | {lab['engine']} | {lab['cache']} | "
                     f"{mean(s['submit_ns_per_iocb_p50']) / 1e3:.2f} | "
                     f"{mean(s['submit_ns_per_iocb_p99']) / 1e3:.1f} | {mean(s['inline_ratio']):.2f} | "
                     f"{mean(s['submit_wall_fraction']) * 100:.0f}% | {mean(s['iops']):.0f} |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario) -> None:
    series: list[tuple[str, list[list[Any]]]] = []
    targets = list(dict.fromkeys(p["target"] for p in scen.ok_points()))
    for ename, _ in ENGINES:
        for cache in ("cold", "warm"):
            rows = []
            for x, t in enumerate(targets):
                for p in scen.ok_points(engine=ename, cache=cache):
                    if p["target"] == t:
                        s = p["samples"]
                        rows.append([x, mean(s["submit_ns_per_iocb_p50"]) / 1e3,
                                     mean(s["submit_ns_per_iocb_p99"]) / 1e3,
                                     mean(s["inline_ratio"]), t])
            series.append((f"{ename} {cache}", rows))
    scen.chart_series(series)
