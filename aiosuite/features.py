#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: does this kernel have native AIO and io_uring?  Probed
once, at the start of a study or a bench run, with the system calls
themselves (ctypes): io_setup/io_destroy, and io_uring_setup.

io_setup answering ENOSYS means a kernel built with CONFIG_AIO=n;
io_uring_setup answering ENOSYS (CONFIG_IO_URING=n) or EPERM
(kernel.io_uring_disabled, a security policy) means no io_uring.  What
needs a missing one is skipped with the reason, never failed.  Any other
answer (EAGAIN at aio-max-nr, EMFILE) is not a missing feature: the
measuring program meets it and says so.

  python3 -m aiosuite.features   print the reasons as JSON ("" when present)
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

# io_uring_setup is 425 on every architecture (the unified numbers of 5.1).
SYSCALLS: dict[str, tuple[int, int, int]] = {
    # machine: io_setup, io_destroy, io_uring_setup
    "x86_64": (206, 207, 425),
    "i386": (245, 246, 425),
    "i686": (245, 246, 425),
    "aarch64": (0, 1, 425),
    "riscv64": (0, 1, 425),
    "loongarch64": (0, 1, 425),
    "s390x": (243, 244, 425),
    "ppc64le": (227, 228, 425),
}
NO_AIO = "native AIO is not in this kernel (CONFIG_AIO=n)"


@dataclass
class Features:
    """The reason each is missing, or "" when the kernel has it."""
    aio: str = ""
    io_uring: str = ""

    def engine(self, engine: str) -> str:
        """Why an aio-stress engine cannot run here, or ""."""
        if engine == "libaio":
            return self.aio
        if engine == "io_uring":
            return self.io_uring
        return ""


def _aio(libc: ctypes.CDLL, nr_setup: int, nr_destroy: int) -> str:
    ctx = ctypes.c_ulong(0)
    if libc.syscall(ctypes.c_long(nr_setup), 1, ctypes.byref(ctx)) == 0:
        libc.syscall(ctypes.c_long(nr_destroy), ctx)
        return ""
    return NO_AIO if ctypes.get_errno() == errno.ENOSYS else ""


def _io_uring(libc: ctypes.CDLL, nr: int) -> str:
    params = ctypes.create_string_buffer(120)  # struct io_uring_params
    fd = libc.syscall(ctypes.c_long(nr), 1, params)
    if fd >= 0:
        os.close(fd)
        return ""
    e = ctypes.get_errno()
    if e == errno.ENOSYS:
        return "io_uring is not available: io_uring_setup: not in this kernel (CONFIG_IO_URING=n)"
    if e == errno.EPERM:
        try:
            disabled = Path("/proc/sys/kernel/io_uring_disabled").read_text().strip()
        except OSError:
            disabled = ""
        why = (f"kernel.io_uring_disabled is {disabled}" if disabled not in ("", "0")
               else "refused by a security policy")
        return f"io_uring is not available: io_uring_setup: Operation not permitted ({why})"
    return ""


def probe() -> Features:
    """Probe the running kernel.  On a machine whose system call numbers
    are not known here, both count as present: the programs then meet
    the missing call themselves (and exit 77)."""
    nrs = SYSCALLS.get(platform.machine())
    if nrs is None:
        return Features()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return Features()
    libc.syscall.restype = ctypes.c_long
    return Features(aio=_aio(libc, nrs[0], nrs[1]), io_uring=_io_uring(libc, nrs[2]))


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if argv:
        print(f"features: unexpected argument '{argv[0]}' (see --help)", file=sys.stderr)
        return 2
    print(json.dumps(asdict(probe())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
