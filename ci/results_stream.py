#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Decode the results stream a guest writes on its second serial port.

The guest (ci/guest/init) writes
    AIO-SUITE-RESULTS-BEGIN v1 <bytes> <sha256>
    <the gzipped tar of its /results, base64, in lines>
    AIO-SUITE-RESULTS-END
A stream without its end line, or whose decoded length or checksum differs
from the header's, is rejected: a truncated result is an error, never a
pass.  The tar is unpacked only if every member is a plain file or a
directory with a relative path that stays inside the destination.

  python3 ci/results_stream.py STREAM DIR    unpack into DIR, or say why not
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import sys
import tarfile
from pathlib import Path

BEGIN = b"AIO-SUITE-RESULTS-BEGIN"
END = b"AIO-SUITE-RESULTS-END"
PROBE = b"AIO-SUITE-PROBE-OK"


class StreamError(Exception):
    pass


def decode(raw: bytes) -> bytes:
    """The payload of the last complete stream in raw, checked."""
    start = raw.rfind(BEGIN)
    if start < 0:
        raise StreamError("no results stream (the guest never sent one)")
    lines = raw[start:].replace(b"\r", b"").split(b"\n")
    header = lines[0].split()
    if len(header) != 4 or header[1] != b"v1":
        raise StreamError(f"bad stream header: {lines[0][:120]!r}")
    try:
        size = int(header[2])
    except ValueError:
        raise StreamError(f"bad length in the header: {header[2]!r}") from None
    want = header[3].decode(errors="replace")
    body = []
    for line in lines[1:]:
        if line.strip() == END:
            break
        body.append(line.strip())
    else:
        raise StreamError("truncated results stream: no end marker "
                          f"({sum(len(b) for b in body)} base64 bytes seen)")
    try:
        data = base64.b64decode(b"".join(body), validate=True)
    except (binascii.Error, ValueError) as err:
        raise StreamError(f"corrupt results stream: {err}") from None
    if len(data) != size:
        raise StreamError(f"truncated results stream: {len(data)} of "
                          f"{size} bytes")
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise StreamError(f"results stream checksum mismatch: {got} != {want}")
    return data


def unpack(data: bytes, dest: Path) -> list[str]:
    """Unpack the checked tar into dest; the names of the files."""
    dest.mkdir(parents=True, exist_ok=True)
    names = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for m in tar.getmembers():
                name = m.name[2:] if m.name.startswith("./") else m.name
                if name in ("", "."):
                    continue
                p = Path(name)
                if p.is_absolute() or ".." in p.parts:
                    raise StreamError(f"unsafe path in results: {m.name}")
                if m.isdir():
                    (dest / p).mkdir(parents=True, exist_ok=True)
                elif m.isfile():
                    f = tar.extractfile(m)
                    if f is None:
                        continue
                    (dest / p).parent.mkdir(parents=True, exist_ok=True)
                    (dest / p).write_bytes(f.read())
                    names.append(name)
                else:
                    raise StreamError(f"not a plain file in results: {m.name}")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise StreamError(f"cannot unpack the results: {err}") from None
    return names


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: results_stream.py STREAM DIR", file=sys.stderr)
        return 2
    try:
        names = unpack(decode(Path(argv[0]).read_bytes()), Path(argv[1]))
    except (StreamError, OSError) as err:
        print(f"results_stream: {err}", file=sys.stderr)
        return 1
    print(f"{len(names)} files in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
