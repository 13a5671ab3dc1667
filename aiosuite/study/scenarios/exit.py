#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario exit (seed 004, "[patch] aio: wake up waiters when freeing
unused kiocbs"): processes that exit, or are killed, with native AIO
requests in flight; how long until the parent reaps them, and no hang.

A context of 64 events (io_setup(64)), then 0 to 2 x 64 O_DIRECT 64 KiB
random reads in flight (as many as the kernel's ring accepts), then _exit or
SIGKILL (build/aio-exit).  Targets: a scratch file and, as root, a loop
device with direct I/O over a scratch file.  Per point: time until reaped
(p50, max over the trials) as a curve against the iocbs in flight; a child
not reaped within the watchdog is a point with status "hang".
"""
from __future__ import annotations

from typing import Any

from aiosuite.study.core import PointFailed, PointHang, Scenario, Study
from aiosuite.study.plot import mean
from aiosuite.study.targets import loop_attach, write_file

NAME = "exit"
SEED = "004"
QUESTION = "how long until a process that exits or is killed with AIO in flight is reaped; does it hang?"
RING = 64
METRICS = {
    "reap_ns_p50": {"unit": "ns", "better": "lower"},
    "reap_ns_max": {"unit": "ns", "better": "lower"},
    "submitted": {"unit": "iocbs", "better": "higher"},
}


def run(study: Study) -> Scenario:
    counts = study.pick([0, 1, 8, 16, 32, 48, 64, 96, 128, 256], [0, 1, 64, 128])
    trials = study.pick(5, 3)
    watchdog = 10.0
    size = study.pick(256 << 20, 64 << 20)
    scen = Scenario(study, NAME, SEED, QUESTION,
                    {"ring_events": RING, "in_flight": counts, "record_bytes": 65536,
                     "trials": trials, "watchdog_s": watchdog, "file_bytes": size}, METRICS)
    sc = study.targets.scratch_target
    scen.target(sc)
    fpath = sc.directory / "exit.dat"
    write_file(fpath, size, fill=True)
    targets: list[tuple[str, str]] = [("scratch", str(fpath))]
    if not sc.odirect:
        scen.note(f"O_DIRECT refused on {sc.fstype}: the file target is skipped")
    dev_reason = ""
    if study.root:
        try:
            backing = study.targets.block_file("exit-loop", size, fill=True)
            dev = loop_attach(study.cleanup, backing, dio=True)
            targets.append(("loop-dio", dev))
            scen.data["targets"]["loop-dio"] = {"name": "loop-dio", "device": dev,
                                                "backing": str(backing), "fstype": "",
                                                "o_direct": True}
        except OSError as e:
            dev_reason = str(e)
    else:
        dev_reason = "needs root (a loop device)"
    # The control: the same child without an AIO context (io_setup not called).
    for mode in ("exit", "kill"):
        if sc.odirect:
            def ctl(r: int, mode: str = mode) -> tuple[dict[str, float], list[str]]:
                data, raw = study.helper(scen, "aio-exit", f"control-{mode}-r{r}",
                                         ["-m", mode, "-q", "0", "-t", str(trials),
                                          "-w", str(watchdog), str(fpath)],
                                         timeout=trials * (watchdog + 5) + 10,
                                         needs_aio=False)  # -q 0: no io_setup
                if data.get("ok", 0) < trials:
                    raise PointFailed("the control child failed")
                return {"reap_ns_p50": float(data["reap_ns"]["p50"]),
                        "reap_ns_max": float(data["reap_ns"]["max"]),
                        "reap_ns_mean": float(data["reap_ns"]["mean"]),
                        "submitted": 0.0}, [raw]
            scen.measure("scratch", {"mode": mode, "requested": 0, "context": False}, ctl)
    for mode in ("exit", "kill"):
        for tname, path in targets + ([("loop-dio", "")] if dev_reason else []):
            for n in counts:
                labels: dict[str, Any] = {"mode": mode, "requested": n}
                if not path:
                    scen.skip(tname, labels, dev_reason)
                    continue
                if tname == "scratch" and not sc.odirect:
                    scen.skip(tname, labels, f"O_DIRECT refused on {sc.fstype}")
                    continue

                def one(r: int, mode: str = mode, path: str = path, n: int = n,
                        tname: str = tname) -> tuple[dict[str, float], list[str]]:
                    data, raw = study.helper(
                        scen, "aio-exit", f"{tname}-{mode}-n{n}-r{r}",
                        ["-m", mode, "-n", str(n), "-q", str(RING), "-r", "64k",
                         "-t", str(trials), "-w", str(watchdog), path],
                        timeout=trials * (watchdog + 5) + 10)
                    if data.get("hangs"):
                        raise PointHang(f"{data['hangs']} of {trials} children not reaped "
                                        f"within {watchdog:.0f} s")
                    if data.get("ok", 0) < trials:
                        errs = {t["error"] for t in data.get("trials", []) if t["error"]}
                        raise PointFailed(f"children failed: {', '.join(sorted(errs)) or '?'}")
                    sub = [float(t["submitted"]) for t in data["trials"]]
                    return {"reap_ns_p50": float(data["reap_ns"]["p50"]),
                            "reap_ns_max": float(data["reap_ns"]["max"]),
                            "reap_ns_mean": float(data["reap_ns"]["mean"]),
                            "submitted": mean(sub)}, [raw]
                scen.measure(tname, labels, one)
    study.crosscheck(scen, "reads in flight", None,
                     {"filename": str(fpath), "iodepth": str(RING),
                      "iodepth_batch_submit": str(RING), "size": f"{size >> 20}m",
                      "direct": "1" if sc.odirect else "0", "runtime": "1s"}, 0, device_bound=False,
                     why="the exit scenario measures reaping, not IOPS")
    fpath.unlink(missing_ok=True)
    chart(study, scen)
    print(table(scen), flush=True)
    return scen


def table(scen: Scenario) -> str:
    lines = ["| target | mode | requested | in flight | reaped after ms p50 | max | status |",
             "|---|---|---:|---:|---:|---:|---|"]
    for p in scen.points:
        s, lab = p["samples"], p["labels"]
        what = lab["mode"] if lab.get("context", True) else f"{lab['mode']} (no context)"
        if p["status"] == "ok":
            lines.append(f"| {p['target']} | {what} | {lab['requested']} | "
                         f"{mean(s['submitted']):.0f} | {mean(s['reap_ns_p50']) / 1e6:.1f} | "
                         f"{max(s['reap_ns_max']) / 1e6:.1f} | ok |")
        else:
            lines.append(f"| {p['target']} | {what} | {lab['requested']} | | | | "
                         f"{p['status']}: {p['reason']} |")
    return "\n".join(lines)


def chart(study: Study, scen: Scenario) -> None:
    series: list[tuple[str, list[list[Any]]]] = []
    for tname in dict.fromkeys(p["target"] for p in scen.points):
        for mode in ("exit", "kill"):
            rows = []
            for p in scen.ok_points(mode=mode):
                if p["target"] == tname and p["labels"].get("context", True):
                    s = p["samples"]
                    rows.append([mean(s["submitted"]), mean(s["reap_ns_p50"]) / 1e6,
                                 max(s["reap_ns_max"]) / 1e6])
            series.append((f"{tname}, {mode}", rows))
    right = max([row[0] for _, rows in series for row in rows] + [RING * 2])
    for mode in ("exit", "kill"):
        for p in scen.ok_points(mode=mode, context=False):
            v = mean(p["samples"]["reap_ns_p50"]) / 1e6
            series.append((f"no AIO context, {mode}", [[0, v, v], [right, v, v]]))
    scen.chart_series(series)
