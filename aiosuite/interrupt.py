#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: how the runners (study, bench, ci/kernels.py) end on a
signal, and how they stop the programs they run.

SIGINT, SIGTERM and SIGHUP become a KeyboardInterrupt once the runner has
armed the handler (inside the try whose finally clause cleans up); one
that arrives earlier, while the runner is still starting, is remembered
and raised when it arms.  Later signals are ignored: the first one
decided, and the clean-up it started must not be cut short.  The name
of the first signal is what summary.json records as "interrupted".

A child started with child_preexec() gets SIGINT when the runner dies,
also from SIGKILL (PR_SET_PDEATHSIG), so that it removes its own loop
devices and files instead of running on as an orphan; SIGPIPE is
ignored in it, so that writing to the dead runner's pipe does not end
that clean-up.
"""
from __future__ import annotations

import ctypes
import signal
import subprocess
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1

_state: dict[str, Any] = {"armed": False, "name": None, "raised": False}
_libc: Any = None


def _handler(signum: int, frame: object) -> None:
    if _state["name"] is None:
        _state["name"] = signal.Signals(signum).name
    if _state["armed"] and not _state["raised"]:
        _state["raised"] = True
        raise KeyboardInterrupt(_state["name"])


def catch_signals() -> None:
    """Remember SIGINT, SIGTERM and SIGHUP from now on.  SIGINT is set
    explicitly: a script's background job starts with it ignored, and
    Python then installs no handler of its own."""
    for sig in SIGNALS:
        signal.signal(sig, _handler)


def arm() -> None:
    """From now on the first signal raises KeyboardInterrupt; one that
    came before is raised now."""
    catch_signals()
    _state["armed"] = True
    if _state["name"] is not None and not _state["raised"]:
        _state["raised"] = True
        raise KeyboardInterrupt(_state["name"])


def interrupted_by() -> str | None:
    """The name of the first signal received ("SIGINT"), or None."""
    name: str | None = _state["name"]
    return name


def note(name: str) -> None:
    """Record an interruption seen another way (a child that ended on
    SIGINT), when no signal of our own came first."""
    if _state["name"] is None:
        _state["name"] = name


def _pdeathsig() -> None:
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0)
    # Were the runner killed, the child's writes to the pipes it read
    # fail with EPIPE instead of killing the child in its clean-up.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def child_preexec() -> Any:
    """A preexec_fn for subprocess.Popen: the child gets SIGINT when this
    process dies.  Resolved here, before the fork."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return None
    return _pdeathsig


def stop_child(p: subprocess.Popen[Any], grace: float) -> None:
    """Stop a child the way Ctrl-C would: SIGINT, so that it removes its
    loop devices, mounts and scratch files, then SIGKILL after grace
    seconds.  (subprocess.run() kills after a quarter of a second.)"""
    try:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=grace)
    except BaseException:
        p.kill()
        p.communicate()
