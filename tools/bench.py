#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: aio-stress's four classic stages with every engine.

Runs write, read, random write and random read (4 KiB records, depth 32,
batches of 32) with each engine -- libaio, libaio reaping from the user ring,
io_uring, sync -- on the scratch target: a file in a scratch directory
(O_DIRECT where the filesystem allows it) and, when root, a loop device with
direct I/O over a scratch file.  Each run's JSON goes to
results/<host>/<kernel release>/<run id>/, with env.json and summary.json,
and a table of the figures is printed.  Scratch files and loop devices are
removed on every exit path, also on Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import store  # noqa: E402
from study_targets import odirect_ok  # noqa: E402

PROG = "bench"
ENGINES: list[tuple[str, list[str]]] = [
    ("libaio", ["--engine", "libaio"]),
    ("libaio-user-reap", ["--engine", "libaio", "--user-reap"]),
    ("io_uring", ["--engine", "io_uring"]),
    ("sync", ["--engine", "sync"]),
]


def run_one(aio_stress: Path, args: list[str], out: Path, timeout: float) -> dict[str, Any]:
    cmd = [str(aio_stress), *args, "--json", str(out)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"cmd": cmd, "status": "timeout", "reason": f"no result after {timeout:.0f} s"}
    res: dict[str, Any] = {"cmd": cmd, "exit_status": p.returncode, "json": out.name}
    data = store.load_json(out) if out.exists() else None
    if p.returncode == 0 and data:
        res["status"] = "ok"
    elif data and data.get("result") == "failed" and not data.get("stages"):
        res["status"] = "skipped"
        res["reason"] = data.get("reason", "")
    else:
        res["status"] = "failed"
        res["reason"] = (p.stderr.strip().splitlines() or [""])[-1]
    return res


def table(rows: list[dict[str, Any]], results: Path) -> None:
    print(f"{'target':<10} {'engine':<17} {'stage':<13} {'IOPS':>10} {'MB/s':>9} "
          f"{'submit ns/iocb p50':>18} {'p99':>8} {'inline':>7} {'clat p99 us':>11}")
    for r in rows:
        if r["status"] != "ok":
            print(f"{r['target']:<10} {r['engine']:<17} {r['status']}: {r.get('reason', '')}")
            continue
        data = store.load_json(results / r["json"])
        for st in data["stages"]:
            sub = st["submit"]
            print(f"{r['target']:<10} {r['engine']:<17} {st['name']:<13} {st['iops']:>10.0f} "
                  f"{st['bytes_per_s'] / 1e6:>9.1f} {sub['per_iocb_ns']['p50']:>18} "
                  f"{sub['per_iocb_ns']['p99']:>8} {sub['inline_ratio']:>7.2f} "
                  f"{st['completion_latency_ns']['p99'] / 1e3:>11.1f}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--scratch", help="directory for the scratch files (default: a new one under the checkout)")
    ap.add_argument("--size", default="128m", help="file size per run (aio-stress -s), default 128m")
    ap.add_argument("--engines", default=",".join(e for e, _ in ENGINES),
                    help="comma-separated engines, default all")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per run")
    args = ap.parse_args(argv)

    aio_stress = store.BUILD / "aio-stress"
    if not aio_stress.exists():
        print(f"{PROG}: {aio_stress} is not built (run make)", file=sys.stderr)
        return 1
    wanted = args.engines.split(",")
    unknown = [e for e in wanted if e not in dict(ENGINES)]
    if unknown:
        print(f"{PROG}: unknown engine '{unknown[0]}' (known: {', '.join(dict(ENGINES))})", file=sys.stderr)
        return 2

    if args.scratch:
        base = Path(args.scratch)
        if not base.is_dir():
            print(f"{PROG}: scratch directory '{base}' does not exist", file=sys.stderr)
            return 2
        scratch = Path(tempfile.mkdtemp(prefix="aio-bench-", dir=base))
    else:
        scratch = Path(tempfile.mkdtemp(prefix=".scratch-bench-", dir=store.TOP))
    # SIGTERM and SIGHUP end the run like Ctrl-C, through the finally below.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))

    results = store.new_run_dir("bench")
    store.write_json(results / "env.json", store.environment())
    direct = odirect_ok(scratch)
    targets: list[tuple[str, list[str], str]] = [
        ("file", ["-O"] if direct else [], str(scratch / "bench.dat")),
    ]
    notes: list[str] = []
    if not direct:
        notes.append(f"O_DIRECT refused in {scratch}: the file runs are buffered")
    if os.geteuid() == 0 and Path("/dev/loop-control").exists():
        targets.append(("loop-dio", ["-O", "--loop", "dio"], str(scratch / "loop.img")))
    else:
        notes.append("loop-device target skipped: needs root and /dev/loop-control")
    for n in notes:
        print(f"{PROG}: {n}")

    rows: list[dict[str, Any]] = []
    status = 0
    try:
        for tname, targs, path in targets:
            for ename, eargs in ENGINES:
                if ename not in wanted:
                    continue
                out = results / f"aio-stress-{tname}-{ename}.json"
                cmd = ["-s", args.size, "-r", "4k", "-d", "32", "-b", "32", "-i", "32",
                       "--quiet", *targs, *eargs, path]
                print(f"{PROG}: {tname} {ename}: aio-stress {' '.join(cmd)}", flush=True)
                r = run_one(aio_stress, cmd, out, args.timeout)
                r.update(target=tname, engine=ename)
                rows.append(r)
                if r["status"] in ("failed", "timeout"):
                    status = 1
                Path(path).unlink(missing_ok=True)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; partial results in {results}", file=sys.stderr)
        status = 130
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    store.write_json(results / "summary.json",
                     {"schema": "aio-suite-bench/1", "notes": notes, "runs": rows})
    table(rows, results)
    print(f"{PROG}: results in {results}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
