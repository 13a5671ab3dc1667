#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The machine's own speed, measured beside the kernel's: the control of a
comparison between runs.

A probe runs build/aio-machine (src/tools/aio-machine.c, schema
aio-machine/1): fixed work that never enters the AIO code, timed several
times (a user-space loop, getppid() and small reads of /dev/zero, a copy of
a buffer larger than the L2 cache), the CPU steal over the probe and the
probe's CPU time against its wall time.  It goes into the probe's
"control".  Without a built aio-machine (or when it fails) the control is
the Python loop below, and says so ("source": "python", "reason").

Every probe also keeps the figures of aio-suite-machine/1, which the report
compares today: the Python loop (integer arithmetic in the interpreter, no
system call inside the timed loop) and the CPU time the hypervisor took
from this guest (steal, /proc/stat) since the previous probe.  The kernel
under test does not run in the timed loops, so a change of the probe
between two runs is a change of the machine (host load, CPU frequency,
another guest), not of the kernel.  make bench and tools/study.py record a
probe at every round (tools/study.py: before every scenario of every
round, and the points of that scenario name it) and one at the end, in
machine.json of the run directory (schema aio-suite-machine/2,
docs/RESULTS-FORMAT.md); tools/report.py compares the probes of two
columns and will not call a change a regression when the machine alone
moved as much (docs/REPORT.md).

  tools/machine.py [DIR]    probe now; append to DIR/machine.json, or print
"""
from __future__ import annotations

import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import store  # noqa: E402

SCHEMA = "aio-suite-machine/2"
LOOP_ITERATIONS = 200_000
PROBE_REPEATS = 7
CONTROL_TIMEOUT_S = 20.0


def _work(n: int) -> int:
    """The fixed work: a linear congruential sequence, kept live."""
    x = 1
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    return x


def cpu_loop_ns(repeats: int = PROBE_REPEATS,
                n: int = LOOP_ITERATIONS) -> tuple[list[int], list[int]]:
    """Wall time and the thread's CPU time of the fixed work, repeats
    times, in nanoseconds."""
    wall, cpu = [], []
    for _ in range(repeats):
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        _work(n)
        wall.append(time.perf_counter_ns() - t0)
        cpu.append(time.thread_time_ns() - c0)
    return wall, cpu


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs since boot; None when unreadable."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu "):
                    v = [int(x) for x in line.split()[1:]]
                    steal = v[7] if len(v) > 7 else 0
                    # guest and guest_nice are already in user and nice.
                    return steal, sum(v[:8])
    except (OSError, ValueError):
        pass
    return None


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"schema": SCHEMA, "probes": []}
    if not isinstance(data, dict) or not isinstance(data.get("probes"), list):
        return {"schema": SCHEMA, "probes": []}
    return data


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def c_control() -> tuple[dict[str, Any] | None, str]:
    """aio-machine's JSON, or None and why it is not there."""
    prog = store.BUILD / "aio-machine"
    if not prog.exists():
        return None, f"{prog} is not built (run make)"
    try:
        p = subprocess.run([str(prog)], capture_output=True, text=True,
                           timeout=CONTROL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"{prog} gave no result in {CONTROL_TIMEOUT_S:.0f} s"
    except OSError as e:
        return None, f"cannot run {prog}: {e.strerror or e}"
    if p.returncode != 0:
        return None, _last_line(p.stderr) or f"{prog} exit status {p.returncode}"
    try:
        data = json.loads(p.stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("schema") != "aio-machine/1":
        return None, f"{prog} printed no aio-machine/1 JSON"
    return data, ""


def python_control(samples: list[int], cpu_samples: list[int], cpu_ns: int, wall_ns: int,
                   reason: str) -> dict[str, Any]:
    """The fallback control: the Python loop's timings (other work than
    aio-machine's user loop: never compare the two)."""
    return {
        "source": "python", "reason": reason, "repeats": len(samples),
        "user_loop": {"iterations": LOOP_ITERATIONS,
                      "median_ns": statistics.median(samples),
                      "cpu_median_ns": statistics.median(cpu_samples),
                      "per_iteration_ns": statistics.median(samples) / LOOP_ITERATIONS,
                      "samples_ns": samples, "cpu_samples_ns": cpu_samples},
        "process": {"wall_ns": wall_ns, "cpu_ns": cpu_ns,
                    "cpu_per_wall": cpu_ns / wall_ns if wall_ns else 0.0},
    }


def probe(label: str, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """One probe; steal_pct covers the time since previous (a probe dict).
    Its "control" is aio-machine's figures, or the Python loop's when
    aio-machine is not built or fails."""
    w0, c0 = time.monotonic_ns(), time.process_time_ns()
    samples, cpu_samples = cpu_loop_ns()
    w1, c1 = time.monotonic_ns(), time.process_time_ns()
    ticks = cpu_ticks()
    entry: dict[str, Any] = {
        "label": label,
        "time_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_loop_ns": statistics.median(samples),
        "cpu_loop_ns_samples": samples,
        # The thread's CPU time of each: the wall time less the time the
        # probe did not run (another process, the hypervisor).
        "cpu_loop_cpu_ns_samples": cpu_samples,
        "loop_iterations": LOOP_ITERATIONS,
    }
    if ticks is not None:
        entry["steal_jiffies"], entry["total_jiffies"] = ticks
        if previous and "steal_jiffies" in previous:
            d_total = ticks[1] - previous["total_jiffies"]
            d_steal = ticks[0] - previous["steal_jiffies"]
            if d_total > 0:
                entry["steal_pct_since_previous"] = round(100.0 * d_steal / d_total, 3)
    data, why = c_control()
    if data is not None:
        entry["control"] = {"source": "aio-machine", "reason": "", **data}
    else:
        entry["control"] = python_control(samples, cpu_samples, c1 - c0, w1 - w0, why)
    return entry


def record(directory: Path, label: str, round_no: int | None = None) -> dict[str, Any]:
    """Probe and append the probe to directory/machine.json; the probe's
    "index" is its place in "probes" (what a study point's
    "control_probe" names), "round" the round it belongs to (from 1)."""
    path = directory / "machine.json"
    data = load(path)
    entry = probe(label, data["probes"][-1] if data["probes"] else None)
    entry["index"] = len(data["probes"])
    if round_no is not None:
        entry["round"] = round_no
    data["probes"].append(entry)
    data["schema"] = SCHEMA
    data["python"] = sys.version.split()[0]
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)
    return entry


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(f"machine: unexpected argument '{argv[-1]}' (see --help)", file=sys.stderr)
        return 2
    if argv:
        d = Path(argv[0])
        if not d.is_dir():
            print(f"machine: '{d}' is not a directory", file=sys.stderr)
            return 2
        if not os.access(d, os.W_OK | os.X_OK):
            print(f"machine: '{d}' is not writable", file=sys.stderr)
            return 2
        try:
            e = record(d, "manual")
        except OSError as err:
            print(f"machine: cannot write {d / 'machine.json'}: {err.strerror or err}",
                  file=sys.stderr)
            return 1
    else:
        e = probe("manual")
    print(json.dumps(e))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
