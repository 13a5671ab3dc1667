#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: the fio workloads on many hosts, through fio's own
client/server mode (`fio --server` on each host, `fio --client=LIST` here).

  tools/fio_clients.py check FILE          read a host list, say each host
  tools/fio_clients.py merge FIO-JSON      the per-host and merged figures of
                                           one client-mode fio JSON (json+)

A host list is fio's: whitespace-separated entries, each
`[ip:|ip4:|ip6:]HOST[,PORT]` (port 8765 by default) or `sock:PATH`; a `#`
starts a comment to the end of its line.  fio gets each host on its
command line (`--client=HOST JOB`), with a copy of the job of that host's
own: the job's file in a directory of the host's own beside it, removed
when the job ends (client_job()).  Only jobs on a file of the study's
scratch directory go out (refuse()): a block device or a filesystem the
study mounted is something else, or nothing, on another host.

fio's client JSON ("client_stats") does not reliably say which host a record
is from (fio#515: older fio names none; fio names the last client in its own
"All clients" sum, and with several job sections that sum is wrong or
missing, fio#1881).  So this module attaches the host to every job record
itself, from the record's address and port matched against the host list,
drops fio's "All clients" record, and builds the cross-host totals itself:
counts and rates are summed, means weighted by sample counts, and the
latency percentiles computed from the merged latency histograms of fio's
json+ output (clat_ns.bins), never by averaging percentiles.  A histogram's
percentile is fio's own rule: the representative value of the first bin at
which the running count reaches p% of the samples (so a single host's bins
give back fio's own percentiles, exactly).

Each host's records are also written to the store as that host's run,
results/<host>/unknown/<run id>/: fio does not tell the client the server's
kernel release, CPU or fio version (its probe reply reaches only fio's
human-readable output), so env.json says so instead of borrowing the
controller's.
"""
from __future__ import annotations

import datetime
import os
import platform
import socket
import stat
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from aiosuite import store

PROG = "fio_clients"
DEFAULT_PORT = 8765  # fio's FIO_NET_PORT
AGGREGATE = "All clients"  # fio's own sum over the clients: never used
UNKNOWN_KERNEL = "unknown"  # the store's kernel directory for such a host
SUMMARY_SCHEMA = "aio-suite-fio-clients/1"
HOST_KEY = "aio_suite_host"  # the key this module adds to every job record
LAT_KEYS = ("slat_ns", "clat_ns", "lat_ns")
DIRECTIONS = ("read", "write", "trim")
# fio's default percentile list, for a merged histogram whose records
# carry none.
DEFAULT_PERCENTILES = ("1.000000", "5.000000", "10.000000", "20.000000", "30.000000",
                       "40.000000", "50.000000", "60.000000", "70.000000", "80.000000",
                       "90.000000", "95.000000", "99.000000", "99.500000", "99.900000",
                       "99.950000", "99.990000")
NOT_FROM_FIO = {
    "kernel_release": "fio's client/server protocol does not carry the server's kernel "
                      "release (the controller's is not this host's)",
    "cpu_model": "fio's client/server protocol does not carry the server's CPU",
    "fio": "fio's client JSON names only the controller's fio version (the server's is "
           "in fio's human-readable probe line only); fio refuses a server that does "
           "not speak the controller's protocol version",
}


class HostListError(Exception):
    """The host list cannot be used; the message says why, in one line."""


class ClientError(Exception):
    """A client-mode fio result cannot be attributed or merged."""


@dataclass(frozen=True)
class Client:
    """One entry of the host list."""
    entry: str  # as written: "127.0.0.2,8766", "ip6:::1", "sock:/run/fio.sock"
    address: str  # what fio's JSON names as the record's "hostname"
    port: int  # and "port" (8765 for a socket, as fio reports it)
    sock: bool
    name: str = ""  # the host's name in the store

    def describe(self) -> dict[str, Any]:
        return {"entry": self.entry, "address": self.address, "port": self.port,
                "socket": self.sock, "store_name": self.name}


def parse_entry(tok: str) -> Client:
    """One host list entry, read the way fio reads it."""
    if tok.startswith("sock:"):
        if not tok[5:]:
            raise HostListError(f"'{tok}' names no socket")
        return Client(tok, tok[5:], DEFAULT_PORT, True)
    host = tok
    for prefix in ("ip:", "ip4:", "ip6:"):
        if host.startswith(prefix):
            host = host[len(prefix):]
            break
    port = DEFAULT_PORT
    if "," in host:
        host, _, p = host.partition(",")
        if not p.isdigit() or not 0 < int(p) <= 65535:
            raise HostListError(f"'{tok}': bad port '{p}' (1 to 65535)")
        port = int(p)
    if not host or host.startswith(":") and not tok.startswith("ip6:"):
        raise HostListError(f"'{tok}' names no host")
    return Client(tok, host, port, False)


# Top-level directories of the store that are not hosts (collect.NOT_HOSTS).
NOT_HOSTS = ("report", "check")


def store_name(c: Client, clash: bool) -> str:
    """The host's directory name in the store: its address, with the port
    when two entries share the address (or the address is the name of a
    directory of the store that is not a host); never a path."""
    clash = clash or c.address in NOT_HOSTS
    name = f"{c.address},{c.port}" if clash else c.address
    if c.sock:
        name = "sock:" + name
    return name.replace("/", "_").replace("\0", "") or "unnamed"


def parse_hostlist(text: str, origin: str = "the host list") -> list[Client]:
    """Every host of a host list text, in order, with its store name."""
    found: list[tuple[int, Client]] = []
    for n, line in enumerate(text.splitlines(), 1):
        for tok in line.split("#", 1)[0].split():
            try:
                found.append((n, parse_entry(tok)))
            except HostListError as e:
                raise HostListError(f"{origin} line {n}: {e}") from None
    if not found:
        raise HostListError(f"{origin} names no host")
    seen: dict[tuple[str, int], int] = {}
    for n, c in found:
        key = (c.address, c.port)
        if key in seen:
            raise HostListError(f"{origin} line {n}: '{c.entry}' is the host of line "
                                f"{seen[key]} again")
        seen[key] = n
    addrs = [c.address for _, c in found]
    return [Client(c.entry, c.address, c.port, c.sock, store_name(c, addrs.count(c.address) > 1))
            for _, c in found]


def read_hostlist(path: Path) -> list[Client]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise HostListError(f"cannot read the host list {path}: "
                            f"{getattr(e, 'strerror', None) or e}") from None
    return parse_hostlist(text, str(path))


def unreachable(c: Client, timeout: float = 5.0) -> str:
    """Why the fio server of c does not take a connection, or ""."""
    try:
        if c.sock:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(c.address)
        else:
            with socket.create_connection((c.address, c.port), timeout=timeout):
                pass
    except socket.timeout:
        return f"no answer in {timeout:.0f} s"
    except OSError as e:
        return str(e.strerror or e)
    return ""


def refuse(filename: str | None, scratch: Path) -> str:
    """Why a fio job on filename must not go to other hosts, or "".

    A job goes out only when it names a file in the study's scratch
    directory, on the scratch directory's own filesystem: a block device, a
    filesystem the study mounted (a loop device, tmpfs) or any other path
    of this host would be another thing, or nothing, on the other hosts."""
    if not filename:
        return "the job names no file of the study's scratch directory"
    path = Path(filename)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            kind = "a block device" if stat.S_ISBLK(st.st_mode) else "not a regular file"
            return (f"{filename} is {kind} of this host: on the other hosts that name is "
                    "another thing, or nothing")
    except FileNotFoundError:
        st = None
    except OSError as e:
        return f"{filename}: {e.strerror}"
    base = scratch.resolve()
    real = path.parent.resolve()
    if real != base and base not in real.parents:
        return f"{filename} is not in the study's scratch directory {scratch}"
    while not real.exists() and real != base:
        real = real.parent  # fio makes the directories it needs
    if os.stat(real).st_dev != os.stat(base).st_dev:
        return (f"{filename} is on a filesystem this study mounted on this host: "
                "the other hosts do not have it")
    return ""


def host_dir(index: int) -> str:
    """The directory, beside the job's file, of the index-th host's files."""
    return f"fio-host-{index + 1}"


def client_job(text: str, index: int) -> str:
    """An effective job (tools/fiojob.py) made for the index-th host: its
    file (filename=/dir/name) becomes the same name in a directory of that
    host's own (/dir/fio-host-N/name, which fio makes), so that hosts
    sharing the storage never open, lay out or remove each other's files,
    and every job section removes its files when it ends (unlink=1), so
    that a host which does not share the storage keeps none.  (Not fio's
    directory=, which must exist already; no ':', fio's separator of
    several files.)"""
    out = []
    for line in text.splitlines():
        s = line.strip()
        key, eq, value = s.partition("=")
        if eq and key.strip() == "filename" and value.startswith("/") and ":" not in value:
            path = Path(value.strip())
            out.append(f"filename={path.parent / host_dir(index) / path.name}")
            continue
        out.append(line)
        if s.startswith("[") and s.endswith("]") and s != "[global]":
            out.append("unlink=1")
    return "\n".join(out) + "\n"


# ---- attributing records to hosts ----

def _is_aggregate(rec: Mapping[str, Any]) -> bool:
    return rec.get("jobname") == AGGREGATE and "job options" not in rec


def attach(doc: dict[str, Any], clients: Sequence[Client]) -> dict[str, list[dict[str, Any]]]:
    """Every job record of a client-mode fio JSON, by host: each record
    gets HOST_KEY (the host's store name) written into it; fio's own
    "All clients" sum is marked as not used.  ClientError when a record
    names no host or one not in the list, or a host has no record."""
    recs = doc.get("client_stats")
    if not isinstance(recs, list):
        raise ClientError("fio's JSON has no client_stats: not a client-mode run")
    by_addr = {(c.address, c.port): c for c in clients}
    out: dict[str, list[dict[str, Any]]] = {c.name: [] for c in clients}
    for rec in recs:
        if not isinstance(rec, dict):
            continue
        if _is_aggregate(rec):
            rec[HOST_KEY] = None
            rec["aio_suite_note"] = ("fio's own sum over the clients (fio#1881): not used; "
                                     "the suite merges the hosts' histograms itself")
            continue
        host, port = rec.get("hostname"), rec.get("port")
        if host is None and len(clients) == 1:
            c = clients[0]  # one host: every record is its own (fio#515)
        else:
            if host is None:
                raise ClientError(f"fio's JSON does not say which host ran job "
                                  f"'{rec.get('jobname')}' (fio#515): this fio is too old "
                                  "for more than one client")
            c0 = by_addr.get((str(host), int(port) if isinstance(port, int) else DEFAULT_PORT))
            if c0 is None:
                raise ClientError(f"fio's JSON has job '{rec.get('jobname')}' from {host},{port},"
                                  " a host not in the list")
            c = c0
        rec[HOST_KEY] = c.name
        out[c.name].append(rec)
    missing = [c for c in clients if not out[c.name]]
    if missing:
        raise ClientError(f"no result from the fio server at {missing[0].entry} (fio goes on "
                          "without a host it cannot reach)")
    return out


def _disk_util(doc: Mapping[str, Any], c: Client) -> list[dict[str, Any]]:
    return [d for d in doc.get("disk_util") or [] if isinstance(d, dict)
            and d.get("hostname") == c.address and d.get("port") == c.port]


def _global_options(doc: Mapping[str, Any], c: Client) -> dict[str, Any]:
    g = doc.get("global options")
    if isinstance(g, list):  # fio 3.39 and later: one object per server
        for o in g:
            if isinstance(o, dict) and o.get("hostname") == c.address and o.get("port") == c.port:
                return {k: v for k, v in o.items() if k not in ("hostname", "port")}
        return {}
    return dict(g) if isinstance(g, dict) else {}


def host_document(doc: Mapping[str, Any], c: Client,
                  records: list[dict[str, Any]]) -> dict[str, Any]:
    """The fio JSON of one host's jobs, as a one-host fio run writes it
    ("jobs"), with the host attached."""
    return {"fio version": doc.get("fio version"), "timestamp": doc.get("timestamp"),
            "time": doc.get("time"), "global options": _global_options(doc, c),
            "jobs": records, "disk_util": _disk_util(doc, c), "aio_suite_client": c.describe()}


# ---- merging histograms ----

def bins_of(lat: Mapping[str, Any]) -> dict[int, int] | None:
    """fio's json+ latency histogram (value ns -> count), or None."""
    b = lat.get("bins")
    if not isinstance(b, dict):
        return None
    out: dict[int, int] = {}
    for k, v in b.items():
        try:
            key = int(k)
        except ValueError:
            continue
        if isinstance(v, int) and v > 0:
            out[key] = out.get(key, 0) + v
    return out


def merge_bins(hists: Iterable[Mapping[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for h in hists:
        for k, v in h.items():
            out[k] = out.get(k, 0) + v
    return dict(sorted(out.items()))


def percentiles(hist: Mapping[int, int], wanted: Iterable[str]) -> dict[str, int]:
    """Each wanted percentile ("99.900000") of a histogram, fio's rule: the
    value of the first bin at which the running count reaches p/100 of
    all (compared exactly, as fractions)."""
    items = sorted((k, v) for k, v in hist.items() if v > 0)
    n = sum(v for _, v in items)
    out: dict[str, int] = {}
    if not n:
        return out
    for key in sorted(wanted, key=float):
        need = Fraction(float(key)) / 100 * n
        run = 0
        value = items[-1][0]
        for k, v in items:
            run += v
            if run >= need:
                value = k
                break
        out[key] = value
    return out


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0


def merge_latency(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One latency object (fio's slat_ns/clat_ns/lat_ns) for several hosts'."""
    live = [p for p in parts if _num(p.get("N")) > 0]
    n = sum(int(_num(p.get("N"))) for p in live)
    out: dict[str, Any] = {"N": n}
    if not n:
        return out
    mean = sum(_num(p.get("N")) * _num(p.get("mean")) for p in live) / n
    out["min"] = min(_num(p.get("min")) for p in live)
    out["max"] = max(_num(p.get("max")) for p in live)
    out["mean"] = mean
    # Pooled sample variance from each part's count, mean and stddev.
    ss = sum((_num(p.get("N")) - 1) * _num(p.get("stddev")) ** 2
             + _num(p.get("N")) * (_num(p.get("mean")) - mean) ** 2 for p in live)
    out["stddev"] = (ss / (n - 1)) ** 0.5 if n > 1 else 0.0
    hists = [bins_of(p) for p in live]
    if all(h is not None for h in hists):
        merged = merge_bins(h for h in hists if h is not None)
        keys: list[str] = []
        for p in live:
            for k in (p.get("percentile") or {}):
                if k not in keys:
                    keys.append(k)
        out["percentile"] = percentiles(merged, keys or DEFAULT_PERCENTILES)
        out["bins"] = {str(k): v for k, v in merged.items()}
    else:
        out["percentile_why_not"] = ("a host's record has no histogram (fio's json+ bins): "
                                     "percentiles are not averaged")
    return out


def merge_records(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One job section's records from several hosts as one fio-like record:
    I/O counts, bytes and rates summed (the hosts ran at once), the runtime
    the longest, latencies merged (merge_latency), CPU weighted by each
    host's runtime with job_runtime the sum (as fio sums a group)."""
    first = records[0]
    out: dict[str, Any] = {"jobname": first.get("jobname"), "groupid": first.get("groupid", 0),
                           "error": next((r.get("error") for r in records if r.get("error")), 0)}
    opts = next((r.get("job options") for r in records if isinstance(r.get("job options"), dict)),
                None)
    if opts is not None:
        out["job options"] = opts
    for dirn in DIRECTIONS:
        parts = [r[dirn] for r in records if isinstance(r.get(dirn), dict)]
        if not parts:
            continue
        d: dict[str, Any] = {}
        for k in ("io_bytes", "io_kbytes", "total_ios", "short_ios", "drop_ios"):
            d[k] = int(sum(_num(p.get(k)) for p in parts))
        for k in ("bw_bytes", "bw", "iops"):
            d[k] = sum(_num(p.get(k)) for p in parts)
        d["runtime"] = max(_num(p.get("runtime")) for p in parts)
        for lat in LAT_KEYS:
            objs = [p[lat] for p in parts if isinstance(p.get(lat), dict)]
            if objs:
                d[lat] = merge_latency(objs)
        out[dirn] = d
    rts = [_num(r.get("job_runtime")) for r in records]
    total = sum(rts)
    out["job_runtime"] = total
    for k in ("usr_cpu", "sys_cpu"):
        out[k] = (sum(_num(r.get(k)) * t for r, t in zip(records, rts)) / total) if total else 0.0
    out[HOST_KEY] = [r.get(HOST_KEY) for r in records]
    return out


def by_section(hosts: Mapping[str, list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The records of one job section (its name, and which of that name's
    records it is on its host) across the hosts, in the order of the first
    host that has it."""
    groups: dict[tuple[Any, int], list[dict[str, Any]]] = {}
    for recs in hosts.values():
        seen: dict[Any, int] = {}
        for r in recs:
            name = r.get("jobname")
            i = seen.get(name, 0)
            seen[name] = i + 1
            groups.setdefault((name, i), []).append(r)
    return list(groups.values())


def hosts_of(doc: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The job records of an attached document (attach()) by host."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in doc.get("client_stats") or []:
        if isinstance(r, dict) and isinstance(r.get(HOST_KEY), str):
            out.setdefault(r[HOST_KEY], []).append(r)
    return out


def merged_jobs(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The cross-host record of every job section of an attached document."""
    return [merge_records(g) for g in by_section(hosts_of(doc))]


def iops(records: Iterable[Mapping[str, Any]]) -> float:
    return sum(_num((r.get(d) or {}).get("iops")) for r in records for d in ("read", "write"))


def totals(doc: Mapping[str, Any]) -> dict[str, Any]:
    """IOPS per host and merged, and the merged completion-latency
    percentiles of each direction, of an attached document."""
    hosts = hosts_of(doc)
    jobs = merged_jobs(doc)
    clat: dict[str, dict[str, int]] = {}
    for dirn in DIRECTIONS:
        # All job sections of a direction together: their histograms merged.
        parts = [j[dirn]["clat_ns"] for j in jobs
                 if isinstance(j.get(dirn), dict) and isinstance(j[dirn].get("clat_ns"), dict)
                 and j[dirn]["clat_ns"].get("N")]
        if parts:
            m = merge_latency(parts)
            if "percentile" in m:
                clat[dirn] = m["percentile"]
    return {"hosts_iops": {h: iops(r) for h, r in hosts.items()}, "iops": iops(jobs),
            "clat_ns_percentile": clat}


def record_turn(entry: dict[str, Any], doc: Mapping[str, Any]) -> float:
    """Add one client-mode fio run (attached) to a study cross-check entry:
    each host's IOPS (fio_hosts_iops) and the merged completion-latency
    percentiles (fio_clat_ns, one object per run); return the IOPS summed
    over the hosts."""
    t = totals(doc)
    hosts: dict[str, list[float]] = entry.setdefault("fio_hosts_iops", {})
    for h, v in t["hosts_iops"].items():
        hosts.setdefault(h, []).append(v)
    entry.setdefault("fio_clat_ns", []).append(t["clat_ns_percentile"])
    return float(t["iops"])


# ---- the store ----

class Fleet:
    """The hosts of a study's fio parts, and their runs in the store."""

    def __init__(self, path: Path, clients: list[Client] | None = None) -> None:
        self.path = path
        self.clients = clients if clients is not None else read_hostlist(path)
        self.runs: dict[str, Path] = {}  # store name -> its run directory
        self._fio_version: str | None = None  # the controller's

    def check(self, timeout: float = 5.0) -> str:
        """Why one of the hosts cannot be used, or ""."""
        for c in self.clients:
            why = unreachable(c, timeout)
            if why:
                return f"the fio server at {c.entry} (from {self.path}) does not answer: {why}"
        return ""

    def command(self, out: Path, output: Path, jobname: str) -> list[str]:
        """fio in client mode, json+ (the histograms), on every host at
        once, each with its own copy of the effective job out/jobname
        (client_job(); written beside it as NAME.hostN.fio)."""
        text = (out / jobname).read_text()
        cmd = ["fio", "--output-format=json+", f"--output={output}"]
        for i, c in enumerate(self.clients):
            job = out / self.job_name(jobname, i)
            job.write_text(client_job(text, i))
            cmd += [f"--client={c.entry}", job.name]
        return cmd

    @staticmethod
    def job_name(jobname: str, index: int) -> str:
        return f"{Path(jobname).stem}.host{index + 1}.fio"

    def run_dir(self, c: Client, run_id: str) -> Path:
        """results/<host>/unknown/<run id>/ of c, made with env.json and
        summary.json (complete false) the first time."""
        d = self.runs.get(c.name)
        if d is not None:
            return d
        d = store.inside(store.results_root(), c.name, UNKNOWN_KERNEL, run_id, what="host")
        d.mkdir(parents=True, exist_ok=True)
        if not (d / "summary.json").exists():  # a round before this one made it
            store.write_json(d / "summary.json", {"schema": SUMMARY_SCHEMA, "complete": False,
                                                  "interrupted": None, "fio_runs": []})
        store.write_json(d / "env.json", self.environment(c))
        self.runs[c.name] = d
        return d

    def environment(self, c: Client) -> dict[str, Any]:
        if self._fio_version is None:
            self._fio_version = str(store.environment()["versions"].get("fio", ""))
        fio = self._fio_version
        return {
            "host": c.name, "kernel_release": None, "kernel_version": None,
            "cpu_model": None, "versions": {"fio": None},
            "not_from_fio": NOT_FROM_FIO,
            "fio_client": c.describe(),
            "controller": {"host": platform.node(), "kernel_release": platform.release(),
                           "fio": fio, "host_list": str(self.path)},
            "source": "fio client/server (FIO_CLIENTS): what fio's client JSON gives",
            "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }

    def take(self, doc: dict[str, Any], out: Path, name: str, jobname: str) -> str:
        """Attach the hosts to fio's client JSON doc (written to out/name by
        the caller) and write each host's jobs into its run in the store;
        the reason it cannot be used, or ""."""
        try:
            hosts = attach(doc, self.clients)
        except ClientError as e:
            return str(e)
        bad = [(h, r) for h, recs in hosts.items() for r in recs if r.get("error")]
        try:
            for c in self.clients:
                d = self.run_dir(c, out.name)
                store.write_json(d / name, host_document(doc, c, hosts[c.name]))
                if jobname:  # the job this host ran, by the controller's name
                    i = self.clients.index(c)
                    (d / jobname).write_text((out / self.job_name(jobname, i)).read_text())
                summ = store.load_json(d / "summary.json")
                if name not in summ.get("fio_runs", []):
                    summ.setdefault("fio_runs", []).append(name)
                    store.write_json(d / "summary.json", summ)
        except (OSError, ValueError) as e:
            return f"cannot write a host's results: {getattr(e, 'strerror', None) or e}"
        if bad:
            h, r = bad[0]
            err = r.get("error")
            what = f" ({os.strerror(err)})" if isinstance(err, int) and 0 < err < 4096 else ""
            return f"fio error {err}{what} in job '{r.get('jobname')}' on {h}"
        return ""

    def finish(self, complete: bool, interrupted: str | None) -> None:
        """Every host run's summary.json, at the end of the study."""
        for d in self.runs.values():
            try:
                summ = store.load_json(d / "summary.json")
                summ.update(complete=complete and not interrupted, interrupted=interrupted)
                store.write_json(d / "summary.json", summ)
            except (OSError, ValueError) as e:
                print(f"study: cannot write {d / 'summary.json'}: {e}", file=sys.stderr)


USAGE = f"""usage: {PROG}.py check HOSTLIST | merge FIO-JSON
  check HOSTLIST   read fio's host list and say which hosts answer
                   (exit 1 when one does not)
  merge FIO-JSON   the cross-host totals of a client-mode fio JSON the
                   suite wrote: IOPS and bytes summed, percentiles from
                   the merged json+ histograms"""


def main(argv: list[str]) -> int:
    import json
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if len(argv) != 2 or argv[0] not in ("check", "merge"):
        print(f"{PROG}: usage: {PROG}.py check HOSTLIST | merge FIO-JSON", file=sys.stderr)
        return 2
    path = Path(argv[1])
    if argv[0] == "check":
        try:
            fleet = Fleet(path)
        except HostListError as e:
            print(f"{PROG}: {e}", file=sys.stderr)
            return 2
        silent = 0
        for c in fleet.clients:
            why = unreachable(c)
            silent += bool(why)
            print(f"{c.entry}: results/{c.name}/: " + (f"does not answer: {why}" if why
                                                        else "answers"))
        return 1 if silent else 0
    try:
        text = path.read_text()
        doc = json.loads(text[text.find("{"):])
    except (OSError, ValueError) as e:
        print(f"{PROG}: cannot read {path}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 1
    if not isinstance(doc, dict) or not hosts_of(doc):
        print(f"{PROG}: {path} is not a client-mode fio JSON that the suite attached hosts to",
              file=sys.stderr)
        return 1
    print(json.dumps(totals(doc), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
