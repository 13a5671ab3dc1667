#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario batching (seed 004, "[patch, v3] aio: allocate kiocbs in
batches"): what one iocb costs at each io_submit batch size, depth 128.

Batches of 1, 2, 3, 4, 8, 16, 32, 64 and 128 iocbs per io_submit, keeping
up to 128 in flight and reaping a batch's worth before refilling (aio-stress
-b N -i N, so that every call carries N iocbs), on /dev/null (the submission path alone) and on a scratch
file (4 KiB O_DIRECT random reads: a device-bound workload, cross-checked
against fio).  Per point: io_submit ns per iocb and per call, CPU per I/O,
IOPS.
"""
from __future__ import annotations

from study_core import Scenario, Study, cpu_bound, first_stage, stage_metrics
from study_plot import mean, write_series
from study_targets import write_file

NAME = "batching"
SEED = "004"
QUESTION = "what does an iocb cost at each io_submit batch size (depth 128)?"
BATCHES = [1, 2, 3, 4, 8, 16, 32, 64, 128]
DEPTH = 128
METRICS = {
    "submit_ns_per_iocb_p50": {"unit": "ns", "better": "lower"},
    "submit_ns_per_iocb_mean": {"unit": "ns", "better": "lower"},
    "submit_ns_per_call_p50": {"unit": "ns", "better": "lower"},
    "cpu_ns_per_io": {"unit": "ns", "better": "lower"},
    "iops": {"unit": "IO/s", "better": "higher"},
}


def run(study: Study) -> Scenario:
    runtime = study.seconds(1.0, 0.15)
    size = study.pick(128 << 20, 32 << 20)
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"depth": DEPTH, "record_bytes": 4096, "batches": BATCHES,
                     "runtime_s": runtime, "file_bytes": size}, METRICS)
    sc = study.targets.scratch_target
    scen.target(sc)
    fpath = sc.directory / "batching.dat"
    write_file(fpath, size, fill=True)
    direct = ["-O"] if sc.odirect else []
    if not sc.odirect:
        scen.note(f"O_DIRECT refused on {sc.fstype}: the file runs are buffered")
    targets = [("null", ["-o", "0", "-s", "1g"], "/dev/null"),
               ("scratch", ["-o", "3", "-s", str(size >> 20) + "m", *direct], str(fpath))]
    for tname, targs, path in targets:
        for b in BATCHES:
            def one(r: int, b: int = b, tname: str = tname, targs: list[str] = targs,
                    path: str = path) -> tuple[dict[str, float], list[str]]:
                data, raw = study.aio_stress(
                    scen, f"{tname}-b{b}-r{r}",
                    [*targs, "-r", "4k", "-d", str(DEPTH), "-b", str(b), "-i", str(b),
                     "--runtime", str(runtime), path])
                m = stage_metrics(first_stage(data))
                return m, [raw]
            scen.measure(tname, {"engine": "libaio", "batch": b,
                                 "file": "/dev/null" if tname == "null" else "file"}, one,
                         bound=cpu_bound(sc.fstype if tname == "scratch" else "", path))

    # fio on the device-bound point: the file, O_DIRECT, QD 128, batch 32.
    study.crosscheck(scen, "file batch 32",
                     ["-o", "3", "-s", f"{size >> 20}m", *direct, "-r", "4k", "-d", str(DEPTH),
                      "-b", "32", "-i", "32", str(fpath)],
                     {"filename": str(fpath), "rw": "randread", "iodepth": str(DEPTH),
                      "iodepth_batch_submit": "32", "size": f"{size >> 20}m",
                      "direct": "1" if sc.odirect else "0", "iodepth_batch_complete_min": "32"},
                     study.seconds(2.0, 0.4), device_bound=sc.odirect,
                     why="the file is buffered here (no O_DIRECT)")
    chart(study, scen)
    table = ["| target | batch | iocbs/call seen | io_submit ns/iocb p50 | ns/call p50 | "
             "CPU ns/IO | IOPS |", "|---|---:|---:|---:|---:|---:|---:|"]
    for p in scen.ok_points():
        s = p["samples"]
        table.append(f"| {p['labels']['file']} | {p['labels']['batch']} | "
                     f"{mean(s['iocbs_per_call']):.1f} | "
                     f"{mean(s['submit_ns_per_iocb_p50']):.0f} | {mean(s['submit_ns_per_call_p50']):.0f} | "
                     f"{mean(s['cpu_ns_per_io']):.0f} | {mean(s['iops']):.0f} |")
    print("\n".join(table))
    return scen


def chart(study: Study, scen: Scenario) -> None:
    series = []
    for f, title in (("null", "/dev/null"), ("scratch", "file, 4 KiB random read")):
        rows = []
        for p in scen.points:
            if p["target"] == f and p["status"] == "ok":
                s = p["samples"]
                rows.append([p["labels"]["batch"], mean(s["submit_ns_per_iocb_p50"]),
                             mean(s["submit_ns_per_call_p50"]), mean(s["cpu_ns_per_io"]),
                             mean(s["iops"]) / 1e3])
        series.append((title, rows))
    dat = study.out / f"{NAME}.dat"
    write_series(dat, series)
    scen.chart(dat)
