#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""JUnit XML from aio-conform's JSON, for CI systems that show test results.

One <testsuite> per conform.json (named after its run directory: host,
kernel release, run id), one <testcase> per test and variant.  fail and
timeout are failures, skip is skipped with its reason, xfail passes.

  python3 ci/junit.py [-o FILE] CONFORM_JSON...   (default: stdout)
  python3 ci/junit.py --all RESULTS_DIR -o FILE   every conform.json under it
"""
from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def suite(path: Path) -> ET.Element:
    data = json.loads(path.read_text())
    parts = path.resolve().parent.parts
    name = "/".join(parts[-3:]) if len(parts) >= 3 else str(path.parent)
    s = ET.Element("testsuite", name=name)
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    total_s = 0.0
    for r in data.get("results", []):
        test = r.get("name", "?")
        variant = r.get("variant") or ""
        seconds = (r.get("duration_ns") or 0) / 1e9
        total_s += seconds
        case = ET.SubElement(s, "testcase", classname=name,
                             name=f"{test}[{variant}]" if variant else test,
                             time=f"{seconds:.3f}")
        counts["tests"] += 1
        result = r.get("result", "")
        reason = r.get("reason") or ""
        if result in ("fail", "timeout", "error", "xpass"):
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=f"{result}: {reason}")
        elif result == "skip":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=reason)
    for k, v in counts.items():
        s.set(k, str(v))
    s.set("time", f"{total_s:.3f}")
    return s


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="junit", description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--all", type=Path, help="every conform.json under DIR")
    ap.add_argument("-o", "--output", type=Path)
    args = ap.parse_args(argv)
    files = list(args.files)
    if args.all:
        files += sorted(args.all.rglob("conform.json"))
    root = ET.Element("testsuites")
    for f in files:
        try:
            root.append(suite(f))
        except (OSError, ValueError) as err:
            print(f"junit: {f}: {err}", file=sys.stderr)
            return 1
    text = ET.tostring(root, encoding="unicode")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
