#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""history: the data side of ci/history.sh (the results store kept in a
branch of the project's repository).

  history.py summary RUN_DIR             print the run's summary (aio-suite-history/1)
  history.py stage STORE TREE --keep N --max-bytes B [--message FILE] [--commit C]
                                         [--ref R] [--build-url U]
  history.py unpack TREE STORE
  history.py compare STORE [--out DIR] [REPORT ARGUMENT...]

The branch's tree (TREE, a plain directory here; ci/history.sh does git):

  runs/<host>/<kernel>/<run>/...             the raw files of the last runs
  history/<host>/<kernel>/<run>.summary.json a summary of every run pushed

stage adds every run of STORE that the branch has no summary of (its
regular files, and its summary), then prunes: the raw files of all but the
newest --keep runs of each host and kernel, then the oldest raw runs until
all raw files together fit in --max-bytes.  A summary is never pruned.
With --message it writes the commit message there when anything changed.

unpack copies the branch's runs into STORE, each run whose directory is not
there yet (a run already in the store, such as this pipeline's own, is
kept as it is), and the summaries into STORE/.history/ (a directory the
report does not read as a host).

compare is a pull request's check against the default branch's history:
every run of STORE without a summary in STORE/.history/ (this pipeline's)
against the newest complete run of the history of the same host and kernel,
with tools/report.py --by run --fail-on-regression; exit 1 when any such
comparison finds a regression or a new conformance failure.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

from aiosuite import schemas as schema
from aiosuite import store
from aiosuite.report import collect

PROG = "history"
SCHEMA = "aio-suite-history/1"
RUNS = "runs"
SUMMARIES = "history"
STORE_SUMMARIES = ".history"
SUFFIX = ".summary.json"
RunKey = tuple[str, str, str]  # host, kernel release, run id
README = """\
# aio-suite results history

Written by ci/history.sh push; read by ci/history.sh pull
(docs/RESULTS-FORMAT.md, "The history branch").

- runs/<host>/<kernel>/<run>/: the raw files of the newest runs of each host
  and kernel, as in the results store;
- history/<host>/<kernel>/<run>.summary.json: a summary of every run ever
  pushed (schema aio-suite-history/1), kept when its raw files are pruned.
"""


class Failure(Exception):
    """A one-line error; status 1 unless given."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise Failure(message, 2)


def say(msg: str) -> None:
    print(f"{PROG}: {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def name(key: RunKey) -> str:
    return schema.printable("/".join(key))


# ---- the runs of a store or a tree ----

def _subdirs(d: Path) -> list[Path]:
    """The directories in d, sorted, but hidden ones; a symbolic link is
    named and not followed (nothing outside the store is pushed or
    overwritten)."""
    try:
        entries = sorted(d.iterdir())
    except OSError as e:
        warn(f"cannot list {schema.printable(str(d))}: {e.strerror}")
        return []
    out = []
    for p in entries:
        if p.name.startswith("."):
            continue
        try:
            st = p.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            warn(f"not followed: symbolic link {schema.printable(str(p))}")
        elif stat.S_ISDIR(st.st_mode):
            out.append(p)
    return out


def _has_json(d: Path) -> bool:
    try:
        return any(f.is_file() and not f.is_symlink() for f in d.glob("*.json"))
    except OSError:
        return False


def list_runs(root: Path, hosts_only: bool = True) -> dict[RunKey, Path]:
    """<root>/<host>/<kernel>/<run>/ holding at least one JSON file (a run,
    as tools/collect.py sees one), by (host, kernel, run id)."""
    runs: dict[RunKey, Path] = {}
    if not root.is_dir():
        return runs
    for h in _subdirs(root):
        if hosts_only and h.name in collect.NOT_HOSTS:
            continue
        for k in _subdirs(h):
            for r in _subdirs(k):
                if _has_json(r):
                    runs[(h.name, k.name, r.name)] = r
    return runs


def list_summaries(root: Path) -> set[RunKey]:
    """(host, kernel, run id) of every <root>/<host>/<kernel>/<run>.summary.json."""
    out: set[RunKey] = set()
    if not root.is_dir():
        return out
    for h in _subdirs(root):
        for k in _subdirs(h):
            try:
                files = sorted(k.iterdir())
            except OSError:
                continue
            for f in files:
                if f.name.endswith(SUFFIX) and len(f.name) > len(SUFFIX) and \
                        not f.is_symlink() and f.is_file():
                    out.add((h.name, k.name, f.name[:-len(SUFFIX)]))
    return out


def summary_path(root: Path, key: RunKey) -> Path:
    return store.inside(root, key[0], key[1], key[2] + SUFFIX)


def copy_run(src: Path, dest: Path) -> int:
    """Copy the regular files of src (and its subdirectories) to dest, which
    must not exist; return the bytes copied.  Symbolic links, special files
    and anything named .git are left out."""
    total = 0
    dest.mkdir(parents=True)
    for top, dirs, files in os.walk(src):
        rel = Path(top).relative_to(src)
        dirs[:] = sorted(d for d in dirs if d.lower() != ".git"
                         and not (Path(top) / d).is_symlink())
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for f in sorted(files):
            p = Path(top) / f
            if f.lower() == ".git":
                continue
            st = p.lstat()
            if not stat.S_ISREG(st.st_mode):
                continue
            shutil.copyfile(p, dest / rel / f)
            total += st.st_size
    return total


def run_bytes(d: Path) -> int:
    total = 0
    for top, _dirs, files in os.walk(d):
        for f in files:
            st = (Path(top) / f).lstat()
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


# ---- the summary (aio-suite-history/1) ----

def _sig(x: float) -> float:
    """x to 6 significant digits: the summary stays small and stable."""
    return float(f"{x:.6g}")


def _run_time(run_id: str) -> str | None:
    m = re.match(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", run_id)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    return f"{y}-{mo}-{d}T{hh}:{mm}:{ss}Z"


def headline(run: collect.Run) -> dict[str, Any]:
    """Per source (scenario, aio-stress, fio, aio-bare): for every metric
    with a direction, the geometric mean of its points' means (points that
    are ok and have a positive mean); point_set_sha256 tells whether two
    runs measured the same points, without which the means do not compare."""
    out: dict[str, Any] = {}
    by_source: dict[str, list[collect.Point]] = {}
    for p in run.points.values():
        by_source.setdefault(p.source, []).append(p)
    for source in sorted(by_source):
        pts = by_source[source]
        logs: dict[str, list[float]] = {}
        defs: dict[str, collect.MetricDef] = {}
        for p in pts:
            if p.status != "ok":
                continue
            for m, xs in p.samples.items():
                md = p.metrics.get(m)
                if md is None or md.better not in ("higher", "lower") or not xs:
                    continue
                mean = statistics.fmean(xs)
                if mean > 0 and math.isfinite(mean):
                    logs.setdefault(m, []).append(math.log(mean))
                    defs.setdefault(m, md)
        keys = "\n".join(sorted(schema.printable(p.key) for p in pts))
        out[schema.printable(source)] = {
            "points": len(pts),
            "points_ok": sum(1 for p in pts if p.status == "ok"),
            "point_set_sha256": hashlib.sha256(keys.encode()).hexdigest(),
            "metrics": {schema.printable(m): {
                "unit": defs[m].unit, "better": defs[m].better,
                "geomean": _sig(math.exp(statistics.fmean(v))), "points": len(v)}
                for m, v in sorted(logs.items())}}
    return out


def summary(path: Path, key: RunKey, pushed_by: dict[str, str | None]) -> dict[str, Any]:
    """The summary of the run in directory path, filed as key."""
    run = collect.load_run(path, schema.printable(key[0]), schema.printable(key[1]))
    conf: dict[str, Any] | None = None
    if run.conform is not None:
        totals: dict[str, int] = {}
        for c in run.conform:
            totals[c.result] = totals.get(c.result, 0) + 1
        conf = {"file": run.conform_file, "tests": len(run.conform),
                "totals": dict(sorted(totals.items())),
                "failing": sorted({c.test for c in run.conform if c.result in collect.FAILING}),
                "bail_out": run.bail_out or None}
    mach: dict[str, Any] | None = None
    ns = [x for x in run.machine_ns if math.isfinite(x)]
    if ns:
        steal = [x for x in run.steal_pct if math.isfinite(x)]
        mach = {"probes": len(ns), "cpu_loop_ns_median": _sig(statistics.median(ns)),
                "steal_pct_median": _sig(statistics.median(steal)) if steal else None}
    files = 0
    for _top, _dirs, fs in os.walk(path):
        files += len(fs)
    return {
        "schema": SCHEMA,
        "host": schema.printable(key[0]),
        "kernel_release": schema.printable(key[1]),
        "run_id": schema.printable(key[2]),
        "run_time_utc": _run_time(key[2]),
        "complete": not run.incomplete,
        "incomplete": run.incomplete,
        "emulated": run.emulated,
        "files": files,
        "size_bytes": run_bytes(path),
        "bad_files": len(run.warnings),
        "conformance": conf,
        "machine": mach,
        "headline": headline(run),
        "pushed_by": pushed_by,
    }


def write_summary(root: Path, key: RunKey, doc: dict[str, Any]) -> None:
    p = summary_path(root, key)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")


# ---- stage: add and prune ----

def prune(tree: Path, keep: int, max_bytes: int) -> list[tuple[RunKey, str]]:
    """Remove raw runs from tree/runs: all but the newest keep of each host
    and kernel, then the oldest until the rest fit in max_bytes.  Return
    (run, why) of each run removed, oldest first."""
    runs = list_runs(tree / RUNS, hosts_only=False)
    gone: list[tuple[RunKey, str]] = []
    groups: dict[tuple[str, str], list[RunKey]] = {}
    for k in runs:
        groups.setdefault((k[0], k[1]), []).append(k)
    for (h, rel), ks in sorted(groups.items()):
        ks.sort(key=lambda k: k[2])
        for k in ks[:-keep] if len(ks) > keep else []:
            gone.append((k, f"more than {keep} runs of {schema.printable(h)}/"
                            f"{schema.printable(rel)}"))
    dropped = {k for k, _ in gone}
    left = sorted((k for k in runs if k not in dropped), key=lambda k: (k[2], k[0], k[1]))
    sizes = {k: run_bytes(runs[k]) for k in left}
    total = sum(sizes.values())
    for k in left:
        if total <= max_bytes:
            break
        gone.append((k, f"raw files over the cap of {max_bytes} bytes "
                        f"({total} bytes before)"))
        total -= sizes[k]
    for k, _ in gone:
        shutil.rmtree(runs[k])
        for d in (runs[k].parent, runs[k].parent.parent):
            try:
                d.rmdir()  # only when empty
            except OSError:
                break
    gone.sort(key=lambda g: (g[0][2], g[0][0], g[0][1]))
    return gone


def stage(args: argparse.Namespace) -> int:
    src, tree = Path(args.store), Path(args.tree)
    if not tree.is_dir():
        raise Failure(f"no tree directory {schema.printable(str(tree))}")
    pushed_by = {"commit": args.commit or None, "ref": args.ref or None,
                 "build_url": args.build_url or None}
    have = list_summaries(tree / SUMMARIES)
    added: list[RunKey] = []
    for key, path in list_runs(src).items():
        if key in have:
            continue  # the branch knows it (its raw files may be pruned)
        dest = store.inside(tree / RUNS, *key)
        if not dest.exists():
            copy_run(path, dest)
        write_summary(tree / SUMMARIES, key, summary(path, key, pushed_by))
        added.append(key)
        say(f"added {name(key)}")
    # A run in the branch without its summary (edited by hand): summarise it.
    for key, path in list_runs(tree / RUNS, hosts_only=False).items():
        if key not in have and key not in added:
            write_summary(tree / SUMMARIES, key, summary(path, key, pushed_by))
            say(f"summarised {name(key)} (its summary was missing)")
    gone = prune(tree, args.keep, args.max_bytes)
    for k, why in gone:
        say(f"pruned the raw files of {name(k)} ({why}); its summary stays")
    if not (tree / "README.md").exists():
        (tree / "README.md").write_text(README, encoding="utf-8")
    if args.message and (added or gone):
        Path(args.message).write_text(message(added, gone, pushed_by), encoding="utf-8")
    if not added and not gone:
        say("nothing new: every run of the store is in the history")
    return 0


def message(added: list[RunKey], gone: list[tuple[RunKey, str]],
            pushed_by: dict[str, str | None]) -> str:
    """The commit message: the runs added (host/kernel/run), those pruned."""
    if added:
        title = f"history: add {name(added[0])}"
        if len(added) > 1:
            title += f" and {len(added) - 1} more run{'s' if len(added) > 2 else ''}"
    else:
        title = "history: prune"
    if gone:
        title += f"; prune the raw files of {len(gone)} run{'s' if len(gone) > 1 else ''}"
    lines = [title, ""]
    if added:
        lines += ["Added (raw files and summary):"] + [f"  {name(k)}" for k in added] + [""]
    if gone:
        lines += ["Pruned (raw files; the summaries stay):"] + [
            f"  {name(k)}: {why}" for k, why in gone] + [""]
    by = ", ".join(f"{k} {v}" for k, v in pushed_by.items() if v)
    if by:
        lines.append(f"Pushed by: {by}")
    return "\n".join(lines).rstrip() + "\n"


# ---- unpack ----

def unpack(args: argparse.Namespace) -> int:
    tree, dst = Path(args.tree), Path(args.store)
    try:
        dst.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise Failure(f"cannot create the results store {schema.printable(str(dst))}: "
                      f"{e.strerror}")
    pulled = kept = sums = 0
    for key, path in list_runs(tree / RUNS, hosts_only=False).items():
        try:
            dest = store.inside(dst, *key)
        except OSError as e:
            warn(f"not unpacked: {name(key)}: {e}")
            continue
        if os.path.lexists(dest):
            kept += 1  # this pipeline's run, or one unpacked before
            continue
        copy_run(path, dest)
        pulled += 1
    for key in sorted(list_summaries(tree / SUMMARIES)):
        try:
            dest = summary_path(dst / STORE_SUMMARIES, key)
        except OSError as e:
            warn(f"not unpacked: the summary of {name(key)}: {e}")
            continue
        if os.path.lexists(dest):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(summary_path(tree / SUMMARIES, key), dest)
        sums += 1
    say(f"unpacked {pulled} run{'' if pulled == 1 else 's'} into "
        f"{schema.printable(str(dst))}"
        + (f" ({kept} already there, kept as they are)" if kept else "")
        + f" and {sums} summar{'y' if sums == 1 else 'ies'} into "
        f"{schema.printable(str(dst / STORE_SUMMARIES))}")
    return 0


# ---- compare ----

def _glob_quote(s: str) -> str:
    """s as an fnmatch pattern that matches only s."""
    return re.sub(r"([*?\[])", r"[\1]", s)


def compare(args: argparse.Namespace, extra: list[str]) -> int:
    root = Path(args.store)
    if not root.is_dir():
        raise Failure(f"no results store at {schema.printable(str(root))}")
    known = list_summaries(root / STORE_SUMMARIES)
    runs = list_runs(root)
    if not known:
        say("no history in the store (ci/history.sh pull found none): nothing to compare with")
        return 0
    ours: dict[tuple[str, str], list[RunKey]] = {}
    for k in runs:
        if k not in known:
            ours.setdefault((k[0], k[1]), []).append(k)
    if not ours:
        say("no run of this pipeline in the store: nothing to compare")
        return 0
    out_root = Path(args.out) if args.out else root / "report"
    status = 0
    for n, ((h, rel), ks) in enumerate(sorted(ours.items()), 1):
        base = None
        for k in sorted((k for k in runs if k in known and k[:2] == (h, rel)),
                        key=lambda k: k[2], reverse=True):
            if not collect.load_run(runs[k], k[0], k[1]).incomplete:
                base = k
                break
        if base is None:
            say(f"no complete run of {schema.printable(h)}/{schema.printable(rel)} in the "
                "history: nothing to compare its runs with")
            continue
        out = out_root / f"history-{n}"
        cmd = [*store.tool_command("report"),
               "--results", str(root), "--out", str(out), "--by", "run",
               "--baseline", name(base), "--runs", _glob_quote(name(base))]
        for k in sorted(ks, key=lambda k: k[2]):
            cmd += ["--runs", _glob_quote(name(k))]
        cmd += ["--fail-on-regression", "--no-charts", "--formats", "md,csv,junit", *extra]
        say(f"{', '.join(name(k) for k in ks)} against {name(base)} (the history's newest "
            f"complete run of {schema.printable(h)}/{schema.printable(rel)}); the report "
            f"goes to {schema.printable(str(out))}")
        sys.stdout.flush()
        rc = subprocess.run(cmd, check=False).returncode
        if rc != 0:
            status = 1
            if rc != 1:
                warn(f"the report against {name(base)} exited with status {rc}")
    if status:
        warn("a run of this pipeline regressed against the history (above)")
    return status


# ---- command line ----

def positive(what: str, v: str) -> int:
    if not re.fullmatch(r"\d+", v) or int(v) < 1:
        raise Failure(f"argument {what}: must be a whole number of 1 or more, not '{v}'", 2)
    return int(v)


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", metavar="summary|stage|unpack|compare")
    s = sub.add_parser("summary", help="print the summary of a run directory")
    s.add_argument("run", help="a run directory: STORE/HOST/KERNEL/RUN")
    s = sub.add_parser("stage", help="add the store's new runs to a tree and prune it")
    s.add_argument("store")
    s.add_argument("tree")
    s.add_argument("--keep", required=True, help="raw runs kept per host and kernel")
    s.add_argument("--max-bytes", required=True, help="cap on the raw files, bytes")
    s.add_argument("--message", help="write the commit message here when anything changed")
    s.add_argument("--commit", default="", help="the commit that pushes (pushed_by)")
    s.add_argument("--ref", default="", help="its branch or tag")
    s.add_argument("--build-url", default="", help="the CI build that pushes")
    s = sub.add_parser("unpack", help="copy a tree's runs and summaries into a store")
    s.add_argument("tree")
    s.add_argument("store")
    s = sub.add_parser("compare", help="this pipeline's runs against the history")
    s.add_argument("store")
    s.add_argument("--out", help="where the reports go (default STORE/report/history-N)")
    args, extra = ap.parse_known_args(argv)
    if args.command != "compare" and extra:
        raise Failure(f"unrecognized arguments: {' '.join(extra)}", 2)
    if args.command == "summary":
        run = Path(args.run).resolve()
        if not _has_json(run):
            raise Failure(f"not a run directory (no JSON file): {schema.printable(args.run)}", 2)
        key = (run.parent.parent.name, run.parent.name, run.name)
        print(json.dumps(summary(run, key, {"commit": None, "ref": None, "build_url": None}),
                         indent=1))
        return 0
    if args.command == "stage":
        args.keep = positive("--keep", args.keep)
        args.max_bytes = positive("--max-bytes", args.max_bytes)
        return stage(args)
    if args.command == "unpack":
        return unpack(args)
    if args.command == "compare":
        return compare(args, extra)
    raise Failure("a command is needed: summary, stage, unpack or compare", 2)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as e:
        print(f"{PROG}: {schema.printable(str(e))}", file=sys.stderr)
        sys.exit(e.status)
    except OSError as e:
        print(f"{PROG}: {schema.printable(str(e.filename or ''))}: {e.strerror or e}",
              file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # a bug: one line, not a traceback
        print(f"{PROG}: internal error: {type(e).__name__}: {schema.printable(str(e))}",
              file=sys.stderr)
        sys.exit(1)
