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
recorded as skipped with the reason when run as another user.  Loop
devices, mounts and scratch files are removed on every exit path, also on
Ctrl-C, SIGTERM and SIGHUP (exit status 130).
"""
from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine  # noqa: E402
import store  # noqa: E402
from study_core import Study  # noqa: E402
from study_targets import Cleanup, Targets, interrupt_on_signals  # noqa: E402

PROG = "study"
SCENARIOS = ["blocking", "batching", "plug", "exit", "vectored", "engines", "loop", "buffered"]


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
                         "that a point's samples spread over the whole study")
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
    if args.repeat < 1:
        print(f"{PROG}: --repeat must be 1 or more, not {args.repeat}", file=sys.stderr)
        return 2
    if args.round is not None and not 1 <= args.round <= args.repeat:
        print(f"{PROG}: --round must be 1 to --repeat ({args.repeat}), not {args.round}",
              file=sys.stderr)
        return 2
    if args.round is not None and not os.environ.get("AIO_SUITE_RUN_DIR"):
        print(f"{PROG}: --round {args.round} needs AIO_SUITE_RUN_DIR: the run directory "
              "whose scenarios it adds to", file=sys.stderr)
        return 2
    scratch_base = Path(args.scratch) if args.scratch else None
    if scratch_base and not scratch_base.is_dir():
        print(f"{PROG}: scratch directory '{scratch_base}' does not exist", file=sys.stderr)
        return 2
    wanted = SCENARIOS if "all" in names else [n for n in SCENARIOS if n in names]
    aio_stress = store.BUILD / "aio-stress"
    missing = [p for p in (aio_stress, store.BUILD / "aio-exit", store.BUILD / "aio-plug",
                           store.BUILD / "aio-vcheck") if not p.exists()]
    if missing:
        print(f"{PROG}: {missing[0]} is not built (run make)", file=sys.stderr)
        return 1

    cleanup = Cleanup()
    interrupt_on_signals()
    tag = "study" if len(wanted) > 1 else f"study-{wanted[0]}"
    status = 0
    t_all = time.monotonic()
    try:
        try:
            out = store.new_run_dir(tag)
            store.write_json(out / "env.json", store.environment())
        except OSError as e:
            print(f"{PROG}: cannot write the results under {store.results_root()}: "
                  f"{e.strerror or e} (set AIO_SUITE_RESULTS)", file=sys.stderr)
            return 1
        print(f"{PROG}: results in {out}", flush=True)
        try:
            targets = Targets(cleanup, scratch_base)
        except OSError as e:
            print(f"{PROG}: cannot make a scratch directory: {e.strerror or e} "
                  f"(use --scratch DIR)", file=sys.stderr)
            return 1
        study = Study(out, targets, cleanup, args.quick, args.repeat)
        rounds = [args.round - 1] if args.round is not None else list(range(args.repeat))
        if rounds[0] > 0:
            # Round I of a make bench run: the earlier rounds are on disk.
            for name in wanted:
                prev = out / f"{name}.json"
                if prev.exists():
                    study.carry[name] = store.load_json(prev)
        broken: set[str] = set()
        for rnd in rounds:
            study.round = rnd
            machine.record(out, f"study round {rnd + 1} start")
            for name in wanted:
                if name in broken:
                    continue
                m = module(name)
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
                    broken.add(name)
                    continue
                path = scen.write()
                study.carry[name] = scen.data
                print(f"{PROG}: {name}: {summary(scen.data)} in {time.monotonic() - t0:.1f} s "
                      f"-> {path}", flush=True)
                if any(p["status"] == "failed" for p in scen.points):
                    status = 1
        machine.record(out, f"study round {rounds[-1] + 1} end")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; removing loop devices, mounts and scratch files",
              file=sys.stderr)
        status = 130
    finally:
        cleanup.run()
    print(f"{PROG}: done in {time.monotonic() - t_all:.1f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
