#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: put one fleet host's run directories into the results store.

  python3 ci/fleet/import_runs.py --host NAME --results DIR TARBALL

TARBALL is the host's results store packed by ci/fleet/fleet.yml:
<node>/<kernel release>/<run id>/FILES.  Each run directory goes to
DIR/NAME/<kernel release>/<run id>/ (NAME: the host's name in the
inventory, which keeps two hosts of one node name apart; the run's env.json
still says what the host called itself); a run id already there gets a .2,
.3, ... as the store's own runs do.  Only directories and regular files are
taken, and only inside the three levels; anything else (links, devices,
absolute or .. paths, the host's report/ or check/ directories at the top)
is left out and said.  Prints each run directory made, one per line, as
NAME/<release>/<run id>.  Exit status 0, 1 when the tarball cannot be read
or the store written, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
from aiosuite import store  # noqa: E402

PROG = "import_runs"
# Top-level directories of a store that are not hosts (report/collect.py).
NOT_HOSTS = {"report", "check", "mutants"}


class Usage(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{PROG}: {message}", file=sys.stderr)
        sys.exit(2)


def safe_name(part: str) -> bool:
    """One plain name (store.check_name), and not a hidden one."""
    try:
        store.check_name(part)
    except store.OutsideRoot:
        return False
    return not part.startswith(".")


def member_parts(name: str) -> list[str] | None:
    """The path parts of a member below the top, or None when unsafe."""
    p = PurePosixPath(name)
    if p.is_absolute():
        return None
    parts = [x for x in p.parts if x != "."]
    return parts if all(safe_name(x) for x in parts) else None


def extract(tar: tarfile.TarFile, members: list[tarfile.TarInfo], dest: Path) -> None:
    """The members, below their run directory, into dest."""
    for m in members:
        out = dest.joinpath(*(member_parts(m.name) or [])[3:])
        if m.isdir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        src = tar.extractfile(m)
        if src is None:
            continue
        with src, open(out, "wb") as f:
            shutil.copyfileobj(src, f)


def main(argv: list[str]) -> int:
    ap = Usage(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", required=True, help="the host's name in the inventory")
    ap.add_argument("--results", required=True, help="the results store")
    ap.add_argument("tarball")
    args = ap.parse_args(argv)
    if not safe_name(args.host):
        print(f"{PROG}: bad host name '{args.host}' (one path component)", file=sys.stderr)
        return 2
    root = Path(args.results)
    runs: dict[tuple[str, str, str], list[tarfile.TarInfo]] = {}
    try:
        with tarfile.open(args.tarball, "r:*") as tar:
            for m in tar.getmembers():
                parts = member_parts(m.name)
                if parts is None or not (m.isfile() or m.isdir()):
                    print(f"{PROG}: left out: {m.name!r} (not a plain file or directory "
                          "inside the store)", file=sys.stderr)
                    continue
                if len(parts) < 3 or parts[0] in NOT_HOSTS:
                    continue  # the levels above a run, and the host's own report
                key = (parts[0], parts[1], parts[2])
                runs.setdefault(key, [])
                if len(parts) > 3:
                    runs[key].append(m)
            made: list[str] = []
            for (_node, release, run_id), members in sorted(runs.items()):
                dest = store.make_unique_dir(store.inside(root, args.host, release, run_id))
                try:
                    extract(tar, members, dest)
                except BaseException:
                    shutil.rmtree(dest, ignore_errors=True)
                    raise
                made.append(f"{args.host}/{release}/{dest.name}")
    except (OSError, tarfile.TarError) as e:
        why = getattr(e, "strerror", None) or str(e)
        print(f"{PROG}: cannot import {args.tarball}: {why}", file=sys.stderr)
        return 1
    for r in made:
        print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
