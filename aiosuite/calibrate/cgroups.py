# SPDX-License-Identifier: GPL-2.0
"""Description: the cgroups make calibrate slows its workload down with: a
CPU quota (cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us, or v2
cpu.max) and a read IOPS limit on one block device (v1
blkio.throttle.read_iops_device, or v2 io.max riops).

A Group is made of one directory per hierarchy (v1: one under the cpu and
one under the blkio mount; v2: one), named aio-suite-calibrate-<pid>-<start
time of that pid>, so that sweep() can tell a group a killed run left from
one a live run owns.  Only the measured program joins it: the wrapper
script (WRAPPER) writes its own pid into the group's cgroup.procs files
named by AIO_CALIBRATE_PROCS, then execs AIO_CALIBRATE_EXEC with its
arguments, so that the program is in the group before it measures
anything; the calibration itself and the machine probe stay outside.
Group.remove() removes the directories (the caller pushes it on its
Cleanup stack, so that it runs on every exit path).

AIO_SUITE_CGROUP_ROOT moves the cgroup root (default /sys/fs/cgroup): the
tests point it at a directory without controllers to see the skip.
"""
from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosuite import scratch

PREFIX = "aio-suite-calibrate-"
# A period short enough for several in every sample, long enough that the
# kernel's runtime slices (sched_cfs_bandwidth_slice_us, 5 ms) are small
# against the quota.
CPU_PERIOD_US = 50_000
MIN_QUOTA_US = 1_000  # the kernel refuses less
ENV_PROCS = "AIO_CALIBRATE_PROCS"
ENV_EXEC = "AIO_CALIBRATE_EXEC"

# Fixed text: the paths reach it through the environment, never into it.
WRAPPER = """#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Description: written by aio-calibrate (aiosuite/calibrate/cgroups.py):
# join the cgroups whose cgroup.procs files AIO_CALIBRATE_PROCS names
# (separated by ":"), then exec AIO_CALIBRATE_EXEC with the arguments.
set -f
IFS=:
for f in $AIO_CALIBRATE_PROCS; do
	echo $$ >"$f" || { echo "aio-calibrate: cannot join the cgroup of $f" >&2; exit 1; }
done
unset IFS
exec "$AIO_CALIBRATE_EXEC" "$@"
"""


def root() -> Path:
    return Path(os.environ.get("AIO_SUITE_CGROUP_ROOT") or "/sys/fs/cgroup")


@dataclass
class Layout:
    """Where the controllers are: the parent directory of our groups for
    each, and why one is missing."""
    version: int = 0  # 1 or 2; 0: neither controller found
    cpu: Path | None = None
    io: Path | None = None
    cpu_missing: str = ""
    io_missing: str = ""


def detect(base: Path | None = None) -> Layout:
    """The cpu and block I/O controllers of this machine: v1 when the cpu
    or blkio hierarchy is mounted, else v2 when the root's subtree_control
    enables cpu or io."""
    base = base or root()
    lay = Layout()
    v1cpu, v1io = base / "cpu", base / "blkio"
    if (v1cpu / "cpu.cfs_quota_us").exists() or (v1io / "blkio.throttle.read_iops_device").exists():
        lay.version = 1
        if (v1cpu / "cpu.cfs_quota_us").exists():
            lay.cpu = v1cpu
        else:
            lay.cpu_missing = f"no cpu controller with CFS bandwidth ({v1cpu}/cpu.cfs_quota_us)"
        if (v1io / "blkio.throttle.read_iops_device").exists():
            lay.io = v1io
        else:
            lay.io_missing = (f"no blkio controller with throttling "
                              f"({v1io}/blkio.throttle.read_iops_device)")
        return lay
    try:
        enabled = (base / "cgroup.subtree_control").read_text().split()
    except OSError:
        lay.cpu_missing = lay.io_missing = (
            f"no cgroup controllers under {base} (neither v1 cpu and blkio "
            "hierarchies nor cgroup v2)")
        return lay
    lay.version = 2
    if "cpu" in enabled:
        lay.cpu = base
    else:
        lay.cpu_missing = f"cgroup v2: the cpu controller is not enabled in {base}/cgroup.subtree_control"
    if "io" in enabled:
        lay.io = base
    else:
        lay.io_missing = f"cgroup v2: the io controller is not enabled in {base}/cgroup.subtree_control"
    return lay


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def group_name(pid: int | None = None) -> str:
    pid = pid if pid is not None else os.getpid()
    return f"{PREFIX}{pid}-{scratch.start_time(pid) or 0}"


@dataclass
class Group:
    """One calibration cgroup: a directory per hierarchy."""
    layout: Layout
    name: str
    dirs: list[Path] = field(default_factory=list)

    def make(self) -> None:
        """Make the directories, each recorded as soon as it exists (so
        that remove() takes what was made when a later one fails)."""
        for parent in dict.fromkeys(p for p in (self.layout.cpu, self.layout.io)
                                    if p is not None):
            d = parent / self.name
            d.mkdir()
            self.dirs.append(d)

    @property
    def cpu_dir(self) -> Path | None:
        return self.layout.cpu / self.name if self.layout.cpu else None

    @property
    def io_dir(self) -> Path | None:
        return self.layout.io / self.name if self.layout.io else None

    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs]

    def set_cpu(self, quota_us: int | None, period_us: int = CPU_PERIOD_US) -> None:
        """A quota of quota_us CPU time per period_us; None: no limit."""
        d = self.cpu_dir
        if d is None:
            raise OSError(errno.ENOENT, "no cpu controller")
        if quota_us is not None:
            quota_us = max(MIN_QUOTA_US, int(quota_us))
        if self.layout.version == 1:
            _write(d / "cpu.cfs_quota_us", "-1")
            _write(d / "cpu.cfs_period_us", str(period_us))
            if quota_us is not None:
                _write(d / "cpu.cfs_quota_us", str(quota_us))
        else:
            _write(d / "cpu.max", f"{quota_us if quota_us is not None else 'max'} {period_us}")

    def set_read_iops(self, dev: str, iops: int | None) -> None:
        """At most iops reads a second on dev ("MAJ:MIN"); None: no limit."""
        d = self.io_dir
        if d is None:
            raise OSError(errno.ENOENT, "no block I/O controller")
        if self.layout.version == 1:
            # 0 removes the rule.
            _write(d / "blkio.throttle.read_iops_device",
                   f"{dev} {max(1, int(iops)) if iops is not None else 0}")
        else:
            _write(d / "io.max", f"{dev} riops={max(1, int(iops)) if iops is not None else 'max'}")

    def cpu_stat(self) -> dict[str, int]:
        """cpu.stat's counters (nr_periods, nr_throttled, throttled_time or
        throttled_usec); {} when unreadable."""
        d = self.cpu_dir
        out: dict[str, int] = {}
        try:
            for line in (d / "cpu.stat").read_text().splitlines() if d else []:
                k, _, v = line.partition(" ")
                if v.strip().isdigit():
                    out[k] = int(v)
        except OSError:
            pass
        return out

    def remove(self, wait_s: float = 5.0) -> None:
        """Remove the directories; a group is busy for a moment after its
        last process exits."""
        left = []
        for d in self.dirs:
            if not _rmdir(d, wait_s):
                left.append(str(d))
        self.dirs = []
        if left:
            raise OSError(errno.EBUSY, f"cgroup still busy: {', '.join(left)}")


def _rmdir(d: Path, wait_s: float) -> bool:
    end = time.monotonic() + wait_s
    while True:
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() > end:
                return False
            time.sleep(0.05)


def sweep(layout: Layout) -> list[str]:
    """Remove the calibration groups whose owner (the pid and start time in
    the name) is gone: what a killed run left.  Returns what it removed."""
    removed = []
    for parent in dict.fromkeys(p for p in (layout.cpu, layout.io) if p is not None):
        try:
            entries = sorted(parent.iterdir())
        except OSError:
            continue
        for d in entries:
            if not d.name.startswith(PREFIX) or not d.is_dir():
                continue
            pid_s, _, start_s = d.name[len(PREFIX):].partition("-")
            if not (pid_s.isdigit() and start_s.isdigit()):
                continue
            if scratch.start_time(int(pid_s)) == int(start_s):
                continue  # its owner is alive
            if _rmdir(d, 1.0):
                removed.append(str(d))
    return removed


def write_wrapper(directory: Path) -> Path:
    path = directory / "cgroup-exec.sh"
    path.write_text(WRAPPER)
    path.chmod(0o755)
    return path


def wrapper_env(group: Group, program: Path) -> dict[str, str]:
    return {ENV_PROCS: ":".join(str(p) for p in group.procs_files()), ENV_EXEC: str(program)}


def device_of(path: str) -> str:
    """"MAJ:MIN" of a block device node."""
    st = os.stat(path)
    return f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
