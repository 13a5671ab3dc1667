#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: scratch directories that a later run can clean up when
this one is killed (docs/SCRATCH.md), and loop devices that go away with
the process that attached them.

make_dir() creates a scratch directory with its owner file
(.aio-suite-owner: pid, start time, program) before anything else is put
in it.  sweep() finds scratch directories whose owner is dead -- in the
given parents, and wherever a mount or a loop device's backing file lies
inside one -- unmounts what is mounted inside them, detaches the loop
devices over their files and removes them, never following a symbolic
link or crossing into a mount, and never touching a directory without an
owner file or one whose owner (or a nested run's) is alive.

attach_loop() attaches a loop device with LO_FLAGS_AUTOCLEAR through
LOOP_CONFIGURE (LOOP_SET_FD and LOOP_SET_STATUS64 on kernels before 5.8)
and keeps a descriptor open: when the process dies, even by SIGKILL, the
kernel detaches the device as soon as no mount holds it.

  tools/scratch.py [--sweep] DIR...   sweep DIR..., say what was removed
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

OWNER_FILE = ".aio-suite-owner"

LOOP_SET_FD = 0x4C00
LOOP_CLR_FD = 0x4C01
LOOP_SET_STATUS64 = 0x4C04
LOOP_SET_DIRECT_IO = 0x4C08
LOOP_CONFIGURE = 0x4C0A
LOOP_CTL_GET_FREE = 0x4C82
LO_FLAGS_AUTOCLEAR = 4
LO_FLAGS_DIRECT_IO = 16
# struct loop_info64: device, inode, rdevice, offset, sizelimit (u64);
# number, encrypt_type, encrypt_key_size, flags (u32); file_name[64],
# crypt_name[64], encrypt_key[32]; init[2] (u64).  232 bytes.
LOOP_INFO64 = struct.Struct("=5Q4I64s64s32s2Q")
# struct loop_config: fd, block_size (u32); loop_info64; __reserved[8] (u64).
LOOP_CONFIG = struct.Struct(f"=2I{LOOP_INFO64.size}s64x")
MNT_DETACH = 2


@dataclass
class Owner:
    pid: int
    start: int
    prog: str
    pidns: int = 0  # the pid namespace the pid belongs to (0: unknown)
    boot: str = ""  # the kernel's boot_id when it was written ("": unknown)


def pid_ns() -> int:
    """This process's pid namespace (the inode of /proc/self/ns/pid), 0
    when unknown."""
    try:
        link = os.readlink("/proc/self/ns/pid")
        return int(link[len("pid:["):-1]) if link.startswith("pid:[") else 0
    except (OSError, ValueError):
        return 0


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks after boot), or None when
    there is no such process or it has ended (a zombie, not yet reaped
    by a parent that outlived it, is dead for its scratch directory)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        # The command name (field 2) may hold spaces and parentheses.
        fields = text[text.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            return None
        return int(fields[19])
    except (ValueError, IndexError):
        return None


def write_owner(directory: Path, prog: str) -> None:
    pid = os.getpid()
    line = (f"pid={pid} start={start_time(pid) or 0} prog={prog} "
            f"pidns={pid_ns()} boot={boot_id() or '-'}\n")
    fd = os.open(directory / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def make_dir(parent: Path, prefix: str, prog: str) -> Path:
    """A new scratch directory in parent, marked as this process's."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        write_owner(d, prog)
    except OSError:
        os.rmdir(d)
        raise
    return d


def parent_problem(parent: Path) -> str:
    """What keeps parent from holding scratch directories ("" when
    nothing does): completes "scratch directory 'DIR' ..."."""
    try:
        st = os.stat(parent)
        if not stat.S_ISDIR(st.st_mode):
            return "is not a directory"
        if os.statvfs(parent).f_flag & os.ST_RDONLY:
            return "is on a read-only filesystem"
    except FileNotFoundError:
        return "does not exist"
    except OSError as e:
        return f"cannot be examined: {e.strerror}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return "is not writable"
    return ""


def read_owner(directory: Path) -> Owner | None:
    """The owner recorded in directory, or None (no owner file, not ours)."""
    try:
        st = os.lstat(directory / OWNER_FILE)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 4096:
            return None
        text = (directory / OWNER_FILE).read_text(errors="replace")
    except OSError:
        return None
    kv = dict(w.split("=", 1) for w in text.split() if "=" in w)
    try:
        boot = kv.get("boot", "")
        return Owner(int(kv["pid"]), int(kv["start"]), kv.get("prog", "?"),
                     int(kv.get("pidns", "0")), "" if boot == "-" else boot)
    except (KeyError, ValueError):
        return None


def alive(o: Owner) -> bool:
    """The owner still runs.  Written before a reboot: gone.  Written in
    another pid namespace (a container, a chroot with its own /proc): its
    pid means nothing here, so it counts as alive and is never touched."""
    here = boot_id()
    if o.boot and here and o.boot != here:
        return False
    ns = pid_ns()
    if o.pidns and ns and o.pidns != ns:
        return True
    return o.pid > 0 and start_time(o.pid) == o.start


def _unescape(s: str) -> str:
    """A path of /proc/self/mountinfo: space, tab, newline, backslash are
    written as octal escapes."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1:i + 4].isdigit() and len(s[i + 1:i + 4]) == 3:
            out.append(chr(int(s[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def mounts() -> list[tuple[str, str]]:
    """(mount point, fstype) of this mount namespace."""
    out = []
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        w = line.split()
        try:
            sep = w.index("-")
            out.append((_unescape(w[4]), w[sep + 1]))
        except (ValueError, IndexError):
            continue
    return out


def loops() -> list[tuple[str, str]]:
    """(loopN, backing file) of every attached loop device."""
    out = []
    try:
        names = os.listdir("/sys/block")
    except OSError:
        return []
    for name in sorted(names):
        if not name.startswith("loop"):
            continue
        try:
            back = Path(f"/sys/block/{name}/loop/backing_file").read_text().rstrip("\n")
        except OSError:
            continue  # not attached
        if back.endswith(" (deleted)"):
            back = back[:-len(" (deleted)")]
        out.append((name, back))
    return out


def _inside(path: str, directory: Path) -> bool:
    return path.startswith(str(directory).rstrip("/") + "/")


# Filesystems the machine-wide search does not look into: a dead server
# or an automounter would make it hang, and the suite puts no scratch there.
REMOTE_FS = ("nfs", "nfs4", "cifs", "smb3", "9p", "autofs", "ceph", "glusterfs",
             "afs", "fuse")


def _remote(fstype: str) -> bool:
    return fstype in REMOTE_FS or fstype.startswith("fuse.")


def owner_dir(path: str, remote: set[str] | None = None) -> Path | None:
    """The nearest directory above path that holds an owner file; None
    when there is none, or the way up meets one of the remote mounts."""
    if remote is None:
        remote = {m for m, t in mounts() if _remote(t)}
    p = Path(path).parent
    while True:
        if str(p) in remote:
            return None
        try:  # a directory this user may not enter has no owner for it
            if stat.S_ISREG(os.lstat(p / OWNER_FILE).st_mode):
                return p
        except OSError:
            pass
        if p.parent == p:
            return None
        p = p.parent


@dataclass
class Abandoned:
    directory: Path
    owner: Owner
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    loops_before: list[str] = field(default_factory=list)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def umount(path: str) -> None:
    """Unmount path, lazily when it is busy.  Already unmounted (another
    sweep got there first) is not an error."""
    libc = _libc()
    for _ in range(10):
        if libc.umount2(path.encode(), 0) == 0:
            return
        e = ctypes.get_errno()
        if e in (errno.EINVAL, errno.ENOENT):
            return
        if e != errno.EBUSY:
            raise OSError(e, os.strerror(e), path)
        time.sleep(0.1)
    if libc.umount2(path.encode(), MNT_DETACH) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)


def loop_clear(name: str) -> None:
    """Detach /dev/NAME (it goes when the last opener closes it)."""
    try:
        fd = os.open(f"/dev/{name}", os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        fcntl.ioctl(fd, LOOP_CLR_FD, 0)
    except OSError as e:
        if e.errno != errno.ENXIO:  # not attached (any more)
            raise
    finally:
        os.close(fd)


def _remove_tree(d: Path, dev: int, mounted: set[str], kept: list[str]) -> bool:
    """Remove what is in d, then d; never follow a symbolic link, never
    cross into a mount, leave a nested live run's directory.  False when
    something stayed (named in kept)."""
    whole = True
    try:
        entries = list(os.scandir(d))
    except FileNotFoundError:
        return True  # removed meanwhile (by another sweep)
    except OSError as err:
        kept.append(f"{d}: {err.strerror}")
        return False
    for ent in entries:
        p = Path(ent.path)
        try:
            if ent.is_dir(follow_symlinks=False):
                o = read_owner(p)
                if ent.path in mounted or ent.stat(follow_symlinks=False).st_dev != dev:
                    kept.append(f"{p} (a mount)")
                    whole = False
                elif o is not None and alive(o):
                    kept.append(f"{p} (pid {o.pid}, {o.prog}, is running)")
                    whole = False
                elif not _remove_tree(p, dev, mounted, kept):
                    whole = False
            else:
                os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError as err:
            kept.append(f"{p}: {err.strerror}")
            whole = False
    if whole:
        try:
            os.rmdir(d)
        except FileNotFoundError:
            pass
        except OSError as err:
            kept.append(f"{d}: {err.strerror}")
            return False
    return whole


def remove_dir(d: Path) -> list[str]:
    """Remove a scratch directory as the sweep does (no symbolic link
    followed, no mount crossed, a nested live run's directory left);
    return what stayed, with why."""
    try:
        dev = os.lstat(d).st_dev
    except FileNotFoundError:
        return []
    except OSError as e:
        return [f"{d}: {e.strerror}"]
    kept: list[str] = []
    _remove_tree(d, dev, {m for m, _ in mounts()}, kept)
    return kept


def find_abandoned(parents: list[Path]) -> list[Abandoned]:
    """Abandoned scratch directories in parents and, machine-wide, those
    a mount or a loop device's backing file lies in."""
    found: dict[Path, Abandoned] = {}

    def consider(d: Path) -> None:
        if d in found:
            return
        o = read_owner(d)
        if o is not None and not alive(o):
            found[d] = Abandoned(d, o)

    for parent in parents:
        try:
            entries = list(os.scandir(parent))
        except OSError:
            continue
        for ent in entries:
            try:
                if ent.is_dir(follow_symlinks=False):
                    consider(Path(ent.path))
            except OSError:
                continue
    table = mounts()
    remote = {m for m, t in table if _remote(t)}
    for mnt, fstype in table:
        if not _remote(fstype):
            d = owner_dir(mnt, remote)
            if d is not None:
                consider(d)
    for _, back in loops():
        d = owner_dir(back, remote)
        if d is not None:
            consider(d)
    # A directory inside another abandoned one goes with it.
    tops = [a for a in found.values()
            if not any(_inside(str(a.directory), b) for b in found)]
    return sorted(tops, key=lambda a: str(a.directory))


def _nearest_dead(path: str) -> bool:
    d = owner_dir(path)
    o = read_owner(d) if d is not None else None
    return o is not None and not alive(o)


def clean(a: Abandoned) -> None:
    """Unmount, detach and remove what a is left with."""
    root = os.geteuid() == 0
    inside = [m for m, _ in mounts() if _inside(m, a.directory) and _nearest_dead(m)]
    for m in sorted(inside, key=len, reverse=True):  # the deepest first
        if not root:
            a.problems.append(f"{m} is mounted (unmounting needs root)")
            continue
        try:
            umount(m)
            a.removed.append(m)
        except OSError as e:
            a.problems.append(f"cannot unmount {m}: {e.strerror}")
    for name, back in loops():
        if not (_inside(back, a.directory) and _nearest_dead(back)):
            continue
        if not root:
            a.problems.append(f"{name} is attached (detaching needs root)")
            continue
        try:
            loop_clear(name)
        except OSError as e:
            a.problems.append(f"cannot detach {name}: {e.strerror}")
    # Detaching completes when the last opener closes: wait a little.
    for _ in range(50):
        left = [n for n, b in loops() if _inside(b, a.directory) and _nearest_dead(b)]
        if not left:
            break
        time.sleep(0.1)
    else:
        a.problems += [f"{n} is still attached" for n in left]
    gone = {n for n, _ in loops()}
    a.removed += [n for n in a.loops_before if n not in gone]
    kept = remove_dir(a.directory)
    if kept:
        a.problems += kept
    else:
        a.removed.append(str(a.directory))


def sweep(parents: list[Path], prog: str) -> int:
    """Clean up what killed runs of the suite left (docs/SCRATCH.md);
    one line on stderr per killed run.  Returns the number of problems."""
    problems = 0
    for a in find_abandoned(parents):
        a.loops_before = [n for n, b in loops()
                          if _inside(b, a.directory) and _nearest_dead(b)]
        clean(a)
        who = f"a killed run (pid {a.owner.pid}, {a.owner.prog})"
        if a.removed:
            print(f"{prog}: removed what {who} left: {', '.join(a.removed)}",
                  file=sys.stderr, flush=True)
        if a.problems:
            problems += len(a.problems)
            print(f"{prog}: cannot remove all that {who} left: {'; '.join(a.problems)}",
                  file=sys.stderr, flush=True)
    return problems


@dataclass
class Loop:
    """A loop device this process attached; closing detaches it."""
    name: str
    fd: int

    @property
    def path(self) -> str:
        return f"/dev/{self.name}"

    def detach(self) -> None:
        if self.fd < 0:
            return
        try:
            fcntl.ioctl(self.fd, LOOP_CLR_FD, 0)
        except OSError as e:
            if e.errno not in (errno.ENXIO, errno.EBUSY):
                raise
        finally:
            os.close(self.fd)
            self.fd = -1
        # The kernel detaches on the last close; wait until it has.
        for _ in range(50):
            if not Path(f"/sys/block/{self.name}/loop/backing_file").exists():
                return
            time.sleep(0.05)


def _configure(dev_fd: int, file_fd: int, dio: bool) -> None:
    flags = LO_FLAGS_AUTOCLEAR | (LO_FLAGS_DIRECT_IO if dio else 0)
    info = LOOP_INFO64.pack(0, 0, 0, 0, 0, 0, 0, 0, flags, b"", b"", b"", 0, 0)
    try:
        fcntl.ioctl(dev_fd, LOOP_CONFIGURE, LOOP_CONFIG.pack(file_fd, 0, info))
        return
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTTY):
            raise
    # Before 5.8 (no LOOP_CONFIGURE), or direct I/O refused at once.
    fcntl.ioctl(dev_fd, LOOP_SET_FD, file_fd)
    try:
        info = LOOP_INFO64.pack(0, 0, 0, 0, 0, 0, 0, 0, LO_FLAGS_AUTOCLEAR,
                                b"", b"", b"", 0, 0)
        fcntl.ioctl(dev_fd, LOOP_SET_STATUS64, info)
    except OSError:
        fcntl.ioctl(dev_fd, LOOP_CLR_FD, 0)
        raise
    if dio:
        try:
            fcntl.ioctl(dev_fd, LOOP_SET_DIRECT_IO, 1)
        except OSError:
            pass  # the caller reads /sys/block/loopN/loop/dio


def attach_loop(backing: Path, dio: bool) -> Loop:
    """Attach a free loop device over backing, autoclear, fd held."""
    file_fd = os.open(backing, os.O_RDWR | os.O_CLOEXEC)
    try:
        ctl = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
        try:
            for _ in range(20):  # others may take the free device first
                n = fcntl.ioctl(ctl, LOOP_CTL_GET_FREE)
                name = f"loop{n}"
                dev_fd = -1
                for _ in range(50):  # the node appears with the device
                    try:
                        dev_fd = os.open(f"/dev/{name}", os.O_RDWR | os.O_CLOEXEC)
                        break
                    except FileNotFoundError:
                        time.sleep(0.02)
                if dev_fd < 0:
                    raise OSError(errno.ENOENT, f"/dev/{name} did not appear")
                try:
                    _configure(dev_fd, file_fd, dio)
                    return Loop(name, dev_fd)
                except OSError as e:
                    os.close(dev_fd)
                    if e.errno != errno.EBUSY:
                        raise OSError(e.errno, f"cannot attach {name} to {backing}: "
                                      f"{e.strerror}") from None
                time.sleep(0.05)
            raise OSError(errno.EBUSY, "every free loop device was taken by another user")
        finally:
            os.close(ctl)
    finally:
        os.close(file_fd)


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if not argv or argv == ["--sweep"]:
        print("scratch: which directories? (tools/scratch.py --sweep DIR...)", file=sys.stderr)
        return 2
    dirs = argv[1:] if argv[0] == "--sweep" else argv
    for d in dirs:
        if d.startswith("-") or not Path(d).is_dir():
            print(f"scratch: '{d}' is not a directory", file=sys.stderr)
            return 2
    return 1 if sweep([Path(d) for d in dirs], "scratch") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
