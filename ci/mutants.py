#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""How many kernel bugs would the suite catch?  A mutation score.

Builds a small kernel from Debian's linux-source-6.1 (tinyconfig plus
ci/mutants/kernel.config, everything built in) in the suite's cache, then
for each mutant ci/mutants/NNN-name.patch (a small change to fs/aio.c,
fs/eventfd.c, the block layer or iomap that models a plausible
regression): applies it, rebuilds incrementally, boots the kernel in qemu
with the suite's own runner (ci/kernels.py: aio-conform and aio-ioerr in
the guest), and records

  killed      a test that passes on the clean kernel failed, timed out or
              crashed, aio-conform could not finish, the kernel oopsed,
              warned, panicked or hung (and the failing tests failed again
              when run once more on the same kernel)
  survived    everything that passes on the clean kernel still passes
  not-viable  the patch does not apply, the kernel does not build, or it
              does not boot as far as the guest's /init: not counted

and reverts the patch on every way out (also SIGINT/SIGTERM), checking
that the source tree is byte for byte the unpacked package again.

  python3 ci/mutants.py [--only "001 017"] [--timeout S] [--no-confirm]
  python3 ci/mutants.py --list              the mutants, one line each
  python3 ci/mutants.py --check-tree        is the cached tree pristine?
  python3 ci/mutants.py --validate SUMMARY  does it follow the schema?
  python3 ci/mutants.py --prepare           unpack, configure, build only

The cache is <suite cache>/mutants/6.1/ (ci/fetch_kernels.py --cache-dir):
src/ (the unpacked source, never built in), build/ (the objects, O=),
manifest.json (size, mtime and sha256 of every source file), pristine/
(the files the mutants touch, as unpacked), bzImage-clean.  Results:
results/mutants/<kernel release>/summary.json (schema aio-suite-mutants/1)
and one directory per mutant with the guest's results; tools/mutants_table.py
renders the summary as Markdown.  Exit status: 0 when every mutant has a
verdict, 1 when the clean kernel cannot be built or booted or the tree is
not clean, 2 on usage, 130 on SIGINT (128 + N for signal N).
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Iterator, NoReturn

HERE = Path(__file__).resolve().parent
TOP = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(TOP))
import fetch_kernels  # noqa: E402
from initramfs import digest as sha256_file  # noqa: E402
from aiosuite import store  # noqa: E402

PROG = "mutants"
SCHEMA = "aio-suite-mutants/1"
RELEASE = "6.1"
SOURCE_PKG = f"linux-source-{RELEASE}"
SOURCE_SUITE = "bookworm"
MUTANTS_DIR = HERE / "mutants"
CONFIG_FRAGMENT = MUTANTS_DIR / "kernel.config"
# The kernel build's own needs (the compiler and make are the suite's).
BUILD_DEPS = ["flex", "bison", "bc", "libelf-dev", "libssl-dev"]
# Built-in brd gets its size from the command line (1 GiB, allocated on
# write): ext4 for the scratch directory and aio-ioerr's device.  An oops,
# a WARN or an RCU stall (a CPU looping in the kernel for 21 s) panics the
# guest, and panic=-1 ends qemu: the mutant is killed there and then,
# rather than test after test running into its watchdog on a broken kernel.
GUEST_APPEND = ("brd.rd_nr=4 brd.rd_size=1048576 oops=panic panic_on_warn=1 "
                "sysctl.kernel.panic_on_rcu_stall=1")
# What the kernel says when it is broken (the first such console line
# names the kill).
KERNEL_BAD = re.compile(r"BUG:|WARNING:|Oops|general protection|"
                        r"Kernel panic|detected stalls|soft lockup|"
                        r"hung_task")
# A test's result that kills a mutant (aio-conform's and aio-ioerr's words).
KILLING = {"fail", "timeout", "crash", "stuck"}
INTERRUPTING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class MutantsError(Exception):
    pass


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def say(msg: str) -> None:
    print(f"{PROG}: {msg}", flush=True)


# ------------------------------------------------------------ the mutants


@dataclass
class Mutant:
    id: str                # 001-ring-tail-wraps-late
    description: str
    files: list[str]       # paths in the kernel tree
    patch: Path
    sha256: str            # of the patch's diff (not its header)
    note: str = ""         # what would kill it, where the suite cannot yet


def read_mutants(d: Path = MUTANTS_DIR) -> list[Mutant]:
    """Every NNN-name.patch in d, in order; each must say what it models."""
    out = []
    for p in sorted(d.glob("[0-9][0-9][0-9]-*.patch")):
        text = p.read_text()
        m = re.search(r"^Description: (.+)$", text, re.M)
        if not m:
            raise MutantsError(f"{p.name}: no 'Description:' line")
        files = re.findall(r"^\+\+\+ b/(\S+)", text, re.M)
        if not files:
            raise MutantsError(f"{p.name}: changes no file")
        note = re.search(r"^Note: (.+)$", text, re.M)
        # The verdict belongs to the change, not to its header's words.
        body = text[text.find("\n--- ") + 1:]
        out.append(Mutant(p.stem, m.group(1).strip(), files, p,
                          hashlib.sha256(body.encode()).hexdigest(),
                          note.group(1).strip() if note else ""))
    return out


def select(mutants: list[Mutant], only: str) -> list[Mutant]:
    """--only "001 017 poll": by number, id or a part of the id."""
    if not only:
        return mutants
    out = []
    for w in only.replace(",", " ").split():
        hit = [m for m in mutants if m.id == w or m.id.startswith(w + "-")
               or (not w.isdigit() and w in m.id)]
        if not hit:
            raise MutantsError(f"no mutant matches '{w}' (see --list)")
        out += [m for m in hit if m not in out]
    return out


# ------------------------------------------------------------- the tree


def walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, lstat) of every file and symlink under root."""
    stack = [root]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
                else:
                    yield (os.path.relpath(e.path, root),
                           e.stat(follow_symlinks=False))


class Tree:
    """The unpacked source and the proof that it is pristine: a manifest of
    every file's size, mtime and sha256 (git's index in miniature: a file
    whose size and mtime are unchanged is not hashed again)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.src = base / "src"
        self.manifest_path = base / "manifest.json"
        self.pristine = base / "pristine"
        self.files: dict[str, list[Any]] = {}

    def _digest(self, rel: str, st: os.stat_result) -> str:
        p = self.src / rel
        if os.path.islink(p):
            return "link:" + os.readlink(p)
        return sha256_file(p)

    def record(self) -> None:
        """The manifest of a freshly unpacked tree."""
        self.files = {rel: [st.st_size, st.st_mtime_ns, self._digest(rel, st)]
                      for rel, st in walk(self.src)}
        self.save()

    def save(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=self.base)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps({"files": self.files}))
        os.replace(tmp, self.manifest_path)

    def load(self) -> bool:
        try:
            self.files = json.loads(self.manifest_path.read_text())["files"]
            return bool(self.files)
        except (OSError, ValueError, KeyError):
            return False

    def differences(self, only: list[str] | None = None,
                    update: bool = True) -> list[str]:
        """What differs from the manifest: "changed X", "added X",
        "missing X".  only: look at these paths alone (fast); update: save
        the new mtimes of files whose bytes are unchanged."""
        out: list[str] = []
        seen: set[str] = set()
        stale = False
        if only is None:
            entries: Iterator[tuple[str, os.stat_result]] = walk(self.src)
        else:
            entries = iter([(r, os.lstat(self.src / r)) for r in only
                            if os.path.lexists(self.src / r)])
        for rel, st in entries:
            seen.add(rel)
            want = self.files.get(rel)
            if want is None:
                out.append(f"added {rel}")
                continue
            if st.st_size == want[0] and st.st_mtime_ns == want[1]:
                continue
            if st.st_size != want[0] or self._digest(rel, st) != want[2]:
                out.append(f"changed {rel}")
            else:
                want[0], want[1] = st.st_size, st.st_mtime_ns
                stale = True
        for rel in (only if only is not None else self.files):
            if rel in self.files and rel not in seen:
                out.append(f"missing {rel}")
        if stale and update:
            self.save()
        return out

    def keep_pristine(self, files: list[str]) -> None:
        """A copy of each file as unpacked, to restore it from."""
        for rel in files:
            dst = self.pristine / rel
            if dst.is_file():
                continue
            src = self.src / rel
            want = self.files.get(rel)
            if want is None or not src.is_file() or \
                    sha256_file(src) != want[2]:
                raise MutantsError(f"{rel} is not as unpacked: cannot keep "
                                   "a pristine copy (--check-tree)")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)

    def restore(self, files: list[str]) -> list[str]:
        """Put each file back as unpacked (a new mtime, so that make builds
        it again) and remove patch's leftovers; what still differs."""
        for rel in files:
            for extra in (rel + ".orig", rel + ".rej"):
                if os.path.lexists(self.src / extra):
                    os.unlink(self.src / extra)
            want = self.files.get(rel)
            if want is None:  # a file the patch created
                if os.path.lexists(self.src / rel):
                    os.unlink(self.src / rel)
                continue
            cur = self.src / rel
            if cur.is_file() and sha256_file(cur) == want[2]:
                want[0], want[1] = cur.stat().st_size, cur.stat().st_mtime_ns
                continue
            tmp = cur.with_name(cur.name + ".aio-restore")
            shutil.copyfile(self.pristine / rel, tmp)
            tmp.replace(cur)
        return self.differences(files + [f + ".orig" for f in files] +
                                [f + ".rej" for f in files])


def run_patch(src: Path, patch: Path, reverse: bool = False,
              dry_run: bool = False) -> tuple[bool, str]:
    cmd = ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch",
           "-r", "-", "-d", str(src), "-i", str(patch)]
    if reverse:
        cmd.insert(1, "-R")
    if dry_run:
        cmd.append("--dry-run")
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


# ------------------------------------------------ packages and the source


def missing_packages(names: list[str]) -> list[str]:
    out = []
    for p in names:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                           capture_output=True, text=True)
        if r.stdout.strip() != "install ok installed":
            out.append(p)
    return out


def ensure_build_deps() -> None:
    if not shutil.which("dpkg-query"):
        for tool in ("flex", "bison", "bc"):
            if not shutil.which(tool):
                raise MutantsError(f"{tool} is not installed (and this is "
                                   "not Debian): install the kernel's build "
                                   f"dependencies: {' '.join(BUILD_DEPS)}")
        return
    miss = missing_packages(BUILD_DEPS + ["patch", "xz-utils"])
    if not miss:
        return
    line = "apt-get install -y " + " ".join(miss)
    if os.geteuid() != 0:
        raise MutantsError(f"the kernel build needs {' '.join(miss)}; as "
                           f"root run: {line}")
    say(line)
    r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends",
                        *miss], stdin=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if r.returncode != 0:
        raise MutantsError(f"'{line}' failed (exit {r.returncode})")


def source_tarball(cache: Path) -> Path:
    """linux-source-6.1's tarball: the installed package's, or the
    package fetched into the cache with apt-get download (never installed;
    from bookworm through the private apt state of ci/fetch_kernels.py)."""
    installed = Path(f"/usr/src/{SOURCE_PKG}.tar.xz")
    if installed.is_file():
        return installed
    mine = cache / "mutants" / f"{SOURCE_PKG}.tar.xz"
    if mine.is_file():
        return mine
    apt = fetch_kernels.Apt(cache / "apt")
    try:
        apt.update()
        stanzas = [s for s in apt.show(SOURCE_PKG) if s.get("Version")]
        if not stanzas:
            raise MutantsError(f"no {SOURCE_PKG} package in the Debian "
                               "archive (apt-get install " + SOURCE_PKG + ")")
        version = stanzas[0]["Version"]
        for s in stanzas[1:]:
            if fetch_kernels._vercmp(s["Version"], version) > 0:
                version = s["Version"]
        say(f"downloading {SOURCE_PKG} {version} (about 140 MB)")
        deb = apt.download(SOURCE_PKG, version, cache / "debs")
    except fetch_kernels.FetchError as err:
        raise MutantsError(str(err)) from None
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        r = subprocess.run(["dpkg-deb", "-x", str(deb), tmp],
                           capture_output=True, text=True)
        got = Path(tmp) / "usr/src" / f"{SOURCE_PKG}.tar.xz"
        if r.returncode != 0 or not got.is_file():
            raise MutantsError(f"dpkg-deb -x {deb.name} failed: "
                               f"{r.stderr.strip()[-200:]}")
        mine.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(got), mine)
    deb.unlink()
    return mine


def unpack(tree: Tree, tarball: Path) -> None:
    """Unpack into tree.src (atomically) and record the manifest."""
    st = tarball.stat()
    ident = f"{tarball} {st.st_size} {st.st_mtime_ns}"
    stamp = tree.base / "source"
    if tree.src.is_dir() and stamp.is_file() and \
            stamp.read_text().strip() == ident and tree.load():
        return
    say(f"unpacking {tarball}")
    tree.base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".src.", dir=tree.base))
    r = subprocess.run(["tar", "-xJf", str(tarball), "-C", str(tmp),
                        "--strip-components=1"], capture_output=True,
                       text=True)
    if r.returncode != 0 or not (tmp / "Makefile").is_file():
        shutil.rmtree(tmp, ignore_errors=True)
        raise MutantsError(f"cannot unpack {tarball}: {r.stderr.strip()[-200:]}")
    for old in (tree.src, tree.pristine, tree.base / "build"):
        shutil.rmtree(old, ignore_errors=True)
    tmp.chmod(0o755)  # mkdtemp's 0700
    tmp.rename(tree.src)
    tree.record()
    stamp.write_text(ident + "\n")


# ------------------------------------------------------------ the build


def config_options(fragment: Path = CONFIG_FRAGMENT) -> list[str]:
    opts = []
    for line in fragment.read_text().splitlines():
        m = re.match(r"^(CONFIG_[A-Z0-9_]+)=y$", line.strip())
        if m:
            opts.append(m.group(1))
    return opts


class Kernel:
    """make in src with O=build, -j2, in its own process group."""

    def __init__(self, tree: Tree, jobs: int) -> None:
        self.tree = tree
        self.build = tree.base / "build"
        self.jobs = jobs
        self.log = tree.base / "build.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def make(self, *targets: str, quiet: bool = False) -> tuple[int, str]:
        cmd = ["make", "-C", str(self.tree.src), f"O={self.build}",
               f"-j{self.jobs}", *targets]
        with self.log.open("ab") as log:
            log.write(f"\n$ {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            try:
                rc = self.proc.wait()
            finally:
                self.stop()
        tail = self.log.read_bytes()[-4000:].decode(errors="replace")
        errs = [ln for ln in tail.splitlines() if "error" in ln.lower()]
        return rc, " / ".join((errs or tail.splitlines())[-3:])

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()

    def configure(self) -> None:
        """tinyconfig plus the fragment, again only when it changed."""
        frag = CONFIG_FRAGMENT.read_bytes()
        stamp = self.build / ".aio-suite-fragment.sha256"
        want = hashlib.sha256(frag).hexdigest()
        cfg = self.build / ".config"
        if cfg.is_file() and stamp.is_file() and \
                stamp.read_text().strip() == want:
            return
        say("configuring: tinyconfig + ci/mutants/kernel.config")
        self.build.mkdir(parents=True, exist_ok=True)
        rc, why = self.make("tinyconfig")
        if rc:
            raise MutantsError(f"make tinyconfig failed: {why}")
        opts = config_options()
        args = []
        for o in opts:
            args += ["-e", o[len("CONFIG_"):]]
        r = subprocess.run([str(self.tree.src / "scripts" / "config"),
                            "--file", str(cfg), *args],
                           capture_output=True, text=True)
        if r.returncode:
            raise MutantsError(f"scripts/config failed: {r.stderr.strip()}")
        rc, why = self.make("olddefconfig")
        if rc:
            raise MutantsError(f"make olddefconfig failed: {why}")
        have = set(re.findall(r"^(CONFIG_[A-Z0-9_]+)=y$", cfg.read_text(),
                              re.M))
        lost = [o for o in opts if o not in have]
        if lost:
            raise MutantsError("olddefconfig dropped " + " ".join(lost) +
                               " (a dependency missing from "
                               "ci/mutants/kernel.config)")
        stamp.write_text(want + "\n")

    def bzimage(self) -> Path:
        return self.build / "arch" / "x86" / "boot" / "bzImage"

    def compile(self) -> tuple[bool, float, str]:
        start = time.monotonic()
        rc, why = self.make("bzImage")
        return rc == 0 and self.bzimage().is_file(), \
            round(time.monotonic() - start, 1), why

    def release(self) -> str:
        r = subprocess.run(["make", "-s", "-C", str(self.tree.src),
                            f"O={self.build}", "kernelrelease"],
                           capture_output=True, text=True)
        return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


# -------------------------------------------------------------- the guest


@dataclass
class GuestRun:
    status: str            # ok, panic, timeout, error, bad-results, ...
    reason: str
    seconds: float
    run_dir: str           # where its results are, "" without
    reached_init: bool     # the guest's /init ran
    tests: dict[str, str] = field(default_factory=dict)  # name -> result
    why: dict[str, str] = field(default_factory=dict)    # name -> reason
    incomplete: str = ""   # aio-conform did not finish: why
    dmesg: str = ""        # the first bad line of the guest's dmesg
    console: str = ""      # the first bad line of its console
    accel: str = ""


def read_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def guest_results(d: Path, g: GuestRun) -> None:
    """The verdicts of one guest run directory into g."""
    conform = read_json(d / "conform.json")
    if isinstance(conform, dict):
        for r in conform.get("results") or []:
            name = r.get("name", "?")
            if r.get("variant"):
                name += f"[{r['variant']}]"
            g.tests[name] = r.get("result", "?")
            g.why[name] = (r.get("reason") or "")[:200]
        if conform.get("complete") is False:
            g.incomplete = (conform.get("bail_out") or
                            ("deadline reached" if conform.get(
                                "deadline_reached") else "not complete"))
    else:
        g.incomplete = "no conform.json (aio-conform did not finish)"
    ioerr = read_json(d / "ioerr.json")
    if isinstance(ioerr, dict):
        for r in ioerr.get("results") or []:
            name = "aio-ioerr:" + r.get("name", "?")
            g.tests[name] = r.get("result", "?")
            g.why[name] = (r.get("reason") or "")[:200]
    bad = d / "dmesg-bad.txt"
    if bad.is_file():
        g.dmesg = bad.read_text(errors="replace").strip().splitlines()[0][:200] \
            if bad.read_text(errors="replace").strip() else "dmesg"
    qj = read_json(d / "qemu.json")
    if isinstance(qj, dict):
        g.accel = qj.get("accelerator", "")


class Guest:
    """ci/kernels.py on one bzImage, in its own process group (so that an
    interrupt ends it and its qemu together), results in a private store."""

    def __init__(self, timeout_s: float, work: Path,
                 conform_args: str = "") -> None:
        self.timeout_s = timeout_s
        self.work = work
        self.conform_args = conform_args
        self.proc: subprocess.Popen[bytes] | None = None
        self.suite = work / "build"

    def snapshot(self, build: Path) -> dict[str, str]:
        """Copy the suite's programs: every guest of the run gets the same
        ones, whatever `make` does meanwhile.  Their sha256 by name."""
        self.suite.mkdir(parents=True, exist_ok=True)
        out = {}
        for p in sorted(build.glob("aio-*")):
            if p.is_file() and os.access(p, os.X_OK):
                shutil.copy2(p, self.suite / p.name)
                out[p.name] = sha256_file(self.suite / p.name)
        if "aio-conform" not in out:
            raise MutantsError(f"{build / 'aio-conform'} is not built (make)")
        return out

    def run(self, bzimage: Path, dest: Path,
            conform_args: str | None = None) -> GuestRun:
        """conform_args: aio-conform's arguments in the guest (default
        --conform-args of this run)."""
        if conform_args is None:
            conform_args = self.conform_args
        store_dir = Path(tempfile.mkdtemp(prefix="store.", dir=self.work))
        summary = store_dir / "outcome.json"
        cmd = [sys.executable, str(HERE / "kernels.py"), "--kernel",
               str(bzimage), "--releases", "", "--no-host", "--no-stress",
               "--fuzz", "0", "--timeout", str(self.timeout_s),
               "--append", GUEST_APPEND, "--summary", str(summary)]
        if conform_args:
            cmd += ["--conform-args", conform_args]
        env = {**os.environ, "AIO_SUITE_RESULTS": str(store_dir),
               "BUILD": str(self.suite)}
        env.pop("AIO_SUITE_RUN_DIR", None)
        start = time.monotonic()
        with (store_dir / "kernels.log").open("wb") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True)
            try:
                rc = self.proc.wait()
            finally:
                self.stop()
        seconds = round(time.monotonic() - start, 1)
        outcomes = read_json(summary)
        if not isinstance(outcomes, list) or not outcomes:
            log_tail = (store_dir / "kernels.log").read_text(
                errors="replace").strip().splitlines()[-3:]
            shutil.rmtree(store_dir, ignore_errors=True)
            if rc in (130, 128 + signal.SIGTERM, 128 + signal.SIGHUP):
                raise Interrupted(signal.SIGINT if rc == 130 else rc - 128)
            return GuestRun("error", f"kernels.py exited {rc}: " +
                            " / ".join(log_tail), seconds, "", False)
        o = outcomes[0]
        g = GuestRun(o.get("status", "?"), o.get("reason", ""), seconds, "",
                     False)
        src = Path(o.get("run_dir") or "")
        if src.is_dir():
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dest)
            g.run_dir = str(dest)
            console = (dest / "console.log").read_text(errors="replace") \
                if (dest / "console.log").is_file() else ""
            g.reached_init = "aio-guest: kernel" in console
            bad = [ln.strip() for ln in console.splitlines()
                   if KERNEL_BAD.search(ln)]
            g.console = re.sub(r"^\[[ 0-9.]+\] ", "", bad[0])[:200] \
                if bad else ""
            guest_results(dest, g)
        shutil.rmtree(store_dir, ignore_errors=True)
        return g

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        except ProcessLookupError:
            p.wait()


# ------------------------------------------------------------ the verdict


@dataclass
class Result:
    id: str
    description: str
    files: list[str]
    patch_sha256: str
    status: str = "pending"     # killed, survived, not-viable
    killed_by: list[str] = field(default_factory=list)
    reason: str = ""            # why not viable, or how it was killed
    newly_skipped: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    build_s: float = 0.0
    run_s: float = 0.0
    confirm_s: float = 0.0
    run_dir: str = ""
    note: str = ""              # the patch's Note: what would kill it
    suite: str = ""             # git describe of the suite that judged it


def killers(base: GuestRun, g: GuestRun) -> list[str]:
    """What a mutant's run shows that the clean kernel's does not: lines
    "TEST: RESULT (reason)" (TEST as in killer_test), then aio-conform not
    finishing and the guest's dmesg."""
    out = []
    for name, res in sorted(g.tests.items()):
        if res in KILLING and base.tests.get(name) not in KILLING:
            why = g.why.get(name, "")
            out.append(f"{name}: {res}" + (f" ({why})" if why else ""))
    if g.incomplete and not base.incomplete:
        out.append(f"aio-conform incomplete: {g.incomplete}")
    if g.dmesg and not base.dmesg:
        out.append(f"dmesg: {g.dmesg}")
    return out


def newly_skipped(base: GuestRun, g: GuestRun) -> list[str]:
    return sorted(n for n, r in g.tests.items()
                  if r == "skip" and base.tests.get(n) == "pass")


def killer_test(line: str) -> str:
    """The test of a killer line: "name[variant]" or "aio-ioerr:name";
    "" for what is not a test's result (kernel, dmesg, incomplete)."""
    if line.startswith(("kernel: ", "dmesg: ", "aio-conform incomplete")):
        return ""
    return line.split(": ", 1)[0]


def confirm_args(killer_lines: list[str]) -> str | None:
    """aio-conform arguments that run the failed tests again, or None when
    a killer is not a test's result (a panic, an oops: no need)."""
    tests = [killer_test(k) for k in killer_lines]
    if not tests or "" in tests:
        return None
    names: list[str] = []
    for t in tests:
        if t.startswith("aio-ioerr:"):
            continue  # the guest runs aio-ioerr every time
        name = t.split("[", 1)[0]
        if name not in names:
            names.append(name)
    return " ".join(f"-t {n}" for n in names or ["setup.basic"])


def classify(r: Result, base: GuestRun, g: GuestRun) -> None:
    if g.status != "ok":
        if not g.reached_init:
            r.status = "not-viable"
            r.reason = f"does not boot: {g.status}: {g.reason}"[:300]
            return
        r.status = "killed"
        r.killed_by = [f"kernel: {g.status}: {g.console or g.reason}"[:300]]
        return
    k = killers(base, g)
    r.newly_skipped = newly_skipped(base, g)
    if k:
        r.status, r.killed_by = "killed", k
    else:
        r.status = "survived"


# --------------------------------------------------------------- summary


def totals(results: list[Result]) -> dict[str, Any]:
    n = {s: sum(1 for r in results if r.status == s)
         for s in ("killed", "survived", "not-viable", "pending")}
    viable = n["killed"] + n["survived"]
    return {"mutants": len(results), "killed": n["killed"],
            "survived": n["survived"], "not_viable": n["not-viable"],
            "pending": n["pending"], "viable": viable,
            "score_percent": round(100.0 * n["killed"] / viable, 1)
            if viable else None}


STATUSES = ("killed", "survived", "not-viable", "pending")


def validate(doc: Any) -> list[str]:
    """What is wrong with an aio-suite-mutants/1 document (empty: valid)."""
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["not a JSON object"]
    if doc.get("schema") != SCHEMA:
        errs.append(f"schema is {doc.get('schema')!r}, not {SCHEMA!r}")
    checks: list[tuple[str, tuple[type, ...]]] = [
        ("complete", (bool,)),
        ("interrupted", (str, type(None))),
        ("kernel_release", (str,)), ("mutants", (list,)),
        ("totals", (dict,)), ("elapsed_s", (int, float)),
        ("clean_build_s", (int, float)),
        ("cold_build_s", (int, float, type(None)))]
    for key, types in checks:
        if key not in doc:
            errs.append(f"no {key}")
        elif not isinstance(doc[key], types):
            errs.append(f"{key} has the wrong type")
    for i, m in enumerate(doc.get("mutants") or []):
        where = f"mutants[{i}]"
        if not isinstance(m, dict):
            errs.append(f"{where} is not an object")
            continue
        for key, types in (("id", (str,)), ("description", (str,)),
                           ("status", (str,)), ("killed_by", (list,)),
                           ("build_s", (int, float)), ("run_s", (int, float)),
                           ("files", (list,))):
            if not isinstance(m.get(key), types):
                errs.append(f"{where}.{key} missing or of the wrong type")
        if m.get("status") not in STATUSES:
            errs.append(f"{where}.status {m.get('status')!r} is not one of "
                        f"{', '.join(STATUSES)}")
        if m.get("status") == "killed" and not m.get("killed_by"):
            errs.append(f"{where} is killed by nothing")
        if m.get("status") == "not-viable" and not m.get("reason"):
            errs.append(f"{where} is not viable without a reason")
    t = doc.get("totals")
    if isinstance(t, dict) and isinstance(doc.get("mutants"), list):
        ms = doc["mutants"]
        for k, st in (("killed", "killed"), ("survived", "survived"),
                      ("not_viable", "not-viable")):
            n = sum(1 for m in ms if isinstance(m, dict) and
                    m.get("status") == st)
            if t.get(k) != n:
                errs.append(f"totals.{k} is {t.get(k)}, the mutants say {n}")
    return errs


def write_summary(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


def merge_earlier(path: Path, mutants: list[Mutant],
                  fresh: list[Result]) -> list[Result]:
    """A run of some mutants (--only) keeps the earlier verdicts of the
    others, as long as their patch is unchanged."""
    old = read_json(path)
    by_id: dict[str, Result] = {}
    if isinstance(old, dict) and old.get("schema") == SCHEMA:
        for e in old.get("mutants") or []:
            try:
                by_id[e["id"]] = Result(**e)
            except TypeError:
                continue
    for r in fresh:
        by_id[r.id] = r
    out = []
    for m in mutants:
        kept = by_id.get(m.id)
        if kept is not None and kept.patch_sha256 == m.sha256:
            out.append(kept)
    return out


# ------------------------------------------------------------------ main


def git_describe() -> str:
    r = subprocess.run(["git", "-C", str(TOP), "describe", "--always",
                        "--dirty"], capture_output=True, text=True)
    return r.stdout.strip()


class Lock:
    """One run at a time on the cached tree."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = path.open("a+")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.f.seek(0)
            who = self.f.read().strip() or "another run"
            self.f.close()
            raise MutantsError(f"the kernel tree {path.parent} is in use "
                               f"({who})") from None
        self.f.seek(0)
        self.f.truncate()
        self.f.write(f"pid {os.getpid()}\n")
        self.f.flush()

    def release(self) -> None:
        self.f.close()


def on_signal(signum: int, frame: FrameType | None) -> None:
    # Once: a second signal while cleaning up must not cut the revert.
    for s in INTERRUPTING:
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cache = fetch_kernels.cache_dir()
        self.tree = Tree(self.cache / "mutants" / RELEASE)
        self.kernel = Kernel(self.tree, args.jobs)
        self.work = Path(tempfile.mkdtemp(prefix="aio-mutants."))
        self.guest = Guest(args.timeout, self.work, args.conform_args)
        self.applied: Mutant | None = None
        self.commit = git_describe()

    # The source tree is clean before anything and after every mutant.
    def check_clean(self, files: list[str] | None = None) -> None:
        diff = self.tree.differences(files)
        if diff:
            raise MutantsError("the cached source tree is not as unpacked: " +
                               ", ".join(diff[:5]) +
                               (f" and {len(diff) - 5} more" if len(diff) > 5
                                else "") +
                               f" (remove {self.tree.base} to start afresh)")

    def prepare(self) -> None:
        ensure_build_deps()
        tarball = source_tarball(self.cache)
        unpack(self.tree, tarball)
        if not self.tree.files and not self.tree.load():
            raise MutantsError(f"no manifest in {self.tree.base}")
        say(f"checking that {self.tree.src} is as unpacked")
        self.check_clean()
        self.kernel.configure()

    def build_clean(self) -> tuple[float, dict[str, Any]]:
        """Build the clean kernel, keep a copy; remember how long a build
        from scratch took (builds.json in the cache)."""
        cold = not (self.kernel.build / "vmlinux").is_file()
        say(f"building the clean kernel ("
            f"{'from scratch: minutes' if cold else 'incremental'}, "
            f"-j{self.args.jobs})")
        ok, secs, why = self.kernel.compile()
        if not ok:
            raise MutantsError(f"the clean kernel does not build: {why} "
                               f"(log: {self.kernel.log})")
        say(f"built in {secs} s")
        meta_path = self.tree.base / "builds.json"
        meta = read_json(meta_path) or {}
        if cold:
            meta["cold_build_s"] = secs
            meta["cold_build_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                   time.gmtime())
            meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        shutil.copyfile(self.kernel.bzimage(), self.tree.base / "bzImage-clean")
        return secs, meta

    def apply(self, m: Mutant) -> tuple[bool, str]:
        self.tree.keep_pristine(m.files)
        ok, out = run_patch(self.tree.src, m.patch, dry_run=True)
        if not ok:
            return False, "the patch does not apply: " + \
                " / ".join(out.splitlines()[-2:])
        self.applied = m
        ok, out = run_patch(self.tree.src, m.patch)
        if not ok:
            return False, "the patch does not apply: " + \
                " / ".join(out.splitlines()[-2:])
        return True, ""

    def revert(self) -> None:
        """Undo the applied patch, with the stopping signals held off; done
        again from the start if a signal came before it."""
        m = self.applied
        if m is None:
            return
        held = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTING)
        try:
            left = self.tree.restore(m.files)
            self.applied = None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if left:
            raise MutantsError(f"{m.id}: the tree is not clean after the "
                               f"revert: {', '.join(left)}")

    def mutant(self, m: Mutant, base: GuestRun, out_dir: Path) -> Result:
        r = Result(m.id, m.description, m.files, m.sha256, note=m.note,
                   suite=self.commit)
        try:
            ok, why = self.apply(m)
            if not ok:
                r.status, r.reason = "not-viable", why
                return r
            built, r.build_s, why = self.kernel.compile()
            if not built:
                r.status, r.reason = "not-viable", f"does not build: {why}"
                return r
            shutil.copyfile(self.kernel.bzimage(), self.work / "bzImage")
        finally:
            self.revert()
        g = self.guest.run(self.work / "bzImage", out_dir / m.id)
        r.run_s, r.run_dir = g.seconds, g.run_dir
        classify(r, base, g)
        again_args = confirm_args(r.killed_by)
        if r.status == "killed" and self.args.confirm and again_args:
            # Killed by test results alone: the same tests once more on
            # the same kernel; the kill stands on those that fail again.
            # A kernel that panics or hangs the second time confirms all.
            again = self.guest.run(self.work / "bzImage",
                                   out_dir / m.id / "confirm", again_args)
            r.confirm_s = again.seconds
            if again.status == "ok":
                still = {killer_test(k) for k in killers(base, again)}
                kept = [k for k in r.killed_by if killer_test(k) in still]
                r.unconfirmed = [k for k in r.killed_by if k not in kept]
                r.killed_by = kept
                if not kept:
                    r.status = "survived"
        return r

    def main(self) -> int:
        a = self.args
        mutants = select(read_mutants(), a.only)
        lock = Lock(self.tree.base / ".lock")
        try:
            return self._main(mutants)
        finally:
            lock.release()

    def _main(self, mutants: list[Mutant]) -> int:
        a = self.args
        start = time.monotonic()
        programs = self.guest.snapshot(
            Path(os.environ.get("BUILD", TOP / "build")))
        self.prepare()
        clean_s, meta = self.build_clean()
        if a.prepare:
            return 0
        kver = self.kernel.release()
        clean = self.tree.base / "bzImage-clean"
        out_dir = store.results_root() / "mutants" / kver
        summary_path = out_dir / "summary.json"
        say(f"{kver}: built in {clean_s} s; {len(mutants)} mutants; "
            f"results in {out_dir}")
        doc: dict[str, Any] = {
            "schema": SCHEMA, "complete": False, "interrupted": None,
            "kernel_release": kver,
            "source": {"package": SOURCE_PKG,
                       "tarball": str(source_tarball(self.cache))},
            "config_fragment": str(CONFIG_FRAGMENT.relative_to(TOP)),
            "suite": {"commit": self.commit, "sha256": programs},
            "accelerator": "", "emulated": True,
            "jobs": a.jobs, "guest_timeout_s": a.timeout,
            "confirm": a.confirm, "conform_args": a.conform_args,
            "clean_build_s": clean_s,
            "cold_build_s": meta.get("cold_build_s"),
            "cold_build_utc": meta.get("cold_build_utc"),
            "baseline": None, "mutants": [], "totals": {},
            "elapsed_s": 0.0,
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        fresh: list[Result] = []

        def save(complete: bool) -> None:
            merged = merge_earlier(summary_path, read_mutants(), fresh) \
                if a.only else fresh
            doc["mutants"] = [asdict(r) for r in merged]
            doc["totals"] = totals(merged)
            doc["complete"] = complete
            doc["elapsed_s"] = round(time.monotonic() - start, 1)
            write_summary(summary_path, doc)

        try:
            save(False)
            say("the clean kernel in the guest (the baseline)")
            base = self.guest.run(clean, out_dir / "baseline")
            doc["accelerator"] = base.accel
            doc["emulated"] = base.accel != "kvm"
            bad = sorted(n for n, r in base.tests.items() if r in KILLING)
            doc["baseline"] = {"status": base.status, "reason": base.reason,
                               "run_s": base.seconds, "run_dir": base.run_dir,
                               "tests": len(base.tests),
                               "failing": bad,
                               "incomplete": base.incomplete,
                               "dmesg": base.dmesg}
            if base.status != "ok" or not base.tests:
                save(False)
                raise MutantsError("the clean kernel did not run the suite: "
                                   f"{base.status}: {base.reason or base.incomplete}")
            say(f"baseline: {len(base.tests)} results, {len(bad)} failing "
                f"(not counted as kills), {base.seconds} s")
            for i, m in enumerate(mutants, 1):
                say(f"[{i}/{len(mutants)}] {m.id}")
                r = self.mutant(m, base, out_dir)
                fresh.append(r)
                self.check_clean(m.files)
                say(f"[{i}/{len(mutants)}] {m.id}: {r.status} "
                    f"(build {r.build_s} s, run {r.run_s} s)" +
                    (f": {r.killed_by[0]}" if r.killed_by else "") +
                    (f": {r.reason}" if r.reason else ""))
                save(False)
            self.check_clean()
            save(True)
        except Interrupted as sig:
            self.guest.stop()
            self.kernel.stop()
            self.revert()
            doc["interrupted"] = sig.args[0]
            save(False)
            say(f"stopped by {sig.args[0]}; the tree is reverted")
            return 128 + sig.signum
        t = doc["totals"]
        say(f"score {t['score_percent']}%: {t['killed']} killed, "
            f"{t['survived']} survived, {t['not_viable']} not viable, in "
            f"{doc['elapsed_s']:.0f} s ({summary_path})")
        return 0


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: "mutants: <what is wrong>", status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="",
                    help='some mutants: "001 017" or parts of their names')
    ap.add_argument("--list", action="store_true",
                    help="list the mutants and exit")
    ap.add_argument("--validate", type=Path, metavar="SUMMARY",
                    help="check a summary.json against the schema and exit")
    ap.add_argument("--check-tree", action="store_true",
                    help="say whether the cached source tree is pristine")
    ap.add_argument("--prepare", action="store_true",
                    help="fetch, unpack, configure and build only")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds one guest may take (default 600)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="make -j (default 2)")
    ap.add_argument("--conform-args", default="",
                    help='aio-conform arguments in the guest, e.g. "-t reap.*" '
                    "(a quick run: only those tests can kill)")
    ap.add_argument("--no-confirm", dest="confirm", action="store_false",
                    help="do not run the failed tests again to confirm a kill")
    args = ap.parse_args(argv)
    if args.timeout <= 0 or args.jobs < 1:
        print(f"{PROG}: --timeout and --jobs must be positive", file=sys.stderr)
        return 2
    try:
        if args.list:
            for m in read_mutants():
                print(f"{m.id}  {m.description}")
            return 0
        select(read_mutants(), args.only)
    except MutantsError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    if args.validate:
        errs = validate(read_json(args.validate))
        for e in errs:
            print(f"{PROG}: {args.validate}: {e}", file=sys.stderr)
        return 0 if not errs else 1
    if args.check_tree:
        tree = Tree(fetch_kernels.cache_dir() / "mutants" / RELEASE)
        if not tree.load():
            print(f"{PROG}: no unpacked tree in {tree.base}", file=sys.stderr)
            return 1
        diff = tree.differences(update=False)
        for d in diff:
            print(d)
        say(f"{tree.src}: " + ("clean" if not diff else
                               f"{len(diff)} differences"))
        return 0 if not diff else 1
    for s in INTERRUPTING:
        signal.signal(s, on_signal)
    run = Run(args)
    try:
        return run.main()
    except MutantsError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    except Interrupted as sig:  # before the summary existed
        run.guest.stop()
        run.kernel.stop()
        run.revert()
        say(f"stopped by {sig.args[0]}")
        return 128 + sig.signum
    finally:
        try:
            run.revert()
        finally:
            shutil.rmtree(run.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
