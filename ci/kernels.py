#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the suite on other kernels in qemu and store their results.

For each kernel (Debian's, fetched into the cache by ci/fetch_kernels.py,
or one given with --kernel): build the initramfs (ci/initramfs.py), boot
it under a watchdog (ci/qemu.py), take the results stream from the guest
(ci/results_stream.py) and store it under
results/<host>/<guest kernel release>/<run id>/ with env.json saying
which accelerator ran it; under TCG "emulated": true.  A kernel that
panics, hangs, fails to boot or sends a truncated result is reported with
the last lines of its console, stored as such (qemu.json, console.log),
and the run goes on to the next kernel.

  python3 ci/kernels.py [--releases "5.10 6.1 6.12 7.x"]
                        [--kernel BZIMAGE [--modules DIR]] [--run full|boot]
                        [--timeout S] [--no-host] [--summary FILE]
  python3 ci/kernels.py --host-only      aio-conform on the running kernel

Without --kernel the four Debian releases run, then aio-conform on the
running kernel (the host's results), unless --no-host.  The guest gets a
deadline (aio.deadline) a margin before --timeout, and aio-conform in it
the matching --deadline, so that its results come home before qemu is
killed.  SIGINT, SIGTERM or SIGHUP stop the run at once: qemu is killed,
the temporary directory removed, the interrupted kernel not stored.
Every run directory gets summary.json ("complete", "interrupted").
Exit status: 0 when every kernel booted and sent its results, 1
otherwise, 2 on usage, 130 when interrupted.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(TOP))
from aiosuite import interrupt  # noqa: E402

# First: a signal while kernels.py is still starting ends it the same way.
interrupt.catch_signals()

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import fetch_kernels  # noqa: E402
import initramfs  # noqa: E402
import qemu  # noqa: E402
import results_stream  # noqa: E402
from aiosuite import scratch, store  # noqa: E402
from aiosuite.cliparse import Parser  # noqa: E402

PROG = "kernels"
ACCEL_CACHE_S = 24 * 3600
# What a kernel without its modules cannot do, unless it has them built in.
NEEDS_MODULES = ("null_blk targets, brd (and ext4/xfs/btrfs on it), the "
                 "loop variants of aio-conform, dm-error/dm-flakey")
MAX_TIMEOUT_S = 86400
SUMMARY_SCHEMA = "aio-suite-kernels/1"


def guest_deadline(timeout_s: float) -> int:
    """The guest's uptime by which its results must be on their way:
    --timeout less a margin for the boot before the kernel's clock starts
    and for qemu to write the stream out."""
    margin = max(20.0, timeout_s * 0.15)
    return max(1, int(timeout_s - margin))


def write_summary(d: Path, complete: bool, **more: Any) -> None:
    store.write_json(d / "summary.json", {"schema": SUMMARY_SCHEMA, "complete": complete,
                                          "interrupted": None, **more})


@dataclass
class Outcome:
    name: str              # 6.1, or the path of a --kernel
    kver: str = ""
    status: str = "ok"     # ok, fetch-failed, build-failed, panic,
    # timeout, error, bad-results
    reason: str = ""
    accel: str = ""
    elapsed_s: float = 0.0
    run_dir: str = ""
    conform: dict[str, int] = field(default_factory=dict)
    steps_failed: list[str] = field(default_factory=list)
    last_lines: list[str] = field(default_factory=list)


def say(msg: str) -> None:
    print(f"{PROG}: {msg}", flush=True)


def bzimage_version(path: Path) -> str:
    """The release in a bzImage's setup header, or "" when it has none."""
    try:
        with path.open("rb") as f:
            head = f.read(0x4000)
            if head[0x202:0x206] != b"HdrS":
                return ""
            off = int.from_bytes(head[0x20E:0x210], "little") + 0x200
            f.seek(off)
            raw = f.read(256)
    except OSError:
        return ""
    text = raw.split(b"\0", 1)[0].decode(errors="replace")
    return text.split()[0] if text else ""


def new_run_dir(kver: str, tag: str) -> Path:
    """results/<host>/<guest kernel>/<run id>/: never AIO_SUITE_RUN_DIR.
    The guest names its own release: one that is not a plain name (a
    "/", "..") is stored as "unknown" rather than outside the store."""
    root: Path = store.results_root()
    try:
        store.check_name(kver, "kernel release")
    except store.OutsideRoot:
        kver = ""
    return store.make_unique_dir(store.inside(root, platform.node(), kver or "unknown",
                                              store.run_id(tag)))


def _read(d: Path, name: str) -> str:
    try:
        return (d / name).read_text(errors="replace").strip()
    except OSError:
        return ""


def guest_env(d: Path, accel: str, kernel: dict[str, str]) -> dict[str, Any]:
    """env.json of a guest run, from the facts the guest sent."""
    host = store.environment()
    mem = _read(d, "mem-kib")
    cpus = _read(d, "cpus")
    return {
        "host": host["host"],
        "kernel_release": _read(d, "uname-r") or kernel.get("kver", ""),
        "kernel_version": _read(d, "uname-v"),
        "machine": _read(d, "uname-m"),
        "cmdline": _read(d, "cmdline"),
        "cpu_model": _read(d, "cpu-model"),
        "cpus_online": int(cpus) if cpus.isdigit() else 0,
        "memory_bytes": int(mem) * 1024 if mem.isdigit() else 0,
        "hypervisor": f"QEMU ({accel})",
        "aio_max_nr": _read(d, "aio-max-nr"),
        "io_uring_disabled": _read(d, "io_uring_disabled"),
        "uid": 0,
        "emulated": accel != "kvm",
        "accelerator": accel,
        "guest": {
            "source": kernel.get("source", ""),
            "release": kernel.get("release", ""),
            "package": kernel.get("package", ""),
            "package_version": kernel.get("version", ""),
            "qemu": qemu.qemu_version(),
            "host_kernel_release": host["kernel_release"],
            "host_cpu_model": host["cpu_model"],
        },
        "versions": host["versions"],
        "time_utc": host["time_utc"],
    }


def conform_totals(d: Path) -> dict[str, int]:
    try:
        data = json.loads((d / "conform.json").read_text())
    except (OSError, ValueError):
        return {}
    totals: dict[str, int] = {}
    for r in data.get("results", []):
        k = r.get("result", "?")
        totals[k] = totals.get(k, 0) + 1
    return totals


def failed_steps(d: Path) -> list[str]:
    out = []
    for line in _read(d, "steps.tsv").splitlines():
        w = line.split("\t")
        if len(w) >= 2 and w[1] == "fail":
            out.append(f"{w[0]} ({w[2]})" if len(w) > 2 and w[2] else w[0])
    return out


NO_TIME = "no time left before the host's deadline"  # ci/guest/init's


def cut_steps(d: Path) -> list[str]:
    """The guest's steps that did not run for want of time."""
    return [w[0] for w in (line.split("\t") for line in _read(d, "steps.tsv").splitlines())
            if len(w) > 2 and w[1] == "skip" and w[2] == NO_TIME]


def conform_complete(d: Path) -> bool:
    """What conform.json says of its completeness (a run without the
    key was written before aio-conform recorded it: complete)."""
    try:
        data = json.loads((d / "conform.json").read_text())
    except (OSError, ValueError):
        return True  # no conformance run: nothing incomplete to mark
    return not (isinstance(data, dict) and data.get("complete") is False)


def accelerator(cache: Path, kernel: Path, initrd: Path) -> tuple[str, str]:
    """qemu.choose_accel(), remembered for a day per host kernel."""
    if os.environ.get("AIO_SUITE_ACCEL") in ("kvm", "tcg"):
        return qemu.choose_accel(kernel, initrd)
    memo = cache / "accel.json"
    key = f"{platform.release()} {qemu.qemu_version()}"
    try:
        m = json.loads(memo.read_text())
        if m.get("key") == key and time.time() - m.get("t", 0) < ACCEL_CACHE_S:
            return m["accel"], m["why"] + " (remembered)"
    except (OSError, ValueError, KeyError):
        pass
    accel, why = qemu.choose_accel(kernel, initrd)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({"key": key, "t": time.time(),
                                    "accel": accel, "why": why}) + "\n")
    except OSError:
        pass
    return accel, why


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cache = fetch_kernels.cache_dir()
        # Marked as this run's: a later run removes it, were this one killed.
        self.work = scratch.make_dir(Path(tempfile.gettempdir()), "aio-kernels.", PROG)
        self.accel = ""
        self.why = ""
        self.build = Path(os.environ.get("BUILD", TOP / "build"))

    def append(self) -> str:
        a = [f"aio.run={self.args.run}", f"aio.fuzz={self.args.fuzz}",
             f"aio.seed={self.args.seed}",
             f"aio.stress={0 if self.args.no_stress else 1}",
             f"aio.deadline={guest_deadline(self.args.timeout)}"]
        if self.args.conform_args:
            a.append("aio.conform=" + ",".join(self.args.conform_args.split()))
        if self.args.append:
            a.append(self.args.append)
        return " ".join(a)

    def one(self, name: str, kernel: dict[str, str]) -> Outcome:
        o = Outcome(name=name, kver=kernel.get("kver", ""))
        vmlinuz = Path(kernel["vmlinuz"])
        mods = Path(kernel["modules"]) if kernel.get("modules") else None
        initrd = self.work / f"initramfs-{o.kver or 'custom'}.cpio"
        try:
            initramfs.build(initrd, self.build, mods, o.kver,
                            work=self.work / "parts")
        except (initramfs.BuildError, OSError) as err:
            o.status, o.reason = "build-failed", str(err)
            return o
        if not self.accel:
            self.accel, self.why = accelerator(self.cache, vmlinuz, initrd)
            say(f"accelerator {self.accel}: {self.why}")
        o.accel = self.accel
        bootdir = self.work / f"boot-{o.kver or 'custom'}"
        b = qemu.boot(vmlinuz, initrd, self.append(), self.accel, bootdir,
                      self.args.timeout)
        o.elapsed_s, o.last_lines = b.elapsed_s, b.last_lines
        if b.status == "interrupted":
            # qemu ended on SIGINT/SIGTERM (a Ctrl-C to the group that
            # reached it first): the run stops; nothing is stored for it.
            interrupt.note(b.reason.split()[-1])
            raise KeyboardInterrupt(b.reason)
        data = b""
        if b.status == "ok":
            try:
                data = results_stream.decode(Path(b.stream).read_bytes())
            except results_stream.StreamError as err:
                o.status, o.reason = "bad-results", str(err)
        else:
            o.status, o.reason = b.status, b.reason
        unpacked = self.work / f"results-{o.kver or 'custom'}"
        if data:
            try:
                results_stream.unpack(data, unpacked)
            except results_stream.StreamError as err:
                o.status, o.reason = "bad-results", str(err)
        o.kver = _read(unpacked, "uname-r") or o.kver
        tag = f"qemu-{self.accel}" + ("" if o.status == "ok" else "-failed")
        d = new_run_dir(o.kver, tag)
        write_summary(d, False)  # until everything is in
        o.run_dir = str(d)
        if unpacked.is_dir() and o.status == "ok":
            for p in unpacked.iterdir():
                shutil.move(str(p), d / p.name)
        for p in (Path(b.console), bootdir / "qemu.cmd"):
            if p.is_file():
                shutil.copy(p, d / p.name)
        if kernel.get("config") and Path(kernel["config"]).is_file():
            with open(kernel["config"], "rb") as src, \
                    gzip.open(d / "kernel-config.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
        store.write_json(d / "env.json", guest_env(d, self.accel, kernel))
        o.conform = conform_totals(d)
        o.steps_failed = failed_steps(d)
        cut = cut_steps(d)
        write_summary(d, o.status == "ok" and not cut and conform_complete(d),
                      status=o.status, reason=o.reason, steps_cut=cut)
        store.write_json(d / "qemu.json", {
            "schema": "aio-suite-qemu/1", "status": o.status,
            "reason": o.reason, "elapsed_s": o.elapsed_s,
            # "results": killed once its results were home (no power-off)
            "ended": b.ended,
            "accelerator": self.accel, "accelerator_reason": self.why,
            "kernel": kernel, "last_console_lines": o.last_lines,
            "steps_failed": o.steps_failed})
        return o

    def host(self) -> Outcome:
        """aio-conform on the running kernel, stored beside the guests'."""
        o = Outcome(name="host", kver=platform.release(), accel="none")
        conform = self.build / "aio-conform"
        if not conform.is_file():
            o.status, o.reason = "build-failed", f"{conform} not built"
            return o
        d = store.new_run_dir("conform")
        o.run_dir = str(d)
        write_summary(d, False)  # until aio-conform has ended
        start = time.monotonic()
        with (d / "conform.ktap").open("w") as out:
            # On an interrupt aio-conform gets SIGINT and the time to remove
            # its loop devices and mounts (interrupt.stop_child).
            p = subprocess.Popen([str(conform), "-d", str(self.work), "--json",
                                  str(d / "conform.json")], stdout=out,
                                 stderr=subprocess.DEVNULL,
                                 preexec_fn=interrupt.child_preexec())
            try:
                rc = p.wait(timeout=1800)
            except BaseException:
                interrupt.stop_child(p, 30)
                if interrupt.interrupted_by():
                    write_summary(d, False, interrupted=interrupt.interrupted_by())
                raise
        o.elapsed_s = round(time.monotonic() - start, 2)
        env = store.environment()
        env.update({"emulated": False, "accelerator": "none"})
        store.write_json(d / "env.json", env)
        o.conform = conform_totals(d)
        if not o.conform:
            o.status, o.reason = "bad-results", f"aio-conform exited {rc}"
        write_summary(d, bool(o.conform), status=o.status, reason=o.reason)
        return o


def kernels_to_run(args: argparse.Namespace) -> list[tuple[str, dict[str, str] | None, str]]:
    """(name, kernel description or None, why not) in running order."""
    out: list[tuple[str, dict[str, str] | None, str]] = []
    if args.kernel:
        kp = Path(args.kernel)
        kver = bzimage_version(kp) if kp.is_file() else ""
        mods = args.modules or ""
        if mods and not kver:
            kver = Path(mods).name
        d = {"vmlinuz": str(kp), "modules": mods, "kver": kver,
             "release": kver, "source": "custom", "package": "",
             "version": "", "config": ""}
        if mods and (Path(mods) / "config").is_file():
            d["config"] = str(Path(mods) / "config")
        if not kp.is_file():
            out.append((kp.name, None, f"no kernel image at {kp}"))
        else:
            if not mods:
                say(f"{kp.name}: no --modules: {NEEDS_MODULES} run only "
                    "if built in; the guest skips them otherwise, saying so")
            out.append((kp.name, d, ""))
    # Debian's after a kernel of one's own: theirs are the baseline.
    releases = args.releases.split() if args.releases is not None else \
        ([] if args.kernel else fetch_kernels.DEFAULT_RELEASES)
    cache = fetch_kernels.cache_dir()
    apt = fetch_kernels.Apt(cache / "apt")
    for rel in releases:
        try:
            k = fetch_kernels.fetch(rel, cache, apt)
            d = {key: str(v) for key, v in asdict(k).items()}
            d["source"] = "debian"
            out.append((rel, d, ""))
        except (fetch_kernels.FetchError, LookupError, OSError) as err:
            out.append((rel, None, str(err)))
    return out


def report(outcomes: list[Outcome]) -> None:
    say("summary")
    for o in outcomes:
        c = o.conform
        tot = (f"conform pass {c.get('pass', 0)} fail {c.get('fail', 0)} "
               f"skip {c.get('skip', 0)}" if c else "no conformance results")
        print(f"  {o.name:>8}  {o.kver or '-':<28} {o.status:<12} "
              f"{o.elapsed_s:6.1f} s  {tot}")
        if o.status != "ok":
            print(f"            reason: {o.reason}")
            for ln in o.last_lines[-10:]:
                print(f"            | {ln}")
            if not o.last_lines:
                # Under TCG a guest stopped early may not have printed yet.
                print("            | (the console was empty)")
        for s in o.steps_failed:
            print(f"            step failed: {s}")
        if o.run_dir:
            print(f"            {o.run_dir}")


def check_args(args: argparse.Namespace) -> str:
    """The first problem with the options (the rest of a one-line error),
    or "": every option is checked before anything is fetched or booted."""
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT_S):
        return f"bad value for --timeout: '{args.timeout:g}' (seconds, more than 0, " \
               f"at most {MAX_TIMEOUT_S})"
    for rel in (args.releases or "").split():
        if not re.fullmatch(r"[0-9]+\.([0-9]+|x)", rel):
            return f"bad release in --releases: '{rel}' (like 6.1 or 7.x)"
    if args.fuzz < 0:
        return f"bad value for --fuzz: '{args.fuzz}' (iterations, 0 or more)"
    if args.seed < 0:
        return f"bad value for --seed: '{args.seed}' (0 or more)"
    if args.kernel is not None and not Path(args.kernel).is_file():
        return f"--kernel '{args.kernel}' is not a file"
    if args.modules is not None:
        if args.kernel is None:
            return "--modules needs --kernel (Debian's kernels bring their own)"
        if not Path(args.modules).is_dir():
            return f"--modules '{args.modules}' is not a directory"
    if "," in args.conform_args:
        return ("--conform-args cannot hold a comma (the guest's command line "
                "carries the words separated by commas)")
    if args.summary is not None and not args.summary.parent.is_dir():
        return f"--summary '{args.summary}': no directory {args.summary.parent}"
    if args.summary is not None and args.summary.is_dir():
        return f"--summary '{args.summary}' is a directory"
    return ""


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("--releases", help='Debian releases, e.g. "6.1 6.12" '
                    f'(default: {" ".join(fetch_kernels.DEFAULT_RELEASES)})')
    ap.add_argument("--kernel", help="a bzImage to run as well")
    ap.add_argument("--modules", help="its lib/modules/<release> directory")
    ap.add_argument("--run", choices=["full", "boot"], default="full",
                    help="boot: only boot and send the environment back")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds one guest may take (default 600)")
    ap.add_argument("--fuzz", type=int, default=2000,
                    help="fuzzer iterations in the guest (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-stress", action="store_true",
                    help="no aio-stress runs in the guest")
    ap.add_argument("--conform-args", default="",
                    help="extra aio-conform arguments inside the guest")
    ap.add_argument("--append", default="",
                    help="more kernel command line for the guest")
    ap.add_argument("--no-host", action="store_true",
                    help="do not run aio-conform on the running kernel")
    ap.add_argument("--host-only", action="store_true",
                    help="only aio-conform on the running kernel, stored")
    ap.add_argument("--summary", type=Path, help="write the outcomes as JSON")
    args = ap.parse_args(argv)
    problem = check_args(args)
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 2
    if not args.host_only and not shutil.which(qemu.QEMU):
        print(f"{PROG}: {qemu.QEMU} is not installed (qemu-system-x86)",
              file=sys.stderr)
        return 1
    runner: Runner | None = None
    start = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        interrupt.arm()
        # What a killed run left in the temporary directory goes first.
        scratch.sweep([Path(tempfile.gettempdir())], PROG)
        runner = Runner(args)
        if args.host_only:
            outcomes.append(runner.host())
            report(outcomes)
            return 0 if outcomes[0].status == "ok" else 1
        for name, kernel, why in kernels_to_run(args):
            if kernel is None:
                say(f"{name}: cannot fetch: {why}")
                outcomes.append(Outcome(name=name, status="fetch-failed",
                                        reason=why))
                continue
            say(f"{name}: booting {kernel['kver'] or kernel['vmlinuz']}")
            o = runner.one(name, kernel)
            say(f"{name}: {o.status} in {o.elapsed_s} s"
                f"{': ' + o.reason if o.reason else ''}")
            outcomes.append(o)
        if not args.kernel and not args.no_host and args.releases is None:
            say("host: aio-conform on the running kernel")
            outcomes.append(runner.host())
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted by {interrupt.interrupted_by() or 'SIGINT'}: qemu "
              "stopped, the interrupted kernel not stored", file=sys.stderr, flush=True)
        if outcomes:
            report(outcomes)
        return 130
    finally:
        if runner is not None:
            scratch.remove_dir(runner.work)
    report(outcomes)
    say(f"total {time.monotonic() - start:.0f} s")
    if args.summary:
        args.summary.write_text(json.dumps([asdict(o) for o in outcomes],
                                           indent=2) + "\n")
    return 0 if outcomes and all(o.status == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
