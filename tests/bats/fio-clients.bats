#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the fio workloads on many hosts through fio's client/server
# mode (issue 13, item 1): tools/study.py --fio-clients / FIO_CLIENTS=FILE,
# tools/fio_clients.py's attribution of every record to its host and its
# merge of the hosts' latency histograms.  No network: the fio servers
# listen on 127.0.0.1 and 127.0.0.2 (each on a port of its own), each
# under a timeout in a process group of its own, stopped by its pidfile
# in teardown on every exit path; a test checks nothing is left
# listening.

load helpers

# Seconds a fio server may live at most, even if bats itself is killed.
SERVER_LIMIT=${SERVER_LIMIT:-300}

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$BATS_TEST_TMPDIR/results
	STUDY_TIMEOUT=${STUDY_TIMEOUT:-240}
	SERVERS=$BATS_TEST_TMPDIR/servers
	mkdir -p "$SERVERS"
}

teardown() {
	stop_servers
	common_teardown
}

# free_port ADDR: a TCP port nothing listens on at ADDR now.
free_port() {
	python3 -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1"
}

# listening ADDR PORT: whether something accepts a connection there.
listening() {
	python3 -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)' "$1" "$2"
}

# start_server ADDR: a fio server on ADDR and a free port, in its own
# process group under a timeout; SERVER is then "ADDR,PORT".  Skips the
# test, with the reason, when it does not start listening in 10 s.
start_server() {
	local addr=$1 port pid i

	port=$(free_port "$addr") || skip "no free port on $addr"
	# setsid: a process group of its own, which teardown kills whole
	# (the server forks a process per connection and per job).
	setsid timeout -k 5 "$SERVER_LIMIT" fio --server="ip:$addr,$port" \
		>"$SERVERS/$addr.log" 2>&1 3>&- </dev/null &
	pid=$!
	echo "$pid" >"$SERVERS/$addr.pid"
	echo "$addr $port" >"$SERVERS/$addr.addr"
	for ((i = 0; i < 100; i++)); do
		listening "$addr" "$port" && {
			SERVER=$addr,$port
			return 0
		}
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	skip "fio --server=ip:$addr,$port did not start: $(tail -1 "$SERVERS/$addr.log" 2>/dev/null)"
}

# stop_servers: every server this test started, by its pidfile (the whole
# process group), then wait until nothing listens on its port.
stop_servers() {
	local f pid addr port i

	[[ -d ${SERVERS:-} ]] || return 0
	for f in "$SERVERS"/*.pid; do
		[[ -f $f ]] || continue
		pid=$(cat "$f")
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$f"
	done
	for f in "$SERVERS"/*.addr; do
		[[ -f $f ]] || continue
		read -r addr port <"$f"
		for ((i = 0; i < 50; i++)); do
			listening "$addr" "$port" || break
			sleep 0.1
		done
	done
	return 0
}

# nothing_listening: no server of this test accepts connections any more.
nothing_listening() {
	local f addr port

	for f in "$SERVERS"/*.addr; do
		[[ -f $f ]] || continue
		read -r addr port <"$f"
		if listening "$addr" "$port"; then
			echo "still listening on $addr,$port" >&2
			return 1
		fi
	done
}

study() {
	timeout -k 10 "$STUDY_TIMEOUT" python3 "$TOP/tools/study.py" \
		--scratch "$SCRATCH" "$@"
}

# The controller's run directory (this host's kernel, not "unknown").
controller_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS/$(uname -n)/$(uname -r)"/*/ 2>/dev/null | tail -1)
	echo "${d%/}"
}

@test "percentiles computed from fio's json+ bins are fio's own percentiles" {
	requires fio python3
	# One host's data, read back: the merge's percentile rule must give
	# fio's own answer (within one bin; fio compares in long double).
	timeout -k 5 60 fio --name=p --filename="$SCRATCH/p.dat" --size=4m --bs=4k \
		--rw=randrw --ioengine=psync --time_based --runtime=1 \
		--output-format=json+ --output="$SCRATCH/p.json" >/dev/null
	run python3 - "$TOP" "$SCRATCH/p.json" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from aiosuite import fio_clients
text = open(sys.argv[2]).read()
d = json.loads(text[text.find("{"):])
checked = 0
for job in d["jobs"]:
    for dirn in ("read", "write"):
        clat = job[dirn]["clat_ns"]
        if not clat.get("N"):
            continue
        bins = fio_clients.bins_of(clat)
        mine = fio_clients.percentiles(bins, clat["percentile"])
        keys = sorted(bins)
        for p, want in clat["percentile"].items():
            got = mine[p]
            if got != want and abs(keys.index(got) - keys.index(want)) > 1:
                print(f"{dirn} p{p}: {got} from the bins, fio says {want}")
                sys.exit(1)
            checked += 1
print(f"{checked} percentiles agree")
sys.exit(0 if checked >= 17 else 1)
EOF
	assert_status 0
}

@test "merged percentiles come from the hosts' merged histograms, not their average" {
	requires python3
	run python3 - "$TOP" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from aiosuite import fio_clients
def rec(host, port, bins):
    n = sum(bins.values())
    mean = sum(k * v for k, v in bins.items()) / n
    return {"jobname": "j", "job options": {}, "hostname": host, "port": port, "error": 0,
            "job_runtime": 1000, "usr_cpu": 1.0, "sys_cpu": 1.0,
            "read": {"iops": n, "total_ios": n, "io_bytes": 4096 * n, "bw_bytes": 0,
                     "runtime": 1000, "clat_ns": {"N": n, "min": min(bins), "max": max(bins),
                     "mean": mean, "stddev": 0.0,
                     "percentile": {"50.000000": 0, "99.000000": 0, "99.500000": 0},
                     "bins": {str(k): v for k, v in bins.items()}}}}
hosts = fio_clients.parse_hostlist("a,1 b,2")
# Host a: 99 completions at 100 ns; host b: one at 10000 ns.
doc = {"fio version": "fio-3.33", "client_stats": [
    rec("a", 1, {100: 99}), rec("b", 2, {10000: 1}),
    dict(rec("b", 2, {5: 1}), jobname="All clients")]}
del doc["client_stats"][2]["job options"]
fio_clients.attach(doc, hosts)
t = fio_clients.totals(doc)
got = t["clat_ns_percentile"]["read"]
want = {"50.000000": 100, "99.000000": 100, "99.500000": 10000}
print(t)
assert got == want, (got, want)
assert t["iops"] == 100 and t["hosts_iops"] == {"a": 99, "b": 1}, t
# The merged job record, which the report reads, the same.
job = fio_clients.merged_jobs(doc)
assert len(job) == 1 and job[0]["read"]["clat_ns"]["percentile"] == want, job
assert job[0]["read"]["clat_ns"]["N"] == 100 and job[0]["read"]["total_ios"] == 100, job
EOF
	assert_status 0
}

@test "fio_clients.py merge prints each host's IOPS and their sum from a stored client JSON" {
	requires python3
	cat >"$BATS_TEST_TMPDIR/c.json" <<'EOF'
{"fio version": "fio-3.33", "client_stats": [
 {"jobname": "j", "job options": {}, "hostname": "a", "port": 1, "aio_suite_host": "a",
  "read": {"iops": 10.5, "clat_ns": {"N": 2, "mean": 150, "bins": {"100": 1, "200": 1}}}},
 {"jobname": "j", "job options": {}, "hostname": "b", "port": 1, "aio_suite_host": "b",
  "read": {"iops": 20, "clat_ns": {"N": 2, "mean": 300, "bins": {"300": 2}}}},
 {"jobname": "All clients", "hostname": "b", "port": 1, "aio_suite_host": null,
  "read": {"iops": 1000}}]}
EOF
	run python3 "$TOP/tools/fio_clients.py" merge "$BATS_TEST_TMPDIR/c.json"
	assert_status 0
	[[ $(echo "$output" | python3 -c 'import json, sys
t = json.load(sys.stdin)
print(t["hosts_iops"], t["iops"], t["clat_ns_percentile"]["read"]["50.000000"])') == "{'a': 10.5, 'b': 20.0} 30.5 200" ]]
}

@test "each host's store name is one plain name, with the port when the address alone is ambiguous" {
	requires python3
	run python3 - "$TOP" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from aiosuite import fio_clients
names = [c.name for c in fio_clients.parse_hostlist(
    "h1 # a comment\nreport a,1 a,2\nip6:::1,7 sock:/run/x.sock")]
assert names == ["h1", "report,8765", "a,1", "a,2", "::1", "sock:_run_x.sock"], names
EOF
	assert_status 0
}

@test "a record from a host not in the list, or a host without a record, is an error" {
	requires python3
	run python3 - "$TOP" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from aiosuite import fio_clients
hosts = fio_clients.parse_hostlist("a,1\nb,2")
r = {"jobname": "j", "job options": {}, "hostname": "a", "port": 1}
for recs, want in (([r], "no result from the fio server at b,2"),
                   ([r, dict(r, hostname="c")], "a host not in the list")):
    try:
        fio_clients.attach({"client_stats": recs}, hosts)
    except fio_clients.ClientError as e:
        assert want in str(e), e
        print(e)
    else:
        sys.exit(f"no error for {recs}")
EOF
	assert_status 0
}

@test "a job on a block device or a path outside the scratch directory is not sent to the hosts" {
	requires python3
	run python3 - "$TOP" "$SCRATCH" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from aiosuite import fio_clients
scratch = Path(sys.argv[2])
assert "not a regular file" in fio_clients.refuse("/dev/null", scratch)
assert "not in the study's scratch" in fio_clients.refuse("/tmp/x.dat", scratch)
assert "names no file" in fio_clients.refuse(None, scratch)
assert fio_clients.refuse(str(scratch / "sub" / "x.dat"), scratch) == ""
EOF
	assert_status 0
}

@test "study refuses a host list entry with a bad port in one line (status 2)" {
	printf '127.0.0.1,8765\n127.0.0.2,99999\n' >"$BATS_TEST_TMPDIR/hosts"
	run study --fio-clients "$BATS_TEST_TMPDIR/hosts" batching
	assert_one_line_error study 2
	assert_output_has "line 2: '127.0.0.2,99999': bad port '99999'"
	[[ ! -e $AIO_SUITE_RESULTS ]]
}

@test "study refuses a host list that cannot be read in one line (status 2)" {
	FIO_CLIENTS=$BATS_TEST_TMPDIR/nosuch run study batching
	assert_one_line_error study 2
	assert_output_has "cannot read the host list"
}

@test "bench refuses a host list that names no host before it runs anything" {
	printf '# nothing\n' >"$BATS_TEST_TMPDIR/hosts"
	run python3 "$TOP/tools/bench.py" --fio-clients "$BATS_TEST_TMPDIR/hosts"
	assert_one_line_error bench 2
	assert_output_has "names no host"
	[[ ! -e $AIO_SUITE_RESULTS ]]
}

@test "study stops in one line (status 1) when a listed fio server does not answer" {
	requires python3
	local port
	port=$(free_port 127.0.0.1)
	echo "127.0.0.1,$port" >"$BATS_TEST_TMPDIR/hosts"
	run study --fio-clients "$BATS_TEST_TMPDIR/hosts" batching
	assert_one_line_error study 1
	assert_output_has "the fio server at 127.0.0.1,$port"
	assert_output_has "does not answer"
	[[ ! -e $AIO_SUITE_RESULTS ]]
}

@test "fio_clients.py check says which listed fio server answers, and fails when one does not" {
	requires fio python3
	local port
	start_server 127.0.0.2
	port=$(free_port 127.0.0.1)
	printf '%s\n127.0.0.1,%s\n' "$SERVER" "$port" >"$BATS_TEST_TMPDIR/hosts"
	run python3 "$TOP/tools/fio_clients.py" check "$BATS_TEST_TMPDIR/hosts"
	assert_status 1
	assert_output_has "$SERVER: results/127.0.0.2/: answers"
	assert_output_has "127.0.0.1,$port: results/127.0.0.1/: does not answer"
}

@test "a study with FIO_CLIENTS on two loopback fio servers stores each host and merges their histograms" {
	requires fio python3
	local a b dir
	start_server 127.0.0.1
	a=$SERVER
	start_server 127.0.0.2
	b=$SERVER
	printf '# two fio servers on the loopback\n%s\n%s  # the second\n' "$a" "$b" \
		>"$BATS_TEST_TMPDIR/hosts"
	FIO_CLIENTS=$BATS_TEST_TMPDIR/hosts run study --quick batching
	echo "$output" | grep -v '^|'
	assert_status 0
	assert_output_has "the fio parts run on 2 hosts"
	dir=$(controller_dir)
	[[ -n $dir ]]
	run python3 - "$dir" "$AIO_SUITE_RESULTS" "${a%,*}" "${b%,*}" <<'EOF'
import json, os, sys
from fractions import Fraction
run, root, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
rid = os.path.basename(run)
x = json.load(open(os.path.join(run, "batching.json")))["crosscheck"][0]
assert x["status"] == "not compared", x
assert x["fio_clients"] == hosts, x["fio_clients"]
assert not x["aio_stress_raw"], "aio-stress ran in a client-mode cross-check"
assert len(x["fio_raw"]) == 2, x["fio_raw"]

def pct(bins, p):
    # fio's rule, written again here: the first bin whose running
    # count reaches p% of all.
    n = sum(bins.values())
    run = 0
    for k in sorted(bins):
        run += bins[k]
        if run >= Fraction(float(p)) / 100 * n:
            return k

for turn, name in enumerate(x["fio_raw"]):
    raw = json.load(open(os.path.join(run, name)))
    per_host, merged = {}, {}
    for r in raw["client_stats"]:
        if r["jobname"] == "All clients":
            continue
        h = r["hostname"]
        per_host[h] = per_host.get(h, 0.0) + r["read"]["iops"] + r["write"]["iops"]
        for k, v in r["read"]["clat_ns"]["bins"].items():
            merged[int(k)] = merged.get(int(k), 0) + v
    assert sorted(per_host) == sorted(hosts), per_host
    # Each host's results are in the store as that host, with that host's records.
    for h in hosts:
        hd = os.path.join(root, h, "unknown", rid)
        doc = json.load(open(os.path.join(hd, name)))
        assert [j["hostname"] for j in doc["jobs"]] == [h], doc["jobs"]
        assert doc["jobs"][0]["aio_suite_host"] == h
        assert abs(doc["jobs"][0]["read"]["iops"] - per_host[h]) < 1e-6
        assert abs(x["fio_hosts_iops"][h][turn] - per_host[h]) < 1e-6
        env = json.load(open(os.path.join(hd, "env.json")))
        assert env["kernel_release"] is None and "kernel" in env["not_from_fio"]["kernel_release"]
        summ = json.load(open(os.path.join(hd, "summary.json")))
        assert summ["complete"] is True and summ["interrupted"] is None, summ
    assert abs(x["fio_samples"][turn] - sum(per_host.values())) < 1e-3, x["fio_samples"]
    got = x["fio_clat_ns"][turn]["read"]
    want = {p: pct(merged, p) for p in got}
    assert got == want, (got, want)
    print(f"turn {turn}: " + ", ".join(f"{h} {v:.0f} IOPS" for h, v in per_host.items())
          + f"; all hosts {sum(per_host.values()):.0f} IOPS; merged clat p50 "
          f"{got['50.000000']} ns, p99 {got['99.000000']} ns")
EOF
	echo "$output"
	assert_status 0
	stop_servers
	nothing_listening
}

@test "a host's run in the store stays incomplete until the study's last round" {
	requires fio python3
	local a b
	start_server 127.0.0.1
	a=$SERVER
	start_server 127.0.0.2
	b=$SERVER
	printf '%s %s\n' "$a" "$b" >"$BATS_TEST_TMPDIR/hosts"
	export AIO_SUITE_RUN_DIR=$AIO_SUITE_RESULTS/here/k/r1
	run study --quick --repeat 2 --round 1 --fio-clients "$BATS_TEST_TMPDIR/hosts" batching
	assert_status 0
	[[ $(json_get "$AIO_SUITE_RESULTS/127.0.0.1/unknown/r1/summary.json" 'd["complete"]') == false ]]
	run study --quick --repeat 2 --round 2 --fio-clients "$BATS_TEST_TMPDIR/hosts" batching
	assert_status 0
	[[ $(json_get "$AIO_SUITE_RESULTS/127.0.0.2/unknown/r1/summary.json" 'd["complete"]') == true ]]
	[[ $(json_get "$AIO_SUITE_RESULTS/127.0.0.2/unknown/r1/summary.json" 'len(d["fio_runs"])') == 2 ]]
}
