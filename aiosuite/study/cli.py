#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""study: run the scenario studies (the seed threads, made repeatable).

  python3 -m aiosuite.study [--quick] [--repeat N|auto [--round I]] [--scratch DIR] NAME... | all

Each scenario measures one seed thread's question over the targets this
machine has (the scratch directory's filesystem always; as root also ext4,
xfs and btrfs on loop devices, tmpfs, and loop devices with direct I/O on
and off), runs its fio job file (jobs/NAME.fio) on the same workload and
cross-checks the IOPS where the workload is device-bound, and draws its
chart (plots/NAME.gp).  Results go to
results/<host>/<kernel release>/<run id>/: NAME.json (aio-suite-scenario/1),
the raw aio-stress, helper and fio JSON beside it, env.json and the charts.
--results DIR or AIO_SUITE_RESULTS moves the results root; installed (make
install), it is ~/.local/share/aio-suite/results ($XDG_DATA_HOME), and the
binaries, job files and templates are the installed ones (aiosuite/store.py).  Points that need root are
recorded as skipped with the reason when run as another user, and so are
those that need native AIO or io_uring on a kernel without them (probed
once at the start, said in one line).  summary.json says "complete":
false from the start until every round has run, and names the signal
that interrupted the run.  Loop devices, mounts and scratch files are
removed on every exit path, also on Ctrl-C, SIGTERM and SIGHUP (exit
status 130); what a killed study left (docs/SCRATCH.md) is removed at the
next start, which says so.

Each sample is --sample-scale (default 0.5) of the scenario's own run
time or I/O amount: more, shorter samples spread over more rounds see
more of the machine's minutes in the same time.  --repeat auto adds
rounds until every point's detectable change (the smallest change its
samples could show as significant: aiosuite/study/auto.py) is at most
--target-pct (default 5), or the next round would end past --budget-s
(default 3600), and records what was reached and why it stopped in
summary.json ("auto").

With --fio-clients FILE (or FIO_CLIENTS=FILE in the environment), a host
list in fio's format, every fio part runs through fio's client mode on
those hosts (`fio --server` on each) instead of on this one: each host's
results go to the store as that host, results/<host>/unknown/<run id>/
(fio does not tell its kernel), and the cross-check records IOPS per host
and summed, with latency percentiles from the merged histograms
(aiosuite/fio_clients.py).  tools/study.py runs the same.
"""
from __future__ import annotations

from aiosuite import interrupt

# First: a signal while the study is still starting ends it the same way.
interrupt.catch_signals()

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from aiosuite import fio_clients, machine, scratch, store  # noqa: E402
from aiosuite.features import probe  # noqa: E402
from aiosuite.study import auto, scenarios  # noqa: E402
from aiosuite.study.core import SAMPLE_SCALE, Study  # noqa: E402
from aiosuite.study.targets import Cleanup, Targets  # noqa: E402
from aiosuite.cliparse import Parser  # noqa: E402

PROG = "study"
SCENARIOS = list(scenarios.NAMES)
MAX_REPEAT = 1000
SCHEMA = "aio-suite-study/1"


def describe() -> str:
    lines = ["scenarios:"]
    for name in SCENARIOS:
        try:
            m = scenarios.load(name)
        except ImportError:
            continue
        lines.append(f"  {name:<9} seed {m.SEED}: {m.QUESTION}")
    return "\n".join(lines)


def summary(scen_data: dict[str, object]) -> str:
    pts = scen_data["points"]
    assert isinstance(pts, list)
    count: dict[str, int] = {}
    for p in pts:
        count[p["status"]] = count.get(p["status"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(count.items())) or "no points"


def summary_is_ours(out: Path) -> bool:
    """Whether the run directory's summary.json is the study's to write:
    make bench writes its own there before it runs the study rounds."""
    path = out / "summary.json"
    if not path.exists():
        return True
    try:
        data = store.load_json(path)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("schema") == SCHEMA


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog=describe(), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help="scenarios to run, or all (default all)")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes and short runs (what the bats tests use)")
    ap.add_argument("--repeat", default="1", metavar="N|auto",
                    help="measure every point N times and record every sample: N rounds "
                         "over all the chosen scenarios, each measuring every point once, so "
                         f"that a point's samples spread over the whole study (1 to {MAX_REPEAT}); "
                         "auto: rounds until every point's detectable change is at most "
                         "--target-pct or --budget-s is spent")
    auto.add_options(ap)
    ap.add_argument("--sample-scale", type=float, default=SAMPLE_SCALE, metavar="F",
                    help="a sample's run time or I/O amount against the scenario's own "
                         f"(default {SAMPLE_SCALE:g}; 0.05 to 4)")
    ap.add_argument("--round", type=int, metavar="I",
                    help="measure round I of --repeat N only (1 to N), adding its samples "
                         "to the scenarios already in the run directory "
                         "(AIO_SUITE_RUN_DIR): how make bench puts its other measurements "
                         "between the rounds")
    ap.add_argument("--scratch", metavar="DIR",
                    help="directory for scratch files (default: the checkout, or installed "
                         "the user's data directory: ~/.local/share/aio-suite)")
    ap.add_argument("--results", metavar="DIR",
                    help="the results store: the run directory goes to "
                         "DIR/<host>/<release>/<run id>/ (default: $AIO_SUITE_RESULTS, else "
                         "results/ in the checkout, or installed "
                         "~/.local/share/aio-suite/results)")
    ap.add_argument("--fio-clients", metavar="FILE",
                    default=os.environ.get("FIO_CLIENTS") or None,
                    help="run every fio part on the hosts of FILE (fio's host list: "
                         "[ip:|ip6:]HOST[,PORT] or sock:PATH, one or more a line) through "
                         "fio's client mode; each host's results go to the store as that "
                         "host (default: $FIO_CLIENTS)")
    args = ap.parse_args(argv)
    if args.results is not None:
        if not args.results:
            print(f"{PROG}: --results needs a directory, not ''", file=sys.stderr)
            return 2
        # For this process's store and the tools it runs.
        os.environ["AIO_SUITE_RESULTS"] = os.path.abspath(args.results)

    names = args.names or ["all"]
    for n in names:
        if n != "all" and n not in SCENARIOS:
            print(f"{PROG}: unknown scenario '{n}' ({', '.join(SCENARIOS)}, all)", file=sys.stderr)
            return 2
    repeat = auto.parse_repeat(args.repeat, MAX_REPEAT)
    if repeat is None:
        print(f"{PROG}: --repeat must be 1 to {MAX_REPEAT} or auto, not {args.repeat}",
              file=sys.stderr)
        return 2
    args.repeat = repeat
    why = auto.check_options(args.target_pct, args.budget_s)
    if why:
        print(f"{PROG}: {why}", file=sys.stderr)
        return 2
    if not 0.05 <= args.sample_scale <= 4:
        print(f"{PROG}: bad value for --sample-scale: '{args.sample_scale:g}' (0.05 to 4)",
              file=sys.stderr)
        return 2
    if args.round is not None and not args.repeat:
        print(f"{PROG}: --round needs --repeat N, not auto (make bench decides when its "
              "rounds stop)", file=sys.stderr)
        return 2
    if args.round is not None and not 1 <= args.round <= args.repeat:
        print(f"{PROG}: --round must be 1 to --repeat ({args.repeat}), not {args.round}",
              file=sys.stderr)
        return 2
    if args.round is not None and not os.environ.get("AIO_SUITE_RUN_DIR"):
        print(f"{PROG}: --round {args.round} needs AIO_SUITE_RUN_DIR: the run directory "
              "whose scenarios it adds to", file=sys.stderr)
        return 2
    parent = Path(args.scratch) if args.scratch else store.default_scratch()
    why = scratch.parent_problem(parent)
    if why:
        print(f"{PROG}: scratch directory '{parent}' {why}", file=sys.stderr)
        return 2
    fleet: fio_clients.Fleet | None = None
    if args.fio_clients:
        try:
            fleet = fio_clients.Fleet(Path(args.fio_clients))
        except fio_clients.HostListError as e:
            print(f"{PROG}: {e}", file=sys.stderr)
            return 2
    wanted = SCENARIOS if "all" in names else [n for n in SCENARIOS if n in names]
    aio_stress = store.BUILD / "aio-stress"
    missing = [p for p in (aio_stress, store.BUILD / "aio-exit", store.BUILD / "aio-plug",
                           store.BUILD / "aio-vcheck") if not p.exists()]
    if missing:
        print(f"{PROG}: {store.not_built(missing[0])}", file=sys.stderr)
        return 1
    if fleet is not None:
        why = fleet.check()
        if why:
            print(f"{PROG}: {why}", file=sys.stderr)
            return 1

    cleanup = Cleanup()
    tag = "study" if len(wanted) > 1 else f"study-{wanted[0]}"
    status = 0
    t_all = time.monotonic()
    # auto: rounds until the target or the budget (checked after each round)
    autorun = auto.Auto(args.target_pct, args.budget_s, MAX_REPEAT) if not args.repeat else None
    rounds: list[int] | range = ([args.round - 1] if args.round is not None else
                                 range(args.repeat or MAX_REPEAT))
    out: Path | None = None
    own_summary = False
    summ: dict[str, Any] = {
        "schema": SCHEMA, "complete": False, "interrupted": None,
        "scenarios": wanted, "repeat": args.repeat or "auto", "round": args.round,
        "quick": args.quick, "rounds_done": [], "broken": {}, "unavailable": {},
    }
    try:
        interrupt.arm()
        # What killed runs left in the scratch parent (and their mounts
        # and loop devices anywhere) goes first.
        scratch.sweep([parent], PROG)
        try:
            out = store.new_run_dir(tag)
            own_summary = summary_is_ours(out)
            if own_summary:  # at once: a run killed from here on is incomplete
                store.write_json(out / "summary.json", summ)
            store.write_json(out / "env.json", store.environment())
        except OSError as e:
            print(f"{PROG}: cannot write the results under {store.results_root()}: "
                  f"{e.strerror or e} (set AIO_SUITE_RESULTS)", file=sys.stderr)
            return 1
        print(f"{PROG}: results in {out}", flush=True)
        features = probe()
        for what, reason in (("native AIO", features.aio), ("io_uring", features.io_uring)):
            if reason:
                summ["unavailable"][what] = reason
                print(f"{PROG}: {reason}: what needs {what} is skipped", flush=True)
        try:
            targets = Targets(cleanup, parent)
        except OSError as e:
            print(f"{PROG}: cannot make a scratch directory in {parent}: "
                  f"{e.strerror or e} (use --scratch DIR)", file=sys.stderr)
            return 1
        study = Study(out, targets, cleanup, args.quick, args.repeat or auto.MIN_ROUNDS,
                      features, args.sample_scale)
        if fleet is not None:
            study.fio_clients = fleet
            print(f"{PROG}: the fio parts run on {len(fleet.clients)} hosts "
                  f"({', '.join(c.entry for c in fleet.clients)}) through fio's client mode",
                  flush=True)
        if rounds[0] > 0:
            # Round I of a make bench run: the earlier rounds are on disk.
            for name in wanted:
                prev = out / f"{name}.json"
                if prev.exists():
                    study.carry[name] = store.load_json(prev)
        broken: dict[str, str] = summ["broken"]
        last = rounds[0]
        for rnd in rounds:
            study.round = rnd
            last = rnd
            t_round = time.monotonic()
            if autorun is not None:
                # The cross-checks spread their turns over the first rounds.
                study.rounds = max(auto.MIN_ROUNDS, rnd + 1)
            for name in wanted:
                if name in broken:
                    continue
                m = scenarios.load(name)
                # The control right beside the points: the scenario's
                # points name this probe (control_probe).
                study.control_probe = machine.record(
                    out, f"study round {rnd + 1} {name}", rnd + 1)["index"]
                t0 = time.monotonic()
                print(f"{PROG}: {name} (seed {m.SEED}), round {rnd + 1} of "
                      f"{args.repeat or 'auto'}: {m.QUESTION}", flush=True)
                try:
                    scen = m.run(study)
                except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
                    # One scenario's trouble (a full disk, a tool's odd JSON)
                    # does not stop the others.
                    print(f"{PROG}: {name}: failed: {e}", file=sys.stderr, flush=True)
                    status = 1
                    broken[name] = str(e)
                    continue
                path = scen.write()
                study.carry[name] = scen.data
                print(f"{PROG}: {name}: {summary(scen.data)} in {time.monotonic() - t0:.1f} s "
                      f"-> {path}", flush=True)
                if any(p["status"] == "failed" for p in scen.points):
                    status = 1
            summ["rounds_done"].append(rnd + 1)
            if autorun is not None:
                stop = autorun.done_round(*auto.scenario_points(out),
                                          time.monotonic() - t_round)
                summ["auto"] = autorun.summary()
                print(f"{PROG}: auto: {autorun.line()}", flush=True)
                if own_summary:
                    store.write_json(out / "summary.json", summ)
                if stop:
                    break
        machine.record(out, f"study round {last + 1} end", last + 1)
        # Complete: every round of every scenario ran to its end.
        summ["complete"] = not broken and (args.round is None or args.round == args.repeat)
    except KeyboardInterrupt:
        if autorun is not None:
            autorun.stopped = "interrupted"
            summ["auto"] = autorun.summary()
        print(f"{PROG}: interrupted by {interrupt.interrupted_by() or 'SIGINT'}; removing "
              "loop devices, mounts and scratch files", file=sys.stderr, flush=True)
        status = 130
    finally:
        cleanup.run()
        if fleet is not None:  # each host's run in the store ends as this one
            fleet.finish(bool(summ["complete"]), interrupt.interrupted_by())
        if out is not None and own_summary:
            summ.update(interrupted=interrupt.interrupted_by(), exit_status=status)
            if summ["interrupted"]:
                summ["complete"] = False
            try:
                store.write_json(out / "summary.json", summ)
            except OSError as e:
                print(f"{PROG}: cannot write {out / 'summary.json'}: {e.strerror}",
                      file=sys.stderr)
    print(f"{PROG}: done in {time.monotonic() - t_all:.1f} s", flush=True)
    return status

