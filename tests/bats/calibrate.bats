#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Description: make calibrate (aiosuite/calibrate): the kernel really slows
# the program in the calibration cgroup (a CPU quota, a read IOPS limit on
# a loop device) and nothing else; its cgroups and loop device go on
# SIGTERM; calibrate.json passes its schema; bad input is one line; the
# short mode runs end to end.

load helpers

CALIBRATE=$TOP/tools/calibrate.py

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# cgroup_missing cpu|io: why that controller cannot be used here (nothing
# when it can), as aiosuite/calibrate/cgroups.py sees it.
cgroup_missing() {
	PYTHONPATH=$TOP _python -c '
import sys
from aiosuite.calibrate import cgroups
lay = cgroups.detect()
print(lay.cpu_missing if sys.argv[1] == "cpu" else lay.io_missing)' "$1"
}

requires_cgroup() {
	local why
	why=$(cgroup_missing "$1")
	[[ -z $why ]] || skip "$why"
}

# calibration_groups PID: the calibration cgroups PID owns, one a line.
calibration_groups() {
	find /sys/fs/cgroup -maxdepth 2 -type d -name "aio-suite-calibrate-$1-*" 2>/dev/null
}

# in_group MODE ARGS...: run a program in a calibration cgroup through
# the wrapper and print what happened as JSON (aiosuite/calibrate/cgroups.py).
#   cpu QUOTA_PCT: a busy loop of 1.5 s under a quota of QUOTA_PCT of one
#       CPU; prints its CPU time over wall time and cpu.stat, and whether
#       the group was removed.
#   iops DEV LIMIT: 4 KiB O_DIRECT random reads on DEV for 1.5 s, without
#       and then with a read IOPS limit; prints both IOPS.
in_group() {
	PYTHONPATH=$TOP timeout -k 5 120 "$(command -v python3)" - "$BUILD_DIR" "$SCRATCH" "$@" <<'EOF'
import json
import os
import subprocess
import sys
from pathlib import Path

from aiosuite.calibrate import cgroups

build, scratch, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
lay = cgroups.detect()
g = cgroups.Group(lay, cgroups.group_name())
out = {}
try:
    g.make()
    wrapper = cgroups.write_wrapper(scratch)
    if mode == "cpu":
        g.set_cpu(int(float(sys.argv[4]) / 100 * cgroups.CPU_PERIOD_US))
        spin = ("import os, time\n"
                "t0 = time.monotonic(); c0 = time.process_time()\n"
                "while time.monotonic() - t0 < 1.5: pass\n"
                "print((time.process_time() - c0) / (time.monotonic() - t0))\n")
        env = dict(os.environ, **cgroups.wrapper_env(g, Path(sys.executable)))
        p = subprocess.run([str(wrapper), "-c", spin], env=env, capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            sys.exit(f"the busy loop failed: {p.stderr.strip()}")
        out["cpu_per_wall"] = float(p.stdout)
        out["cpu_stat"] = g.cpu_stat()
    else:
        dev, limit = sys.argv[4], int(sys.argv[5])
        env = dict(os.environ, **cgroups.wrapper_env(g, build / "aio-stress"))
        for name, iops in (("unthrottled_iops", None), ("throttled_iops", limit)):
            g.set_read_iops(cgroups.device_of(dev), iops)
            js = scratch / f"{name}.json"
            p = subprocess.run([str(wrapper), "--quiet", "-o", "3", "-O", "-r", "4k", "-d", "8",
                                "-b", "8", "-i", "8", "-s", "64m", "--runtime", "1.5", dev,
                                "--json", str(js)], env=env, capture_output=True, text=True,
                               timeout=60)
            if p.returncode != 0:
                sys.exit(f"aio-stress failed: {p.stderr.strip()}")
            out[name] = json.loads(js.read_text())["stages"][0]["iops"]
finally:
    dirs = list(g.dirs)
    g.remove()
    out["removed"] = not any(d.exists() for d in dirs) and bool(dirs)
print(json.dumps(out))
EOF
}

@test "a program in the calibration cgroup under a 10% CPU quota gets no more than its quota of CPU" {
	requires root
	requires_cgroup cpu
	run in_group cpu 10
	assert_status 0
	echo "$output"
	# 10% of one CPU, with room for the periods a 1.5 s loop straddles.
	_python -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["cpu_per_wall"] <= 0.15 else 1)' "$output"
	# The kernel did throttle it, and the group is gone afterwards.
	_python -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["cpu_stat"].get("nr_throttled", 0) > 0 and d["removed"] else 1)' "$output"
}

@test "a read IOPS limit on a loop device holds the calibration cgroup's reads to the limit" {
	requires root loop
	requires_cgroup io
	head -c $((64 << 20)) /dev/urandom >"$SCRATCH/backing"
	dev=$(attach_loop "$SCRATCH/backing")
	run in_group iops "$dev" 300
	assert_status 0
	echo "$output"
	# Unthrottled it goes well past the limit; throttled it stays at it
	# (with room for blk-throttle's first slice).
	_python -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["unthrottled_iops"] > 600 and d["throttled_iops"] <= 300 * 1.3 and d["removed"] else 1)' "$output"
}

@test "calibrate removes the cgroups a killed run left and keeps a live run's" {
	requires root
	requires_cgroup cpu
	run env PYTHONPATH="$TOP" timeout 60 python3 -c '
import os
from aiosuite.calibrate import cgroups
lay = cgroups.detect()
dead = cgroups.Group(lay, cgroups.PREFIX + "999999999-1")
live = cgroups.Group(lay, cgroups.group_name())
dead.make()
live.make()
try:
    gone = cgroups.sweep(lay)
    print("dead removed" if not any(d.exists() for d in dead.dirs) else "dead kept")
    print("live kept" if all(d.exists() for d in live.dirs) else "live removed")
    print("named" if gone and all("999999999" in g for g in gone) else "not named")
finally:
    live.remove()
    dead.remove()'
	assert_status 0
	assert_output_line "dead removed"
	assert_output_line "live kept"
	assert_output_line "named"
}

@test "calibrate refuses bad arguments with one line and status 2" {
	assert_refused calibrate python3 "$CALIBRATE" -- "--trials 0" "--trials x" \
		"--trials 101" "--rounds 2" "--rounds 1.5" "--runtime 0" "--runtime nan" \
		"--runtime 11" "--sets gpu" "--sets ," "--bogus" "stray"
	run timeout 20 python3 "$CALIBRATE" --results ''
	assert_one_line_error calibrate
}

@test "calibrate as another user than root is skipped with status 77 and the reason" {
	requires nonroot
	[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3 that uid 65534 can run"
	chmod 0777 "$SCRATCH"
	run timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		/usr/bin/python3 "$CALIBRATE" --quick --results "$SCRATCH/res"
	assert_one_line_error calibrate 77
	assert_output_has "needs root"
}

@test "calibrate without cgroup controllers is skipped with status 77 and says what is missing" {
	requires root
	mkdir -p "$SCRATCH/nocgroup"
	run env AIO_SUITE_CGROUP_ROOT="$SCRATCH/nocgroup" timeout 60 \
		python3 "$CALIBRATE" --quick --results "$SCRATCH/res"
	assert_one_line_error calibrate 77
	assert_output_has "no cgroup controllers under $SCRATCH/nocgroup"
	[[ ! -e $SCRATCH/res/calibrate ]]
}

@test "calibrate interrupted by SIGTERM removes its cgroups, its loop device and its scratch files" {
	requires root loop
	requires_cgroup cpu
	requires_cgroup io
	local log=$SCRATCH/log pid i
	python3 "$CALIBRATE" --quick --results "$SCRATCH/res" --scratch "$SCRATCH" \
		>"$log" 2>&1 &
	pid=$!
	# Measuring: its loop device and cgroups exist.
	for ((i = 0; i < 600; i++)); do
		[[ -n $(calibration_groups "$pid") ]] &&
			grep -q "t01-cpu-base" "$log" && break
		sleep 0.1
	done
	[[ -n $(calibration_groups "$pid") ]] || { kill -KILL "$pid"; cat "$log"; false; }
	kill -TERM "$pid"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null && { echo "calibrate did not exit"; false; }
	wait_status "$pid"
	cat "$log"
	assert_eq 130 "$status"
	run calibration_groups "$pid"
	assert_eq "" "$output"
	run scratch_leftovers "$SCRATCH"
	assert_eq "" "$output"
	f=$(echo "$SCRATCH"/res/calibrate/*/calibrate.json)
	assert_eq SIGTERM "$(json_get "$f" 'd["interrupted"]')"
	assert_eq false "$(json_get "$f" 'd["complete"]')"
}

@test "calibrate --analyse refuses a directory without a calibration in one line" {
	run timeout 60 python3 "$CALIBRATE" --analyse "$SCRATCH"
	assert_one_line_error calibrate
	assert_output_has "no calibration there"
}

@test "schema.py refuses a calibrate.json that calls more than it compared" {
	cat >"$SCRATCH/calibrate.json" <<'EOF'
{"schema": "aio-suite-calibrate/1", "complete": true, "interrupted": null,
 "params": {"trials": 1, "rounds": 3, "sample_runtime_s": 0.1}, "trials": [],
 "summary": [{"set": "cpu", "condition": "aa", "role": "aa", "comparisons": 2,
              "called_point_level": 3, "called_composite_level": 0}]}
EOF
	run python3 "$TOP/tools/schema.py" "$SCRATCH/calibrate.json"
	assert_status 1
	assert_output_has "more called than compared"
}

@test "make calibrate QUICK=1 writes calibrate.json in its schema, the table and the chart" {
	requires root loop
	requires_cgroup cpu
	requires_cgroup io
	run env AIO_SUITE_RESULTS="$SCRATCH/res" timeout -k 5 600 \
		make -C "$TOP" --no-print-directory calibrate QUICK=1
	echo "$output"
	assert_status 0
	local dir f
	dir=$(echo "$SCRATCH"/res/calibrate/*)
	f=$dir/calibrate.json
	run python3 "$TOP/tools/schema.py" "$f"
	assert_status 0
	assert_eq true "$(json_get "$f" 'd["complete"]')"
	# Both sets: two A/A comparisons and two slowdowns each, in one trial.
	assert_eq 8 "$(json_get "$f" 'len(d["trials"][0]["comparisons"])')"
	assert_eq 4 "$(json_get "$f" 'sum(s["comparisons"] for s in d["summary"] if s["role"] == "aa")')"
	# A slowdown was really imposed: a quota and an IOPS limit were set
	# for every sample of every point, each from its reference sample.
	assert_eq '[3, 3, 3]' "$(json_get "$f" '[len(v) for v in d["trials"][0]["limits"]["t01-cpu-cpu-10"].values()]')"
	assert_eq '[3, 3, 3]' "$(json_get "$f" '[len(v) for v in d["trials"][0]["limits"]["t01-device-iops-80"].values()]')"
	[[ $(json_get "$f" 'd["trials"][0]["paired_change_pct"]["t01-cpu-cpu-20"]["cpu_share_pct"] < 0') == true ]]
	[[ -n $(ls "$dir/runs/t01-cpu-cpu-20/reference") ]]
	# Each limit was corrected by what the kernel gave: the tuning measured
	# 3 pairs of every point under every slowdown (3 points, 2 slowdowns,
	# 2 sets), the trial's 3 rounds 3 more; every correction in its range.
	assert_eq '12 [3] [6]' "$(json_get "$f" '"%d %s %s" % (len(d["tuning"]), sorted({v["pairs"] for v in d["tuning"].values()}), sorted({v["pairs"] for v in d["trials"][0]["corrections"].values()}))')"
	assert_eq true "$(json_get "$f" 'all(0.5 <= v["correction"] <= 2.0 for v in d["trials"][0]["corrections"].values())')"
	[[ -n $(ls "$dir/tune/cpu-cpu-10") ]]
	grep -q "false alarms of 2" "$dir/calibrate.md"
	grep -q "CPU quota: 10% less CPU" "$dir/calibrate.md"
	if command -v gnuplot >/dev/null; then
		[[ -s $dir/calibrate.png && -s $dir/calibrate.svg ]]
	fi
	# Judged again from its runs (named relative to the working directory),
	# the calibration says the same.
	cp "$f" "$SCRATCH/first.json"
	cd "$dir/.."
	run timeout 300 python3 "$CALIBRATE" --analyse "${dir##*/}"
	cd - >/dev/null
	assert_status 0
	assert_eq "$(json_get "$SCRATCH/first.json" 'd["summary"]')" "$(json_get "$f" 'd["summary"]')"
	# Judged with history: a second trial made of copies of the first one's
	# runs has the first trial's unthrottled runs (base and the two A/A
	# runs of its set) as the old kernel's runs; the first has none.
	local r
	for r in "$dir"/runs/t01-*; do cp -r "$r" "${r/t01-/t02-}"; done
	_python - "$f" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
t = json.loads(json.dumps(d["trials"][0]).replace("t01-", "t02-"))
t["trial"] = 2
d["trials"].append(t)
json.dump(d, open(sys.argv[1], "w"))
EOF2
	run timeout 300 python3 "$CALIBRATE" --analyse "$dir" --history
	assert_status 0
	assert_output_has "as CI judges a new kernel's run against the store"
	assert_eq true "$(json_get "$f" 'd["params"]["history"]')"
	assert_eq '[0]' "$(json_get "$f" 'sorted({len(c["history_runs"]) for c in d["trials"][0]["comparisons"]})')"
	assert_eq '["t01-cpu-aa", "t01-cpu-aa2", "t01-cpu-base"]' "$(json_get "$f" 'sorted(next(c for c in d["trials"][1]["comparisons"] if c["set"] == "cpu")["history_runs"])')"
	assert_eq '["t01-device-aa", "t01-device-aa2", "t01-device-base"]' "$(json_get "$f" 'sorted(next(c for c in d["trials"][1]["comparisons"] if c["set"] == "device")["history_runs"])')"
	# The store's report does not take the calibration's runs for a host.
	run python3 "$TOP/tools/report.py" --results "$SCRATCH/res" list
	refute_line calibrate "$output"
}

@test "on cgroup v2 the quota and the IOPS limit are written to cpu.max and io.max" {
	# A directory standing for a v2 root with cpu and io enabled: the
	# files the kernel would have are plain files here.
	mkdir -p "$SCRATCH/v2"
	echo "cpu io memory" >"$SCRATCH/v2/cgroup.subtree_control"
	run env AIO_SUITE_CGROUP_ROOT="$SCRATCH/v2" PYTHONPATH="$TOP" python3 -c '
from aiosuite.calibrate import cgroups
lay = cgroups.detect()
g = cgroups.Group(lay, "aio-suite-calibrate-1-1")
g.make()
g.set_cpu(22500)
print("cpu.max", open(g.dirs[0] / "cpu.max").read())
g.set_read_iops("7:3", 900)
print("io.max", open(g.dirs[0] / "io.max").read())
g.set_cpu(None)
g.set_read_iops("7:3", None)
print("cpu.max", open(g.dirs[0] / "cpu.max").read())
print("io.max", open(g.dirs[0] / "io.max").read())
print("version", lay.version, "dirs", len(g.dirs), [p.name for p in g.procs_files()])'
	assert_status 0
	assert_output_line "^cpu.max 22500 50000$"
	assert_output_line "^io.max 7:3 riops=900$"
	assert_output_line "^cpu.max max 50000$"
	assert_output_line "^io.max 7:3 riops=max$"
	assert_output_line "^version 2 dirs 1 \['cgroup.procs'\]$"
}
