#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read one result file of the store safely and check every value the
report uses, so that a bad file is named and left out, never a crash.

Reading: only a regular file (a FIFO, a device or a directory named *.json
is refused without being opened for reading; a symbolic link is followed,
a loop is an error), of at most MAX_FILE_BYTES, opened non-blocking.
Parsing: JSON without NaN or Infinity (a number too big for a float is
Infinity too); every string made printable (printable()): a control
character, a lone surrogate or a byte that is not UTF-8 becomes a visible
escape, so no text of the store carries a newline, a tab or an
unencodable character into a report, a chart or the console.

Checking (check()): per schema, the fields the report reads have the
right JSON type; numbers are finite and at most MAX_ABS in magnitude (so
no sum of squares overflows); booleans are booleans (env.json "emulated":
"yes" is an error, not true); a file named in a result ("raw") is a plain
name in the run's directory.  The first problem raises BadFile with where
it is ("points[3].samples.iops[1]: ...").

The documents' shapes are TypedDicts (AioStressDoc and its Stage,
ScenarioDoc, MachineDoc, SummaryDoc, ConformDoc, EnvDoc): the keys and
types each writer writes (docs/RESULTS-FORMAT.md), every key optional
(total=False), since a file of the store may lack any of them.  A reader
takes a document as its TypedDict after check() (or, for a program's own
output that the study reads back, as it is), and still reads each value
with .get() and isinstance() where the file comes from the store: check()
makes sure a value has its type or is null, not that it is there.

  python3 -m aiosuite.schemas FILE...   (tools/schema.py) check files by hand
"""
from __future__ import annotations

import json
import math
import os
import stat
import sys
from pathlib import Path
from typing import Any, TypedDict, Union

MAX_FILE_BYTES = 64 << 20
MAX_ABS = 1e18  # bigger than any IOPS, byte rate or time in ns a run reports

SCENARIO = "aio-suite-scenario/1"
AIO_STRESS = "aio-stress/1"
MACHINE = "aio-suite-machine/2"
MACHINE_1 = "aio-suite-machine/1"  # the same probes without "control": still read
CONFORM = "aio-conform/1"
CALIBRATE = "aio-suite-calibrate/1"  # make calibrate's calibrate.json (aiosuite/calibrate)


# ---- the documents ----

# A label of a point (scenario points, aio-stress options): what the check
# allows (scalar()).
Label = Union[str, int, float, bool, None]


class Percentiles(TypedDict, total=False):
    """aio-stress/1: a distribution in ns (a stage's submit and completion
    latency); buckets ([low, high, count]) where the writer adds them."""
    count: int
    min: float
    mean: float
    p50: float
    p90: float
    p99: float
    p99_9: float
    p99_99: float
    max: float
    buckets: list[list[int]]


class Submit(TypedDict, total=False):
    calls: int
    iocbs: int
    total_ns: int
    iocbs_per_call: float
    eagain: int
    inline_iocbs: int
    inline_ratio: float  # near 1.0: the "asynchronous" I/O completed in io_submit
    per_call_ns: Percentiles
    per_iocb_ns: Percentiles


class Cpu(TypedDict, total=False):
    user_ns: int
    system_ns: int
    user_ns_per_io: float
    system_ns_per_io: float
    ns_per_io: float
    voluntary_ctxsw: int
    involuntary_ctxsw: int


class WallSplit(TypedDict, total=False):
    thread_time_ns: int
    submit_ns: int
    reap_ns: int
    other_ns: int
    submit_fraction: float
    reap_fraction: float
    other_fraction: float


class Verify(TypedDict, total=False):
    """A stage's verification (aio-stress --verify)."""
    blocks_written: int
    blocks_checked: int
    blocks_ok: int
    blocks_bad: int
    blocks_not_checked: int
    checked_nothing: bool
    failures: int
    bad_blocks_by_kind: dict[str, int]
    first_bad: dict[str, Any] | None


class Stage(TypedDict, total=False):
    """aio-stress/1: one stage (write, read, random write, random read)."""
    name: str
    interrupted: bool
    stonewalled: bool
    ios: int
    bytes: int
    elapsed_ns: int
    iops: float
    bytes_per_s: float
    errors: int
    short_ios: int
    empty_ios: int
    first_error: dict[str, Any] | None
    submit: Submit
    reap: dict[str, int]
    completion_latency_ns: Percentiles
    wall_split: WallSplit
    cpu: Cpu
    verify: Verify
    per_file: list[dict[str, Any]]


class AioStressOptions(TypedDict, total=False):
    engine: str
    file_size_bytes: int
    record_bytes: int
    depth: int
    max_io_submit: int
    o_direct: bool
    iovecs: int
    rw_flags: str
    user_reap: bool
    sqpoll: bool
    iopoll: bool
    fixed_files: bool
    fixed_bufs: bool
    verify: bool
    runtime_s: float


class AioStressTarget(TypedDict, total=False):
    path: str
    loop_backing: str  # with --loop: the file under the loop device
    loop_direct_io: bool
    kind: str  # file, block, char
    fstype: str
    device: str
    size_bytes: int


class AioStressDoc(TypedDict, total=False):
    """aio-stress --json FILE (schema aio-stress/1)."""
    schema: str
    tool: str
    version: str
    time_utc: str
    command_line: list[str]
    kernel: dict[str, Any]
    options: AioStressOptions
    targets: list[AioStressTarget]
    stages: list[Stage]
    result: str  # ok, interrupted, skipped, verify_failed, io_errors, short_io, failed
    reason: str
    _exit_status: int  # added by the study: aio-stress's exit status


class MetricSpec(TypedDict, total=False):
    unit: str
    better: str  # "higher", "lower" or "" (informational)


class ScenarioPoint(TypedDict, total=False):
    target: str
    labels: dict[str, Label]
    status: str  # ok, skipped, failed, hang
    reason: str
    samples: dict[str, list[float]]  # every round's figure of each metric
    raw: list[str]  # the files behind the point, in the run's directory
    control_probe: list[int | None]  # machine.json's probe of each sample's round
    cpu_bound: bool



class ScenarioDoc(TypedDict, total=False):
    """<scenario>.json of a study (schema aio-suite-scenario/1)."""
    schema: str
    scenario: str
    seed: str
    question: str
    params: dict[str, Any]
    metrics: dict[str, MetricSpec]
    points: list[ScenarioPoint]
    charts: list[str]
    tables: list[str]
    crosscheck: list[dict[str, Any]]
    notes: list[str]
    targets: dict[str, dict[str, Any]]


class MachineProbe(TypedDict, total=False):
    label: str
    time_utc: str
    cpu_loop_ns: float  # the median of cpu_loop_ns_samples
    cpu_loop_ns_samples: list[int]
    loop_iterations: int
    steal_jiffies: int
    total_jiffies: int
    steal_pct_since_previous: float
    index: int  # its place in "probes": what a point's control_probe names
    round: int
    control: dict[str, Any]  # aio-machine/1's figures, and "source"


class MachineDoc(TypedDict, total=False):
    """machine.json (schema aio-suite-machine/1)."""
    schema: str
    probes: list[MachineProbe]
    python: str


class SummaryDoc(TypedDict, total=False):
    """summary.json: written at a run's start with complete false, and
    again at its end (aio-suite-study/1, aio-suite-bench/1, a guest run's)."""
    schema: str
    complete: bool
    interrupted: str | None  # the signal's name
    exit_status: int
    repeat: int | str  # rounds asked for, or "auto"
    sample_scale: float  # make bench: a study sample against the scenario's own
    auto: "AutoState"  # --repeat auto: what was reached and why it stopped


class AutoPoint(TypedDict, total=False):
    """One point of summary.json's auto.per_point (aiosuite/study/auto.py)."""
    source: str
    target: str
    labels: dict[str, Label]
    metric: str
    detectable_pct: float | None
    samples: int
    waited_for: bool
    note: str


class AutoState(TypedDict, total=False):
    """summary.json's "auto" (--repeat auto)."""
    target_pct: float
    budget_s: float
    max_rounds: int
    rounds: int
    stopped: str | None  # target, budget, max_rounds, interrupted
    elapsed_s: float
    round_s: list[float]
    points_total: int
    points_reached: int
    worst_detectable_pct: float | None
    per_point: list[AutoPoint]


class ConformResult(TypedDict, total=False):
    name: str
    variant: str | None
    result: str  # pass, fail, skip, xfail, timeout, crash, stuck, interrupted
    reason: str
    duration_ns: int


class ConformDoc(TypedDict, total=False):
    """aio-conform --json FILE (schema aio-conform/1; older files carry
    "tool": "aio-conform" and no "complete")."""
    schema: str
    tool: str
    kernel: str
    results: list[ConformResult]
    totals: dict[str, int]
    complete: bool
    interrupted_by: str | None
    bail_out: str | None


class EnvDoc(TypedDict, total=False):
    """env.json: the environment of a run (store.environment())."""
    host: str
    kernel_release: str
    kernel_version: str
    machine: str
    cmdline: str
    cpu_model: str
    cpus_online: int
    memory_bytes: int
    hypervisor: str
    aio_max_nr: str
    io_uring_disabled: str
    uid: int
    versions: dict[str, str]
    time_utc: str
    emulated: bool  # a guest's run under qemu TCG: timings are not performance
    accelerator: str  # a guest's run: kvm, tcg, or none
    guest: dict[str, str]


class CalibrateSummaryRow(TypedDict, total=False):
    """One line of calibrate.json's "summary": a set and condition over
    the trials (the A/A pairs of a set in one line)."""
    set: str  # "cpu" or "device"
    condition: str  # "aa", "cpu-10", "cpu-20", "iops-90", "iops-80"
    role: str  # "aa" or "slowdown"
    slowdown_imposed_pct: float
    comparisons: int
    called_point_level: int  # A/A: false alarms; slowdown: detections
    called_composite_level: int
    rate_point_level_pct: float
    rate_composite_level_pct: float
    iops_composite_change_median_pct: float | None
    iops_composite_change_min_pct: float | None
    iops_composite_change_max_pct: float | None
    cpu_share_change_median_pct: float | None
    iops_composite_detectable_median_pct: float | None
    # throttled samples against the unthrottled reference right before each
    paired_iops_change_median_pct: float | None
    paired_cpu_share_change_median_pct: float | None


class CalibrateDoc(TypedDict, total=False):
    """calibrate.json of make calibrate (schema aio-suite-calibrate/1)."""
    schema: str
    host: str
    kernel: str
    time_utc_start: str
    time_utc_end: str | None
    complete: bool
    interrupted: str | None
    exit_status: int
    duration_s: float
    params: dict[str, Any]  # trials, rounds, sample_runtime_s, sets, quick, device_file_bytes
    cgroup: dict[str, Any]  # version, cpu, io, cpu_period_us, group
    skipped: dict[str, str | None]  # set -> why it was not calibrated
    trials: list[dict[str, Any]]  # each with its comparisons, limits, corrections
    # "<point>/<condition>" -> the limit's correction learned before the
    # first trial (what the kernel gave over what it was asked) and its pairs
    tuning: dict[str, dict[str, float]]
    summary: list[CalibrateSummaryRow]
    notes: list[str]


class BadFile(ValueError):
    """A result file the report cannot use; str() says why, in a few words."""


# ---- reading ----

def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The contents of the regular file path (links followed), at most
    limit bytes; BadFile for anything else.  Never blocks on a FIFO and
    never reads more than limit + 1 bytes, whatever the file turns into
    between the check and the read."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise BadFile(f"cannot read it: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise BadFile(f"not a regular file ({_kind(st.st_mode)})")
    if st.st_size > limit:
        raise BadFile(f"{st.st_size} bytes, more than a result file may have ({limit})")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise BadFile(f"cannot open it: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadFile(f"not a regular file ({_kind(st.st_mode)})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            b = os.read(fd, min(1 << 20, limit + 1 - size))
            if not b:
                break
            chunks.append(b)
            size += len(b)
    except OSError as e:
        raise BadFile(f"cannot read it: {e.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise BadFile(f"more than a result file may have ({limit} bytes)")
    return b"".join(chunks)


def printable(s: str) -> str:
    """s with every character that is not printable as an escape: \\xNN
    for a byte that was not UTF-8 (a surrogate escape) or a control
    character, \\uNNNN for the rest (lone surrogates, line separators)."""
    if s.isprintable():
        return s
    out = []
    for ch in s:
        o = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x100:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return "".join(out)


def _clean(v: Any) -> Any:
    """A parsed JSON value with every string, keys too, printable()."""
    if isinstance(v, str):
        return printable(v)
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {printable(k): _clean(x) for k, x in v.items()}
    return v


def _no_constant(name: str) -> Any:
    raise BadFile(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise BadFile(f"{text} is too big for a number")
    return v


def parse(data: bytes) -> Any:
    """JSON text (fio may print notes before its object) as Python values,
    strings printable(); BadFile when it is not JSON the report can use."""
    text = data.decode("utf-8", errors="surrogateescape")
    try:
        try:
            doc = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        except json.JSONDecodeError:
            i = text.find("{")
            if i <= 0:
                raise
            doc = json.loads(text[i:], parse_constant=_no_constant, parse_float=_finite)
        return _clean(doc)
    except json.JSONDecodeError as e:
        raise BadFile(f"not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise BadFile("not JSON the report can read (nested too deeply)") from None
    except ValueError as e:  # BadFile, or an integer with too many digits
        raise BadFile(printable(str(e))) from None


def read_json(path: Path) -> Any:
    """read_bytes() then parse()."""
    return parse(read_bytes(path))


# ---- checking ----

def where(*parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def number(v: Any, at: str, null: bool = True) -> None:
    """v is a finite number of at most MAX_ABS (or null when null)."""
    if v is None and null:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadFile(f"{at}: {_type(v)} where a number belongs")
    if not abs(v) <= MAX_ABS:
        shown = f"{v:.3g}" if isinstance(v, float) else f"{str(v)[:12]}..."
        raise BadFile(f"{at}: {shown} is out of range (at most {MAX_ABS:g} in magnitude)")


def string(v: Any, at: str, null: bool = True) -> None:
    if v is None and null:
        return
    if not isinstance(v, str):
        raise BadFile(f"{at}: {_type(v)} where a string belongs")


def boolean(v: Any, at: str, null: bool = False) -> None:
    if v is None and null:
        return
    if not isinstance(v, bool):
        raise BadFile(f"{at}: {_type(v)} where true or false belongs")


def scalar(v: Any, at: str) -> None:
    """A label: a string, a number, true, false or null."""
    if isinstance(v, (str, bool)) or v is None:
        return
    number(v, at)


def obj(v: Any, at: str, null: bool = True) -> dict[str, Any]:
    """v as an object ({} for null or absent when null)."""
    if v is None and null:
        return {}
    if not isinstance(v, dict):
        raise BadFile(f"{at}: {_type(v)} where an object belongs")
    return v


def array(v: Any, at: str, null: bool = True) -> list[Any]:
    if v is None and null:
        return []
    if not isinstance(v, list):
        raise BadFile(f"{at}: {_type(v)} where a list belongs")
    return v


def file_name(v: Any, at: str) -> None:
    """A file named in a result: a plain name in the same directory."""
    string(v, at, null=False)
    if v in ("", ".", "..") or "/" in v or "\\x00" in v:
        raise BadFile(f"{at}: {v!r} is not a file name in the run's directory")


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"the number {v:.6g}"
    if isinstance(v, int):
        return f"the number {str(v)[:20]}"
    if isinstance(v, str):
        return f"the string {v[:40]!r}"
    return "an object" if isinstance(v, dict) else "a list" if isinstance(v, list) else \
        type(v).__name__


CALIBRATE_COUNTS = ("comparisons", "called_point_level", "called_composite_level")
CALIBRATE_PCTS = ("slowdown_imposed_pct", "rate_point_level_pct", "rate_composite_level_pct",
                  "iops_composite_change_median_pct", "iops_composite_change_min_pct",
                  "iops_composite_change_max_pct", "cpu_share_change_median_pct",
                  "paired_iops_change_median_pct", "paired_cpu_share_change_median_pct",
                  "iops_composite_detectable_median_pct")


def check_calibrate(d: dict[str, Any]) -> None:
    """calibrate.json: the figures its table and chart are drawn from."""
    if d.get("schema") != CALIBRATE:
        raise BadFile(f"schema: {_type(d.get('schema'))} where {CALIBRATE!r} belongs")
    boolean(d.get("complete"), "complete")
    string(d.get("interrupted"), "interrupted")
    for k in ("trials", "rounds", "sample_runtime_s"):
        number(obj(d.get("params"), "params", null=False).get(k), where("params", k), null=False)
    for i, t in enumerate(array(d.get("trials"), "trials", null=False)):
        t = obj(t, where("trials", i), null=False)
        number(t.get("trial"), where("trials", i, "trial"), null=False)
        for j, c in enumerate(array(t.get("comparisons"), where("trials", i, "comparisons"))):
            c = obj(c, where("trials", i, "comparisons", j), null=False)
            for k in ("set", "condition", "role", "baseline_run", "run"):
                string(c.get(k), where("trials", i, "comparisons", j, k), null=False)
    for name, c in obj(d.get("tuning"), "tuning").items():
        c = obj(c, where("tuning", name), null=False)
        for k in ("correction", "pairs"):
            number(c.get(k), where("tuning", name, k), null=False)
    for i, s in enumerate(array(d.get("summary"), "summary", null=False)):
        s = obj(s, where("summary", i), null=False)
        for k in ("set", "condition", "role"):
            string(s.get(k), where("summary", i, k), null=False)
        for k in CALIBRATE_COUNTS:
            number(s.get(k), where("summary", i, k), null=False)
        for k in CALIBRATE_PCTS:
            number(s.get(k), where("summary", i, k))
        if s["called_point_level"] > s["comparisons"] or \
                s["called_composite_level"] > s["comparisons"]:
            raise BadFile(f"{where('summary', i)}: more called than compared")


def check_scenario(d: dict[str, Any]) -> None:
    string(d.get("scenario"), "scenario")
    obj(d.get("params"), "params")
    for m, md in obj(d.get("metrics"), "metrics").items():
        md = obj(md, where("metrics", m), null=False)
        string(md.get("unit"), where("metrics", m, "unit"))
        if md.get("better") not in (None, "", "higher", "lower"):
            raise BadFile(f"{where('metrics', m, 'better')}: {_type(md.get('better'))} "
                          "where \"higher\", \"lower\" or \"\" belongs")
    for i, pt in enumerate(array(d.get("points"), "points")):
        pt = obj(pt, where("points", i), null=False)
        for k in ("target", "status", "reason"):
            string(pt.get(k), where("points", i, k))
        for k, v in obj(pt.get("labels"), where("points", i, "labels")).items():
            scalar(v, where("points", i, "labels", k))
        for m, xs in obj(pt.get("samples"), where("points", i, "samples")).items():
            if not isinstance(xs, list):
                number(xs, where("points", i, "samples", m))
                continue
            for j, x in enumerate(xs):
                number(x, where("points", i, "samples", m, j))
        for j, r in enumerate(array(pt.get("raw"), where("points", i, "raw"))):
            file_name(r, where("points", i, "raw", j))
        for j, x in enumerate(array(pt.get("control_probe"), where("points", i, "control_probe"))):
            number(x, where("points", i, "control_probe", j))
        boolean(pt.get("cpu_bound"), where("points", i, "cpu_bound"), null=True)


# aio-stress/1: the objects of a stage the report reads, and their numbers.
STAGE_NUMBERS = {
    (): ("iops", "bytes_per_s"),
    ("submit",): ("inline_ratio",),
    ("submit", "per_iocb_ns"): ("mean", "p50", "p90", "p99", "p99_9", "p99_99"),
    ("submit", "per_call_ns"): ("mean", "p50", "p90", "p99", "p99_9", "p99_99"),
    ("completion_latency_ns",): ("mean", "p50", "p90", "p99", "p99_9", "p99_99"),
    ("cpu",): ("ns_per_io",),
    ("wall_split",): ("submit_fraction",),
}


def check_aio_stress(d: dict[str, Any]) -> None:
    o = obj(d.get("options"), "options")
    string(o.get("engine"), "options.engine")
    for k in ("depth", "max_io_submit", "record_bytes", "file_size_bytes"):
        number(o.get(k), f"options.{k}")
    for k in ("o_direct", "user_reap", "sqpoll", "iopoll", "fixed_files", "fixed_bufs"):
        boolean(o.get(k), f"options.{k}", null=True)
    for i, t in enumerate(array(d.get("targets"), "targets")):
        t = obj(t, where("targets", i), null=False)
        for k in ("path", "kind", "fstype"):
            string(t.get(k), where("targets", i, k))
        boolean(t.get("loop_direct_io"), where("targets", i, "loop_direct_io"), null=True)
    string(d.get("result"), "result")
    string(d.get("reason"), "reason")
    for i, st in enumerate(array(d.get("stages"), "stages")):
        st = obj(st, where("stages", i), null=False)
        string(st.get("name"), where("stages", i, "name"))
        for path, keys in STAGE_NUMBERS.items():
            sub: Any = st
            for j, k in enumerate(path):
                sub = obj(sub.get(k), where("stages", i, *path[:j + 1]))
            for k in keys:
                number(sub.get(k), where("stages", i, *path, k))
        clat = obj(st.get("completion_latency_ns"), where("stages", i, "completion_latency_ns"))
        at = where("stages", i, "completion_latency_ns", "buckets")
        for j, b in enumerate(array(clat.get("buckets"), at)):
            if not (isinstance(b, list) and len(b) == 3):
                raise BadFile(f"{at}[{j}]: {_type(b)} where [low, high, count] belongs")
            for x in b:
                number(x, f"{at}[{j}]", null=False)
                if x < 0 or not float(x).is_integer():
                    raise BadFile(f"{at}[{j}]: {x} where a whole number of 0 or more belongs")


def check_fio(d: dict[str, Any]) -> None:
    glob = d.get("global options")
    # fio 3.39 and later in client mode: one object per server.
    for i, g in enumerate(glob if isinstance(glob, list) else [glob]):
        at = where("global options", i) if isinstance(glob, list) else "global options"
        for k, v in obj(g, at).items():
            scalar(v, where(at, k))
    # "client_stats": fio's client mode (tools/fio_clients.py merges it).
    for jobs in ("jobs", "client_stats"):
        for i, job in enumerate(array(d.get(jobs), jobs)):
            job = obj(job, where(jobs, i), null=False)
            for k, v in obj(job.get("job options"), where(jobs, i, "job options")).items():
                scalar(v, where(jobs, i, "job options", k))
            scalar(job.get("jobname"), where(jobs, i, "jobname"))
            scalar(job.get("error"), where(jobs, i, "error"))
            for k in ("usr_cpu", "sys_cpu", "job_runtime"):
                number(job.get(k), where(jobs, i, k))
            # The share of the time at each depth in flight (the achieved depth)
            for k, v in obj(job.get("iodepth_level"), where(jobs, i, "iodepth_level")).items():
                number(v, where(jobs, i, "iodepth_level", k))
            for dirn in ("read", "write", "trim"):
                s = obj(job.get(dirn), where(jobs, i, dirn))
                for k in ("total_ios", "io_bytes", "iops", "bw_bytes", "runtime"):
                    number(s.get(k), where(jobs, i, dirn, k))
                for k in ("lat_ns", "slat_ns"):
                    number(obj(s.get(k), where(jobs, i, dirn, k)).get("mean"),
                           where(jobs, i, dirn, k, "mean"))
                clat = obj(s.get("clat_ns"), where(jobs, i, dirn, "clat_ns"))
                pct = obj(clat.get("percentile"), where(jobs, i, dirn, "clat_ns", "percentile"))
                for k, v in pct.items():
                    number(v, where(jobs, i, dirn, "clat_ns", "percentile", k))
                for k, v in obj(clat.get("bins"), where(jobs, i, dirn, "clat_ns", "bins")).items():
                    number(v, where(jobs, i, dirn, "clat_ns", "bins", k))


def check_bare(d: dict[str, Any]) -> None:
    number(d.get("iops"), "iops")


def check_conform(d: dict[str, Any]) -> None:
    for i, r in enumerate(array(d.get("results"), "results")):
        r = obj(r, where("results", i), null=False)
        for k in ("name", "variant", "result", "reason"):
            string(r.get(k), where("results", i, k))
    boolean(d.get("complete"), "complete", null=True)
    string(d.get("interrupted_by"), "interrupted_by")
    string(d.get("bail_out"), "bail_out")


def check_machine(d: dict[str, Any]) -> None:
    for i, p in enumerate(array(d.get("probes"), "probes")):
        p = obj(p, where("probes", i), null=False)
        for k in ("cpu_loop_ns", "steal_pct_since_previous", "index"):
            number(p.get(k), where("probes", i, k))
        c = obj(p.get("control"), where("probes", i, "control"))
        string(c.get("source"), where("probes", i, "control", "source"))
        # The loops whose medians normalize a point (aiosuite/report/normalize.py).
        for loop in ("user_loop", "getppid", "read_dev_zero"):
            lp = obj(c.get(loop), where("probes", i, "control", loop))
            for k in ("median_ns", "cpu_median_ns"):
                number(lp.get(k), where("probes", i, "control", loop, k))


def check_env(d: dict[str, Any]) -> None:
    if "emulated" in d:
        boolean(d["emulated"], "emulated")
    string(d.get("accelerator"), "accelerator")


def check_summary(d: dict[str, Any]) -> None:
    if "complete" in d:
        boolean(d["complete"], "complete")
    string(d.get("interrupted"), "interrupted")
    a = obj(d.get("auto"), "auto")
    for k in ("target_pct", "budget_s", "rounds", "elapsed_s", "worst_detectable_pct"):
        number(a.get(k), where("auto", k))
    string(a.get("stopped"), where("auto", "stopped"))


def kind(d: Any) -> str:
    """What a parsed result file is: "scenario", "aio-stress", "fio",
    "aio-bare", "conform", "machine", or "" for a file the report does not
    read (summary.json and env.json are known by their names)."""
    if not isinstance(d, dict):
        return ""
    schema = d.get("schema")
    known = {SCENARIO: "scenario", AIO_STRESS: "aio-stress", MACHINE: "machine",
             MACHINE_1: "machine", CONFORM: "conform"}
    if schema in known:
        return known[schema]
    if isinstance(schema, str):
        same = [s for s in known if schema.split("/")[0] == s.split("/")[0]]
        if same:
            raise BadFile(f"schema {schema!r}: this report reads {' or '.join(sorted(same))}")
    if d.get("tool") == "aio-conform":
        return "conform"
    if "fio version" in d:
        return "fio"
    if d.get("tool") == "aio-bare":
        return "aio-bare"
    return ""


CHECKS = {"scenario": check_scenario, "aio-stress": check_aio_stress, "fio": check_fio,
          "aio-bare": check_bare, "conform": check_conform, "machine": check_machine,
          "env": check_env, "summary": check_summary, "calibrate": check_calibrate}


def check(what: str, d: Any) -> dict[str, Any]:
    """d, a parsed file of kind what (kind(), "env" or "summary"), when the
    values the report reads from it are sound; BadFile otherwise."""
    if not isinstance(d, dict):
        raise BadFile(f"{_type(d)} where an object belongs")
    CHECKS[what](d)
    return d


def main(argv: list[str]) -> int:
    """schema.py FILE...: check result files the way the report does."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: schema.py FILE...\n  check result files the way tools/report.py reads "
              "them: status 1 when one is bad", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    bad = 0
    for a in argv:
        try:
            d = read_json(Path(a))
            name = Path(a).name
            k = {"env.json": "env", "summary.json": "summary",
                 "calibrate.json": "calibrate"}.get(name) or kind(d)
            if k:
                check(k, d)
            print(f"{a}: {k or 'not read by the report'}: ok")
        except BadFile as e:
            print(f"schema: {a}: {e}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
