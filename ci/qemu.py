#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a kernel and the suite's initramfs in qemu, under a watchdog.

The console (ttyS0) and the results stream (ttyS1) go to files.  The
kernel runs with panic=-1 and qemu with -no-reboot, so a panic ends qemu
at once; a guest that neither powers off nor panics is killed when its
time is up.  Either way the caller gets the last lines of the console.

The end of the guest's work is its complete results stream: once ttyS1
holds one whose length and checksum match (or the probe's answer), the
guest has nothing more to say, and qemu is killed if it has not ended by
itself a few seconds later.  A minimal kernel without ACPI cannot power
off; its guest reboots instead (-no-reboot ends qemu then), and if even
that fails it halts ("reboot: System halted") and is killed at once.

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
sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_stream  # noqa: E402
from aiosuite import interrupt  # noqa: E402

PROG = "qemu"
QEMU = "qemu-system-x86_64"
PROBE_SECONDS = 20
# How often the serial files are looked at, and how long a guest that has
# sent its results may take to power off or reboot before it is killed.
POLL_SECONDS = 0.5
GRACE_SECONDS = 5.0
# The console's last words when a kernel stops for good without ending qemu.
HALTED = ("reboot: System halted", "System halted.")


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
    # how qemu ended: "exit" (power-off, reboot or panic), "results" (killed
    # after a complete results stream), "timeout"
    ended: str = ""


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


def results_complete(stream: Path) -> bool:
    """Whether the guest has sent all it will send: a results stream that
    decodes with its length and checksum, or the KVM probe's answer."""
    try:
        raw = stream.read_bytes()
    except OSError:
        return False
    if results_stream.PROBE in raw:
        return True
    if results_stream.END not in raw:
        return False
    try:
        results_stream.decode(raw)
    except results_stream.StreamError:
        return False
    return True


def _halted(console: Path) -> bool:
    return any(h in ln for ln in last_lines(console, 5) for h in HALTED)


def wait_guest(proc: "subprocess.Popen[bytes]", console: Path, stream: Path,
               timeout_s: float) -> tuple[bytes, str]:
    """qemu's output once it ends, and how: "exit" by itself, "results"
    (killed after the guest's complete results stream, when it did not
    end within GRACE_SECONDS or its kernel halted), "timeout" (killed)."""
    deadline = time.monotonic() + timeout_s
    done_at = 0.0
    seen = -1
    while True:
        try:
            out, _ = proc.communicate(timeout=POLL_SECONDS)
            return out, "exit"
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if not done_at:
            try:
                size = stream.stat().st_size
            except OSError:
                size = -1
            if size != seen:  # decode again only when the stream grew
                seen = size
                if results_complete(stream):
                    done_at = now
        ended = ""
        if done_at and (now - done_at >= GRACE_SECONDS or _halted(console)):
            ended = "results"
        elif now >= deadline:
            ended = "timeout"
        if ended:
            proc.kill()
            out, _ = proc.communicate()
            return out, ended


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
        out, ended = wait_guest(proc, console, stream, timeout_s)
    except BaseException:
        # Interrupted: no qemu is left running.
        proc.kill()
        proc.communicate()
        raise
    timed_out = ended == "timeout"
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
    elif proc.returncode != 0 and ended != "results":
        status = "error"
        reason = f"{QEMU} exited with {proc.returncode}: " + \
            " / ".join(qemu_out.splitlines()[-3:])
    elif not tail:
        status, reason = "error", "no console output (the kernel did not start)"
    else:
        status, reason = "ok", ""
    return Boot(status, reason, round(elapsed, 2), str(console), str(stream),
                accel, tail, ended)


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
