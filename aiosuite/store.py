#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The results store: where a run's files go and what is recorded with them.

results/<host>/<kernel release>/<run id>/ holds every JSON and KTAP file of
one run and env.json, the environment it ran in.  Tools import this module;
nothing here parses the human-readable text of a binary.
"""
from __future__ import annotations

import datetime
import errno
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiosuite.schemas import EnvDoc

# Where the suite's files are.  In a checkout (aiosuite/ at its top): the
# binaries in build/ (or $BUILD), the job files in jobs/, the gnuplot
# templates in plots/, the results in results/ and the scratch files in the
# checkout.  Installed, make install writes INSTALLED_FILE beside this
# module, naming the directories it installed into: the binaries are in its
# "bin", the job files and templates under its "data", the commands in its
# "commands"; the results and scratch files go under the user's data
# directory, $XDG_DATA_HOME/aio-suite (~/.local/share/aio-suite), never
# into the installed tree.  AIO_SUITE_BIN and AIO_SUITE_DATA override the
# binaries' and the data's directory either way; AIO_SUITE_RESULTS (or a
# command's --results) the results store.
TOP = Path(__file__).resolve().parent.parent
INSTALLED_FILE = Path(__file__).resolve().parent / "installed.json"


def _installed() -> dict[str, str]:
    """The directories make install recorded, or {} in a checkout."""
    try:
        doc = json.loads(INSTALLED_FILE.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: v for k, v in doc.items() if isinstance(v, str) and v.startswith("/")}


INSTALLED = _installed()
BUILD = Path(os.environ.get("AIO_SUITE_BIN") or INSTALLED.get("bin")
             or os.environ.get("BUILD") or TOP / "build")
DATA = Path(os.environ.get("AIO_SUITE_DATA") or INSTALLED.get("data") or TOP)
JOBS = DATA / "jobs"
PLOTS = DATA / "plots"


def work_dir() -> Path:
    """Where the suite's own files go by default: the checkout's top, or,
    installed, the user's data directory, $XDG_DATA_HOME/aio-suite.  The
    results store is its results/, and the scratch directories are made in
    it."""
    if not INSTALLED:
        return TOP
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg.startswith("/") else \
        Path(os.path.expanduser("~")) / ".local" / "share"
    return base / "aio-suite"


def default_scratch() -> Path:
    """The parent of the scratch directories when none is given: work_dir(),
    made when it is missing (a failure is left for scratch.parent_problem()
    to name)."""
    work = work_dir()
    if INSTALLED:
        try:
            work.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
    return work


def results_root() -> Path:
    given = os.environ.get("AIO_SUITE_RESULTS")
    return Path(given) if given else work_dir() / "results"


def not_built(path: Path) -> str:
    """The one-line reason for a missing binary of the suite."""
    if os.environ.get("AIO_SUITE_BIN"):
        return f"{path} does not exist (AIO_SUITE_BIN is {os.environ['AIO_SUITE_BIN']})"
    if INSTALLED:
        return f"{path} is not installed (install aio-suite again, or set AIO_SUITE_BIN)"
    return f"{path} is not built (run make)"


def tool_command(name: str) -> list[str]:
    """The command line that runs the suite's Python command NAME (study,
    report): the checkout's tools/NAME.py, or the installed aio-NAME; with
    this Python either way, so that it runs this package."""
    py = sys.executable or "python3"
    if INSTALLED.get("commands"):
        return [py, str(Path(INSTALLED["commands"]) / f"aio-{name}")]
    return [py, str(TOP / "tools" / f"{name}.py")]


def new_run_dir(tag: str = "") -> Path:
    """Create and return results/<host>/<release>/<run id>/.

    When AIO_SUITE_RUN_DIR is set (make bench sets it for the tools it
    runs), every tool writes into that one directory instead.
    """
    shared = os.environ.get("AIO_SUITE_RUN_DIR")
    if shared:
        d = Path(shared)
        d.mkdir(parents=True, exist_ok=True)
        return d
    return make_unique_dir(inside(results_root(), platform.node(), platform.release(),
                                  run_id(tag)))


class OutsideRoot(OSError):
    """A name that would put a path outside its root (or is no name at all).

    An OSError (EINVAL) so that the callers' "cannot write the results"
    handling reports it in one line; str() is that line's reason."""

    def __init__(self, message: str):
        super().__init__(errno.EINVAL, message)

    def __str__(self) -> str:
        return str(self.strerror)


def check_name(name: str, what: str = "name") -> str:
    """name, when it is one plain path component: not empty, not . or ..,
    no "/" and no NUL; otherwise OutsideRoot saying so."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise OutsideRoot(f"{what} {name!r} is not one plain name (it is empty, "
                          "'.' or '..', or holds '/' or NUL)")
    return name


def inside(root: Path, *names: str, what: str = "name") -> Path:
    """root/names[0]/names[1]/...: each name one plain component
    (check_name), and the path, with the symbolic links that exist
    resolved, still inside root.  Raises OutsideRoot otherwise: every path
    the suite builds from a name (a host, a kernel release, a run id, a file
    named in a result) goes through here."""
    path = root
    for n in names:
        path = path / check_name(n, what)
    base = root.resolve()
    real = path.resolve()
    if real != base and base not in real.parents:
        raise OutsideRoot(f"{path} leads outside {root} (to {real})")
    return path


def run_id(tag: str = "") -> str:
    """The UTC time of now, 20260101T120000Z, and -tag when there is one."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{tag}" if tag else stamp


def make_unique_dir(base: Path) -> Path:
    """Create base, or base.2, base.3, ... when it exists; return the one made."""
    d, n = base, 1
    base.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            d.mkdir()  # not exists() first: two runs started at once race
            return d
        except FileExistsError:
            n += 1
            d = base.with_name(f"{base.name}.{n}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace").strip()
    except OSError:
        return ""


def _version(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return ""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


def _dpkg_version(pkg: str) -> str:
    return _version(["dpkg-query", "-W", "-f=${Version}", pkg])


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _hypervisor() -> str:
    flags = _read("/proc/cpuinfo")
    if " hypervisor" not in flags:
        return ""
    vendor = _read("/sys/class/dmi/id/sys_vendor")
    product = _read("/sys/class/dmi/id/product_name")
    return f"{vendor} {product}".strip() or "unknown hypervisor"


def environment() -> EnvDoc:
    """What a reader needs to interpret the numbers of a run."""
    u = platform.uname()
    mem_kib = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "host": u.node,
        "kernel_release": u.release,
        "kernel_version": u.version,
        "machine": u.machine,
        "cmdline": _read("/proc/cmdline"),
        "cpu_model": _cpu_model(),
        "cpus_online": os.cpu_count() or 0,
        "memory_bytes": mem_kib * 1024,
        "hypervisor": _hypervisor(),
        "aio_max_nr": _read("/proc/sys/fs/aio-max-nr"),
        "io_uring_disabled": _read("/proc/sys/kernel/io_uring_disabled"),
        "uid": os.geteuid(),
        "versions": {
            "fio": _version(["fio", "--version"]),
            "gcc": _version(["gcc", "--version"]),
            "libaio": _dpkg_version("libaio1") or _dpkg_version("libaio1t64"),
            "liburing": _dpkg_version("liburing2"),
            "python": platform.python_version(),
        },
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())
