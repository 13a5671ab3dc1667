#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: the main job on the running kernel, into one run directory.

1. conform  aio-conform over every target variant (KTAP and JSON);
2. engines  aio-stress's four classic stages (write, read, random write,
            random read; 4 KiB, depth 32, batches of 32) with each engine --
            libaio, libaio reaping from the user ring, io_uring, sync -- on
            a scratch file (O_DIRECT where the filesystem allows it) and, as
            root, a loop device with direct I/O;
3. study    every scenario study (tools/study.py --repeat N --round I all);
   engines and study run --repeat times, in rounds: round I measures
   every point once, so a point's samples spread over the whole run;
   machine.json records the machine's own speed and CPU steal at every
   round (tools/machine.py), the control the report compares runs with;
4. report   tools/report.py: this run against every kernel and run in the
            store, with charts, into results/report/.

Everything goes to results/<host>/<kernel release>/<run id>/ with env.json
and summary.json.  Scratch files, loop devices and mounts are removed on
every exit path, also on Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine  # noqa: E402
import store  # noqa: E402
from study_core import run_child, stop_child  # noqa: E402
from study_targets import interrupt_on_signals, odirect_ok  # noqa: E402

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
        # run_child: Ctrl-C gives aio-stress the time to detach its loop device.
        p = run_child(cmd, timeout)
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


PARTS = ("conform", "engines", "study", "report")
CHILD_GRACE_S = 60  # for a part to clean up after SIGINT


def run_part(name: str, cmd: list[str], run_dir: Path, log: Path | None = None,
             timeout: float = 3600) -> dict[str, Any]:
    """Run one part with the shared run directory; its status for summary.json."""
    env = dict(os.environ, AIO_SUITE_RUN_DIR=str(run_dir))
    print(f"{PROG}: {name}: {' '.join(cmd)}", flush=True)
    out = open(log, "w") if log else None
    try:
        p = subprocess.Popen(cmd, env=env, stdout=out)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_child(p, CHILD_GRACE_S)
            rc = -1
        except KeyboardInterrupt:
            # The part removes its loop devices and mounts on SIGINT; give
            # it the time to, instead of killing it as subprocess.run does.
            stop_child(p, CHILD_GRACE_S)
            raise
    finally:
        if out:
            out.close()
    status = {0: "ok", -1: "timeout"}.get(rc, "failed")
    print(f"{PROG}: {name}: {status}" + (f" (exit status {rc})" if rc > 0 else ""), flush=True)
    return {"part": name, "cmd": cmd, "status": status, "exit_status": rc}


def stop_if_interrupted(part: dict[str, Any]) -> None:
    """A part that ended on SIGINT (exit status 130, the tools' own answer
    to Ctrl-C) stops the run, as Ctrl-C on bench itself does: no later
    round or part runs."""
    if part["exit_status"] == 130:
        raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"comma-separated parts to run, default all: {','.join(PARTS)}")
    ap.add_argument("--repeat", type=int, default=3,
                    help="samples per point, measured in as many rounds over the whole run "
                         "(the report needs 3 to call a change significant)")
    ap.add_argument("--quick", action="store_true", help="small sizes and short runs")
    ap.add_argument("--scratch", help="directory for the scratch files (default: a new one under the checkout)")
    ap.add_argument("--size", default="128m", help="file size per engine run (aio-stress -s), default 128m")
    ap.add_argument("--engines", default=",".join(e for e, _ in ENGINES),
                    help="comma-separated engines, default all")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per aio-stress run")
    args = ap.parse_args(argv)
    parts = args.parts.split(",")
    bad = [p for p in parts if p not in PARTS]
    if bad:
        print(f"{PROG}: unknown part '{bad[0]}' (known: {', '.join(PARTS)})", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print(f"{PROG}: bad value for --repeat: '{args.repeat}' (1 or more)", file=sys.stderr)
        return 2
    if args.quick and args.size == "128m":
        args.size = "16m"

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
    # SIGINT (also when a script started bench with it ignored), SIGTERM
    # and SIGHUP end the run through the finally below.
    interrupt_on_signals()

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
    done: list[dict[str, Any]] = []
    status = 0
    py = sys.executable or "python3"
    tools = Path(__file__).resolve().parent
    try:
        if "conform" in parts:
            conform = store.BUILD / "aio-conform"
            r = run_part("conform", [str(conform), "--json", str(results / "conform.json"),
                                     "-d", str(scratch)],
                         results, log=results / "conform.ktap", timeout=1800)
            done.append(r)
            status |= r["status"] != "ok"
            stop_if_interrupted(r)
        # The repeats are rounds: round r measures every engine and every
        # study point once before round r + 1 starts, so that the samples
        # of a point spread over the whole run and a drift of the machine
        # shows as spread, not as a difference between points or runs.
        for rep in range(args.repeat):
            if not ({"engines", "study"} & set(parts)):
                break
            machine.record(results, f"bench round {rep + 1} start")
            if "engines" in parts:
                for tname, targs, path in targets:
                    for ename, eargs in ENGINES:
                        if ename not in wanted:
                            continue
                        out = results / f"aio-stress-{tname}-{ename}-r{rep}.json"
                        cmd = ["-s", args.size, "-r", "4k", "-d", "32", "-b", "32", "-i", "32",
                               "--quiet", *targs, *eargs, path]
                        print(f"{PROG}: engines, round {rep + 1}: {tname} {ename}: "
                              f"aio-stress {' '.join(cmd)}", flush=True)
                        r = run_one(aio_stress, cmd, out, args.timeout)
                        r.update(target=tname, engine=ename, repeat=rep)
                        rows.append(r)
                        if r["status"] in ("failed", "timeout"):
                            status = 1
                        Path(path).unlink(missing_ok=True)
                if rep == 0:
                    table([r for r in rows if r.get("repeat") == 0], results)
            if "study" in parts:
                cmd = [py, str(tools / "study.py"), "--repeat", str(args.repeat),
                       "--round", str(rep + 1), "--scratch", str(scratch)]
                r = run_part(f"study round {rep + 1}",
                             cmd + (["--quick"] if args.quick else []) + ["all"], results)
                done.append(r)
                status |= r["status"] != "ok"
                stop_if_interrupted(r)
        if {"engines", "study"} & set(parts):
            machine.record(results, "bench end")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; partial results in {results}", file=sys.stderr)
        status = 130
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        store.write_json(results / "summary.json",
                         {"schema": "aio-suite-bench/1", "notes": notes, "parts": done,
                          "engine_runs": rows})
    if "report" in parts and status != 130:
        r = run_part("report", [py, str(tools / "report.py"), "compare"], results)
        done.append(r)
        status |= r["status"] != "ok"
        store.write_json(results / "summary.json",
                         {"schema": "aio-suite-bench/1", "notes": notes, "parts": done,
                          "engine_runs": rows})
    print(f"{PROG}: results in {results}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
