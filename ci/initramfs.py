#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build the guest's initramfs: busybox, the suite, mkfs tools, modules.

Why an initramfs and not the host's root over 9p (as virtme does): the
guest then needs no 9p, netfs or fscache modules, whose names and
dependencies change between 5.10 and 7.x; it runs exactly the binaries
of this build, not whatever the host has installed; it cannot write to
the host; and it boots the same on a CI runner whose root is not Debian.
The price is packing the binaries' shared libraries (found with ldd) and
a few MB of modules per kernel.

The archive is two newc cpio parts that the kernel unpacks one after the
other: a base part shared by every kernel (busybox, /init, the suite's
binaries, mkfs.ext4/xfs/btrfs, fio when installed, their libraries), and a
part per kernel with the modules the tests need, decompressed on the host
(busybox insmod may not read .ko.xz/.ko.zst), their dependencies and
pre-softdeps resolved from `depmod -b` on the unpacked tree, and the order
to load them in (/etc/aio/modules.list).  Both are uncompressed: the guest
boots faster without unpacking gzip under TCG.

  python3 ci/initramfs.py --out FILE [--modules DIR] [--kver VER] [--fio]
  python3 ci/initramfs.py --list FILE      the names in an initramfs
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROG = "initramfs"
TOP = Path(__file__).resolve().parent.parent
GUEST_INIT = TOP / "ci" / "guest" / "init"

# The suite's programs: every build/aio-* executable goes to /usr/bin;
# these are the ones the guest's script runs (it skips the missing ones).
SUITE = ["aio-conform", "aio-stress", "aio-ioerr", "aio-fuzz"]
# Host programs: (name in the guest, candidates on the host, needed).
HOST_TOOLS = [
    ("mkfs.ext4", ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"], True),
    ("mkfs.xfs", ["/usr/sbin/mkfs.xfs", "/sbin/mkfs.xfs"], False),
    ("mkfs.btrfs", ["/usr/sbin/mkfs.btrfs", "/sbin/mkfs.btrfs",
                    "/usr/bin/mkfs.btrfs", "/bin/mkfs.btrfs"], False),
]
# fio pulls in ceph, rbd and icu (about 70 MB): only with --fio.
FIO = ("fio", ["/usr/bin/fio"], False)
BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"]
HOST_FILES = ["/etc/mke2fs.conf"]

# What the guest loads, in this order of preference; dependencies and
# pre-softdeps come first automatically.  Missing ones are built in or
# absent from that kernel: the guest skips what needs them, with the reason.
MODULES = [
    "crc32c_generic", "crc32c_intel", "crc32_generic", "libcrc32c",
    "xxhash_generic", "sha256_generic", "blake2b_generic",
    "configfs", "null_blk", "brd", "loop",
    "ext4", "xfs", "btrfs",
    "dm_mod", "dm_flakey",
]
# Loaded by the guest's script with parameters, not from the list.
PARAM_MODULES = {"null_blk", "brd", "loop"}


class BuildError(Exception):
    pass


# ---------------------------------------------------------------- cpio


@dataclass
class Node:
    path: str          # inside the archive, no leading /
    mode: int          # with the file type bits
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def write_newc(nodes: list[Node], out: Path) -> None:
    """A newc ("070701") archive of nodes, owned by root, mtime 0."""
    buf = bytearray()
    ino = 1
    for n in nodes + [Node("TRAILER!!!", 0)]:
        name = n.path.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino, n.mode, 0, 0, 1, 0, len(n.data), 0, 0,
            n.rdev[0], n.rdev[1], len(name), 0))
        buf += hdr.encode() + name
        buf += b"\0" * (-len(buf) % 4)
        buf += n.data
        buf += b"\0" * (-len(buf) % 4)
        ino += 1
    buf += b"\0" * (-len(buf) % 512)
    out.write_bytes(bytes(buf))


class Tree:
    """Files for one archive, keyed by path, directories made as needed."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def _dirs(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.nodes:
                self.nodes[d] = Node(d, stat.S_IFDIR | 0o755)

    def dir(self, path: str, mode: int = 0o755) -> None:
        path = path.strip("/")
        self._dirs(path)
        self.nodes[path] = Node(path, stat.S_IFDIR | mode)

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        path = path.strip("/")
        self._dirs(path)
        self.nodes[path] = Node(path, stat.S_IFREG | mode, data)

    def symlink(self, path: str, target: str) -> None:
        path = path.strip("/")
        self._dirs(path)
        self.nodes[path] = Node(path, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, path: str, major: int, minor: int) -> None:
        path = path.strip("/")
        self._dirs(path)
        self.nodes[path] = Node(path, stat.S_IFCHR | 0o600, b"",
                                (major, minor))

    def copy(self, host: Path, path: str = "") -> None:
        """A host file (symlinks followed) at path, default its own path."""
        real = host.resolve()
        mode = real.stat().st_mode & 0o777
        self.file(path or str(host), real.read_bytes(), mode)

    def write(self, out: Path) -> None:
        write_newc([self.nodes[k] for k in sorted(self.nodes)], out)


# ------------------------------------------------------- shared libraries


def shared_libs(binary: Path) -> list[Path]:
    """The libraries (and loader) that binary needs, by ldd."""
    r = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    if r.returncode != 0:  # static ("not a dynamic executable")
        return []
    libs = []
    for line in r.stdout.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append(Path(m.group(1)))
        elif "not found" in line:
            raise BuildError(f"{binary}: {line.strip()}")
    return libs


def add_program(tree: Tree, host: Path, guest: str) -> None:
    """host at guest, its libraries under their names in their real
    directories (/lib is /usr/lib on a merged-/usr host: see base_tree)."""
    tree.copy(host, guest)
    for lib in shared_libs(host):
        tree.copy(lib, str(lib.parent.resolve() / lib.name))


def base_tree(build: Path, fio: bool = False) -> tuple[Tree, list[str]]:
    """The kernel-independent part; also the list of what it left out."""
    tree = Tree()
    notes: list[str] = []
    for d in ("dev", "proc", "sys", "tmp", "mnt", "run", "root",
              "etc/aio", "usr/bin", "usr/sbin", "results"):
        tree.dir(d)
    tree.dir("tmp", 0o1777)
    tree.chardev("dev/console", 5, 1)
    tree.chardev("dev/null", 1, 3)
    tree.chardev("dev/ttyS0", 4, 64)
    tree.chardev("dev/ttyS1", 4, 65)
    bb = next((Path(p) for p in BUSYBOX if Path(p).is_file()), None)
    if bb is None:
        raise BuildError("busybox is not installed (busybox-static)")
    if shared_libs(bb):
        raise BuildError(f"{bb} is not static: install busybox-static")
    tree.copy(bb, "bin/busybox")
    r = subprocess.run([str(bb), "--list"], capture_output=True, text=True)
    for applet in r.stdout.split():
        if applet != "busybox" and "/" not in applet:
            tree.symlink(f"bin/{applet}", "busybox")
    tree.symlink("sbin", "bin")
    for d in ("lib", "lib64"):  # merged /usr: the same links as the host
        if Path("/" + d).is_symlink():
            tree.symlink(d, os.readlink("/" + d))
    tree.symlink("usr/local/bin", "../bin")
    if not GUEST_INIT.is_file():
        raise BuildError(f"no guest init script at {GUEST_INIT}")
    tree.file("init", GUEST_INIT.read_bytes(), 0o755)
    for p in sorted(build.glob("aio-*")):
        if p.is_file() and os.access(p, os.X_OK):
            add_program(tree, p, f"usr/bin/{p.name}")
    for name in SUITE:
        if not (build / name).is_file():
            notes.append(f"{name} not built ({build / name})")
    for name, candidates, needed in HOST_TOOLS + ([FIO] if fio else []):
        host = next((Path(c) for c in candidates if Path(c).is_file()), None)
        if host is None:
            if needed:
                raise BuildError(f"{name} is not installed")
            notes.append(f"{name} not installed on the host")
            continue
        add_program(tree, host, f"usr/sbin/{name}")
    for f in HOST_FILES:
        if Path(f).is_file():
            tree.copy(Path(f))
    ld_cache = Path("/etc/ld.so.cache")
    if ld_cache.is_file():
        tree.copy(ld_cache)
    tree.file("etc/aio/base-notes", ("\n".join(notes) + "\n").encode())
    tree.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    tree.file("etc/group", b"root:x:0:\n")
    return tree, notes


# ---------------------------------------------------------------- modules


def _modname(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    base = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", base)
    return base.replace("-", "_")


@dataclass
class ModuleIndex:
    path: dict[str, str]          # name -> path relative to the modules dir
    deps: dict[str, list[str]]    # name -> names it needs
    softpre: dict[str, list[str]]  # name -> pre-softdep names (resolved)


def index_modules(moddir: Path, kver: str) -> ModuleIndex:
    """Run depmod on the unpacked tree (in place) and read its output."""
    dep = moddir / "modules.dep"
    if not dep.is_file() or dep.stat().st_size == 0:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            (base / "lib/modules").mkdir(parents=True)
            (base / "lib/modules" / kver).symlink_to(moddir.resolve())
            r = subprocess.run(["depmod", "-b", str(base), kver],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise BuildError(f"depmod -b failed for {kver}: "
                                 f"{r.stderr.strip()[-300:]}")
    paths: dict[str, str] = {}
    deps: dict[str, list[str]] = {}
    for line in dep.read_text().splitlines():
        if ":" not in line:
            continue
        mod, rest = line.split(":", 1)
        name = _modname(mod)
        paths[name] = mod
        deps[name] = [_modname(d) for d in rest.split()]
    aliases: dict[str, list[str]] = {}
    alias_file = moddir / "modules.alias"
    if alias_file.is_file():
        for line in alias_file.read_text().splitlines():
            w = line.split()
            if len(w) == 3 and w[0] == "alias":
                aliases.setdefault(w[1], []).append(w[2].replace("-", "_"))
    softpre: dict[str, list[str]] = {}
    soft_file = moddir / "modules.softdep"
    if soft_file.is_file():
        for line in soft_file.read_text().splitlines():
            w = line.split()
            if len(w) < 3 or w[0] != "softdep":
                continue
            name, pre, mode = w[1].replace("-", "_"), [], ""
            for tok in w[2:]:
                if tok.endswith(":"):
                    mode = tok[:-1]
                elif mode == "pre":
                    for cand in [tok.replace("-", "_")] + \
                            aliases.get(tok, []) + \
                            aliases.get("crypto-" + tok, []):
                        if cand in paths and cand not in pre:
                            pre.append(cand)
            softpre[name] = pre
    return ModuleIndex(paths, deps, softpre)


def load_order(index: ModuleIndex, wanted: list[str]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in index.path:
            return
        seen.add(name)
        for d in index.softpre.get(name, []) + index.deps.get(name, []):
            visit(d)
        order.append(name)

    for w in wanted:
        visit(w.replace("-", "_"))
    return order


def _decompress(src: Path) -> bytes:
    data = src.read_bytes()
    tools = {".xz": ["xz", "-dc"], ".zst": ["zstd", "-dcq"],
             ".gz": ["gzip", "-dc"]}
    cmd = tools.get(src.suffix)
    if cmd is None:
        return data
    r = subprocess.run(cmd, input=data, capture_output=True)
    if r.returncode != 0:
        raise BuildError(f"cannot decompress {src.name}: "
                         f"{r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def modules_tree(moddir: Path, kver: str) -> tuple[Tree, list[str]]:
    """The per-kernel part: /lib/modules/<kver> with what the tests load."""
    tree = Tree()
    index = index_modules(moddir, kver)
    order = load_order(index, MODULES)
    base = f"lib/modules/{kver}"
    lines = []
    for name in order:
        rel = re.sub(r"\.(xz|zst|gz)$", "", index.path[name])
        tree.file(f"{base}/{rel}", _decompress(moddir / index.path[name]))
        lines.append(f"{name} /{base}/{rel}"
                     f"{' param' if name in PARAM_MODULES else ''}")
    missing = [m for m in MODULES if m not in index.path]
    tree.file("etc/aio/modules.list", ("\n".join(lines) + "\n").encode())
    tree.file("etc/aio/modules.missing",
              ("\n".join(missing) + "\n").encode())
    return tree, order


def build(out: Path, build_dir: Path, moddir: Path | None, kver: str,
          work: Path | None = None, fio: bool = False) -> Path:
    """Write the initramfs to out, its parts in work/ (default out's dir)."""
    work = work or out.parent
    work.mkdir(parents=True, exist_ok=True)
    tree, _ = base_tree(build_dir, fio)
    base_part = work / "base.cpio"
    tree.write(base_part)
    parts = [base_part]
    if moddir is not None:
        mtree, _ = modules_tree(moddir, kver)
        mpart = work / f"modules-{kver}.cpio"
        mtree.write(mpart)
        parts.append(mpart)
    else:
        empty = Tree()
        empty.file("etc/aio/modules.list", b"")
        empty.file("etc/aio/modules.missing", b"(no modules given)\n")
        mpart = work / "modules-none.cpio"
        empty.write(mpart)
        parts.append(mpart)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("wb") as f:
        for p in parts:
            with p.open("rb") as src:
                shutil.copyfileobj(src, f)
    tmp.replace(out)
    return out


def read_newc(path: Path) -> list[str]:
    """The names in every newc part of an archive, in order."""
    data = path.read_bytes()
    names, pos = [], 0
    while pos + 110 <= len(data):
        if data[pos:pos + 6] != b"070701":
            if data[pos:pos + 1] == b"\0":  # padding between parts
                pos += 4
                continue
            raise BuildError(f"{path}: not a newc archive at byte {pos}")
        fsize = int(data[pos + 54:pos + 62], 16)
        nsize = int(data[pos + 94:pos + 102], 16)
        name = data[pos + 110:pos + 110 + nsize - 1].decode(errors="replace")
        pos += 110 + nsize
        pos += -pos % 4
        pos += fsize
        pos += -pos % 4
        if name != "TRAILER!!!":
            names.append(name)
    return names


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--list", type=Path, metavar="FILE",
                    help="print the names in an initramfs and exit")
    ap.add_argument("--modules", type=Path,
                    help="the kernel's lib/modules/<kver> directory")
    ap.add_argument("--kver", default="",
                    help="kernel release (default: the modules dir's name)")
    ap.add_argument("--fio", action="store_true",
                    help="pack fio and its libraries too (about 70 MB)")
    ap.add_argument("--build", type=Path,
                    default=Path(os.environ.get("BUILD", TOP / "build")))
    args = ap.parse_args(argv)
    if args.list:
        try:
            print("\n".join(read_newc(args.list)))
        except (BuildError, OSError, ValueError) as err:
            print(f"{PROG}: {err}", file=sys.stderr)
            return 1
        return 0
    if not args.out:
        ap.error("--out is required")
    kver = args.kver or (args.modules.name if args.modules else "")
    try:
        build(args.out, args.build, args.modules, kver, fio=args.fio)
    except (BuildError, OSError) as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    print(f"{args.out} {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
