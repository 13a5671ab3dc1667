#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""KCIDB export: one KCIDB document (I/O schema v5.3) per run of the store,
for KernelCI's common results database (docs/KCIDB.md).

A document holds one checkout (the kernel release), one build (the
release on that host: architecture, kernel version, the config facts of a
kernel-config.gz in the run) and the run's tests:

  aio.conform.<test>[.<variant>]   every conformance result: pass PASS;
                                   fail, crash, stuck FAIL; timeout ERROR
                                   (a verdict never rests on time); skip
                                   SKIP; xfail PASS (noted); interrupted
                                   MISS; the reason and the watchdog's
                                   report in log_excerpt
  aio.conform.bail_out             FAIL: aio-conform stopped, a wedged kernel
  aio.bench.<point>.<metric>       DONE with a number: IOPS, io_submit ns per
                                   iocb (p50), inline ratio of every
                                   aio-stress engine run and scenario point
  aio.bench.<point>                a point that was not measured: SKIP,
                                   ERROR, FAIL (hang, verify_failed), MISS
  aio.conform, aio.bench, aio      MISS in an incomplete run: what may be
                                   missing (the conformance run's, the
                                   benchmark's, or the run's), and why

Benchmark figures of an emulated run (qemu TCG) are left out (aio.bench
SKIP says so), and so are those of an incomplete run unless the report
has --include-incomplete.  Origin "aio_suite": the schema allows only
[a-z0-9_] in an origin.  Ids: aio_suite:<release> (checkout),
aio_suite:<host>:<release> (build), <build id>:<run id>:<path> (test),
each name percent-encoded (bytes outside [A-Za-z0-9._+-]), so they are
unique and plain whatever the names hold.  Every document is checked
with tools/kcidb_check.py (--strict) before it is written.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, cast

from aiosuite import schemas as schema
from aiosuite.report import collect, compare, kcidb_check
from aiosuite.report.collect import Point, Run

ORIGIN = "aio_suite"
VERSION = {"major": kcidb_check.MAJOR, "minor": kcidb_check.MINOR}
LOG_EXCERPT_BYTES = 16384  # the schema's limit is in characters: bytes are stricter
NAME_MAX_BYTES = 200  # a document's file name before ".json"
CONFIG_MAX_BYTES = 16 << 20  # of a kernel-config.gz, unpacked
CONFIG_OPTIONS = ("CONFIG_AIO", "CONFIG_IO_URING", "CONFIG_BLK_DEV_NULL_BLK",
                  "CONFIG_BLK_DEV_LOOP", "CONFIG_PREEMPT", "CONFIG_PREEMPT_DYNAMIC",
                  "CONFIG_PREEMPT_NONE", "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_HZ")

# aio-conform's results, read by the schema's meanings (docs/KCIDB.md).
CONFORM_STATUS = {"pass": "PASS", "fail": "FAIL", "crash": "FAIL", "stuck": "FAIL",
                  "timeout": "ERROR", "skip": "SKIP", "xfail": "PASS", "interrupted": "MISS"}
# A benchmark point's status (scenario points, aio-stress results); any
# other is ERROR: the measurement failed, the kernel's part is unknown.
POINT_STATUS = {"ok": "DONE", "skipped": "SKIP", "interrupted": "MISS", "hang": "FAIL",
                "verify_failed": "FAIL"}
# The headline figures: metric -> (unit, prefix).
HEADLINE = {"iops": ("IOPS", "metric"), "submit_ns_per_iocb_p50": ("ns", ""),
            "inline_ratio": ("", "")}
# Status priority (the schema's order): the summary of a set of tests.
PRIORITY = kcidb_check.STATUSES

_SAFE = re.compile(rb"[A-Za-z0-9._+-]")
_PATH_BAD = re.compile(r"[^A-Za-z0-9_-]")
_RUN_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


def enc(name: bytes) -> str:
    """name with every byte outside [A-Za-z0-9._+-] as %XX: plain ASCII
    without ':', '/' or NUL, and two names never give one string."""
    return "".join(chr(b) if _SAFE.fullmatch(bytes([b])) else f"%{b:02X}" for b in name)


def component(s: str) -> str:
    """One name of a test path: [A-Za-z0-9_-] kept, anything else '_'."""
    return _PATH_BAD.sub("_", s) or "_"


def path_of(*parts: str) -> str:
    """A dot-separated test path; each part's own dots separate names."""
    return ".".join(component(n) for p in parts for n in p.split("."))


def excerpt(text: str, limit: int = LOG_EXCERPT_BYTES) -> str:
    """text cut to at most limit bytes of UTF-8 on a character boundary,
    saying so at its end when it was cut; NUL shown as \\x00."""
    text = text.replace("\0", "\\x00")
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    tail = f"\n[... cut: {len(data)} bytes in all]"
    head = data[:limit - len(tail.encode("utf-8"))].decode("utf-8", errors="ignore")
    return head + tail


def status_of(statuses: list[str]) -> str:
    """The schema's summary: the highest-priority status."""
    return min(statuses, key=PRIORITY.index)


def raw_names(run: Run) -> tuple[bytes, bytes, bytes]:
    """The host, release and run id as the store's directory names."""
    p = run.path
    return os.fsencode(p.parent.parent.name), os.fsencode(p.parent.name), os.fsencode(p.name)


def start_time(run: Run) -> str:
    """When the run started (its id's UTC time, else env.json time_utc),
    RFC 3339; "" when neither says."""
    m = _RUN_TIME.match(run.run_id)
    if m:
        y, mo, d, h, mi, s = m.groups()
        t = f"{y}-{mo}-{d}T{h}:{mi}:{s}+00:00"
        if not kcidb_check.VALUE_RULES["date-time"](t):
            return t
    env_t = run.env.get("time_utc")
    if isinstance(env_t, str) and not kcidb_check.VALUE_RULES["date-time"](env_t):
        return env_t
    return ""


def _env_str(run: Run, key: str) -> str:
    v = run.env.get(key)
    return v if isinstance(v, str) else ""


def kernel_config(run: Run) -> dict[str, Any]:
    """The run's kernel-config.gz (a guest run's): the options that bear on
    AIO; {} without one, a note when it cannot be read."""
    f = run.path / "kernel-config.gz"
    if not os.path.lexists(f):
        return {}
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(schema.read_bytes(f))) as gz:
            text = gz.read(CONFIG_MAX_BYTES).decode("utf-8", errors="replace")
    except (schema.BadFile, OSError, EOFError, ValueError) as e:
        return {"file": "kernel-config.gz", "error": schema.printable(str(e))}
    opts: dict[str, str] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"(CONFIG_[A-Z0-9_]+)=(.*)|# (CONFIG_[A-Z0-9_]+) is not set", line)
        if m and (m.group(1) or m.group(3)) in CONFIG_OPTIONS:
            opts[m.group(1) or m.group(3)] = schema.printable(m.group(2) or "n")[:200]
    return {"file": "kernel-config.gz", "options": opts}


def host_facts(run: Run) -> dict[str, Any]:
    """environment.misc: what a reader needs to judge the numbers."""
    facts: dict[str, Any] = {"host": run.host, "emulated": run.emulated}
    for k in ("accelerator", "hypervisor", "cpu_model", "machine"):
        if _env_str(run, k):
            facts[k] = _env_str(run, k)
    for k in ("cpus_online", "memory_bytes"):
        v = run.env.get(k)
        if isinstance(v, int) and not isinstance(v, bool):
            facts[k] = v
    return facts


class Document:
    """The KCIDB document of one run."""

    def __init__(self, run: Run, include_incomplete: bool):
        self.run = run
        self.include_incomplete = include_incomplete
        host, rel, rid = raw_names(run)
        self.checkout_id = f"{ORIGIN}:{enc(rel)}"
        self.build_id = f"{ORIGIN}:{enc(host)}:{enc(rel)}"
        self.test_prefix = f"{self.build_id}:{enc(rid)}"
        self.file_stem = f"{enc(host)}-{enc(rel)}-{enc(rid)}"
        self.tests: list[dict[str, Any]] = []
        self.ids: set[str] = set()
        self.notes: list[str] = []
        self.miss = 0  # MISS tests that say the run is incomplete
        self.start = start_time(run)
        self.env = {"comment": f"host {run.host}", "misc": host_facts(run)}

    def test(self, path: str, status: str, log: str = "", **extra: Any) -> dict[str, Any]:
        """Add a test at path; its id is unique in the document."""
        tid, n = f"{self.test_prefix}:{path}", 1
        while tid in self.ids:
            n += 1
            tid = f"{self.test_prefix}:{path}#{n}"
        self.ids.add(tid)
        t: dict[str, Any] = {"id": tid, "origin": ORIGIN, "build_id": self.build_id,
                             "path": path, "status": status}
        if self.start:
            t["start_time"] = self.start
        t["environment"] = self.env
        if log:
            t["log_excerpt"] = excerpt(log)
        t.update(extra)
        misc = t.setdefault("misc", {})
        misc.update(run=self.run.run_id, run_complete=not self.run.incomplete)
        self.tests.append(t)
        return t

    # ---- conformance ----

    def conform_doc(self) -> dict[str, Any] | None:
        """The run's conform.json, read again for what collect does not
        keep (each test's duration and watchdog report, the conformance
        run's own completeness); None when the file has another name or
        cannot be read."""
        if self.run.conform_file != "conform.json":
            return None
        try:
            return schema.check("conform", schema.read_json(self.run.path / "conform.json"))
        except schema.BadFile:
            return None

    def conform(self) -> None:
        run = self.run
        if run.conform is None:
            return
        doc = self.conform_doc()
        details: dict[str, dict[str, Any]] = {}
        for r in (doc or {}).get("results") or []:
            name, var = str(r.get("name") or "?"), str(r.get("variant") or "")
            details.setdefault(f"{name}[{var}]" if var else name, r)
        for test, r in compare.conf_results(run).items():
            parts = [r.name] + ([r.variant.replace(".", "_")] if r.variant else [])
            status = CONFORM_STATUS.get(r.result, "ERROR")
            log = f"{r.result}: {r.reason}" if r.reason else (
                r.result if r.result != "pass" else "")
            extra: dict[str, Any] = {}
            misc: dict[str, Any] = {"aio_conform_result": r.result}
            if r.variant:
                misc["variant"] = r.variant
            det = details.get(test, {})
            wd = det.get("watchdog")
            if isinstance(wd, dict):
                log += "\nwatchdog (what was in flight when it was killed):\n" + json.dumps(
                    wd, indent=1, ensure_ascii=False, allow_nan=False)
            dur = det.get("duration_ns")
            if isinstance(dur, (int, float)) and not isinstance(dur, bool) \
                    and 0 <= dur <= schema.MAX_ABS:
                extra["duration"] = dur / 1e9
            if r.result == "xfail":
                extra["comment"] = ("an expected failure (xfail): the kernel answers as "
                                    "kernels of its age are known to; counted as PASS")
            elif r.result not in CONFORM_STATUS:
                extra["comment"] = f"unknown aio-conform result {r.result!r}: ERROR"
            self.test(path_of("aio.conform", *parts), status, log, misc=misc, **extra)
        if run.bail_out:
            self.test("aio.conform.bail_out", "FAIL",
                      f"aio-conform bailed out: {run.bail_out}",
                      comment="aio-conform stopped: the kernel left test processes that "
                              "SIGKILL could not end (a wedged kernel)")
        # The conformance run's own state; a JSON from before it said so
        # (or under another name) has only the run's.
        why = run.incomplete
        if doc is not None and not run.conform_legacy:
            why = collect.conform_state(cast(schema.ConformDoc, doc), run.conform_file)[0]
        if why:
            self.test("aio.conform", "MISS", self.why_incomplete(
                "the tests it did not reach are not in this document", why))

    def why_incomplete(self, what: str, why: list[str] | None = None) -> str:
        self.miss += 1
        return f"incomplete run: {'; '.join(why or self.run.incomplete)}\n{what}"

    # ---- benchmark figures ----

    def point_path(self, p: Point) -> str:
        if p.source in ("aio-stress", "aio-bare"):
            parts = [p.variant] + ([p.stage] if p.stage else [])
        else:
            parts = ([p.target] if p.target else []) + [
                f"{k}-{p.labels[k]}" for k in sorted(p.labels)]
        return ".".join(["aio", "bench", component(p.source)]
                        + [component(x) for x in parts])

    def bench(self) -> None:
        run = self.run
        points = [p for p in run.points.values() if p.source != "fio"]
        if not points:
            return
        if run.emulated:
            self.test("aio.bench", "SKIP", "emulated run (qemu TCG): its timings are not "
                      "performance (docs/REPORT.md); its benchmark figures are left out")
            self.notes.append("benchmark figures left out: emulated run (qemu TCG)")
            return
        if run.incomplete:
            left_out = not self.include_incomplete
            self.test("aio.bench", "MISS", self.why_incomplete(
                "its benchmark figures are left out, as the report leaves an incomplete run "
                "out of comparisons (--include-incomplete exports them)" if left_out else
                "its figures here are what it measured; the points it did not reach are "
                "missing"))
            if left_out:
                self.notes.append("benchmark figures left out: incomplete run "
                                  "(--include-incomplete exports them)")
                return
        for p in points:
            base = self.point_path(p)
            facts: dict[str, Any] = {"source": p.source, "target": p.target,
                                     "labels": p.labels}
            if p.status != "ok":
                self.test(base, POINT_STATUS.get(p.status, "ERROR"),
                          f"{p.status}: {p.reason}" if p.reason else p.status,
                          misc={"point": facts, "point_status": p.status})
                continue
            for m, (unit, prefix) in HEADLINE.items():
                # What was measured: the raw figures, also where the report
                # compares normalized ones (normalize.py)
                xs = p.raw_samples.get(m, p.samples.get(m))
                if not xs:
                    continue
                number: dict[str, Any] = {"value": sum(xs) / len(xs)}
                if unit:
                    number["unit"] = unit
                if prefix:
                    number["prefix"] = prefix
                md = p.metrics.get(m)
                self.test(f"{base}.{m}", "DONE", number=number, misc={
                    "point": facts, "metric": m, "statistic": "mean", "samples": xs,
                    "better": md.better if md else ""})

    # ---- the document ----

    def checkout(self) -> dict[str, Any]:
        c: dict[str, Any] = {"id": self.checkout_id, "origin": ORIGIN,
                             "comment": f"Linux {self.run.release}",
                             "misc": {"kernel_release": self.run.release}}
        guest = self.run.env.get("guest")
        if isinstance(guest, dict):
            c["misc"]["source"] = {k: v for k, v in guest.items()
                                   if k in ("source", "release", "package", "package_version")
                                   and isinstance(v, str)}
        return c

    def build(self) -> dict[str, Any]:
        run = self.run
        b: dict[str, Any] = {"id": self.build_id, "origin": ORIGIN,
                             "checkout_id": self.checkout_id,
                             "comment": f"Linux {run.release} on {run.host}"}
        arch = _env_str(run, "machine").lower()
        if arch and not kcidb_check.VALUE_RULES["architecture"](arch):
            b["architecture"] = arch
        if run.conform is not None or run.points:
            b["status"] = "PASS"  # built and booted: the run ran on it
        misc: dict[str, Any] = {"host": run.host, "kernel_release": run.release}
        for k in ("kernel_version", "cmdline"):
            if _env_str(run, k):
                misc[k] = _env_str(run, k)
        cfg = kernel_config(run)
        if cfg:
            misc["kernel_config"] = cfg
        b["misc"] = misc
        return b

    def build_document(self) -> dict[str, Any]:
        self.conform()
        self.bench()
        if self.run.incomplete and not self.miss:
            self.test("aio", "MISS", self.why_incomplete(
                "what it did not finish is not in this document"))
        return {"version": dict(VERSION), "checkouts": [self.checkout()],
                "builds": [self.build()], "tests": self.tests}


def export_run(run: Run, include_incomplete: bool = False) -> tuple[dict[str, Any], Document]:
    """The KCIDB document of run, and the exporter (its notes, file stem)."""
    d = Document(run, include_incomplete)
    return d.build_document(), d


def file_name(stem: str, taken: set[str]) -> str:
    """<stem>.json, shortened with a hash of the whole when long, and made
    unique among taken."""
    if len(stem) > NAME_MAX_BYTES:
        h = hashlib.sha256(stem.encode()).hexdigest()[:16]
        stem = f"{stem[:NAME_MAX_BYTES - 17]}-{h}"
    name, n = f"{stem}.json", 1
    while name in taken:
        n += 1
        name = f"{stem}.{n}.json"
    taken.add(name)
    return name


def write_all(runs: list[Run], out: Path,
              include_incomplete: bool = False) -> tuple[int, list[str]]:
    """A document per run into out (made when missing; the *.json files of
    an earlier export there are replaced); (documents written, notes)."""
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    notes = []
    for old in out.glob("*.json"):
        if old.is_file() and not old.is_symlink():
            old.unlink()
    for run in runs:
        doc, d = export_run(run, include_incomplete)
        problems = kcidb_check.check(doc, strict=True)
        if problems:  # a bug here: never hand KernelCI a document it refuses
            raise ValueError(f"KCIDB document of {run.name} is not valid: {problems[0]}")
        name = file_name(d.file_stem, taken)
        data = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
        tmp = out / f".{name}.tmp"
        tmp.write_bytes(data.encode("utf-8"))
        tmp.replace(out / name)
        notes += [f"{run.name}: {n}" for n in d.notes]
    return len(runs), notes


def main(argv: list[str]) -> int:
    print("kcidb.py is a module of tools/report.py (--formats kcidb)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
