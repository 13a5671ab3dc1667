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

  python3 -m aiosuite.bench.overhead [OPTIONS]   (tools/bench_overhead.py)
"""
from __future__ import annotations

from aiosuite import interrupt

interrupt.catch_signals()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from aiosuite import store  # noqa: E402
from aiosuite.features import probe  # noqa: E402
from aiosuite.cliparse import Parser  # noqa: E402

PROG = "bench-overhead"
GOAL_VS_FIO = 1.4
GOAL_VS_BARE = 0.8
MAX_SECONDS = 3600
MAX_ROUNDS = 1000


def run(cmd: list[str], secs: float) -> subprocess.CompletedProcess[str]:
    """Run a tool; it gets SIGINT when bench-overhead dies or is interrupted."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=interrupt.child_preexec())
    try:
        out, err = p.communicate(timeout=secs * 10 + 30)
    except BaseException:
        interrupt.stop_child(p, 5)
        raise
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, cmd, out, err)
    return subprocess.CompletedProcess(cmd, 0, out, err)


def run_aio_stress(secs: float, target: str, out: Path) -> float:
    cmd = [str(store.BUILD / "aio-stress"), "-o", "0", "-r", "4k", "-d", "32", "-b", "32",
           "-i", "32", "-n", "--quiet", "--runtime", str(secs), "--json", str(out), target]
    run(cmd, secs)
    return float(store.load_json(out)["stages"][0]["iops"])


def run_fio(secs: float, target: str, out: Path) -> float:
    cmd = ["fio", "--name=overhead", f"--filename={target}", "--ioengine=libaio",
           "--rw=write", "--bs=4k", "--iodepth=32", "--iodepth_batch_submit=32",
           "--iodepth_batch_complete_min=32", "--time_based",
           f"--runtime={max(1, int(secs * 1000))}ms",
           "--size=1g", "--output-format=json", f"--output={out}"]
    run(cmd, secs)
    text = out.read_text()
    # fio may print notes before its JSON document.
    return float(json.loads(text[text.find("{"):])["jobs"][0]["write"]["iops"])


def run_bare(secs: float, target: str, out: Path) -> float:
    cmd = [str(store.BUILD / "aio-bare"), "-r", "4096", "-d", "32", "-b", "32",
           "-t", str(secs), target]
    p = run(cmd, secs)
    out.write_text(p.stdout)
    return float(json.loads(p.stdout)["iops"])


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0,
                    help=f"per tool and round (default 3, at most {MAX_SECONDS})")
    ap.add_argument("--rounds", type=int, default=3,
                    help=f"interleaved rounds (default 3, at most {MAX_ROUNDS})")
    ap.add_argument("--target", default="/dev/null",
                    help="a character device (default /dev/null), or a file that does not "
                         "exist yet: made for the run and removed after it")
    args = ap.parse_args(argv)
    if not (math.isfinite(args.seconds) and 0 < args.seconds <= MAX_SECONDS):
        print(f"{PROG}: --seconds must be more than 0 and at most {MAX_SECONDS}, "
              f"not {args.seconds:g}", file=sys.stderr)
        return 2
    if not 1 <= args.rounds <= MAX_ROUNDS:
        print(f"{PROG}: --rounds must be 1 to {MAX_ROUNDS}, not {args.rounds}", file=sys.stderr)
        return 2
    target = Path(args.target)
    try:
        mode = os.stat(target).st_mode
        # Every tool writes the target: never an existing file or device.
        if not stat.S_ISCHR(mode):
            print(f"{PROG}: --target '{args.target}' exists and is not a character device "
                  "(the tools would write over it)", file=sys.stderr)
            return 2
        made = False
    except FileNotFoundError:
        if not target.parent.is_dir():
            print(f"{PROG}: --target '{args.target}' is in no existing directory",
                  file=sys.stderr)
            return 2
        made = True
    except OSError as e:
        print(f"{PROG}: --target '{args.target}': {e.strerror}", file=sys.stderr)
        return 2
    for binary in ("aio-stress", "aio-bare"):
        if not (store.BUILD / binary).exists():
            print(f"{PROG}: {store.not_built(store.BUILD / binary)}", file=sys.stderr)
            return 1
    missing = probe().aio
    if missing:
        # Every tool here measures native AIO: nothing to compare.
        print(f"{PROG}: skipped: {missing}")
        return 0
    tools: dict[str, Any] = {"aio-stress": run_aio_stress, "bare": run_bare}
    if shutil.which("fio"):
        tools["fio"] = run_fio
    else:
        print(f"{PROG}: fio is not installed (apt-get install fio): the fio column is skipped")

    samples: dict[str, list[float]] = {name: [] for name in tools}
    try:
        interrupt.arm()
        results = store.new_run_dir("overhead")
        for rnd in range(args.rounds):
            for name, fn in tools.items():
                iops = fn(args.seconds, args.target, results / f"{name}-{rnd}.json")
                samples[name].append(iops)
                print(f"{PROG}: round {rnd + 1} {name:<10} {iops / 1e6:8.3f} M IOPS", flush=True)
    except subprocess.CalledProcessError as e:
        last = (str(e.stderr or "").strip().splitlines() or [""])[-1]
        print(f"{PROG}: {' '.join(e.cmd)} failed with status {e.returncode}"
              + (f": {last}" if last else ""), file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"{PROG}: {' '.join(map(str, e.cmd))} gave no result in {e.timeout:.0f} s",
              file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, IndexError) as e:
        print(f"{PROG}: cannot read a result: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted by {interrupt.interrupted_by() or 'SIGINT'}", file=sys.stderr)
        return 130
    finally:
        if made:
            target.unlink(missing_ok=True)

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
