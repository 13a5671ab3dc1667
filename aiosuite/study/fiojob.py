#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fiojob: a job file of jobs/ with some of its options set to other values.

  tools/fiojob.py [--section NAME]... [-o FILE] JOB [OPTION=VALUE]...

The job files in jobs/ run as they are (`fio jobs/NAME.fio`, on a file
in the current directory).  fio takes job options from its command line
only as defaults that a job file's own values override, so a run on
another target or with other sizes needs a copy of the job with those
values replaced: this writes that copy, the effective job, to stdout or
FILE (`tools/fiojob.py jobs/batching.fio runtime=5s | fio -`).  Each
OPTION must be one the job sets (a misspelt one is an error, not a
silently ignored line); it is replaced wherever it is set.  --section
keeps only the named job sections (and [global]).  tools/study.py runs
every fio job through this and keeps the copy beside fio's JSON.
"""
from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path
from typing import Mapping, Sequence

from aiosuite.cliparse import Parser

PROG = "fiojob"
_SECTION = re.compile(r"\[([^\]]+)\]$")
_OPTION = re.compile(r"([A-Za-z0-9_]+)\s*(=.*)?$")
_NAME = re.compile(r"[a-z][a-z0-9_]*$")


class JobError(Exception):
    """The job or the overrides cannot make an effective job."""


def check_option(key: str, value: str) -> None:
    """An option name fio could have, and a value that stays on its line."""
    if not _NAME.match(key):
        raise JobError(f"'{key}' is not a fio option name")
    if any(c in value for c in "\n\r\0"):
        raise JobError(f"the value of {key} holds a line break or a NUL byte")


def effective_job(job: Path, options: Mapping[str, str],
                  sections: Sequence[str] = (), origin: str = "") -> str:
    """The text of JOB with every line setting one of options set to its
    value instead, and only [global] and sections kept when sections is
    not empty; headed by a comment saying what was changed."""
    for key, value in options.items():
        check_option(key, value)
    try:
        lines = job.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise JobError(f"cannot read {job}: {getattr(e, 'strerror', None) or e}")
    out: list[str] = []
    seen: set[str] = set()
    found: set[str] = set()
    keep = True
    for line in lines:
        s = line.strip()
        m = _SECTION.match(s)
        if m:
            name = m.group(1)
            seen.add(name)
            keep = not sections or name == "global" or name in sections
        if not keep:
            continue
        o = _OPTION.match(s) if not m and s[:1] not in ("", ";", "#") else None
        if o and o.group(1) == "include":
            raise JobError(f"{job} includes another file: not supported")
        if o and o.group(1) in options:
            found.add(o.group(1))
            line = f"{o.group(1)}={options[o.group(1)]}"
        out.append(line)
    missing = [s for s in sections if s not in seen]
    if missing:
        raise JobError(f"{job} has no section [{missing[0]}]")
    unset = [k for k in options if k not in found]
    if unset:
        where = " in the sections kept" if sections else ""
        raise JobError(f"{job} does not set {unset[0]}{where}: nothing to replace")
    what = " ".join(f"{k}={v}" for k, v in options.items()) or "nothing changed"
    if sections:
        what += f"; sections {', '.join(sections)} only"
    head = [f"; Effective job: {origin or job} with {what}",
            f"; (written by tools/{PROG}.py: this is the text fio ran)"]
    return "\n".join(head + out) + "\n"


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0].split(": ", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--section", action="append", default=[], metavar="NAME",
                    help="keep only this job section (and [global]); repeatable")
    ap.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    ap.add_argument("job", metavar="JOB", help="the job file (jobs/NAME.fio)")
    ap.add_argument("options", nargs="*", metavar="OPTION=VALUE",
                    help="an option the job sets, and the value to set it to")
    a = ap.parse_args(argv)
    options: dict[str, str] = {}
    for arg in a.options:
        key, eq, value = arg.partition("=")
        if not eq:
            ap.error(f"'{arg}' is not OPTION=VALUE")
        options[key] = value
    try:
        text = effective_job(Path(a.job), options, a.section)
    except JobError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    if a.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(a.output).write_text(text)
    except OSError as e:
        print(f"{PROG}: cannot write {a.output}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head: end quietly
    sys.exit(main(sys.argv[1:]))
