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
   engines and study run --repeat times (default 4, 3 with --quick), in
   rounds: round I measures every point once, so a point's samples
   spread over the whole run; each sample is --sample-scale (default
   0.5) of a scenario's own run time or I/O amount: more, shorter samples
   in about the same time (a full run about 10 minutes on a 2-CPU VM);
   --repeat auto adds rounds until every point's detectable change is at
   most --target-pct (default 5) or the next round would end past
   --budget-s (default 3600) from the start, and records what was
   reached, point by point, and why it stopped in summary.json ("auto");
   machine.json records the machine's own speed and CPU steal at every
   round (aiosuite/machine.py), the control the report compares runs with;
4. report   tools/report.py: this run against every kernel and run in the
            store, with charts, into results/report/.

Everything goes to results/<host>/<kernel release>/<run id>/ (--results DIR
or AIO_SUITE_RESULTS moves results/; installed, it is
~/.local/share/aio-suite/results) with env.json and summary.json, which says "complete": false until the measurements
have all run and names the signal that interrupted the run.  An engine
the kernel lacks (native AIO, io_uring: probed once) is skipped with the
reason.  Scratch files, loop devices and mounts are removed on every exit
path, also on Ctrl-C and SIGTERM (exit status 130); what a killed run
left (docs/SCRATCH.md) is removed at the next start, which says so.
"""
from __future__ import annotations

from aiosuite import interrupt

# First: a signal while bench is still starting ends it the same way.
interrupt.catch_signals()

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from aiosuite import control, fio_clients, machine, scratch, store  # noqa: E402
from aiosuite.report import collect, normalize  # noqa: E402
from aiosuite.features import probe  # noqa: E402
from aiosuite.schemas import AioStressDoc  # noqa: E402
from aiosuite.study import auto  # noqa: E402
from aiosuite.study.core import SAMPLE_SCALE, SKIP_STATUS, run_child  # noqa: E402
from aiosuite.study.targets import odirect_ok  # noqa: E402
from aiosuite.cliparse import Parser  # noqa: E402

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
    try:
        data = store.load_json(out) if out.exists() else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        data = None
    last = (p.stderr.strip().splitlines() or [""])[-1]
    if p.returncode == 0 and data:
        res["status"] = "ok"
    elif p.returncode == SKIP_STATUS or (data and data.get("result") == "failed"
                                         and not data.get("stages")):
        # 77: aio-stress cannot run here (a missing kernel feature), or
        # nothing ran for a reason the target gives.
        res["status"] = "skipped"
        res["reason"] = (data or {}).get("reason") or last or "exit status 77"
    else:
        res["status"] = "failed"
        res["reason"] = last or f"exit status {p.returncode}"
    return res


def table(rows: list[dict[str, Any]], results: Path) -> None:
    print(f"{'target':<10} {'engine':<17} {'stage':<13} {'IOPS':>10} {'MB/s':>9} "
          f"{'submit ns/iocb p50':>18} {'p99':>8} {'inline':>7} {'clat p99 us':>11}")
    for r in rows:
        if r["status"] != "ok":
            print(f"{r['target']:<10} {r['engine']:<17} {r['status']}: {r.get('reason', '')}")
            continue
        data: AioStressDoc = store.load_json(results / r["json"])
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
    """Run one part with the shared run directory; its status for summary.json.
    Exit status 77 is a skip (the part said why on stderr, which it shares
    with bench: a pipe would kill it with SIGPIPE, mid-clean-up, were bench
    killed)."""
    env = dict(os.environ, AIO_SUITE_RUN_DIR=str(run_dir))
    print(f"{PROG}: {name}: {' '.join(cmd)}", flush=True)
    out = open(log, "w") if log else None
    try:
        p = subprocess.Popen(cmd, env=env, stdout=out, preexec_fn=interrupt.child_preexec())
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            interrupt.stop_child(p, CHILD_GRACE_S)
            rc = -1
        except KeyboardInterrupt:
            # The part removes its loop devices and mounts on SIGINT; give
            # it the time to, instead of killing it as subprocess.run does.
            interrupt.stop_child(p, CHILD_GRACE_S)
            raise
    finally:
        if out:
            out.close()
    status = {0: "ok", -1: "timeout", SKIP_STATUS: "skipped"}.get(rc, "failed")
    res: dict[str, Any] = {"part": name, "cmd": cmd, "status": status, "exit_status": rc}
    if status == "skipped":
        res["reason"] = "the part cannot run on this machine (exit status 77; its reason is above)"
    print(f"{PROG}: {name}: {status}" + (f" (exit status {rc})" if rc > 0 else ""), flush=True)
    return res


def stop_if_interrupted(part: dict[str, Any]) -> None:
    """A part that ended on SIGINT (exit status 130, the tools' own answer
    to Ctrl-C) stops the run, as Ctrl-C on bench itself does: no later
    round or part runs."""
    if part["exit_status"] == 130:
        interrupt.note("SIGINT")
        raise KeyboardInterrupt


MAX_REPEAT = 1000
# More, shorter samples (study --sample-scale, half-size engine runs) in
# the time three long ones took (docs/REPORT.md, "Rounds and samples").
DEFAULT_REPEAT = 4
DEFAULT_REPEAT_QUICK = 3
DEFAULT_SIZE = "64m"
DEFAULT_SIZE_QUICK = "8m"
MAX_TIMEOUT_S = 86400
SCHEMA = "aio-suite-bench/1"
SIZE_RE = re.compile(r"^([0-9]+)(?:([bkmgt])(?:i?b)?)?$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """aio-stress's -s: a number of MiB, or with a suffix b, k, m, g, t."""
    m = SIZE_RE.match(text)
    if not m:
        return None
    unit = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    return int(m.group(1)) * unit[(m.group(2) or "m").lower()]


def check_args(args: argparse.Namespace) -> str:
    """The first problem with the options, as the rest of a one-line
    error, or ""; checked before anything runs."""
    if args.results == "":
        return "--results needs a directory, not ''"
    parts = args.parts.split(",")
    bad = [p for p in parts if p not in PARTS]
    if bad:
        return f"unknown part '{bad[0]}' (known: {', '.join(PARTS)})"
    if auto.parse_repeat(args.repeat, MAX_REPEAT) is None:
        return f"bad value for --repeat: '{args.repeat}' (1 to {MAX_REPEAT}, or auto)"
    why = auto.check_options(args.target_pct, args.budget_s)
    if why:
        return why
    if not (math.isfinite(args.sample_scale) and 0.05 <= args.sample_scale <= 4):
        return f"bad value for --sample-scale: '{args.sample_scale:g}' (0.05 to 4)"
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT_S):
        return f"bad value for --timeout: '{args.timeout:g}' (seconds, more than 0, " \
               f"at most {MAX_TIMEOUT_S})"
    size = parse_size(args.size)
    if size is None:
        return f"bad value for --size: '{args.size}' (a size like 128m, 4g)"
    if size < 4096:
        return f"bad value for --size: '{args.size}' (at least 4k, the record size)"
    unknown = [e for e in args.engines.split(",") if e not in dict(ENGINES)]
    if unknown:
        return f"unknown engine '{unknown[0]}' (known: {', '.join(dict(ENGINES))})"
    parent = Path(args.scratch) if args.scratch else store.default_scratch()
    why = scratch.parent_problem(parent)
    if why:
        return f"scratch directory '{parent}' {why}"
    if args.fio_clients:
        try:
            fio_clients.read_hostlist(Path(args.fio_clients))
        except fio_clients.HostListError as e:
            return str(e)
    if "engines" in parts:
        st = os.statvfs(parent)
        free = st.f_bavail * st.f_frsize
        if size > free:
            return (f"--size {args.size} is more than the {free >> 20} MiB free "
                    f"in {parent}")
    return ""


def run_points(results: Path) -> tuple[list[auto.Sampled], control.Factors]:
    """The run's points so far as the report reads them (the studies' and
    the engine runs'), and its probes' factors: what --repeat auto judges."""
    run = collect.load_run(results, "", "")
    pts = [auto.Sampled(p.source, p.target, p.labels, p.samples,
                        {m: (d.unit, d.better) for m, d in p.metrics.items()}, p.control)
           for p in run.points.values() if p.status == "ok"]
    return pts, normalize.run_factors(run, normalize.references([run]))


def write_summary(results: Path, summ: dict[str, Any]) -> None:
    try:
        store.write_json(results / "summary.json", summ)
    except OSError as e:
        print(f"{PROG}: cannot write {results / 'summary.json'}: {e.strerror}",
              file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"comma-separated parts to run, default all: {','.join(PARTS)}")
    ap.add_argument("--repeat", metavar="N|auto",
                    help=f"samples per point, measured in as many rounds over the whole run "
                         f"(default {DEFAULT_REPEAT}, {DEFAULT_REPEAT_QUICK} with --quick; the "
                         f"report needs 3 to call a change significant; 1 to {MAX_REPEAT}); "
                         "auto: rounds until every point's detectable change is at most "
                         "--target-pct or --budget-s is spent")
    auto.add_options(ap)
    ap.add_argument("--sample-scale", type=float, default=SAMPLE_SCALE, metavar="F",
                    help="a study sample's run time or I/O amount against the scenario's own "
                         f"(default {SAMPLE_SCALE:g}; 0.05 to 4)")
    ap.add_argument("--quick", action="store_true", help="small sizes and short runs")
    ap.add_argument("--scratch", help="directory for the scratch files (default: a new one under "
                    "the checkout, or installed under ~/.local/share/aio-suite)")
    ap.add_argument("--results", metavar="DIR",
                    help="the results store: the run directory goes to "
                         "DIR/<host>/<release>/<run id>/, the report to DIR/report/ (default: "
                         "$AIO_SUITE_RESULTS, else results/ in the checkout, or installed "
                         "~/.local/share/aio-suite/results)")
    ap.add_argument("--size", default=DEFAULT_SIZE,
                    help=f"file size per engine run (aio-stress -s), default {DEFAULT_SIZE} "
                         f"({DEFAULT_SIZE_QUICK} with --quick)")
    ap.add_argument("--engines", default=",".join(e for e, _ in ENGINES),
                    help="comma-separated engines, default all")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per aio-stress run")
    ap.add_argument("--fio-clients", metavar="FILE", default=os.environ.get("FIO_CLIENTS") or None,
                    help="the studies run their fio parts on the hosts of FILE, fio's host list, "
                         "through fio's client mode (tools/study.py --fio-clients; default: "
                         "$FIO_CLIENTS)")
    ap.add_argument("--conform-test", metavar="PATTERN", action="append", default=[],
                    help="the conform part runs only the aio-conform tests matching PATTERN "
                         "(aio-conform -t; repeatable; default all)")
    args = ap.parse_args(argv)
    if args.quick and args.size == DEFAULT_SIZE:
        args.size = DEFAULT_SIZE_QUICK
    if args.repeat is None:
        args.repeat = str(DEFAULT_REPEAT_QUICK if args.quick else DEFAULT_REPEAT)
    problem = check_args(args)
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 2
    repeat = auto.parse_repeat(args.repeat, MAX_REPEAT) or 0  # 0: auto
    # auto: rounds until the target or the budget, from bench's start
    autorun = auto.Auto(args.target_pct, args.budget_s, MAX_REPEAT) if not repeat else None
    if args.results:
        # For this process's store and the study and report it runs.
        os.environ["AIO_SUITE_RESULTS"] = os.path.abspath(args.results)
    parts = args.parts.split(",")
    wanted = args.engines.split(",")
    parent = Path(args.scratch) if args.scratch else store.default_scratch()
    aio_stress = store.BUILD / "aio-stress"
    if not aio_stress.exists():
        print(f"{PROG}: {store.not_built(aio_stress)}", file=sys.stderr)
        return 1

    rows: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    notes: list[str] = []
    summ: dict[str, Any] = {"schema": SCHEMA, "complete": False, "interrupted": None,
                            "repeat": repeat or "auto", "sample_scale": args.sample_scale,
                            "notes": notes, "parts": done, "engine_runs": rows,
                            "unavailable": {}}
    status = 0
    # The study and the report run as their documented commands (the
    # checkout's tools/NAME.py, or the installed aio-NAME): each puts this
    # package first on its path, wherever bench started (python3 -m would
    # take the package of the current directory).
    results: Path | None = None
    work: Path | None = None
    try:
        interrupt.arm()
        # What killed runs left in the scratch parent (and their mounts
        # and loop devices anywhere) goes first.
        scratch.sweep([parent], PROG)
        try:
            results = store.new_run_dir("bench")
            write_summary(results, summ)  # at once: killed from here on is incomplete
            store.write_json(results / "env.json", store.environment())
            work = scratch.make_dir(parent, "aio-bench-" if args.scratch else ".scratch-bench-",
                                    PROG)
        except OSError as e:
            print(f"{PROG}: cannot start: {e.strerror or e}: "
                  f"{getattr(e, 'filename', '') or ''}", file=sys.stderr)
            return 1
        features = probe()
        for what, reason in (("native AIO", features.aio), ("io_uring", features.io_uring)):
            if reason:
                summ["unavailable"][what] = reason
                print(f"{PROG}: {reason}: what needs {what} is skipped", flush=True)
        direct = odirect_ok(work)
        targets: list[tuple[str, list[str], str]] = [
            ("file", ["-O"] if direct else [], str(work / "bench.dat")),
        ]
        if not direct:
            notes.append(f"O_DIRECT refused in {work}: the file runs are buffered")
        if os.geteuid() == 0 and Path("/dev/loop-control").exists():
            targets.append(("loop-dio", ["-O", "--loop", "dio"], str(work / "loop.img")))
        else:
            notes.append("loop-device target skipped: needs root and /dev/loop-control")
        for n in notes:
            print(f"{PROG}: {n}")
        complete = True
        if "conform" in parts:
            conform = store.BUILD / "aio-conform"
            only = [a for p in args.conform_test for a in ("-t", p)]
            r = run_part("conform", [str(conform), "--json", str(results / "conform.json"),
                                     "-d", str(work), *only],
                         results, log=results / "conform.ktap", timeout=1800)
            done.append(r)
            status |= r["status"] not in ("ok", "skipped")
            complete &= r["status"] != "timeout"
            stop_if_interrupted(r)
        # The repeats are rounds: round r measures every engine and every
        # study point once before round r + 1 starts, so that the samples
        # of a point spread over the whole run and a drift of the machine
        # shows as spread, not as a difference between points or runs.
        for rep in range(repeat or MAX_REPEAT):
            if not ({"engines", "study"} & set(parts)):
                break
            t_round = time.monotonic()
            machine.record(results, f"bench round {rep + 1} start", rep + 1)
            if "engines" in parts:
                for tname, targs, path in targets:
                    for ename, eargs in ENGINES:
                        if ename not in wanted:
                            continue
                        out = results / f"aio-stress-{tname}-{ename}-r{rep}.json"
                        cmd = ["-s", args.size, "-r", "4k", "-d", "32", "-b", "32", "-i", "32",
                               "--quiet", *targs, *eargs, path]
                        missing = features.engine(ename.split("-")[0])
                        if missing:
                            r = {"cmd": [str(aio_stress), *cmd], "status": "skipped",
                                 "reason": missing}
                        else:
                            print(f"{PROG}: engines, round {rep + 1}: {tname} {ename}: "
                                  f"aio-stress {' '.join(cmd)}", flush=True)
                            r = run_one(aio_stress, cmd, out, args.timeout)
                        r.update(target=tname, engine=ename, repeat=rep)
                        rows.append(r)
                        if r["status"] in ("failed", "timeout"):
                            status = 1
                        complete &= r["status"] != "timeout"
                        Path(path).unlink(missing_ok=True)
                if rep == 0:
                    table([r for r in rows if r.get("repeat") == 0], results)
            if "study" in parts:
                # auto: the study's cross-checks spread their turns over
                # the first rounds, as with --repeat 3.
                cmd = [*store.tool_command("study"),
                       "--repeat", str(repeat or max(auto.MIN_ROUNDS, rep + 1)),
                       "--round", str(rep + 1), "--scratch", str(work),
                       "--sample-scale", f"{args.sample_scale:g}"]
                if args.fio_clients:
                    cmd += ["--fio-clients", str(Path(args.fio_clients).resolve())]
                r = run_part(f"study round {rep + 1}",
                             cmd + (["--quick"] if args.quick else []) + ["all"], results)
                done.append(r)
                status |= r["status"] not in ("ok", "skipped")
                complete &= r["status"] != "timeout"
                stop_if_interrupted(r)
            if autorun is not None:
                stop = autorun.done_round(*run_points(results), time.monotonic() - t_round)
                summ["auto"] = autorun.summary()
                write_summary(results, summ)
                print(f"{PROG}: auto: {autorun.line()}", flush=True)
                if stop:
                    break
        if {"engines", "study"} & set(parts):
            machine.record(results, "bench end")
        # The measurements are complete: the report, next, takes this run in.
        summ["complete"] = complete
        write_summary(results, summ)
        if "report" in parts:
            r = run_part("report", [*store.tool_command("report"), "compare"],
                         results)
            done.append(r)
            status |= r["status"] not in ("ok", "skipped")
            stop_if_interrupted(r)
    except KeyboardInterrupt:
        if autorun is not None:
            autorun.stopped = "interrupted"
            summ["auto"] = autorun.summary()
        print(f"{PROG}: interrupted by {interrupt.interrupted_by() or 'SIGINT'}"
              + (f"; partial results in {results}" if results else ""), file=sys.stderr)
        status = 130
    finally:
        if work is not None:
            scratch.remove_dir(work)
        if results is not None:
            summ["interrupted"] = interrupt.interrupted_by()
            if summ["interrupted"]:
                summ["complete"] = False
            summ["exit_status"] = status
            write_summary(results, summ)
    if results is not None:
        print(f"{PROG}: results in {results}")
    return status

