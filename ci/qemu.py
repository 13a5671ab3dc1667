#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a kernel and the suite's initramfs in qemu, under a watchdog.

The console (ttyS0) and the results stream (ttyS1) go to files.  The
kernel runs with panic=-1 and qemu with -no-reboot, so a panic ends qemu
at once; a guest that neither powers off nor panics is killed when its
time is up.  Either way the caller gets the last lines of the console.

KVM is used only when a guest actually boots under it: a trial boot with
aio.run=probe must answer on ttyS1 within a short time (on some hosts
/dev/kvm exists but a guest hangs at boot).  Otherwise TCG, whose timings
are emulated.  AIO_SUITE_ACCEL=kvm|tcg skips the trial.

  python3 ci/qemu.py KERNEL INITRD [APPEND...]   boot once, print the result
"""
from __future__ import annotations

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's top
from aiosuite import interrupt  # noqa: E402

PROG = "qemu"
QEMU = "qemu-system-x86_64"
PROBE_SECONDS = 20


@dataclass
class Boot:
    status: str            # ok (powered off), panic, timeout, error,
    # interrupted (qemu ended on SIGINT, SIGTERM or SIGHUP)
    reason: str
    elapsed_s: float
    console: str           # paths of the two serial logs
    stream: str
    accel: str
    last_lines: list[str] = field(default_factory=list)


def qemu_version() -> str:
    if not shutil.which(QEMU):
        return ""
    r = subprocess.run([QEMU, "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.stdout else ""


def command(kernel: Path, initrd: Path, append: str, accel: str,
            console: Path, stream: Path, memory_mib: int = 2048,
            cpus: int = 2) -> list[str]:
    if accel == "kvm":
        acc = ["-accel", "kvm", "-cpu", "host"]
    else:
        # max: SSE4.2 and friends, so crc32c-intel and the like load.
        acc = ["-accel", "tcg,thread=multi", "-cpu", "max"]
    return [
        QEMU, "-nodefaults", "-no-user-config", "-display", "none",
        "-no-reboot", "-m", str(memory_mib), "-smp", str(cpus), *acc,
        "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", f"console=ttyS0,115200 panic=-1 {append}",
        "-chardev", f"file,id=con,path={console}", "-serial", "chardev:con",
        "-chardev", f"file,id=res,path={stream}", "-serial", "chardev:res",
    ]


def last_lines(path: Path, n: int = 20) -> list[str]:
    try:
        text = path.read_bytes().decode(errors="replace")
    except OSError:
        return []
    lines = [ln.rstrip("\r") for ln in text.splitlines() if ln.strip()]
    return lines[-n:]


def _panic(console: Path) -> str:
    for ln in last_lines(console, 200):
        if "Kernel panic" in ln or "end Kernel panic" in ln:
            return ln.strip()
    return ""


def boot(kernel: Path, initrd: Path, append: str, accel: str, workdir: Path,
         timeout_s: float, memory_mib: int = 2048) -> Boot:
    """One boot to power-off, panic or the watchdog."""
    workdir.mkdir(parents=True, exist_ok=True)
    console = workdir / "console.log"
    stream = workdir / "stream.txt"
    for p in (console, stream):
        p.write_bytes(b"")
    cmd = command(kernel, initrd, append, accel, console, stream, memory_mib)
    (workdir / "qemu.cmd").write_text(" ".join(cmd) + "\n")
    start = time.monotonic()
    try:
        # qemu gets SIGINT (and quits) should this process die.
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                preexec_fn=interrupt.child_preexec())
    except OSError as err:
        return Boot("error", f"cannot run {QEMU}: {err}", 0.0, str(console),
                    str(stream), accel)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        timed_out = True
    except BaseException:
        # Interrupted: no qemu is left running.
        proc.kill()
        proc.communicate()
        raise
    elapsed = time.monotonic() - start
    qemu_out = out.decode(errors="replace").strip()
    (workdir / "qemu.out").write_text(qemu_out + "\n")
    tail = last_lines(console)
    panic = _panic(console)
    # qemu quits with status 0 on these, saying "terminating on signal N".
    stops = {int(s): s.name for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    said = re.search(r"terminating on signal ([0-9]+)", qemu_out)
    signum = -proc.returncode if proc.returncode < 0 else int(said.group(1)) if said else 0
    if signum in stops:
        status, reason = "interrupted", f"{QEMU} ended on {stops[signum]}"
    elif panic:
        status, reason = "panic", panic
    elif timed_out:
        status, reason = "timeout", f"no power-off within {timeout_s:.0f} s"
    elif proc.returncode != 0:
        status = "error"
        reason = f"{QEMU} exited with {proc.returncode}: " + \
            " / ".join(qemu_out.splitlines()[-3:])
    elif not tail:
        status, reason = "error", "no console output (the kernel did not start)"
    else:
        status, reason = "ok", ""
    return Boot(status, reason, round(elapsed, 2), str(console), str(stream),
                accel, tail)


def kvm_usable() -> str:
    """Why KVM cannot be tried, or "" when it can."""
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible"
    return ""


def choose_accel(kernel: Path, initrd: Path) -> tuple[str, str]:
    """(accelerator, why) after a trial boot under KVM when possible."""
    forced = os.environ.get("AIO_SUITE_ACCEL", "")
    if forced in ("kvm", "tcg"):
        return forced, "AIO_SUITE_ACCEL"
    why = kvm_usable()
    if why:
        return "tcg", why
    with tempfile.TemporaryDirectory(prefix="aio-kvm-probe.") as tmp:
        b = boot(kernel, initrd, "aio.run=probe", "kvm", Path(tmp),
                 PROBE_SECONDS, memory_mib=512)
        answered = b"AIO-SUITE-PROBE-OK" in Path(b.stream).read_bytes()
    if answered:
        return "kvm", f"a trial boot under KVM answered in {b.elapsed_s} s"
    return "tcg", (f"a trial boot under KVM did not answer ({b.status}: "
                   f"{b.reason or 'no probe answer'})")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: qemu.py KERNEL INITRD [APPEND...]", file=sys.stderr)
        return 2
    kernel, initrd = Path(argv[0]), Path(argv[1])
    accel, why = choose_accel(kernel, initrd)
    print(f"{PROG}: accelerator {accel}: {why}", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="aio-qemu."))
    b = boot(kernel, initrd, " ".join(argv[2:]), accel, work, 600)
    print(json.dumps(asdict(b), indent=2))
    return 0 if b.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
