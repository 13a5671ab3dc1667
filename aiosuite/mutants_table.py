#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render a mutation run's summary.json (ci/mutants.py) as Markdown.

  python3 tools/mutants_table.py [SUMMARY]     default: the newest
                                              results/mutants/*/summary.json

The score line (killed of the viable mutants), the times (the build from
scratch, the clean kernel's incremental build and run, each mutant's
build and run), one row per mutant with what killed it, and the
survivors.  Exit status: 0, 1 when the summary cannot be read or is not
an aio-suite-mutants/1 document, 2 on usage.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aiosuite import store

PROG = "mutants_table"
SCHEMA = "aio-suite-mutants/1"


class TableError(Exception):
    pass


def newest_summary(root: Path) -> Path:
    found = sorted((root / "mutants").glob("*/summary.json"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        raise TableError(f"no mutation run in {root / 'mutants'} "
                         "(make mutants)")
    return found[-1]


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise TableError(f"cannot read {path}: {err}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise TableError(f"{path} is not an {SCHEMA} document")
    return doc


def cell(text: str, limit: int = 0) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    if limit and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text


def seconds(v: Any) -> str:
    if not isinstance(v, (int, float)):
        return "-"
    return f"{v / 60:.1f} min" if v >= 120 else f"{v:.0f} s"


def render(doc: dict[str, Any]) -> str:
    t = doc.get("totals") or {}
    ms = doc.get("mutants") or []
    lines = [f"## Mutation score: kernel {doc.get('kernel_release', '?')}", ""]
    score = t.get("score_percent")
    lines.append(
        f"**{score if score is not None else '-'}%** of the viable mutants "
        f"killed: {t.get('killed', 0)} killed, {t.get('survived', 0)} "
        f"survived, {t.get('not_viable', 0)} not viable (not counted)"
        + (f", {t['pending']} not run" if t.get("pending") else "") +
        f"; {t.get('mutants', len(ms))} mutants.")
    state = []
    if not doc.get("complete"):
        state.append("**incomplete run**" +
                     (f" (stopped by {doc['interrupted']})"
                      if doc.get("interrupted") else ""))
    accel = doc.get("accelerator") or "?"
    state.append(f"qemu {accel}" + (" (emulated)" if doc.get("emulated")
                                    else ""))
    base = doc.get("baseline") or {}
    lines += ["", "; ".join(state) + ".", ""]
    runs = [m for m in ms if m.get("status") in ("killed", "survived")]
    builds = [m["build_s"] for m in ms if m.get("build_s")]
    per = [m.get("build_s", 0) + m.get("run_s", 0) + m.get("confirm_s", 0)
           for m in runs]
    lines += [
        "| time | |", "|---|---|",
        f"| kernel build from scratch (-j{doc.get('jobs', '?')}) | "
        f"{seconds(doc.get('cold_build_s'))} |",
        f"| clean kernel: incremental build, suite in the guest | "
        f"{seconds(doc.get('clean_build_s'))}, {seconds(base.get('run_s'))} |",
        "| a mutant: incremental build (median) | " +
        (seconds(sorted(builds)[len(builds) // 2]) if builds else "-") + " |",
        "| a mutant: build, run and confirm (median) | " +
        (seconds(sorted(per)[len(per) // 2]) if per else "-") + " |",
        f"| the whole run | {seconds(doc.get('elapsed_s'))} |", ""]
    if base.get("failing"):
        lines += ["Failing on the clean kernel (not counted as kills): " +
                  ", ".join(base["failing"]) + ".", ""]
    lines += ["| mutant | status | killed by | build | run |",
              "|---|---|---|---|---|"]
    for m in ms:
        why = m.get("killed_by") or []
        text = "; ".join(why[:3]) + (f"; and {len(why) - 3} more"
                                     if len(why) > 3 else "")
        if m.get("status") == "not-viable":
            text = m.get("reason", "")
        lines.append(
            f"| {cell(m.get('id', '?'))}: {cell(m.get('description', ''), 110)}"
            f" | {m.get('status', '?')} | {cell(text, 160)} | "
            f"{seconds(m.get('build_s'))} | {seconds(m.get('run_s'))} |")
    surv = [m for m in ms if m.get("status") == "survived"]
    if surv:
        lines += ["", "Survivors:", ""]
        for m in surv:
            extra = ""
            if m.get("unconfirmed"):
                extra = " (failed once, not again: " + \
                    cell("; ".join(m["unconfirmed"]), 200) + ")"
            lines.append(f"- {m['id']}: {cell(m.get('description', ''))}"
                         f"{extra}" + (f" Would kill it: {cell(m['note'])}"
                                       if m.get("note") else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        print(f"{PROG}: usage: mutants_table.py [SUMMARY]", file=sys.stderr)
        return 2
    try:
        path = Path(argv[0]) if argv else newest_summary(store.results_root())
        sys.stdout.write(render(load(path)))
    except TableError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
