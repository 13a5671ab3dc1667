#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: tools/study.py interrupted and killed (issue 10, items 7
# and 8): SIGINT and SIGTERM at random moments end it with status 130 and
# nothing left behind; what a SIGKILL leaves (a mount, the scratch
# directory) is removed by the next study's start, which says so, and no
# loop device outlives the killed study (autoclear); two studies at once
# in one scratch directory leave each other alone; summary.json says
# whether the run is complete; every option is checked before anything
# runs; --scratch that cannot hold scratch files is one line, status 2.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$BATS_TEST_TMPDIR/results
	STUDY=$TOP/tools/study.py
}

teardown() {
	common_teardown
}


# wait_for_loop DIR: wait (up to 30 s) for a loop device over a file in DIR.
wait_for_loop() {
	local i
	for ((i = 0; i < 600; i++)); do
		losetup --list --noheadings -O BACK-FILE 2>/dev/null |
			grep -qF "$1/" && return 0
		sleep 0.05
	done
	echo "no loop device over a file in $1 appeared" >&2
	return 1
}

# wait_gone PID: wait (up to 60 s) until PID has exited; fail otherwise.
wait_gone() {
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	echo "pid $1 did not exit" >&2
	return 1
}


# The run directory the last study wrote.
run_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*/ 2>/dev/null | tail -1)
	echo "${d%/}"
}

@test "study rejects --repeat 1000000000 at once with one line and status 2" {
	run timeout 10 python3 "$STUDY" --repeat 1000000000 batching
	assert_one_line_error study
	assert_output_has "--repeat must be 1 to 1000"
}

@test "study refuses a --scratch that does not exist, is a file or is read-only with one line and status 2" {
	run python3 "$STUDY" --scratch "$SCRATCH/none" batching
	assert_one_line_error study
	assert_output_has "'$SCRATCH/none' does not exist"
	touch "$SCRATCH/file"
	run python3 "$STUDY" --scratch "$SCRATCH/file" batching
	assert_one_line_error study
	assert_output_has "is not a directory"
	requires root
	local ro
	ro=$(readonly_dir)
	run python3 "$STUDY" --scratch "$ro" batching
	assert_one_line_error study
	assert_output_has "is on a read-only filesystem"
	[[ ! -d $AIO_SUITE_RESULTS ]]
}

@test "a finished study's summary.json says complete, an interrupted one's names the signal" {
	run python3 "$STUDY" --quick --scratch "$SCRATCH" exit
	assert_status 0
	json_true "$(run_dir)/summary.json" \
		'd["complete"] is True and d["interrupted"] is None and d["schema"] == "aio-suite-study/1"'
	rm -rf "$AIO_SUITE_RESULTS"
	python3 "$STUDY" --quick --scratch "$SCRATCH" exit \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	# Once the first point is measured, the run is under way.
	for ((i = 0; i < 300; i++)); do
		compgen -G "$AIO_SUITE_RESULTS/*/*/*/aio-exit-*.json" >/dev/null && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait_status "$pid"
	assert_status 130
	json_true "$(run_dir)/summary.json" \
		'd["complete"] is False and d["interrupted"] == "SIGTERM"'
}

@test "SIGINT and SIGTERM at random moments end a study with status 130 and leave nothing behind" {
	requires root loop
	local sig delay pid n=0
	local pick=(INT TERM)
	for sig in INT TERM "${pick[RANDOM % 2]}"; do
		n=$((n + 1))
		# 0 to 6 s after its first line: set-up, a mount, a loop
		# device, a measurement.
		delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r / 32767 * 6 }')
		python3 "$STUDY" --quick --scratch "$SCRATCH" blocking plug \
			>"$BATS_TEST_TMPDIR/out$n" 2>&1 &
		pid=$!
		wait_output "$BATS_TEST_TMPDIR/out$n" "$pid"
		sleep "$delay"
		kill -"$sig" "$pid"
		wait_status "$pid"
		if [[ $status != 130 ]]; then
			echo "SIG$sig after $delay s: exit status $status" >&2
			cat "$BATS_TEST_TMPDIR/out$n" >&2
			return 1
		fi
		run scratch_leftovers "$SCRATCH"
		if [[ -n $output ]]; then
			echo "SIG$sig after $delay s left: $output" >&2
			return 1
		fi
		refute_line 'Traceback' "$(cat "$BATS_TEST_TMPDIR/out$n")"
	done
}

@test "a study killed with SIGKILL leaks no loop device, and the next study removes the mount and scratch it left and says so" {
	requires root loop
	local pid
	python3 "$STUDY" --quick --scratch "$SCRATCH" blocking plug \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	# blocking has mounted its tmpfs target; plug attaches a loop device.
	wait_for_loop "$SCRATCH"
	kill -KILL "$pid"
	wait "$pid" || true
	sleep 0.5 # its children end on the SIGINT the kernel sends them
	run scratch_leftovers "$SCRATCH"
	refute_line '^/dev/loop' "$output"
	assert_output_line '^mount .*/\.scratch-study-[^/]*/mnt-tmpfs$'
	assert_output_line '^scratch .*/\.scratch-study-'
	run python3 "$STUDY" --quick --scratch "$SCRATCH" exit
	assert_status 0
	assert_output_line "^study: removed what a killed run \(pid $pid, study\) left: .*/mnt-tmpfs, .*/\.scratch-study-"
	run scratch_leftovers "$SCRATCH"
	assert_eq "" "$output" "left after the sweep"
}

@test "a sweep leaves alone a live study's scratch and what has no owner file" {
	requires root loop
	local pid
	mkdir "$SCRATCH/.scratch-study-foreign"
	touch "$SCRATCH/.scratch-study-foreign/keep"
	python3 "$STUDY" --quick --scratch "$SCRATCH" plug \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for_loop "$SCRATCH"
	run python3 "$TOP/tools/scratch.py" --sweep "$SCRATCH"
	assert_status 0
	assert_eq "" "$output" "the sweep's output"
	kill -0 "$pid"
	wait_status "$pid"
	assert_status 0
	[[ -f $SCRATCH/.scratch-study-foreign/keep ]]
}

@test "two studies at once in one scratch directory both succeed and leave nothing" {
	requires root loop
	local a b
	python3 "$STUDY" --quick --scratch "$SCRATCH" plug loop \
		>"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	python3 "$STUDY" --quick --scratch "$SCRATCH" plug loop \
		>"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	wait_status "$a"
	assert_status 0
	wait_status "$b"
	assert_status 0
	refute_line 'removed what a killed run' "$(cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b")"
	# two run directories, every point of both measured
	local n=0 f
	for f in "$AIO_SUITE_RESULTS"/*/*/*/plug.json; do
		json_true "$f" 'all(p["status"] == "ok" for p in d["points"])'
		n=$((n + 1))
	done
	assert_eq 2 "$n" "plug.json files"
	run scratch_leftovers "$SCRATCH"
	assert_eq "" "$output" "left after both"
}

@test "the sweep tells a live owner from a reused pid by its start time" {
	local start
	# pid 1 is alive, but it did not start that late: a reused pid
	mkdir "$SCRATCH/.scratch-study-reused"
	echo "pid=1 start=999999999999 prog=study" >"$SCRATCH/.scratch-study-reused/.aio-suite-owner"
	touch "$SCRATCH/.scratch-study-reused/f"
	# this shell, with its real start time: alive
	start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$$/stat")
	mkdir "$SCRATCH/.scratch-study-live"
	echo "pid=$$ start=$start prog=study" >"$SCRATCH/.scratch-study-live/.aio-suite-owner"
	run python3 "$TOP/tools/scratch.py" --sweep "$SCRATCH"
	assert_status 0
	assert_eq "scratch: removed what a killed run (pid 1, study) left: $SCRATCH/.scratch-study-reused" "$output"
	[[ ! -e $SCRATCH/.scratch-study-reused && -d $SCRATCH/.scratch-study-live ]]
}

@test "as another user the sweep passes over mounts in directories it may not enter" {
	requires nonroot
	local priv=$SCRATCH/private parent
	mkdir -m 700 "$priv" "$priv/m"
	mount -t tmpfs -o size=1m aio-suite-test "$priv/m"
	echo "$priv/m" >>"$BATS_TEST_TMPDIR/mounts"
	parent=$(mktemp -d /tmp/aio-sweep-nonroot.XXXXXX)
	chmod 1777 "$parent"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		/usr/bin/python3 "$TOP/tools/scratch.py" --sweep "$parent"
	rmdir "$parent"
	assert_status 0
	assert_eq "" "$output"
}

@test "the sweep leaves a live run of another pid namespace alone and removes one from before a reboot" {
	requires root
	local ns_dir="" i
	# A run in its own pid namespace (a chroot or container with its own
	# /proc) records a pid that means another process here.
	unshare --pid --fork --mount-proc python3 -c '
import sys, time
sys.path.insert(0, sys.argv[1])
from aiosuite import scratch
from pathlib import Path
d = scratch.make_dir(Path(sys.argv[2]), ".scratch-study-", "study")
print(d, flush=True)
time.sleep(60)
' "$TOP" "$SCRATCH" >"$BATS_TEST_TMPDIR/ns.out" &
	local ns_pid=$!
	for i in $(seq 100); do
		ns_dir=$(head -1 "$BATS_TEST_TMPDIR/ns.out")
		[[ -n $ns_dir ]] && break
		sleep 0.1
	done
	[[ -n $ns_dir ]]
	mkdir "$SCRATCH/.scratch-study-oldboot"
	echo "pid=$$ start=1 prog=study pidns=0 boot=00000000-0000-0000-0000-000000000000" \
		>"$SCRATCH/.scratch-study-oldboot/.aio-suite-owner"
	run python3 "$TOP/tools/scratch.py" --sweep "$SCRATCH"
	local py_status=$status py_output=$output
	# aio-conform sweeps its scratch parent at start, in C.
	run timeout 120 "$AIO_CONFORM" -d "$SCRATCH" -t setup.basic --variant scratch
	kill "$ns_pid" 2>/dev/null; wait "$ns_pid" 2>/dev/null || true
	[[ -d $ns_dir ]]
	assert_eq 0 "$py_status" "python sweep status"
	assert_eq "scratch: removed what a killed run (pid $$, study) left: $SCRATCH/.scratch-study-oldboot" "$py_output"
	[[ ! -e $SCRATCH/.scratch-study-oldboot ]]
	rm -rf "$ns_dir"
}
