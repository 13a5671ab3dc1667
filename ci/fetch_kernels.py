#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fetch Debian's kernels into a cache outside the checkout, never installed.

Each release comes from the suite that carries it (5.10 bullseye, 6.1
bookworm, 6.12 trixie or bookworm-backports, 7.x sid).  apt runs with its
own state directory under the cache and a sources list written at run time
from the machine's own Debian mirror (ci/apt_sources.py), so the host's apt
state is untouched and no host name is written in the repository.  The
package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`;
an unpacked kernel is reused as long as it is there (--refresh looks again).

  python3 ci/fetch_kernels.py [--refresh] [RELEASE...]   print kernel.json
                                                         of each, fetching
                                                         what is missing

The cache is $AIO_SUITE_CACHE, else $XDG_CACHE_HOME/aio-suite, else
~/.cache/aio-suite:
  apt/           sources.list, lists/, cache/ (apt's own state)
  kernels/<release>/kernel.json, root/ (the unpacked package)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apt_sources  # noqa: E402

PROG = "fetch_kernels"
DEFAULT_RELEASES = ["5.10", "6.1", "6.12", "7.x"]
# The suites a release is looked for in, in order of preference.
SUITES = {
    "5.10": ["bullseye"],
    "6.1": ["bookworm"],
    "6.12": ["trixie", "bookworm-backports"],
}
NEWEST_SUITE = "sid"  # any other release (7.x, 7.2, ...)
ALL_SUITES = ["bullseye", "bookworm", "bookworm-backports", "trixie", "sid"]
META = "linux-image-amd64"


@dataclass
class Kernel:
    release: str      # as asked for: 6.1, 7.x
    package: str      # linux-image-6.1.0-50-amd64
    version: str      # the package version
    kver: str         # uname -r of the kernel
    vmlinuz: str      # absolute paths inside the cache
    modules: str      # .../lib/modules/<kver>
    config: str       # .../boot/config-<kver> or ""
    suite: str = ""


class FetchError(Exception):
    pass


def cache_dir() -> Path:
    env = os.environ.get("AIO_SUITE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "aio-suite"


def _apt_opts(apt: Path) -> list[str]:
    return [
        "-o", f"Dir::Etc::SourceList={apt / 'sources.list'}",
        "-o", f"Dir::Etc::SourceParts={apt / 'sources.list.d'}",
        "-o", f"Dir::Etc::PreferencesParts={apt / 'preferences.d'}",
        "-o", f"Dir::Etc::Preferences={apt / 'preferences'}",
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", f"Dir::Cache={apt / 'cache'}",
        "-o", "Acquire::Languages=none",
        "-o", "APT::Architectures=amd64",
        "-o", "APT::Architecture=amd64",
        "-o", "APT::Get::AllowUnauthenticated=false",
        "-q",
    ]


def _run(cmd: list[str], cwd: Path | None = None,
         timeout: int = 900) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise FetchError(f"{cmd[0]}: {err}") from err


class Apt:
    """apt-get and apt-cache over a private state directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.updated = False

    def prepare(self) -> None:
        for d in ("sources.list.d", "preferences.d", "lists/partial",
                  "cache/archives/partial"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        uri, keyring = apt_sources.mirror()
        opt = f" [signed-by={keyring}]" if keyring else ""
        lines = [f"deb{opt} {uri} {s} main" for s in ALL_SUITES]
        text = "# written by ci/fetch_kernels.py from this machine's apt sources\n"
        text += "\n".join(lines) + "\n"
        (self.root / "sources.list").write_text(text)
        (self.root / "preferences").write_text("")

    def update(self) -> None:
        if self.updated:
            return
        self.prepare()
        print(f"{PROG}: apt-get update (private state in {self.root})",
              file=sys.stderr)
        r = _run(["apt-get", *_apt_opts(self.root), "update"])
        if r.returncode != 0:
            # One suite gone from the mirror (an old release moved to the
            # archive) fails the update but not the others' lists: go on,
            # and let that release alone say it has no kernel.
            if not any((self.root / "lists").glob("*_Packages*")):
                raise FetchError("apt-get update failed: " +
                                 _tail(r.stderr or r.stdout))
            print(f"{PROG}: apt-get update: {_tail(r.stderr or r.stdout)}",
                  file=sys.stderr)
        self.updated = True

    def show(self, pkg: str) -> list[dict[str, str]]:
        r = _run(["apt-cache", *_apt_opts(self.root), "show", pkg])
        if r.returncode != 0:
            return []
        return apt_sources.deb822_stanzas(r.stdout, lower=False)

    def download(self, pkg: str, version: str, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        cmd = ["apt-get", *_apt_opts(self.root)]
        if os.geteuid() == 0:
            cmd += ["-o", "APT::Sandbox::User=root"]
        cmd += ["download", f"{pkg}={version}"]
        r = _run(cmd, cwd=dest, timeout=1800)
        debs = sorted(dest.glob(f"{pkg}_*.deb"))
        if r.returncode != 0 or not debs:
            raise FetchError(f"apt-get download {pkg} failed: " +
                             _tail(r.stderr or r.stdout))
        return debs[-1]


def _tail(text: str, n: int = 3) -> str:
    return " / ".join(text.strip().splitlines()[-n:])


def _vercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    r = subprocess.run(["dpkg", "--compare-versions", a, "gt", b])
    return 1 if r.returncode == 0 else -1


def _matches(release: str, version: str) -> bool:
    if release.endswith(".x"):
        return version.startswith(release[:-1])
    return re.match(re.escape(release) + r"[.\-~+]", version) is not None


def choose(release: str, stanzas: list[dict[str, str]]) -> tuple[str, str]:
    """(image package, version) that the newest matching META depends on."""
    best: dict[str, str] | None = None
    for s in stanzas:
        if not _matches(release, s.get("Version", "")):
            continue
        if best is None or _vercmp(s["Version"], best["Version"]) > 0:
            best = s
    if best is None:
        raise FetchError(f"no {META} for release {release} in "
                         f"{' '.join(ALL_SUITES)}")
    for dep in best.get("Depends", "").split(","):
        m = re.match(r"\s*(linux-image-[^\s(]+)\s*(?:\(=\s*([^)\s]+)\s*\))?",
                     dep)
        if m:
            return m.group(1), m.group(2) or best["Version"]
    raise FetchError(f"{META} {best['Version']} depends on no linux-image")


def parts(apt: Apt, pkg: str, version: str) -> list[tuple[str, str]]:
    """The packages a split image package needs for its files.

    From 7.x on, Debian's linux-image-<abi> holds no files: the kernel is
    in linux-binary-<abi> and the modules in linux-modules-<abi>."""
    out = []
    for s in apt.show(pkg):
        if s.get("Version") != version:
            continue
        for dep in s.get("Depends", "").split(","):
            for alt in dep.split("|"):
                m = re.match(r"\s*(linux-(?:binary|modules|base)-[^\s(]+)"
                             r"\s*(?:\(=\s*([^)\s]+)\s*\))?", alt)
                if m and "unsigned" not in m.group(1):
                    out.append((m.group(1), m.group(2) or version))
                    break
        break
    return out


def locate(root: Path) -> tuple[str, Path, Path, str]:
    """(kver, vmlinuz, modules dir, config) inside an unpacked package.

    Up to 6.12 the image is boot/vmlinuz-<kver> with boot/config-<kver>;
    from 7.x on it is usr/lib/modules/<kver>/vmlinuz with config beside."""
    for base in ("lib/modules", "usr/lib/modules"):
        for mods in sorted((root / base).glob("*")):
            kver = mods.name
            for vmlinuz, config in (
                    (root / "boot" / f"vmlinuz-{kver}",
                     root / "boot" / f"config-{kver}"),
                    (mods / "vmlinuz", mods / "config")):
                if vmlinuz.is_file():
                    return (kver, vmlinuz, mods,
                            str(config) if config.is_file() else "")
    raise FetchError(f"no kernel image with its modules in {root}")


def cached(release: str, cache: Path) -> Kernel | None:
    meta = cache / "kernels" / release / "kernel.json"
    try:
        k = Kernel(**json.loads(meta.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if Path(k.vmlinuz).is_file() and Path(k.modules).is_dir():
        return k
    return None


def fetch(release: str, cache: Path, apt: Apt, refresh: bool = False) -> Kernel:
    if not refresh:
        k = cached(release, cache)
        if k:
            return k
    apt.update()
    pkg, version = choose(release, apt.show(META))
    kdir = cache / "kernels" / release
    old = cached(release, cache)
    if old and old.package == pkg and old.version == version:
        return old
    if (kdir / "root").is_dir() and (kdir / "package").is_file() and \
            (kdir / "package").read_text().split() == [pkg, version]:
        return _record(release, pkg, version, kdir)
    debs = cache / "debs"
    kdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{release}.", dir=kdir.parent))
    downloaded = []
    for name, ver in [(pkg, version)] + parts(apt, pkg, version):
        print(f"{PROG}: {release}: downloading {name} {ver}", file=sys.stderr)
        deb = apt.download(name, ver, debs)
        downloaded.append(deb)
        r = _run(["dpkg-deb", "-x", str(deb), str(tmp / "root")])
        if r.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FetchError(f"dpkg-deb -x {deb.name} failed: "
                             f"{_tail(r.stderr)}")
    if kdir.exists():
        shutil.rmtree(kdir)
    tmp.rename(kdir)
    (kdir / "package").write_text(f"{pkg} {version}\n")
    for deb in downloaded:
        deb.unlink()  # the unpacked tree is what is reused
    return _record(release, pkg, version, kdir)


def _record(release: str, pkg: str, version: str, kdir: Path) -> Kernel:
    kver, vmlinuz, mods, config = locate(kdir / "root")
    k = Kernel(release=release, package=pkg, version=version, kver=kver,
               vmlinuz=str(vmlinuz), modules=str(mods), config=config)
    (kdir / "kernel.json").write_text(json.dumps(asdict(k), indent=2) + "\n")
    return k


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("releases", nargs="*", default=DEFAULT_RELEASES)
    ap.add_argument("--refresh", action="store_true",
                    help="look for a newer package even when one is cached")
    ap.add_argument("--cached-only", action="store_true",
                    help="never use the network: print what is cached")
    ap.add_argument("--cache-dir", action="store_true",
                    help="print the cache directory and exit")
    args = ap.parse_args(argv)
    cache = cache_dir()
    if args.cache_dir:
        print(cache)
        return 0
    apt = Apt(cache / "apt")
    out, rc = [], 0
    for rel in args.releases:
        try:
            k = cached(rel, cache) if args.cached_only else \
                fetch(rel, cache, apt, args.refresh)
            if k is None:
                raise FetchError("not in the cache")
            out.append(asdict(k))
        except (FetchError, LookupError) as err:
            print(f"{PROG}: {rel}: {err}", file=sys.stderr)
            rc = 1
    print(json.dumps(out, indent=2))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
