#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The scenario study context: running the measuring programs and fio,
collecting points with every repeat's samples, the fio cross-check, and
writing <scenario>.json in the aio-suite-scenario/1 schema.

Every program is read through its JSON output; nothing here parses the
human-readable text of a binary.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any, Callable, Sequence

from aiosuite import fio_clients, store
from aiosuite.features import Features, probe
from aiosuite.interrupt import child_preexec, stop_child
from aiosuite.schemas import AioStressDoc, Stage
from aiosuite.study import fiojob, plot
from aiosuite.study.targets import Cleanup, Targets

JOBS = store.JOBS
CROSSCHECK_TOLERANCE = 0.10
SKIP_STATUS = 77  # a program's answer for "cannot run here" (automake's)
# A sample: half the scenario's own run time or I/O amount (Study.scale)
SAMPLE_SCALE = 0.5


class PointSkipped(Exception):
    """The point cannot be measured here; the message is the reason."""


class PointFailed(Exception):
    """The measurement failed; the message is the reason."""


class PointHang(Exception):
    """A run exceeded its watchdog (the exit scenario)."""


def run_child(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run cmd; on Ctrl-C or a timeout stop it with SIGINT first, so that a
    program holding a loop device gets to detach it, then SIGKILL.  The
    child gets SIGINT too when the study dies (interrupt.child_preexec)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, cwd=cwd, preexec_fn=child_preexec())
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        stop_child(p, 5)
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def _fio_why(stderr: str, text: str, start: int, data: Any, status: int) -> str:
    """Why fio failed: its stderr, else what it wrote before the JSON in
    its --output file (where it puts its error lines), else a job's errno."""
    why = _last_line(stderr) or _last_line(text[:start] if start >= 0 else text)
    if not why and isinstance(data, dict):
        for job in data.get("jobs") or []:
            err = job.get("error") if isinstance(job, dict) else None
            if isinstance(err, int) and err > 0:
                return f"fio job {job.get('jobname', '?')}: error {err} ({os.strerror(err)})"
    return why or f"fio exit status {status}"


def engine_of(args: Sequence[str]) -> str:
    """The engine an aio-stress command line asks for (libaio by default)."""
    engine = "libaio"
    for i, a in enumerate(args):
        if a == "--engine" and i + 1 < len(args):
            engine = args[i + 1]
        elif a.startswith("--engine="):
            engine = a.split("=", 1)[1]
    return engine


def stage_metrics(st: Stage) -> dict[str, float]:
    """The figures every scenario draws from one aio-stress stage."""
    sub = st["submit"]
    elapsed = float(st["elapsed_ns"]) or 1.0
    return {
        "iops": float(st["iops"]),
        "bytes_per_s": float(st["bytes_per_s"]),
        "submit_ns_per_iocb_p50": float(sub["per_iocb_ns"]["p50"]),
        "submit_ns_per_iocb_p99": float(sub["per_iocb_ns"]["p99"]),
        "submit_ns_per_iocb_max": float(sub["per_iocb_ns"]["max"]),
        "submit_ns_per_iocb_mean": float(sub["per_iocb_ns"]["mean"]),
        "submit_ns_per_call_p50": float(sub["per_call_ns"]["p50"]),
        "submit_ns_per_call_mean": float(sub["per_call_ns"]["mean"]),
        "inline_ratio": float(sub["inline_ratio"]),
        "iocbs_per_call": float(sub["iocbs_per_call"]),
        # Wall time of the stage spent inside io_submit (one thread).
        "submit_wall_fraction": min(1.0, float(sub["total_ns"]) / elapsed),
        "cpu_ns_per_io": float(st["cpu"]["ns_per_io"]),
        "clat_ns_p50": float(st["completion_latency_ns"]["p50"]),
        "clat_ns_p99": float(st["completion_latency_ns"]["p99"]),
    }


def fio_iops(data: dict[str, Any]) -> float:
    total = 0.0
    for job in data.get("jobs", []):
        for d in ("read", "write"):
            total += float(job.get(d, {}).get("iops", 0.0))
    return total


def cpu_bound(fstype: str = "", path: str = "") -> bool:
    """Whether I/O to a target never waits for a device, so that its points
    measure the CPU (their figure is cpu_ns_per_io beside IOPS): /dev/null,
    /dev/zero, and files on tmpfs, whose pages are the storage."""
    return path in ("/dev/null", "/dev/zero") or fstype == "tmpfs"


def point_key(target: str, labels: dict[str, Any]) -> str:
    """What identifies a point of a scenario from one round to the next."""
    return json.dumps([target, labels], sort_keys=True)


class Scenario:
    """One scenario's results: points with every sample, charts, checks."""

    def __init__(self, study: "Study", name: str, seed: str, question: str,
                 params: dict[str, Any], metrics: dict[str, dict[str, str]]) -> None:
        self.study = study
        self.name = name
        self.data: dict[str, Any] = {
            "schema": "aio-suite-scenario/1",
            "scenario": name,
            "seed": seed,
            "question": question,
            # rounds: those asked for (--repeat; in auto mode at least 3);
            # rounds_measured: those measured so far, the truth when auto
            # mode stops early on its budget
            "params": {**params, "repeat": study.rounds,
                       "rounds": study.rounds, "rounds_measured": study.round + 1,
                       "quick": study.quick, "sample_scale": study.scale},
            "metrics": metrics,
            "points": [],
            "charts": [],
            "tables": [],
            "crosscheck": [],
            "notes": [],
            "targets": {},
        }
        # The rounds before this one: their points take this round's
        # samples, their cross-checks and notes stay.
        prev = study.carry.get(name)
        self.prev: dict[str, dict[str, Any]] = {}
        if prev:
            self.prev = {point_key(p["target"], p["labels"]): p for p in prev.get("points", [])}
            self.data["crosscheck"] = list(prev.get("crosscheck", []))
            self.data["notes"] = list(prev.get("notes", []))

    @property
    def points(self) -> list[dict[str, Any]]:
        pts: list[dict[str, Any]] = self.data["points"]
        return pts

    def note(self, text: str) -> None:
        if text not in self.data["notes"]:
            self.data["notes"].append(text)
            print(f"{self.name}: {text}", flush=True)

    def target(self, t: Any) -> None:
        self.data["targets"][t.name] = t.describe()

    def skip(self, target: str, labels: dict[str, Any], reason: str) -> dict[str, Any]:
        return self._add(target, labels, "skipped", reason, {}, [])

    def fail(self, target: str, labels: dict[str, Any], reason: str) -> dict[str, Any]:
        return self._add(target, labels, "failed", reason, {}, [])

    def _add(self, target: str, labels: dict[str, Any], status: str, reason: str,
             samples: dict[str, list[float]], raw: list[str],
             control: list[int | None] | None = None, bound: bool = False) -> dict[str, Any]:
        """Record a point; in round 2 and later, the point of the earlier
        rounds with its samples first.  A point that stopped being ok in a
        later round is recorded with that round's status and reason.
        control: the machine probe of the round of each new sample
        (control_probe); bound: the point is CPU-bound (cpu_bound())."""
        control = list(control or [])
        before = self.prev.get(point_key(target, labels))
        if before is not None:
            merged = {k: list(v) for k, v in before.get("samples", {}).items()}
            for k, v in samples.items():
                merged.setdefault(k, []).extend(v)
            samples = merged
            raw = list(before.get("raw", [])) + raw
            control = list(before.get("control_probe", [])) + control
            if before.get("status", "ok") != "ok":
                status, reason = before["status"], before.get("reason", "")
            elif status != "ok":
                reason = f"round {self.study.round + 1}: {reason}"
        pt = {"target": target, "labels": labels, "status": status, "reason": reason,
              "samples": samples, "raw": raw, "control_probe": control, "cpu_bound": bound}
        self.points.append(pt)
        return pt

    def measure(self, target: str, labels: dict[str, Any],
                fn: Callable[[int], tuple[dict[str, float], list[str]]],
                bound: bool = False) -> dict[str, Any]:
        """Call fn(round index) once in this round; keep every sample, with
        those of the earlier rounds.  fn returns (metrics, raw file names)
        or raises PointSkipped, PointFailed or PointHang.  bound: the point
        is CPU-bound (cpu_bound())."""
        return self.measure_interleaved([(target, labels, fn)], bound)[0]

    def measure_interleaved(
            self, jobs: Sequence[tuple[str, dict[str, Any],
                                       Callable[[int], tuple[dict[str, float], list[str]]]]],
            bound: bool = False) -> list[dict[str, Any]]:
        """measure() for several points, one after the other.  A point that
        skips, fails or hangs is not measured again in a later round.  Each
        round's samples name the machine probe of the round (the study's
        control_probe, in control_probe of the point)."""
        samples: list[dict[str, list[float]]] = [{} for _ in jobs]
        control: list[list[int | None]] = [[] for _ in jobs]
        raw: list[list[str]] = [[] for _ in jobs]
        status = ["ok"] * len(jobs)
        reason = [""] * len(jobs)
        for i, (target, labels, _) in enumerate(jobs):
            # Skipped, failed or hung in an earlier round: not measured again
            # (_add() keeps that round's status).
            before = self.prev.get(point_key(target, labels))
            if before is not None and before.get("status", "ok") != "ok":
                status[i] = "carried"
        r = self.study.round  # the sample's index: raw file names carry it
        for i, (_, _, fn) in enumerate(jobs):
            if status[i] != "ok":
                continue
            self.study.written = []
            try:
                m, files = fn(r)
            except (PointSkipped, PointHang, PointFailed, OSError) as e:
                if isinstance(e, PointSkipped):
                    status[i], reason[i] = "skipped", str(e)
                elif isinstance(e, PointHang):
                    status[i], reason[i] = "hang", str(e)
                elif isinstance(e, PointFailed):
                    status[i], reason[i] = "failed", str(e)
                else:  # preparing the target (ENOSPC, EACCES...)
                    status[i], reason[i] = "failed", f"{e.strerror or e}"
                # The files a run wrote before the point gave up belong
                # to the point: the report does not read them as points
                # of their own.
                raw[i] += [f for f in self.study.written if f not in raw[i]]
                continue
            for k, v in m.items():
                samples[i].setdefault(k, []).append(v)
            control[i].append(self.study.control_probe)
            raw[i] += files
        out = []
        for i, (target, labels, _) in enumerate(jobs):
            if status[i] == "carried":
                status[i] = "ok"  # _add() takes the earlier round's status
            elif status[i] in ("failed", "hang"):
                print(f"{self.name}: {target} {labels}: {status[i]}: {reason[i]}", flush=True)
            out.append(self._add(target, labels, status[i], reason[i], samples[i], raw[i],
                                 control[i], bound))
        return out

    def chart(self, dat: Path) -> None:
        """Draw plots/<scenario>.gp from dat into <scenario>.png."""
        if not self.ok_points():
            return  # nothing measured (skipped here): nothing to draw
        png = self.study.out / f"{self.name}.png"
        why = plot.draw(self.name, dat, png)
        if why:
            self.note(f"no chart: {why}")
        elif png.name not in self.data["charts"]:
            self.data["charts"].append(png.name)

    def chart_series(self, series: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Write series to <scenario>.dat and draw it, when a block has rows."""
        dat = self.study.out / f"{self.name}.dat"
        if plot.write_series(dat, series):
            self.chart(dat)

    def ok_points(self, **labels: Any) -> list[dict[str, Any]]:
        """The ok points whose labels include every given label."""
        return [p for p in self.points if p["status"] == "ok"
                and all(p["labels"].get(k) == v for k, v in labels.items())]

    def write(self) -> Path:
        # A point of an earlier round that this round did not reach stays.
        have = {point_key(p["target"], p["labels"]) for p in self.points}
        self.points.extend(p for k, p in self.prev.items() if k not in have)
        path = self.study.out / f"{self.name}.json"
        store.write_json(path, self.data)
        return path


class Study:
    """What every scenario runs with."""

    def __init__(self, out: Path, targets: Targets, cleanup: Cleanup,
                 quick: bool, rounds: int = 1, features: Features | None = None,
                 scale: float = 1.0) -> None:
        self.out = out
        self.targets = targets
        self.cleanup = cleanup
        self.quick = quick
        # The length of one sample against the scenario's own (seconds(),
        # size(), count()): many short samples spread over the rounds see
        # more of the machine's minutes than a few long ones.
        self.scale = scale
        # Rounds over every scenario, each measuring every point once: a
        # point's samples spread over the whole study.
        self.rounds = rounds
        self.round = 0  # the round being measured, from 0
        # The index in machine.json's probes of the control taken for the
        # scenario being measured (aiosuite/machine.py); None: none taken.
        self.control_probe: int | None = None
        # Scenario name -> its data after the rounds before this one.
        self.carry: dict[str, dict[str, Any]] = {}
        # Result files written since measure_interleaved() last reset it.
        self.written: list[str] = []
        self.root = os.geteuid() == 0
        self.build = store.BUILD
        self.aio_stress_bin = self.build / "aio-stress"
        # What this kernel lacks (native AIO, io_uring): probed once.
        self.features = features if features is not None else probe()
        # FIO_CLIENTS: the hosts every fio part runs on (fio's client mode).
        self.fio_clients: fio_clients.Fleet | None = None

    def aio_stress(self, scen: Scenario, tag: str, args: list[str],
                   timeout: float = 120) -> tuple[AioStressDoc, str]:
        """Run aio-stress with --json; return its JSON and the file name.
        A run whose every request failed with an error the target gives for
        a missing feature is PointSkipped by the caller, not here."""
        missing = self.features.engine(engine_of(args))
        if missing:
            raise PointSkipped(missing)
        name = f"aio-stress-{scen.name}-{tag}.json"
        path = self.out / name
        cmd = [str(self.aio_stress_bin), "--quiet", *args, "--json", str(path)]
        try:
            p = run_child(cmd, timeout)
        except subprocess.TimeoutExpired:
            raise PointFailed(f"aio-stress gave no result in {timeout:.0f} s")
        data: AioStressDoc | None = None
        if path.exists():
            self.written.append(name)
            try:
                data = store.load_json(path)
            except ValueError:
                data = None
        if p.returncode == SKIP_STATUS:
            raise PointSkipped((data or {}).get("reason") or _last_line(p.stderr)
                               or "aio-stress cannot run here (exit status 77)")
        if data is None:
            raise PointFailed(_last_line(p.stderr) or f"aio-stress exit status {p.returncode}")
        if p.returncode != 0 and not data.get("stages"):
            # Nothing ran: a missing feature (engine, O_DIRECT) the run
            # reports as its reason, as make bench (bench/cli.py) treats it.
            if data.get("result") == "failed":
                raise PointSkipped(data.get("reason") or _last_line(p.stderr))
            raise PointFailed(data.get("reason") or _last_line(p.stderr))
        data["_exit_status"] = p.returncode
        return data, name

    def helper(self, scen: Scenario, prog: str, tag: str, args: list[str],
               timeout: float = 120, needs_aio: bool | None = None) -> tuple[dict[str, Any], str]:
        """Run one of build/aio-{exit,plug,vcheck}; store and return its JSON.
        aio-exit and aio-plug need native AIO unless needs_aio says not."""
        if needs_aio is None:
            needs_aio = prog in ("aio-exit", "aio-plug")
        if needs_aio and self.features.aio:
            raise PointSkipped(self.features.aio)
        name = f"{prog}-{scen.name}-{tag}.json"
        cmd = [str(self.build / prog), *args]
        try:
            p = run_child(cmd, timeout)
        except subprocess.TimeoutExpired:
            if prog == "aio-exit":  # its own watchdog failed: the parent hung
                raise PointHang(f"{prog} did not finish in {timeout:.0f} s")
            raise PointFailed(f"{prog} did not finish in {timeout:.0f} s")
        if p.returncode == SKIP_STATUS:
            raise PointSkipped(_last_line(p.stderr) or f"{prog} cannot run here (exit status 77)")
        try:
            data = json.loads(p.stdout)
        except ValueError:
            raise PointFailed(_last_line(p.stderr) or f"{prog} exit status {p.returncode}")
        data["_exit_status"] = p.returncode
        store.write_json(self.out / name, data)
        self.written.append(name)
        return data, name

    def fio(self, scen: Scenario, tag: str, options: dict[str, str],
            sections: Sequence[str] = (), timeout: float = 120
            ) -> tuple[dict[str, Any] | None, str, str, str]:
        """Run jobs/<scenario>.fio with options set to other values (and
        only sections, when given): write that effective job into the run
        directory and run it; return (fio JSON or None, JSON file name, job
        file name, reason when None).  With FIO_CLIENTS the job runs on
        those hosts through fio's client mode (json+), the JSON gets each
        record's host attached and every host's records go to its own run
        in the store (aiosuite/fio_clients.py)."""
        job = JOBS / f"{scen.name}.fio"
        name = f"fio-{scen.name}-{tag}.json"
        jobname = f"fio-{scen.name}-{tag}.fio"
        path = self.out / name
        try:
            text = fiojob.effective_job(job, options, sections, f"jobs/{job.name}")
        except fiojob.JobError as e:
            return None, name, "", str(e)
        fleet = self.fio_clients
        (self.out / jobname).write_text(text)
        cmd = ["fio", "--output-format=json", f"--output={path}", jobname]
        if fleet is not None:  # each host's copy of it, in client mode
            cmd = fleet.command(self.out, path, jobname)
        try:
            # In the run directory: whatever fio leaves (state files) stays there.
            p = run_child(cmd, timeout, cwd=self.out)
        except FileNotFoundError:
            return None, name, jobname, "fio is not installed"
        except subprocess.TimeoutExpired:
            return None, name, jobname, f"fio gave no result in {timeout:.0f} s"
        text = path.read_text() if path.exists() else ""
        start = text.find("{")
        try:
            data = json.loads(text[start:]) if start >= 0 else None
        except ValueError:
            data = None
        if fleet is not None and data is not None:
            # Each host's records, also of a failed run: fio says which
            # host failed, and why, in its JSON only.
            why = fleet.take(data, self.out, name, jobname)
            store.write_json(path, data)  # with the hosts attached
            if why or p.returncode != 0:
                return (None, name, jobname,
                        why or _fio_why(p.stderr, text, start, data, p.returncode))
        if p.returncode != 0 or data is None:
            return (None, name, jobname,
                    _fio_why(p.stderr, text, start, data, p.returncode))
        if fleet is None and start > 0:  # fio's notes before the JSON: keep the JSON only
            store.write_json(path, data)
        return data, name, jobname, ""

    def crosscheck(self, scen: Scenario, what: str, aio_args: list[str] | None,
                   options: dict[str, str], runtime: float, device_bound: bool,
                   why: str = "", sections: Sequence[str] = ()) -> None:
        """The same workload through aio-stress and the scenario's fio job,
        taking turns for the same time (2 turns each with --quick, else 3)
        and comparing the medians, so that drift and a busy machine weigh on
        both; print both IOPS and the ratio, flag a disagreement over 10%.
        The turns are spread over the rounds like any point's samples (one
        per round with 3 rounds; all in one round with one); the verdict is
        drawn from every turn so far.  With aio_args None only fio runs,
        once, in the first round (a workload not compared).  options (and
        runtime, when aio-stress runs too) replace the job's own values and
        sections picks its job sections: see fio().  With FIO_CLIENTS only
        fio runs, on every host at once: IOPS per host and summed, latency
        percentiles from the merged histograms, not compared with
        aio-stress on this host; a job on a target other hosts do not have
        (a block device, a filesystem the study mounted) is skipped."""
        turns = 1 if aio_args is None else (2 if self.quick else 3)
        per_round = max(1, -(-turns // self.rounds))
        first = self.round * per_round
        if first >= turns:
            return
        tag = what.replace(" ", "-")
        entry: dict[str, Any] | None = next(
            (e for e in scen.data["crosscheck"] if e.get("what") == what), None)
        if entry is not None and entry.get("status") in ("skipped", "failed"):
            return  # what stopped it in an earlier round still holds
        if aio_args is not None:
            options = {**options, "runtime": f"{int(runtime * 1000)}ms"}
        if entry is None:
            entry = {"what": what, "job": f"jobs/{scen.name}.fio", "options": options,
                     "sections": list(sections),
                     "runtime_s": runtime, "device_bound": device_bound,
                     "aio_stress_raw": [], "fio_raw": [], "fio_jobs": []}
            scen.data["crosscheck"].append(entry)
        else:  # carried from the round before: a copy this round owns
            entry = dict(entry, aio_stress_raw=list(entry.get("aio_stress_raw", [])),
                         fio_raw=list(entry.get("fio_raw", [])),
                         fio_jobs=list(entry.get("fio_jobs", [])))
            if "fio_hosts_iops" in entry:  # FIO_CLIENTS: the samples per host
                entry.update(fio_hosts_iops={h: list(v) for h, v in
                                             entry["fio_hosts_iops"].items()},
                             fio_clat_ns=list(entry.get("fio_clat_ns", [])))
            scen.data["crosscheck"] = [entry if e.get("what") == what else e
                                       for e in scen.data["crosscheck"]]
        if not shutil.which("fio"):
            entry.update(status="skipped", reason="fio is not installed")
            print(f"{scen.name}: cross-check {what}: skipped: fio is not installed", flush=True)
            return
        # The job's engine (every job file says libaio, unless options
        # replace its ioengine) and aio-stress's: what the kernel lacks is a
        # skip, said once.
        missing = self.features.engine(options.get("ioengine", "libaio")) or \
            (self.features.engine(engine_of(aio_args)) if aio_args is not None else "")
        if missing:
            entry.update(status="skipped", reason=missing)
            return
        fleet = self.fio_clients
        if fleet is not None:
            why = fio_clients.refuse(options.get("filename"), self.targets.scratch)
            if why:
                entry.update(status="skipped", reason=f"not sent to the fio clients: {why}")
                print(f"{scen.name}: cross-check {what}: skipped: {entry['reason']}", flush=True)
                return
            entry["fio_clients"] = [c.name for c in fleet.clients]
        aio: list[float] = list(entry.get("aio_stress_samples", []))
        fio: list[float] = list(entry.get("fio_samples", []))
        for i in range(first, min(turns, first + per_round)):
            if aio_args is not None and fleet is None:
                try:
                    d, raw = self.aio_stress(scen, f"xcheck-{tag}-{i}",
                                             [*aio_args, "--runtime", str(runtime)])
                    aio.append(float(first_stage(d)["iops"]))
                    entry["aio_stress_raw"].append(raw)
                except PointSkipped as e:
                    entry.update(status="skipped", reason=f"aio-stress: {e}")
                    print(f"{scen.name}: cross-check {what}: skipped: {e}", flush=True)
                    return
                except PointFailed as e:
                    entry.update(status="failed", reason=f"aio-stress: {e}")
                    print(f"{scen.name}: cross-check {what}: aio-stress: {e}", flush=True)
                    return
            data, name, jobname, reason = self.fio(scen, f"xcheck-{tag}-{i}",
                                                   options, sections)
            if jobname:
                entry["fio_jobs"].append(jobname)
            if data is None:
                entry.update(status="failed", reason=reason)
                print(f"{scen.name}: cross-check {what}: fio: {reason}", flush=True)
                return
            entry["fio_raw"].append(name)
            if fleet is not None:
                fio.append(fio_clients.record_turn(entry, data))
            else:
                fio.append(fio_iops(data))
        fiops = statistics.median(fio)
        entry.update(fio_iops=fiops, fio_samples=fio)
        if fleet is not None:
            entry.update(status="not compared", reason=(
                f"fio ran on {len(fleet.clients)} hosts at once (FIO_CLIENTS): IOPS per host "
                "and summed, not aio-stress's workload on this host"))
            per = ", ".join(f"{h} {statistics.median(v):.0f}"
                            for h, v in entry["fio_hosts_iops"].items())
            print(f"{scen.name}: fio {what} on {len(fleet.clients)} hosts: {per}; "
                  f"all hosts {fiops:.0f} IOPS", flush=True)
            return
        if aio_args is None or not device_bound:
            entry.update(status="not compared", reason=why or "not a device-bound workload")
            print(f"{scen.name}: fio {what}: {fiops:.0f} IOPS "
                  f"(not compared: {entry['reason']})", flush=True)
            return
        aiops = statistics.median(aio)
        entry.update(aio_stress_iops=aiops, aio_stress_samples=aio)
        ratio = aiops / fiops if fiops else 0.0
        agree = abs(ratio - 1.0) <= CROSSCHECK_TOLERANCE
        # How much each tool varied against itself: a disagreement inside
        # that noise says more about the machine than about the tools.
        spread = max((max(v) - min(v)) / statistics.mean(v) for v in (aio, fio))
        entry.update(ratio=ratio, agree=agree, self_spread=spread,
                     status="agree" if agree else "disagree", reason="")
        flag = "agree"
        if agree and spread > CROSSCHECK_TOLERANCE:
            entry["reason"] = (f"medians agree, but each tool's own runs spread by up to "
                               f"{spread * 100:.0f}%: the machine was noisy")
            flag += f" (runs of one tool spread {spread * 100:.0f}%)"
        if not agree:
            entry["reason"] = f"aio-stress and fio differ by {abs(ratio - 1) * 100:.0f}% (> 10%)"
            flag = "DISAGREE (> 10%)"
            if spread > CROSSCHECK_TOLERANCE:
                entry["reason"] += (f"; each tool's own runs spread by up to {spread * 100:.0f}%:"
                                    " the machine is noisy")
                flag += f", runs of one tool spread {spread * 100:.0f}%"
        print(f"{scen.name}: cross-check {what}: aio-stress {aiops:.0f} IOPS, "
              f"fio {fiops:.0f} IOPS, ratio {ratio:.2f}: {flag}", flush=True)

    def seconds(self, full: float, quick: float) -> float:
        """A sample's run time: the scenario's, times the sample scale
        (at least 50 ms)."""
        t = quick if self.quick else full
        return max(0.05, round(t * self.scale, 3)) if t > 0 else t

    def size(self, full: int, quick: int) -> int:
        """The bytes one sample moves, times the sample scale: whole MiB,
        at least 1."""
        b = quick if self.quick else full
        return max(1 << 20, int(b * self.scale) >> 20 << 20)

    def count(self, full: int, quick: int) -> int:
        """How many times one sample repeats its work, times the sample
        scale (at least 1)."""
        return max(1, round((quick if self.quick else full) * self.scale))

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


def first_stage(data: AioStressDoc, name: str | None = None) -> Stage:
    for st in data.get("stages", []):
        if name is None or st["name"] == name:
            return st.copy()
    raise PointFailed(f"aio-stress reported no {name or ''} stage ({data.get('result', '')})")


def check_errors(data: AioStressDoc, st: Stage) -> None:
    """A stage whose every request failed is a missing feature: skip."""
    if st.get("errors", 0) and st["errors"] >= st.get("ios", 0):
        raise PointSkipped("every request failed on this target "
                           "(the feature is not supported here)")
    if st.get("errors", 0):
        raise PointFailed(f"{st['errors']} of {st['ios']} requests failed")
