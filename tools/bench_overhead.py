#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench-overhead: what aio-stress's own measuring costs.

In one invocation, interleaved round by round so that all three see the same
machine: aio-stress (per-call and per-iocb submit timing, completion latency,
CPU accounting all on), fio --ioengine=libaio, and aio-bare (a bare
io_submit/io_getevents loop with no timing), all writing 4 KiB at queue depth
32 in batches of 32 to /dev/null.  Prints IOPS per tool (median of the
rounds) and the ratios aio-stress/fio and aio-stress/bare; writes
overhead.json into the results store.  Goals: >= 1.4x fio, >= 0.8x bare.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import store  # noqa: E402

PROG = "bench-overhead"
GOAL_VS_FIO = 1.4
GOAL_VS_BARE = 0.8


def run_aio_stress(secs: float, target: str, out: Path) -> float:
    cmd = [str(store.BUILD / "aio-stress"), "-o", "0", "-r", "4k", "-d", "32", "-b", "32",
           "-i", "32", "-n", "--quiet", "--runtime", str(secs), "--json", str(out), target]
    subprocess.run(cmd, check=True, timeout=secs * 10 + 30)
    return float(store.load_json(out)["stages"][0]["iops"])


def run_fio(secs: float, target: str, out: Path) -> float:
    cmd = ["fio", "--name=overhead", f"--filename={target}", "--ioengine=libaio",
           "--rw=write", "--bs=4k", "--iodepth=32", "--iodepth_batch_submit=32",
           "--iodepth_batch_complete_min=32", "--time_based",
           f"--runtime={max(1, int(secs * 1000))}ms",
           "--size=1g", "--output-format=json", f"--output={out}"]
    subprocess.run(cmd, check=True, timeout=secs * 10 + 30, capture_output=True)
    text = out.read_text()
    # fio may print notes before its JSON document.
    return float(json.loads(text[text.find("{"):])["jobs"][0]["write"]["iops"])


def run_bare(secs: float, target: str, out: Path) -> float:
    cmd = [str(store.BUILD / "aio-bare"), "-r", "4096", "-d", "32", "-b", "32",
           "-t", str(secs), target]
    p = subprocess.run(cmd, check=True, timeout=secs * 10 + 30, capture_output=True, text=True)
    out.write_text(p.stdout)
    return float(json.loads(p.stdout)["iops"])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="per tool and round (default 3)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--target", default="/dev/null", help="default /dev/null")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.rounds < 1:
        print(f"{PROG}: --seconds must be > 0 and --rounds >= 1", file=sys.stderr)
        return 2
    for binary in ("aio-stress", "aio-bare"):
        if not (store.BUILD / binary).exists():
            print(f"{PROG}: {store.BUILD / binary} is not built (run make)", file=sys.stderr)
            return 1
    tools: dict[str, Any] = {"aio-stress": run_aio_stress, "bare": run_bare}
    if shutil.which("fio"):
        tools["fio"] = run_fio
    else:
        print(f"{PROG}: fio is not installed (apt-get install fio): the fio column is skipped")

    results = store.new_run_dir("overhead")
    samples: dict[str, list[float]] = {name: [] for name in tools}
    try:
        for rnd in range(args.rounds):
            for name, fn in tools.items():
                iops = fn(args.seconds, args.target, results / f"{name}-{rnd}.json")
                samples[name].append(iops)
                print(f"{PROG}: round {rnd + 1} {name:<10} {iops / 1e6:8.3f} M IOPS", flush=True)
    except subprocess.CalledProcessError as e:
        print(f"{PROG}: {' '.join(e.cmd)} failed with status {e.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130

    med = {k: statistics.median(v) for k, v in samples.items()}
    summary: dict[str, Any] = {
        "schema": "aio-suite-overhead/1",
        "workload": {"target": args.target, "record_bytes": 4096, "depth": 32, "batch": 32,
                     "seconds_per_run": args.seconds, "rounds": args.rounds},
        "iops_samples": samples,
        "iops_median": med,
    }
    print(f"\n{'tool':<12} {'median IOPS':>14}")
    for k, v in med.items():
        print(f"{k:<12} {v:>14,.0f}")
    vs_bare = med["aio-stress"] / med["bare"]
    summary["ratio_vs_bare"] = vs_bare
    print(f"\naio-stress / bare loop: {vs_bare:.2f}x (goal >= {GOAL_VS_BARE}x): "
          f"{'met' if vs_bare >= GOAL_VS_BARE else 'MISSED'}")
    if "fio" in med:
        vs_fio = med["aio-stress"] / med["fio"]
        summary["ratio_vs_fio"] = vs_fio
        print(f"aio-stress / fio libaio: {vs_fio:.2f}x (goal >= {GOAL_VS_FIO}x): "
              f"{'met' if vs_fio >= GOAL_VS_FIO else 'MISSED'}")
    store.write_json(results / "overhead.json", summary)
    print(f"{PROG}: results in {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
