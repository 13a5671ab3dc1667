#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Targets for the scenario studies, and their removal on every exit path.

A target is a directory where a scenario creates its files: the scratch
directory always; as root also filesystems made on loop-device images
(ext4, xfs, btrfs) and a tmpfs mount.  Block-device targets (a loop device
over a scratch file, direct I/O on or off) are attached on demand.

Everything set up here is pushed on a Cleanup stack and undone in reverse
order by Cleanup.run(), which the study (cli.py) calls from a finally clause; SIGTERM
and SIGHUP (and SIGINT, also when inherited ignored) are turned into
KeyboardInterrupt so they take the same path as Ctrl-C (aiosuite/interrupt.py).
The scratch directory carries its owner file and loop devices are attached
with autoclear and a held descriptor (aiosuite/scratch.py), so that what a
SIGKILL leaves is swept by the next run.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from aiosuite import scratch, store

FS_IMAGE_BYTES = 1 << 30  # xfs wants 300 MiB at least; the image is sparse


def is_root() -> bool:
    return os.geteuid() == 0


class Cleanup:
    """A stack of undo actions, run newest first, each at most once."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, Callable[[], object]]] = []

    def push(self, what: str, fn: Callable[[], object]) -> None:
        self._stack.append((what, fn))

    def run(self) -> None:
        # No signal may cut the clean-up short.
        old = {s: signal.signal(s, signal.SIG_IGN)
               for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            while self._stack:
                what, fn = self._stack.pop()
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - keep cleaning
                    print(f"study: cleanup of {what} failed: {e}", file=sys.stderr)
        finally:
            for s, h in old.items():
                signal.signal(s, h)


def _run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _err(p: subprocess.CompletedProcess[str]) -> str:
    lines = (p.stderr or p.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {p.returncode}"


def loops_over(directory: Path) -> list[str]:
    """Loop devices whose backing file lies under directory."""
    prefix = str(directory.resolve()) + "/"
    return [f"/dev/{n}" for n, back in scratch.loops() if back.startswith(prefix)]


def loop_attach(cleanup: Cleanup, backing: Path, dio: bool) -> str:
    """Attach a loop device over backing (autoclear, its descriptor held
    until the cleanup detaches it); return /dev/loopN."""
    lo = scratch.attach_loop(backing, dio)
    cleanup.push(f"loop device {lo.path}", lo.detach)
    return lo.path


def loop_dio(dev: str) -> bool:
    try:
        return Path(f"/sys/block/{Path(dev).name}/loop/dio").read_text().strip() == "1"
    except OSError:
        return False


def odirect_ok(directory: Path) -> bool:
    probe = directory / ".odirect-probe"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o600)
        os.close(fd)
        return True
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)


def fstype(path: Path) -> str:
    """The type of the filesystem holding path (ext4, xfs, tmpfs, ...)."""
    p = _run(["findmnt", "-n", "-o", "FSTYPE", "-T", str(path)])
    if p.returncode == 0 and p.stdout.strip():
        return p.stdout.strip().splitlines()[0]
    p = _run(["stat", "-f", "-c", "%T", str(path)])
    return p.stdout.strip() if p.returncode == 0 else "unknown"


@dataclass
class Target:
    """A directory to put scenario files in."""
    name: str
    directory: Path
    fstype: str
    odirect: bool
    device: str = ""

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "directory": str(self.directory),
                "fstype": self.fstype, "o_direct": self.odirect,
                "device": self.device}


FS_NAMES = ("ext4", "xfs", "btrfs", "tmpfs")


class Targets:
    """The scratch directory and, lazily, the root-only filesystem targets."""

    def __init__(self, cleanup: Cleanup, base: Path | None) -> None:
        self.cleanup = cleanup
        parent = base if base else store.default_scratch()
        self.scratch = scratch.make_dir(parent, ".scratch-study-", "study")
        sdir = self.scratch
        cleanup.push(f"scratch directory {sdir}", lambda: _remove(sdir))
        # Belt and braces: a loop device a killed child left over our files.
        cleanup.push("stray loop devices", self._sweep_loops)
        self._fs: dict[str, Target | str] = {}
        self.scratch_target = Target("scratch", sdir, fstype(sdir), odirect_ok(sdir))

    def _sweep_loops(self) -> None:
        if not is_root():
            return
        for dev in loops_over(self.scratch):
            scratch.loop_clear(Path(dev).name)

    def fs(self, name: str) -> Target | str:
        """The target named name, or the reason it is not available."""
        if name == "scratch":
            return self.scratch_target
        if name not in self._fs:
            try:
                self._fs[name] = self._make_fs(name)
            except (OSError, subprocess.TimeoutExpired) as e:
                self._fs[name] = f"{name}: {e}"
        return self._fs[name]

    def _make_fs(self, name: str) -> Target | str:
        if not is_root():
            return f"{name} target needs root (mkfs, loop device, mount)"
        mnt = self.scratch / f"mnt-{name}"
        mnt.mkdir()
        self.cleanup.push(f"mount point {mnt}", lambda: mnt.rmdir() if mnt.exists() else None)
        dev = ""
        if name == "tmpfs":
            # Pushed before mounting: an interrupt between mount and push
            # must not leave the mount behind (_umount does nothing when
            # unmounted).
            self.cleanup.push(f"mount {mnt}", lambda: _umount(mnt))
            p = _run(["mount", "-t", "tmpfs", "-o", "size=1g", "aio-suite-study", str(mnt)])
        else:
            mkfs = f"mkfs.{name}"
            if not shutil.which(mkfs):
                return f"{mkfs} is not installed"
            if not Path("/dev/loop-control").exists():
                return "no /dev/loop-control (loop driver missing)"
            img = self.scratch / f"{name}.img"
            with open(img, "wb") as f:
                f.truncate(FS_IMAGE_BYTES)
            flag = {"ext4": ["-q", "-F"], "xfs": ["-q", "-f"], "btrfs": ["-q", "-f"]}[name]
            p = _run([mkfs, *flag, str(img)])
            if p.returncode != 0:
                return f"{mkfs}: {_err(p)}"
            dev = loop_attach(self.cleanup, img, dio=True)
            # After the loop device: unmounted first, then detached.
            self.cleanup.push(f"mount {mnt}", lambda: _umount(mnt))
            p = _run(["mount", "-t", name, dev, str(mnt)])
        if p.returncode != 0:
            return f"mount {name}: {_err(p)}"
        return Target(name, mnt, fstype(mnt), odirect_ok(mnt), dev)

    def block_file(self, name: str, size: int, fill: bool) -> Path:
        """A backing file for a loop device, in the scratch directory."""
        path = self.scratch / f"{name}.img"
        write_file(path, size, fill)
        return path


def _remove(directory: Path) -> None:
    """Remove the scratch directory, never crossing into a mount left."""
    kept = scratch.remove_dir(directory)
    if kept:
        raise OSError(f"left: {'; '.join(kept)}")


def _umount(mnt: Path) -> None:
    if not os.path.ismount(mnt):
        return
    for _ in range(20):
        p = _run(["umount", str(mnt)])
        if p.returncode == 0:
            return
        time.sleep(0.2)
    p = _run(["umount", "-l", str(mnt)])
    if p.returncode != 0:
        raise OSError(f"umount {mnt}: {_err(p)}")


CHUNK = 1 << 20


def write_file(path: Path, size: int, fill: bool) -> None:
    """Create path of size bytes: written with non-zero data, or sparse."""
    with open(path, "wb") as f:
        if fill:
            block = bytes(range(256)) * (CHUNK // 256)
            left = size
            while left > 0:
                n = min(left, CHUNK)
                f.write(block[:n])
                left -= n
            f.flush()
            os.fsync(f.fileno())
        else:
            f.truncate(size)


def drop_file_cache(path: Path) -> None:
    """Write back and evict path's pages (posix_fadvise DONTNEED)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def drop_caches() -> str:
    """Drop the whole page cache when root; say how cold was made."""
    if is_root():
        os.sync()
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
            return "drop_caches"
        except OSError:
            pass
    return "fadvise"


def warm_file(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            while f.read(CHUNK):
                pass
    except OSError:
        pass


def meminfo_cached() -> int:
    """Cached in /proc/meminfo, bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Cached:"):
            return int(line.split()[1]) * 1024
    return 0
