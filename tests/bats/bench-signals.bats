#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: make bench (tools/bench.py) checked, interrupted and killed
# (issue 10, items 7 and 8): every option is checked before anything runs;
# summary.json says "complete": false from the start until the run ends;
# SIGINT and SIGTERM at random moments end it with status 130 and nothing
# left behind (loop devices, mounts, scratch directories); what a SIGKILL
# to the whole run leaves is removed by the next start, which says so.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$BATS_TEST_TMPDIR/results
	BENCH=$TOP/tools/bench.py
}

teardown() {
	if [[ -n ${RO_MNT:-} ]]; then
		umount "$RO_MNT" 2>/dev/null
	fi
	common_teardown
}

run_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*-bench*/ 2>/dev/null | tail -1)
	echo "${d%/}"
}

# leftovers DIR: loop devices over files in DIR, mounts in it, scratch
# directories, one a line; nothing when DIR is clean.
leftovers() {
	local dir=$1
	losetup --list --noheadings -O NAME,BACK-FILE 2>/dev/null | grep -F " $dir/"
	awk -v d="$dir/" 'index($5, d) == 1 { print "mount " $5 }' /proc/self/mountinfo
	find "$dir" -maxdepth 1 \( -name 'aio-bench-*' -o -name '.scratch-bench-*' \
		-o -name '.scratch-study-*' -o -name 'aio-conform*' \) -printf 'scratch %p\n'
	return 0
}

wait_status() {
	status=0
	wait "$1" || status=$?
}

# quiet_after DIR: wait (up to 60 s) until no process names DIR on its
# command line (the parts of a killed run finish their own clean-up).
quiet_after() {
	local i
	for ((i = 0; i < 600; i++)); do
		pgrep -f -- "$1" >/dev/null || return 0
		sleep 0.1
	done
	echo "processes still running in $1: $(pgrep -af -- "$1")" >&2
	return 1
}

@test "bench checks every option before it runs anything, one line and status 2 each" {
	local a
	for a in "--size bogus" "--size 1b" "--timeout -1" "--timeout nan" \
		"--repeat 0" "--repeat 1000000000" "--parts engines," "--engines ,sync" \
		"--scratch $SCRATCH/none" "--scratch /etc/hostname" "--size 999999t"; do
		# shellcheck disable=SC2086 # the option and its value
		run timeout 20 python3 "$BENCH" $a
		assert_one_line_error bench || { echo "with $a" >&2; return 1; }
	done
	[[ ! -e $AIO_SUITE_RESULTS ]]
}

@test "bench refuses a read-only --scratch with one line and status 2" {
	requires root
	RO_MNT=$SCRATCH/ro
	mkdir "$RO_MNT"
	mount -t tmpfs -o ro,size=1m aio-suite-test "$RO_MNT"
	run timeout 20 python3 "$BENCH" --parts engines --scratch "$RO_MNT"
	assert_one_line_error bench
	assert_output_has "'$RO_MNT' is on a read-only filesystem"
}

@test "bench-overhead and machine.py check their options before they run, one line and status 2" {
	local a
	for a in "--seconds -1" "--seconds nan" "--rounds 0" "--rounds 1000000000" \
		"--target $SCRATCH" "--target $SCRATCH/none/x"; do
		# shellcheck disable=SC2086 # the option and its value
		run timeout 20 python3 "$TOP/tools/bench_overhead.py" $a
		assert_one_line_error bench-overhead || { echo "with $a" >&2; return 1; }
	done
	[[ ! -e $AIO_SUITE_RESULTS ]]
	run python3 "$TOP/tools/machine.py" /proc/sys
	assert_one_line_error machine
	run python3 "$TOP/tools/machine.py" /proc
	assert_one_line_error machine 1
	assert_output_has "cannot write /proc/machine.json"
}

@test "bench's summary.json says complete false while it runs and complete true when it is done" {
	python3 "$BENCH" --parts engines --engines sync,libaio --repeat 2 --size 8m \
		--scratch "$SCRATCH" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$! seen=""
	for ((i = 0; i < 400; i++)); do
		if [[ -f $(run_dir)/summary.json ]] && kill -0 "$pid" 2>/dev/null; then
			seen=$(json_get "$(run_dir)/summary.json" 'd["complete"]')
			break
		fi
		sleep 0.05
	done
	wait_status "$pid"
	assert_status 0
	assert_eq false "$seen" "complete while running"
	json_true "$(run_dir)/summary.json" 'd["complete"] is True and d["interrupted"] is None'
}

@test "SIGINT and SIGTERM at random moments end bench with status 130, summary.json incomplete, nothing left" {
	requires root loop
	local sig delay pid n=0
	for sig in INT TERM TERM INT; do
		n=$((n + 1))
		delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + r / 32767 * 7 }')
		rm -rf "$AIO_SUITE_RESULTS"
		python3 "$BENCH" --quick --parts engines,study --repeat 1 \
			--scratch "$SCRATCH" >"$BATS_TEST_TMPDIR/out$n" 2>&1 &
		pid=$!
		sleep "$delay"
		kill -"$sig" "$pid"
		wait_status "$pid"
		if [[ $status != 130 ]]; then
			echo "SIG$sig after $delay s: exit status $status" >&2
			cat "$BATS_TEST_TMPDIR/out$n" >&2
			return 1
		fi
		run leftovers "$SCRATCH"
		[[ -z $output ]] || { echo "SIG$sig after $delay s left: $output" >&2; return 1; }
		json_true "$(run_dir)/summary.json" \
			"d['complete'] is False and d['interrupted'] == 'SIG$sig'"
		refute_line 'Traceback' "$(cat "$BATS_TEST_TMPDIR/out$n")"
	done
}

@test "after SIGKILL to a bench run the next bench removes what it left and says so" {
	requires root loop
	local pid
	setsid python3 "$BENCH" --quick --parts study --repeat 1 --scratch "$SCRATCH" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	# The study round is under way once a loop device is over its files.
	for ((i = 0; i < 600; i++)); do
		losetup --list --noheadings -O BACK-FILE | grep -qF "$SCRATCH/" && break
		sleep 0.05
	done
	kill -KILL -- -"$pid"
	wait "$pid" || true
	quiet_after "$SCRATCH"
	run leftovers "$SCRATCH"
	assert_output_line "^scratch $SCRATCH/aio-bench-"
	run python3 "$BENCH" --parts engines --engines sync --repeat 1 --size 1m \
		--scratch "$SCRATCH"
	assert_status 0
	assert_output_line "^bench: removed what a killed run \(pid $pid, bench\) left: .*$SCRATCH/aio-bench-"
	run leftovers "$SCRATCH"
	assert_eq "" "$output" "left after the sweep"
}

@test "make bench stopped by Ctrl-C (SIGINT to its process group) exits 130 and leaves nothing" {
	requires root loop
	local pid delay
	delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 2 + r / 32767 * 6 }')
	# Its own process group, SIGINT not ignored (as a background job's
	# is): what a terminal's Ctrl-C reaches.
	setsid env --default-signal=INT make -C "$TOP" --no-print-directory bench QUICK=1 REPEAT=1 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	sleep "$delay"
	kill -INT -- -"$pid"
	wait_status "$pid"
	[[ $status == 130 ]] || { echo "status $status after $delay s" >&2; cat "$BATS_TEST_TMPDIR/out" >&2; return 1; }
	run leftovers "$TOP"
	assert_eq "" "$output" "left after Ctrl-C at $delay s"
}

@test "make bench killed with SIGKILL leaves what the next bench start removes" {
	requires root loop
	local pid delay
	delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 4 + r / 32767 * 6 }')
	setsid env --default-signal=INT make -C "$TOP" --no-print-directory bench QUICK=1 REPEAT=1 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	sleep "$delay"
	kill -KILL -- -"$pid"
	wait "$pid" || true
	quiet_after "$TOP/.scratch-bench-"
	run python3 "$BENCH" --parts engines --engines sync --repeat 1 --size 1m
	assert_output_line '^bench: removed what a killed run \(pid [0-9]+, bench\) left: .*/\.scratch-bench-'
	assert_status 0
	run leftovers "$TOP"
	assert_eq "" "$output" "left after the next start ($delay s)"
}
