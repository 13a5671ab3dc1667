#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Chart data and drawing for the scenario studies.

Scenarios turn their points into gnuplot data files here and draw them with
the templates in plots/, which take the data file and the output path as
arguments:  gnuplot -e "data='x.dat'; out='x.png'" plots/x.gp

A series file holds one block per series (blocks are separated by two blank
lines, gnuplot's `index`); each block starts with the series title in
quotes, which the templates read with `title columnheader(1)`.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Sequence

from aiosuite import store

PLOTS = store.PLOTS


def mean(v: Sequence[float]) -> float:
    return sum(v) / len(v) if v else math.nan


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else f"{v:.6g}"
    s = str(v)
    return f'"{s}"' if (" " in s or not s) else s


def write_series(path: Path, series: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> int:
    """Write blocks of rows; return the number of blocks written."""
    out: list[str] = []
    n = 0
    for title, rows in series:
        if not rows:
            continue
        if n:
            out += ["", ""]
        out.append(f'"{title}"')
        out += [" ".join(fmt(c) for c in row) for row in rows]
        n += 1
    path.write_text("\n".join(out) + "\n")
    return n


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """One table with a header line (for histogram and matrix templates)."""
    lines = [" ".join(fmt(h) for h in header)]
    lines += [" ".join(fmt(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def draw(scenario: str, dat: Path, png: Path) -> str:
    """Draw plots/<scenario>.gp; return "" or the reason there is no chart."""
    gp = PLOTS / f"{scenario}.gp"
    if not shutil.which("gnuplot"):
        return "gnuplot is not installed"
    if not gp.exists():
        return f"{gp} is missing"
    # Only names the study made itself reach gnuplot code: gnuplot runs in
    # the data file's directory and is given the bare file names, never a
    # path that holds a host, kernel release or run id (docs/REPORT.md).
    if dat.parent != png.parent or not all(SAFE_NAME.fullmatch(f.name) for f in (dat, png)):
        return f"cannot draw {png.name}: only plain file names in one directory are drawn"
    cmd = ["gnuplot", "-e", f"data='{dat.name}'; out='{png.name}'", str(gp.resolve())]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=dat.parent)
    if p.returncode != 0 or not png.exists() or png.stat().st_size == 0:
        lines = p.stderr.strip().splitlines()
        return f"gnuplot {gp.name}: {lines[-1] if lines else 'no output'}"
    return ""
