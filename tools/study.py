#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""study: run the scenario studies (the seed threads, made repeatable).

  tools/study.py [--quick] [--repeat N [--round I]] [--scratch DIR] NAME... | all

Each scenario measures one seed thread's question over the targets this
machine has (the scratch directory's filesystem always; as root also ext4,
xfs and btrfs on loop devices, tmpfs, and loop devices with direct I/O on
and off), runs its fio job file (jobs/NAME.fio) on the same workload and
cross-checks the IOPS where the workload is device-bound, and draws its
chart (plots/NAME.gp).  Results go to
results/<host>/<kernel release>/<run id>/: NAME.json (aio-suite-scenario/1),
the raw aio-stress, helper and fio JSON beside it, env.json and the charts.
AIO_SUITE_RESULTS moves the results root.  Points that need root are
recorded as skipped with the reason when run as another user, and so are
those that need native AIO or io_uring on a kernel without them (probed
once at the start, said in one line).  summary.json says "complete":
false from the start until every round has run, and names the signal
that interrupted the run.  Loop devices, mounts and scratch files are
removed on every exit path, also on Ctrl-C, SIGTERM and SIGHUP (exit
status 130); what a killed study left (docs/SCRATCH.md) is removed at the
next start, which says so.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interrupt  # noqa: E402

# First: a signal while the study is still starting ends it the same way.
interrupt.catch_signals()

import argparse  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any, NoReturn  # noqa: E402

import machine  # noqa: E402
import scratch  # noqa: E402
import store  # noqa: E402
from features import probe  # noqa: E402
from study_core import Study  # noqa: E402
from study_targets import Cleanup, Targets  # noqa: E402

PROG = "study"
SCENARIOS = ["blocking", "batching", "plug", "exit", "vectored", "engines", "loop", "buffered"]
MAX_REPEAT = 1000
SCHEMA = "aio-suite-study/1"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def module(name: str) -> ModuleType:
    return importlib.import_module(f"study_{name}")


def describe() -> str:
    lines = ["scenarios:"]
    for name in SCENARIOS:
        try:
            m = module(name)
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
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="measure every point N times and record every sample: N rounds "
                         "over all the chosen scenarios, each measuring every point once, so "
                         f"that a point's samples spread over the whole study (1 to {MAX_REPEAT})")
    ap.add_argument("--round", type=int, metavar="I",
                    help="measure round I of --repeat N only (1 to N), adding its samples "
                         "to the scenarios already in the run directory "
                         "(AIO_SUITE_RUN_DIR): how make bench puts its other measurements "
                         "between the rounds")
    ap.add_argument("--scratch", metavar="DIR",
                    help="directory for scratch files (default: the checkout)")
    args = ap.parse_args(argv)

    names = args.names or ["all"]
    for n in names:
        if n != "all" and n not in SCENARIOS:
            print(f"{PROG}: unknown scenario '{n}' ({', '.join(SCENARIOS)}, all)", file=sys.stderr)
            return 2
    if not 1 <= args.repeat <= MAX_REPEAT:
        print(f"{PROG}: --repeat must be 1 to {MAX_REPEAT}, not {args.repeat}", file=sys.stderr)
        return 2
    if args.round is not None and not 1 <= args.round <= args.repeat:
        print(f"{PROG}: --round must be 1 to --repeat ({args.repeat}), not {args.round}",
              file=sys.stderr)
        return 2
    if args.round is not None and not os.environ.get("AIO_SUITE_RUN_DIR"):
        print(f"{PROG}: --round {args.round} needs AIO_SUITE_RUN_DIR: the run directory "
              "whose scenarios it adds to", file=sys.stderr)
        return 2
    parent = Path(args.scratch) if args.scratch else store.TOP
    why = scratch.parent_problem(parent)
    if why:
        print(f"{PROG}: scratch directory '{parent}' {why}", file=sys.stderr)
        return 2
    wanted = SCENARIOS if "all" in names else [n for n in SCENARIOS if n in names]
    aio_stress = store.BUILD / "aio-stress"
    missing = [p for p in (aio_stress, store.BUILD / "aio-exit", store.BUILD / "aio-plug",
                           store.BUILD / "aio-vcheck") if not p.exists()]
    if missing:
        print(f"{PROG}: {missing[0]} is not built (run make)", file=sys.stderr)
        return 1

    cleanup = Cleanup()
    tag = "study" if len(wanted) > 1 else f"study-{wanted[0]}"
    status = 0
    t_all = time.monotonic()
    rounds = [args.round - 1] if args.round is not None else range(args.repeat)
    out: Path | None = None
    own_summary = False
    summ: dict[str, Any] = {
        "schema": SCHEMA, "complete": False, "interrupted": None,
        "scenarios": wanted, "repeat": args.repeat, "round": args.round,
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
        study = Study(out, targets, cleanup, args.quick, args.repeat, features)
        if rounds[0] > 0:
            # Round I of a make bench run: the earlier rounds are on disk.
            for name in wanted:
                prev = out / f"{name}.json"
                if prev.exists():
                    study.carry[name] = store.load_json(prev)
        broken: dict[str, str] = summ["broken"]
        for rnd in rounds:
            study.round = rnd
            for name in wanted:
                if name in broken:
                    continue
                m = module(name)
                # The control right beside the points: the scenario's
                # points name this probe (control_probe).
                study.control_probe = machine.record(
                    out, f"study round {rnd + 1} {name}", rnd + 1)["index"]
                t0 = time.monotonic()
                print(f"{PROG}: {name} (seed {m.SEED}), round {rnd + 1} of {args.repeat}: "
                      f"{m.QUESTION}", flush=True)
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
        machine.record(out, f"study round {rounds[-1] + 1} end", rounds[-1] + 1)
        # Complete: every round of every scenario ran to its end.
        summ["complete"] = not broken and (args.round is None or args.round == args.repeat)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted by {interrupt.interrupted_by() or 'SIGINT'}; removing "
              "loop devices, mounts and scratch files", file=sys.stderr, flush=True)
        status = 130
    finally:
        cleanup.run()
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
