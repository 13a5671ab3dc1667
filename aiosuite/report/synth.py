#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""synth: write a synthetic run with known answers into a results store.

  synth.py DIR --release 6.1 [--repeat 5] [--cv 1] [--slowdown 5] [--seed 1]

writes DIR/<host>/<release>/<run id>/ with env.json, three scenario files in
the aio-suite-scenario/1 schema (synth-engines: IOPS and completion latency
against queue depth; synth-blocking: an inline-ratio matrix; synth-batching:
io_submit cost against batch size), one aio-stress/1 file per engine at
queue depth 32 with a completion latency histogram, conform.json,
machine.json (the machine probes; --machine-slowdown makes them slower) and
summary.json ("complete": true).

A run that did not finish: --incomplete (summary.json "complete": false, as
a killed run leaves it), --interrupted SIGNAL (summary.json and
conform.json say the run was interrupted, the test running then is
"interrupted"), --bail-out REASON (aio-conform stopped: conform.json
"complete": false), --no-summary (a run from before summary.json).

The host, release and run id are names of directories of DIR: each must be
one plain name (store.inside()); anything that would leave DIR is refused.

The samples of each point have exactly the given coefficient of variation
and exactly the base mean times the slowdown (the draws are standardised),
so a test knows the answer: --slowdown 5 makes every IOPS figure exactly 5%
lower and every latency exactly 5% higher.  --random draws plain normal
samples instead (for A/A tests over many seeds).  Informational metrics
(inline_ratio) never change.

The machine's own moves: --round-cv PCT gives every round (sample index)
of a run a factor of its own, common to every point of the run, as a
machine that is slower or faster for a minute is for everything measured
in it; --control round adds to every round's machine probe a C control
(aio-machine's figures, machine.json v2) whose wall time follows that
round's factor (with its own noise, --control-cv PCT) and every point names
the probe of each sample's round (control_probe), as tools/study.py
writes them; --control random gives the control the same spread drawn
apart from the rounds (a control that does not see the machine's moves);
--runs N writes N runs of the kernel (run ids RUN_ID.1 ... RUN_ID.N,
seeds SEED, SEED + 1000, ...), each as much slower as a normal draw of CV
--run-cv PCT says (a machine that drifts between runs).

A copy of a real run: --copy-run DIR --scale F copies the run directory DIR
(its JSON files) into the store, every throughput sample (a metric in IO/s
or B/s, or named iops, bytes_per_s, bw_bytes: a scenario's samples, an
aio-stress stage's, a fio job's) multiplied by F; --release, --host and
--run-id default to the run's env.json and its run id with "-xF" added.

A history: --series N writes N runs of the host and release, an hour
apart (run ids 20260101T000000Z-series-<seed>-01, ...T010000Z-...-02, ...),
each with plain normal draws (--random: runs differ as independent
measurements do), seeds seed*1000+1 ... seed*1000+N.  --step-at K
--step-pct P makes runs K to N P% worse (as --slowdown) on top of
--slowdown; --run-cv PCT (with --series) moves each metric of each point in each run by a
normal draw of that CV (the drift between runs that repeats inside a run
do not see).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import random
import re
import statistics
import sys
from pathlib import Path
from typing import Any, NoReturn

from aiosuite import schemas, store

PROG = "synth"
ENGINES = {"libaio": 1.0, "io_uring": 1.15}
DEPTHS = (1, 4, 16, 32, 64)
BATCHES = (1, 2, 4, 8, 16, 32)
CONFORM = [("submit.basic", ""), ("submit.bad_fd", ""), ("reap.timeout", ""),
           ("data.roundtrip", "ext4"), ("data.roundtrip", "xfs"), ("flags.nowait", ""),
           ("cancel.read", "")]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: {message}", file=sys.stderr)
        sys.exit(2)


class Gen:
    def __init__(self, a: argparse.Namespace):
        self.rng = random.Random(a.seed)
        self.n, self.cv, self.s = a.repeat, a.cv / 100.0, a.slowdown / 100.0
        self.random = a.random
        # A factor per round, common to every point (its own generator: the
        # other draws stay what they were without it)
        rr = random.Random(f"rounds:{a.seed}")
        self.rounds = [rr.gauss(0.0, a.round_cv / 100.0) if a.round_cv else 0.0
                       for _ in range(self.n)]
        self.run_cv = getattr(a, "run_cv", 0.0) / 100.0 if getattr(a, "series", None) else 0.0

    def draws(self) -> list[float]:
        z = [self.rng.gauss(0.0, 1.0) for _ in range(self.n)]
        if self.random or self.n < 2:
            return z if self.n >= 2 or self.random else [0.0]
        m = sum(z) / self.n
        sd = math.sqrt(sum((x - m) ** 2 for x in z) / (self.n - 1))
        return [(x - m) / sd for x in z] if sd else [0.0] * self.n

    def samples(self, base: float, better: str) -> list[float]:
        f = 1.0 - self.s if better == "higher" else 1.0 + self.s if better == "lower" else 1.0
        d = -1.0 if better == "higher" else 1.0 if better == "lower" else 0.0
        if self.run_cv:
            f *= 1.0 + self.run_cv * self.rng.gauss(0.0, 1.0)
        return [base * f * (1.0 + self.cv * z) * (1.0 + d * r)
                for z, r in zip(self.draws(), self.rounds)]


def scenario(name: str, metrics: dict[str, tuple[str, str]], points: list[dict[str, Any]],
             n: int) -> dict[str, Any]:
    return {"schema": "aio-suite-scenario/1", "scenario": name, "seed": "synthetic",
            "question": "synthetic data with a known answer",
            "params": {"repeat": n, "quick": False},
            "metrics": {m: {"unit": u, "better": b} for m, (u, b) in metrics.items()},
            "points": points, "charts": []}


def point(target: str, labels: dict[str, Any], samples: dict[str, list[float]],
          raw: list[str] | None = None) -> dict[str, Any]:
    return {"target": target, "labels": labels, "status": "ok", "reason": "",
            "samples": samples, "raw": raw or []}


def engines(g: Gen, run: Path) -> dict[str, Any]:
    met = {"iops": ("IO/s", "higher"), "clat_ns_p50": ("ns", "lower"),
           "clat_ns_p99": ("ns", "lower"), "inline_ratio": ("ratio", "")}
    pts = []
    for eng, speed in ENGINES.items():
        for qd in DEPTHS:
            iops = 40000.0 * speed * min(qd, 16) ** 0.7
            lat = qd / iops * 1e9
            raw = []
            if qd == 32:
                raw = [f"aio-stress-synth-engines-{eng}-qd32.json"]
                write_aio_stress(run / raw[0], g, eng, qd, lat)
            pts.append(point("ext4", {"engine": eng, "qd": qd}, {
                "iops": g.samples(iops, "higher"), "clat_ns_p50": g.samples(lat, "lower"),
                "clat_ns_p99": g.samples(lat * 3, "lower"),
                "inline_ratio": g.samples(0.1, "")}, raw))
    return scenario("synth-engines", met, pts, g.n)


def blocking(g: Gen) -> dict[str, Any]:
    met = {"inline_ratio": ("ratio", "lower"), "submit_ns_per_iocb_p50": ("ns", "lower")}
    pts = []
    for i, mode in enumerate(("odirect", "buffered")):
        for j, op in enumerate(("read", "write")):
            for k, state in enumerate(("overwrite", "sparse")):
                ratio = 0.05 + 0.94 * ((i + j + k) % 2)  # 0.05 or 0.99: clearly async or sync
                pts.append(point("ext4", {"mode": mode, "op": op, "state": state, "cache": "cold"},
                                 {"inline_ratio": g.samples(ratio, "lower"),
                                  "submit_ns_per_iocb_p50": g.samples(800 + 9000 * ratio, "lower")}))
    return scenario("synth-blocking", met, pts, g.n)


def batching(g: Gen) -> dict[str, Any]:
    met = {"submit_ns_per_iocb_p50": ("ns", "lower"), "cpu_ns_per_io": ("ns", "lower")}
    pts = [point("null", {"engine": "libaio", "batch": b},
                 {"submit_ns_per_iocb_p50": g.samples(200 + 400 / b, "lower"),
                  "cpu_ns_per_io": g.samples(300 + 500 / b, "lower")}) for b in BATCHES]
    return scenario("synth-batching", met, pts, g.n)


def write_aio_stress(path: Path, g: Gen, eng: str, qd: int, lat_ns: float) -> None:
    """A minimal aio-stress/1 document: one stage with a latency histogram."""
    f = 1.0 + g.s
    buckets, lo = [], int(lat_ns * f * 0.5)
    for i in range(40):
        w = max(1, lo // 16)
        x = (lo + w / 2) / (lat_ns * f)
        buckets.append([lo, lo + w - 1, int(1000 * math.exp(-((x - 1.0) ** 2) / 0.08)) + 1])
        lo += w
    pcts = {"p50": int(lat_ns * f), "p90": int(lat_ns * f * 1.3), "p99": int(lat_ns * f * 1.8),
            "p99_9": int(lat_ns * f * 2.2), "p99_99": int(lat_ns * f * 2.5)}
    doc = {"schema": "aio-stress/1", "tool": "aio-stress", "version": "synthetic",
           "options": {"engine": eng, "depth": qd, "max_io_submit": qd, "record_bytes": 4096,
                       "o_direct": True},
           "targets": [{"path": "/synthetic", "kind": "file", "fstype": "ext4"}],
           "stages": [{"name": "random read", "iops": qd / lat_ns * 1e9 / f,
                       "submit": {"per_iocb_ns": {"mean": 900.0 * f, **{k: int(v / 40) for k, v in pcts.items()}}},
                       "completion_latency_ns": {"mean": lat_ns * f, **pcts, "buckets": buckets},
                       "cpu": {"ns_per_io": 1500.0 * f}}],
           "result": "ok", "reason": ""}
    path.write_text(json.dumps(doc) + "\n")


def machine(g: Gen, slowdown_pct: float) -> dict[str, Any]:
    """machine.json: one probe per sample, 20 ms of work, the given CV."""
    base = 20e6 * (1.0 + slowdown_pct / 100.0)
    probes = [{"label": f"synthetic {i}", "cpu_loop_ns": base * (1.0 + g.cv * z),
               "steal_pct_since_previous": 1.0 + slowdown_pct / 10.0}
              for i, z in enumerate(g.draws())]
    return {"schema": "aio-suite-machine/1", "probes": probes}


C_LOOP_NS = {"user_loop": 3.8e6, "getppid": 3.4e6, "read_dev_zero": 3.7e6}


def add_control(doc: dict[str, Any], g: Gen, how: str, cv_pct: float, seed: int) -> None:
    """Give every probe of doc (one a round) aio-machine's figures: wall
    times that follow the round's factor (how "round") or a factor drawn
    apart with the same spread ("random"), each with cv_pct of noise of
    its own; CPU times steady (1%)."""
    rng = random.Random(f"control:{seed}")
    sd = statistics.pstdev(g.rounds) if len(g.rounds) > 1 else 0.0
    for i, p in enumerate(doc["probes"]):
        r = g.rounds[i] if how == "round" else rng.gauss(0.0, sd)
        ctl: dict[str, Any] = {"source": "aio-machine", "reason": "", "schema": "aio-machine/1",
                               "repeats": 9}
        for name, base in C_LOOP_NS.items():
            ctl[name] = {"median_ns": base * (1.0 + r) * (1.0 + cv_pct / 100 * rng.gauss(0, 1)),
                         "cpu_median_ns": base * (1.0 + 0.01 * rng.gauss(0, 1))}
        p.update(index=i, round=i + 1, control=ctl)
    doc["schema"] = "aio-suite-machine/2"


def conform(a: argparse.Namespace) -> dict[str, Any]:
    res = []
    for name, var in CONFORM:
        r = ("fail" if name in a.conform_fail else "skip" if name in a.conform_skip
             else "timeout" if name in a.conform_timeout else "pass")
        res.append({"name": name, "variant": var or None, "result": r,
                    "reason": "synthetic" if r != "pass" else "", "duration_ns": 1000})
    if a.interrupted:
        # The test running when the signal came; the later ones never ran.
        res[-1].update(result="interrupted", reason=f"interrupted by {a.interrupted}")
    tot = {k: sum(1 for r in res if r["result"] == v)
           for k, v in (("passed", "pass"), ("failed", "fail"), ("skipped", "skip"))}
    doc = {"schema": "aio-conform/1", "tool": "aio-conform", "kernel": a.release,
           "results": res, "totals": tot}
    if not a.legacy_conform:
        doc.update(complete=not (a.interrupted or a.bail_out),
                   interrupted_by=a.interrupted or None, bail_out=a.bail_out or None)
    return doc


def write_run(run: Path, a: argparse.Namespace) -> None:
    """Every file of the synthetic run into run."""
    env = {"host": a.host, "kernel_release": a.release, "synthetic": True, "cpus_online": 2}
    if a.emulated:
        env.update(emulated=True, accelerator="tcg")
    (run / "env.json").write_text(json.dumps(env, indent=2) + "\n")
    g = Gen(a)
    for doc in (engines(g, run), blocking(g), batching(g)):
        if a.control != "none" and not a.no_machine:
            for pt in doc["points"]:  # sample i was measured in round i
                pt["control_probe"] = list(range(g.n))
        (run / f"{doc['scenario']}.json").write_text(json.dumps(doc, indent=1) + "\n")
    if not a.no_conform:
        (run / "conform.json").write_text(json.dumps(conform(a), indent=1) + "\n")
    if not a.no_machine:
        mdoc = machine(g, a.machine_slowdown)
        if a.control != "none":
            add_control(mdoc, g, a.control, a.control_cv, a.seed)
        (run / "machine.json").write_text(json.dumps(mdoc, indent=1) + "\n")
    if not a.no_summary:
        (run / "summary.json").write_text(json.dumps(
            {"schema": "aio-suite-synth/1", "complete": not (a.incomplete or a.interrupted),
             "interrupted": a.interrupted or None}, indent=1) + "\n")


THROUGHPUT_UNITS = ("IO/s", "B/s")
THROUGHPUT_NAME = re.compile(r"(?:^|_)(?:iops|bytes_per_s|bw_bytes)$")


def _scale_list(xs: Any, f: float) -> tuple[Any, int]:
    if isinstance(xs, (int, float)) and not isinstance(xs, bool):
        return xs * f, 1
    if isinstance(xs, list):
        return [x * f if isinstance(x, (int, float)) and not isinstance(x, bool) else x
                for x in xs], len(xs)
    return xs, 0


def scale_doc(d: Any, f: float) -> int:
    """Multiply every throughput sample of a result document by f, in place;
    the number of samples scaled."""
    k = schemas.kind(d)
    n = 0
    if k == "scenario":
        units = {m: str((v or {}).get("unit", "")) for m, v in (d.get("metrics") or {}).items()
                 if isinstance(v, dict)}
        for pt in d.get("points") or []:
            samples = pt.get("samples") if isinstance(pt, dict) else None
            if not isinstance(samples, dict):
                continue
            for m in list(samples):
                if units.get(m) in THROUGHPUT_UNITS or THROUGHPUT_NAME.search(m):
                    samples[m], c = _scale_list(samples[m], f)
                    n += c
    elif k == "aio-stress":
        for st in d.get("stages") or []:
            for m in ("iops", "bytes_per_s"):
                if m in st:
                    st[m], c = _scale_list(st[m], f)
                    n += c
    elif k == "fio":
        for job in d.get("jobs") or []:
            for dirn in ("read", "write", "trim"):
                s = job.get(dirn)
                for m in ("iops", "bw_bytes", "bw"):
                    if isinstance(s, dict) and m in s:
                        s[m], c = _scale_list(s[m], f)
                        n += c
    return n


def copy_run(src: Path, dst: Path, f: float) -> int:
    """Copy the JSON files of run directory src into dst, every throughput
    sample multiplied by f; the number of samples scaled."""
    n = 0
    for p in sorted(src.glob("*.json")):
        if not p.is_file():
            continue
        text = p.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            d = json.loads(text)
            c = scale_doc(d, f)
        except (ValueError, schemas.BadFile):
            c = 0
        if c:
            text = json.dumps(d, indent=1) + "\n"
            n += c
        (dst / p.name).write_text(text, encoding="utf-8", errors="surrogateescape")
    return n


def copy_main(a: argparse.Namespace, ap: Parser) -> int:
    src = Path(a.copy_run)
    if not src.is_dir():
        ap.error(f"argument --copy-run: '{a.copy_run}' is not a run directory")
    env: dict[str, Any] = {}
    try:
        e = json.loads((src / "env.json").read_text())
        env = e if isinstance(e, dict) else {}
    except (OSError, ValueError):
        pass
    host = a.host_set or str(env.get("host") or "synth")
    release = a.release or str(env.get("kernel_release") or "")
    if not release:
        ap.error("argument --release: the run's env.json names no kernel_release: give one")
    rid = a.run_id or f"{src.resolve().name}-x{a.scale:g}"
    try:
        for opt, v in (("--host", host), ("--release", release), ("--run-id", rid)):
            store.check_name(v, f"argument {opt}:")
        run = store.inside(Path(a.dir), host, release, rid)
        run.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    try:
        n = copy_run(src, run, a.scale)
    except OSError as e:
        print(f"{PROG}: cannot copy {src} to {run}: {e.strerror or e}", file=sys.stderr)
        return 1
    if not n:
        print(f"{PROG}: {src}: no throughput sample to scale", file=sys.stderr)
        return 1
    print(run)
    return 0


def main(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="the results store to write into")
    ap.add_argument("--release", help="kernel release of the run (required but with --copy-run)")
    ap.add_argument("--host", dest="host_set", help="host name (default synth)")
    ap.add_argument("--run-id", help="run id (default 20260101T000000Z-synth-<seed>)")
    ap.add_argument("--repeat", type=int, default=5, help="samples per point (default 5)")
    ap.add_argument("--cv", type=float, default=1.0, help="coefficient of variation, %% (default 1)")
    ap.add_argument("--slowdown", type=float, default=0.0,
                    help="%% worse in every metric with a direction (negative: better)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--random", action="store_true", help="plain normal draws, not standardised")
    ap.add_argument("--emulated", action="store_true", help='env.json "emulated": true (TCG)')
    ap.add_argument("--conform-fail", action="append", default=[], metavar="TEST",
                    help="this conformance test fails (repeatable)")
    ap.add_argument("--conform-skip", action="append", default=[], metavar="TEST",
                    help="this conformance test is skipped (repeatable)")
    ap.add_argument("--no-conform", action="store_true", help="write no conform.json")
    ap.add_argument("--machine-slowdown", type=float, default=0.0, metavar="PCT",
                    help="the machine probes (machine.json) are %% slower (negative: faster)")
    ap.add_argument("--no-machine", action="store_true", help="write no machine.json")
    ap.add_argument("--conform-timeout", action="append", default=[], metavar="TEST",
                    help="this conformance test timed out (repeatable)")
    ap.add_argument("--incomplete", action="store_true",
                    help='summary.json "complete": false: a run killed before it finished')
    ap.add_argument("--interrupted", metavar="SIGNAL",
                    help="the run was interrupted by SIGNAL (SIGINT): summary.json and "
                         "conform.json say so, the last conformance test is \"interrupted\"")
    ap.add_argument("--bail-out", metavar="REASON",
                    help='aio-conform bailed out: conform.json "complete": false')
    ap.add_argument("--legacy-conform", action="store_true",
                    help='conform.json without "complete", "interrupted_by" and "bail_out" '
                         "(an aio-conform from before they were written)")
    ap.add_argument("--no-summary", action="store_true",
                    help="write no summary.json (a run from before it was written)")
    ap.add_argument("--round-cv", type=float, default=0.0, metavar="PCT",
                    help="each round (sample index) a factor of its own for every point, "
                         "of this CV, %% (default 0)")
    ap.add_argument("--control", choices=("none", "round", "random"), default="none",
                    help="machine probes with aio-machine's control figures, one a round, "
                         "named by every point: wall times that follow the round factor "
                         "(round) or drawn apart from it with the same spread (random); "
                         "default none (machine.json v1, no control_probe)")
    ap.add_argument("--control-cv", type=float, default=2.0, metavar="PCT",
                    help="with --control: the control's own noise, %% (default 2)")
    ap.add_argument("--runs", type=int, default=1, metavar="N",
                    help="write N runs of the kernel (run ids RUN_ID.1 ... RUN_ID.N)")
    ap.add_argument("--run-cv", type=float, default=0.0, metavar="PCT",
                    help="with --runs: each run as much slower as a normal draw of this "
                         "CV says; with --series: each metric of each point in each run "
                         "moved by such a draw, %% (default 0)")
    ap.add_argument("--copy-run", metavar="DIR",
                    help="copy this run directory into the store instead, with --scale")
    ap.add_argument("--scale", type=float, metavar="F",
                    help="with --copy-run: multiply every throughput sample by F")
    ap.add_argument("--series", type=int, metavar="N",
                    help="write a history of N runs an hour apart (plain normal draws)")
    ap.add_argument("--step-at", type=int, metavar="K",
                    help="with --series: runs K to N (from 1) are --step-pct worse")
    ap.add_argument("--step-pct", type=float, default=10.0, metavar="PCT",
                    help="with --step-at: %% worse from run K on (default 10; negative: better)")
    a = ap.parse_args(argv)
    if a.repeat < 1:
        ap.error(f"argument --repeat: must be 1 or more, not '{a.repeat}'")
    if a.runs < 1:
        ap.error(f"argument --runs: must be 1 or more, not '{a.runs}'")
    if a.round_cv < 0 or a.run_cv < 0:
        ap.error("argument --round-cv/--run-cv: must be 0 or more")
    if not 0 <= a.control_cv <= 100:
        ap.error(f"argument --control-cv: must be 0 to 100, not '{a.control_cv:g}'")
    if (a.copy_run is None) != (a.scale is None):
        ap.error("argument --copy-run: goes with --scale F, and --scale with --copy-run")
    if a.series is None:
        if a.step_at is not None:
            ap.error("argument --step-at: only with --series")
    elif a.series < 1:
        ap.error(f"argument --series: must be 1 or more, not '{a.series}'")
    elif a.step_at is not None and not 1 <= a.step_at <= a.series:
        ap.error(f"argument --step-at: must be 1 to {a.series}, not '{a.step_at}'")
    elif a.run_id is not None:
        ap.error("argument --run-id: not with --series (its runs are named by time)")
    elif a.runs != 1:
        ap.error("argument --runs: not with --series")
    if a.copy_run is not None:
        if not (a.scale > 0 and math.isfinite(a.scale)):
            ap.error(f"argument --scale: must be a positive number, not '{a.scale:g}'")
        return copy_main(a, ap)
    if a.release is None:
        ap.error("the following arguments are required: --release")
    a.host = a.host_set or "synth"
    if a.series is not None:
        base, seed, slowdown = a.seed, a.seed, a.slowdown
        a.random = True
        for i in range(a.series):
            t = datetime.datetime(2026, 1, 1) + datetime.timedelta(hours=i)
            a.seed = seed * 1000 + i + 1
            a.slowdown = slowdown + (a.step_pct if a.step_at and i + 1 >= a.step_at else 0.0)
            rc = write_one(a, f"{t:%Y%m%dT%H%M%S}Z-series-{base}-{i + 1:02d}")
            if rc:
                return rc
        return 0
    rid = a.run_id if a.run_id is not None else f"20260101T000000Z-synth-{a.seed}"
    ids = [rid] if a.runs == 1 else [f"{rid}.{i}" for i in range(1, a.runs + 1)]
    offsets = random.Random(f"runs:{a.seed}")
    slowdown, seed = a.slowdown, a.seed
    for i, one in enumerate(ids):
        if a.runs > 1:
            a.seed = seed + 1000 * i
            a.slowdown = slowdown + (offsets.gauss(0.0, a.run_cv) if a.run_cv else 0.0)
        rc = write_one(a, one)
        if rc:
            return rc
    return 0


def write_one(a: argparse.Namespace, rid: str) -> int:
    """One run, rid, into the store; its directory on stdout."""
    try:
        for opt, v in (("--host", a.host), ("--release", a.release), ("--run-id", rid)):
            store.check_name(v, f"argument {opt}:")
        run = store.inside(Path(a.dir), a.host, a.release, rid)
        run.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    try:
        write_run(run, a)
    except OSError as e:
        print(f"{PROG}: cannot write {run}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(run)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
