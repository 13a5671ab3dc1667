#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The Debian archive this machine already uses, read from its apt sources.

The repository names no mirror: the kernel fetcher reuses the URI (and the
keyring) of the machine's own Debian entry, found in /etc/apt/sources.list,
/etc/apt/sources.list.d/*.list (one-line style) and *.sources (deb822), and
asks for other suites of the same archive.  AIO_SUITE_APT_MIRROR overrides
the URI.

  python3 ci/apt_sources.py      print the URI and keyring chosen
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_SUITES = {"buster", "bullseye", "bookworm", "trixie", "forky", "duke",
                 "sid", "unstable", "testing", "stable", "oldstable"}
DEFAULT_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")


@dataclass
class Entry:
    uri: str
    suites: list[str]
    components: list[str]
    signed_by: str = ""
    origin: str = ""
    types: list[str] = field(default_factory=lambda: ["deb"])


def _codename(os_release: Path = Path("/etc/os-release")) -> str:
    try:
        for line in os_release.read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def parse_one_line(text: str, origin: str) -> list[Entry]:
    """Entries of a sources.list in the one-line style."""
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        kind = words.pop(0)
        if kind not in ("deb", "deb-src"):
            continue
        opts: dict[str, str] = {}
        if words and words[0].startswith("["):
            opt_words = []
            while words:
                w = words.pop(0)
                opt_words.append(w)
                if w.endswith("]"):
                    break
            for w in " ".join(opt_words).strip("[]").split():
                if "=" in w:
                    k, v = w.split("=", 1)
                    opts[k.lower()] = v
        if len(words) < 2:
            continue
        out.append(Entry(uri=words[0], suites=[words[1]],
                         components=words[2:],
                         signed_by=opts.get("signed-by", ""),
                         origin=origin, types=[kind]))
    return out


def parse_deb822(text: str, origin: str) -> list[Entry]:
    """Entries of a .sources file (deb822 stanzas)."""
    out = []
    for stanza in deb822_stanzas(text):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        types = stanza.get("types", "").split()
        for uri in stanza.get("uris", "").split():
            out.append(Entry(uri=uri, suites=stanza.get("suites", "").split(),
                             components=stanza.get("components", "").split(),
                             signed_by=stanza.get("signed-by", "").strip(),
                             origin=origin, types=types))
    return out


def deb822_stanzas(text: str, lower: bool = True) -> list[dict[str, str]]:
    """The stanzas of a deb822 text (sources, apt-cache show), keys lower
    case unless lower is False; # comments are skipped."""
    stanzas: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    key = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                stanzas.append(cur)
            cur, key = {}, ""
            continue
        if raw[0] in " \t" and key:
            cur[key] += "\n" + raw.strip()
            continue
        if ":" in raw:
            k, v = raw.split(":", 1)
            key = k.strip().lower() if lower else k.strip()
            cur[key] = v.strip()
    if cur:
        stanzas.append(cur)
    return stanzas


def machine_entries(etc: Path = Path("/etc/apt")) -> list[Entry]:
    entries: list[Entry] = []
    main = etc / "sources.list"
    if main.is_file():
        entries += parse_one_line(main.read_text(errors="replace"), str(main))
    parts = etc / "sources.list.d"
    if parts.is_dir():
        for p in sorted(parts.iterdir()):
            if p.suffix == ".list":
                entries += parse_one_line(p.read_text(errors="replace"), str(p))
            elif p.suffix == ".sources":
                entries += parse_deb822(p.read_text(errors="replace"), str(p))
    return entries


def debian_archive(entries: list[Entry], codename: str = "") -> Entry | None:
    """The entry that serves Debian's main archive (not security updates)."""
    wanted = set(DEBIAN_SUITES)
    if codename:
        wanted.add(codename)
    for e in entries:
        if "deb" not in e.types or "main" not in e.components:
            continue
        if any(s in wanted for s in e.suites):
            return e
    return None


def mirror() -> tuple[str, str]:
    """(URI, keyring path or "") of the machine's Debian archive.

    Raises LookupError when the machine has none configured."""
    env = os.environ.get("AIO_SUITE_APT_MIRROR", "")
    keyring = str(DEFAULT_KEYRING) if DEFAULT_KEYRING.is_file() else ""
    if env:
        return env, keyring
    e = debian_archive(machine_entries(), _codename())
    if e is None:
        raise LookupError("no Debian archive in /etc/apt/sources.list(.d); "
                          "set AIO_SUITE_APT_MIRROR to its URI")
    signed = e.signed_by
    if signed and "\n" not in signed and Path(signed).is_file():
        keyring = signed
    return e.uri, keyring


def main(argv: list[str]) -> int:
    try:
        uri, keyring = mirror()
    except LookupError as err:
        print(f"apt_sources: {err}", file=sys.stderr)
        return 1
    print(f"uri {uri}")
    print(f"keyring {keyring or '(apt default)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
