# SPDX-License-Identifier: GPL-2.0
"""calibrate: measure what this machine can detect, with A/A pairs and with slowdowns the kernel imposes.

  python3 -m aiosuite.calibrate [--quick] [--trials N] [--rounds N] [--runtime S]
                                [--sets cpu,device] [--results DIR] [--scratch DIR]

A short subset of the batching study runs as trials (aiosuite/calibrate/
measure.py): in each, its CPU-bound points (/dev/null) run unthrottled
three times (a base run and two A/A runs) and under a CPU quota of the cpu
cgroup giving 10% and 20% less CPU than they got in an unthrottled
reference sample right before each throttled one; its device-bound points
(a loop device with direct I/O) run unthrottled three times and with the
loop device's read IOPS limited to 90% and 80% of the reference's.  Only the measured
program is in the cgroup; the machine probe is not.  Each run is compared
with the trial's base run by the report's own rules (analyse.py), and the
false alarms of the A/A pairs and the detection rate of each slowdown, at
point and at composite level, go to results/calibrate/<run id>/:
calibrate.json (aio-suite-calibrate/1), calibrate.md and calibrate.png/.svg,
with every run directory under runs/.

Needs root, the cpu controller (cgroup v1 cpu.cfs_quota_us or v2 cpu.max)
for the CPU-bound set and the block I/O controller (v1
blkio.throttle.read_iops_device or v2 io.max) and loop devices for the
device-bound set; a set whose needs are missing is skipped with the
reason, and with neither the run ends with status 77 saying what is
missing.  Its cgroups (aio-suite-calibrate-<pid>-<start>) and loop device
are removed on every exit path, also on SIGINT, SIGTERM and SIGHUP (status
130); those a killed run left are removed at the next start.
"""
from __future__ import annotations

from aiosuite import interrupt

interrupt.catch_signals()

import argparse  # noqa: E402
import datetime  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from aiosuite import schemas, scratch, store  # noqa: E402
from aiosuite.calibrate import analyse, cgroups  # noqa: E402
from aiosuite.calibrate.measure import (DEVICE_RUNTIME_FACTOR, SETS, Measurer,  # noqa: E402
                                        Params)
from aiosuite.features import probe  # noqa: E402
from aiosuite.study.targets import Cleanup, Targets  # noqa: E402
from aiosuite.cliparse import Parser  # noqa: E402

PROG = "calibrate"
SKIP_STATUS = 77
FULL = {"trials": 5, "rounds": 5, "runtime": 0.2, "device_bytes": 256 << 20}
QUICK = {"trials": 1, "rounds": 3, "runtime": 0.1, "device_bytes": 32 << 20}
MAX_TRIALS = 100
MAX_ROUNDS = 50


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(argv: list[str]) -> argparse.Namespace:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"the short mode: {QUICK['trials']} trial of {QUICK['rounds']} rounds, "
                         f"samples of {QUICK['runtime']} s (what the tests use; about a minute)")
    ap.add_argument("--trials", metavar="N",
                    help=f"trials, each two A/A pairs and both slowdowns of every set (default "
                         f"{FULL['trials']}; 1 to {MAX_TRIALS})")
    ap.add_argument("--rounds", metavar="N",
                    help=f"samples of every point in every run (default {FULL['rounds']}; "
                         f"3 to {MAX_ROUNDS})")
    ap.add_argument("--runtime", metavar="SECONDS",
                    help=f"seconds of a CPU-bound sample; a device-bound one takes "
                         f"{DEVICE_RUNTIME_FACTOR} times as long (default {FULL['runtime']}; "
                         "0.05 to 10)")
    ap.add_argument("--sets", default="cpu,device", metavar="LIST",
                    help="the sets of points to calibrate, comma-separated: cpu (CPU-bound, "
                         "under a CPU quota), device (device-bound, under an IOPS limit)")
    ap.add_argument("--results", metavar="DIR",
                    help="the results store (default: $AIO_SUITE_RESULTS, else results/ in "
                         "the checkout); the run goes to DIR/calibrate/<run id>/")
    ap.add_argument("--analyse", metavar="DIR",
                    help="measure nothing: judge the runs of the calibration in DIR (a "
                         "results/calibrate/<run id>/ directory) again with this report's "
                         "rules, and rewrite its calibrate.json, table and chart")
    ap.add_argument("--history", action="store_true",
                    help="judge each run as CI judges a new kernel's run against its store: "
                         "the trial's base run and the unthrottled runs of the earlier trials "
                         "are the old kernel's runs (aio-report --by kernel), so that their "
                         "between-run variance and drift enter the test (default: run against "
                         "run, one a side, no history); with --analyse, judge again so")
    ap.add_argument("--scratch", metavar="DIR",
                    help="directory for the loop device's backing file (default: the checkout)")
    return ap.parse_args(argv)


def number(args: argparse.Namespace, name: str, lo: float, hi: float, default: float,
           integer: bool) -> float:
    raw = getattr(args, name)
    if raw is None:
        return default
    try:
        v = int(raw) if integer else float(raw)
    except ValueError:
        v = None
    if v is None or not lo <= v <= hi or v != v:
        what = "a whole number" if integer else "a number"
        print(f"{PROG}: --{name} must be {what} from {lo:g} to {hi:g}, not '{raw}'",
              file=sys.stderr)
        sys.exit(2)
    return v


def needs(sets: list[str], lay: cgroups.Layout) -> dict[str, str]:
    """set -> why it cannot run here ("" when it can)."""
    why = {}
    for s in sets:
        if s == "cpu":
            why[s] = lay.cpu_missing if lay.cpu is None else ""
        else:
            reasons = []
            if lay.io is None:
                reasons.append(lay.io_missing)
            if not Path("/dev/loop-control").exists():
                reasons.append("no /dev/loop-control (loop driver missing)")
            why[s] = "; ".join(reasons)
    return why


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.analyse is not None:
        return reanalyse(Path(args.analyse).resolve(), args.history)
    d = QUICK if args.quick else FULL
    trials = int(number(args, "trials", 1, MAX_TRIALS, d["trials"], True))
    rounds = int(number(args, "rounds", 3, MAX_ROUNDS, d["rounds"], True))
    runtime = number(args, "runtime", 0.05, 10, d["runtime"], False)
    sets = [s for s in args.sets.split(",") if s]
    bad = [s for s in sets if s not in SETS]
    if bad or not sets:
        print(f"{PROG}: --sets takes cpu, device or both, not '{args.sets}'", file=sys.stderr)
        return 2
    sets = [s for s in SETS if s in sets]
    if args.results is not None:
        if not args.results:
            print(f"{PROG}: --results needs a directory, not ''", file=sys.stderr)
            return 2
        os.environ["AIO_SUITE_RESULTS"] = os.path.abspath(args.results)
    if os.geteuid() != 0:
        print(f"{PROG}: skipped: needs root (it makes cgroups and a loop device)",
              file=sys.stderr)
        return SKIP_STATUS
    parent = Path(args.scratch) if args.scratch else store.default_scratch()
    why = scratch.parent_problem(parent)
    if why:
        print(f"{PROG}: scratch directory '{parent}' {why}", file=sys.stderr)
        return 2
    for prog in ("aio-stress", "aio-machine"):
        if not (store.BUILD / prog).exists():
            print(f"{PROG}: {store.not_built(store.BUILD / prog)}", file=sys.stderr)
            return 1
    lay = cgroups.detect()
    missing = needs(sets, lay)
    if all(missing[s] for s in sets):
        print(f"{PROG}: skipped: {'; '.join(dict.fromkeys(missing[s] for s in sets))}",
              file=sys.stderr)
        return SKIP_STATUS
    run_sets = [s for s in sets if not missing[s]]
    params = Params(trials, rounds, runtime, run_sets, args.quick,
                    int(d["device_bytes"]), args.history)
    return calibrate(params, parent, lay, {s: missing[s] for s in sets if missing[s]})


def write_outputs(out: Path, doc: dict[str, Any]) -> None:
    doc["summary"] = analyse.summarize(doc["trials"])
    doc["notes"] = [n for n in doc.get("notes", []) if not n.startswith("chart calibrate:")]
    doc["notes"] += analyse.chart(out, doc) if doc["summary"] else []
    (out / "calibrate.md").write_text(analyse.table(doc))
    store.write_json(out / "calibrate.json", doc)


def reanalyse(out: Path, history: bool) -> int:
    """--analyse DIR: the comparisons of every trial in DIR made again
    (history: with the earlier trials as the history)."""
    try:
        doc = schemas.check("calibrate", schemas.read_json(out / "calibrate.json"))
    except (schemas.BadFile, OSError) as e:
        print(f"{PROG}: --analyse {out}: no calibration there ({e})", file=sys.stderr)
        return 2
    doc["params"]["history"] = history
    for i, rec in enumerate(doc["trials"]):
        try:
            rec["comparisons"] = analyse.trial_comparisons(
                out, rec, doc["host"], doc["kernel"], doc["trials"][:i] if history else None)
        except (OSError, KeyError, TypeError) as e:
            print(f"{PROG}: --analyse {out}: trial {rec.get('trial')}: {e}", file=sys.stderr)
            return 1
    doc["analysed_utc"] = now()
    try:
        write_outputs(out, doc)
    except OSError as e:
        print(f"{PROG}: cannot write {out}: {e.strerror}", file=sys.stderr)
        return 1
    print((out / "calibrate.md").read_text(), flush=True)
    return 0


def calibrate(params: Params, parent: Path, lay: cgroups.Layout, skipped: dict[str, str]) -> int:
    cleanup = Cleanup()
    status = 0
    out: Path | None = None
    host, release = platform.node(), platform.release()
    doc: dict[str, Any] = {
        "schema": analyse.SCHEMA, "host": host, "kernel": release,
        "time_utc_start": now(), "time_utc_end": None, "complete": False,
        "interrupted": None, "params": params.describe(),
        "cgroup": {"version": lay.version, "cpu": str(lay.cpu) if lay.cpu else None,
                   "io": str(lay.io) if lay.io else None,
                   "cpu_period_us": cgroups.CPU_PERIOD_US},
        "skipped": {s: skipped.get(s) for s in SETS},
        "trials": [], "summary": [], "notes": [],
    }
    t_all = time.monotonic()
    try:
        interrupt.arm()
        scratch.sweep([parent], PROG)
        for gone in cgroups.sweep(lay):
            print(f"{PROG}: removed the cgroup a killed run left: {gone}", file=sys.stderr)
        try:
            out = store.make_unique_dir(store.inside(store.results_root(), "calibrate",
                                                     store.run_id()))
            store.write_json(out / "calibrate.json", doc)
        except OSError as e:
            print(f"{PROG}: cannot write the results under {store.results_root()}: "
                  f"{e.strerror or e} (set AIO_SUITE_RESULTS)", file=sys.stderr)
            return 1
        print(f"{PROG}: results in {out}", flush=True)
        for s, why in skipped.items():
            print(f"{PROG}: the {s} set is skipped: {why}", flush=True)
        targets = Targets(cleanup, parent)
        group = cgroups.Group(lay, cgroups.group_name())
        # Pushed before it exists: the directories made so far are removed
        # whatever comes next.
        cleanup.push(f"cgroup {group.name}", group.remove)
        group.make()
        doc["cgroup"]["group"] = group.name
        wrapper = cgroups.write_wrapper(targets.scratch)
        m = Measurer(out, params, targets, cleanup, group, wrapper, probe())
        if "device" in params.sets:
            m.prepare_device()
            doc["device"] = {"loop": m.loopdev, "dev": m.devno}
        doc["tuning"] = m.tune(lambda what: print(f"{PROG}: {what}", flush=True))
        for t in range(1, params.trials + 1):
            t0 = time.monotonic()
            print(f"{PROG}: trial {t} of {params.trials}", flush=True)
            rec = m.trial(t, lambda name: print(f"{PROG}:   {name}", flush=True))
            rec["comparisons"] = analyse.trial_comparisons(
                out, rec, host, release, doc["trials"] if params.history else None)
            rec["duration_s"] = round(time.monotonic() - t0, 1)
            rec["cpu_stat"] = group.cpu_stat()
            rec["corrections"] = m.corrections()
            doc["trials"].append(rec)
            for c in rec["comparisons"]:
                head = c["iops_composite"] or {}
                print(f"{PROG}:   {c['set']} {c['condition']}: IOPS composite "
                      f"{analyse._pct(head.get('change_pct'))} {head.get('verdict', '-')}, "
                      f"{len(c['points_flagged'])} point metrics and "
                      f"{len(c['composites_flagged'])} composites called", flush=True)
            doc["summary"] = analyse.summarize(doc["trials"])
            store.write_json(out / "calibrate.json", doc)
        doc["complete"] = True
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted by {interrupt.interrupted_by() or 'SIGINT'}; removing "
              "the cgroup, the loop device and the scratch files", file=sys.stderr, flush=True)
        status = 130
    except OSError as e:
        print(f"{PROG}: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""),
              file=sys.stderr, flush=True)
        status = 1
    finally:
        cleanup.run()
        if out is not None:
            doc.update(time_utc_end=now(), interrupted=interrupt.interrupted_by(),
                       exit_status=status, duration_s=round(time.monotonic() - t_all, 1))
            if doc["interrupted"]:
                doc["complete"] = False
            try:
                write_outputs(out, doc)
            except OSError as e:
                print(f"{PROG}: cannot write {out}: {e.strerror}", file=sys.stderr)
                status = status or 1
    if out is not None and status == 0:
        print((out / "calibrate.md").read_text(), flush=True)
    print(f"{PROG}: done in {time.monotonic() - t_all:.1f} s", flush=True)
    return status

