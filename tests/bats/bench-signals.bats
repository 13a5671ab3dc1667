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
	common_teardown
}

run_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*-bench*/ 2>/dev/null | tail -1)
	echo "${d%/}"
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
	assert_refused bench python3 "$BENCH" -- "--size bogus" "--size 1b" \
		"--timeout -1" "--timeout nan" "--repeat 0" "--repeat 1000000000" \
		"--parts engines," "--engines ,sync" "--scratch $SCRATCH/none" \
		"--scratch /etc/hostname" "--size 999999t"
	[[ ! -e $AIO_SUITE_RESULTS ]]
}

@test "bench refuses a read-only --scratch with one line and status 2" {
	requires root
	local ro
	ro=$(readonly_dir)
	run timeout 20 python3 "$BENCH" --parts engines --scratch "$ro"
	assert_one_line_error bench
	assert_output_has "'$ro' is on a read-only filesystem"
}

@test "bench-overhead and machine.py check their options before they run, one line and status 2" {
	assert_refused bench-overhead python3 "$TOP/tools/bench_overhead.py" -- \
		"--seconds -1" "--seconds nan" "--rounds 0" "--rounds 1000000000" \
		"--target $SCRATCH" "--target $SCRATCH/none/x" "--target /etc/hostname"
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
	local pick=(INT TERM)
	for sig in INT TERM "${pick[RANDOM % 2]}"; do
		n=$((n + 1))
		delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r / 32767 * 7 }')
		rm -rf "$AIO_SUITE_RESULTS"
		python3 "$BENCH" --quick --parts engines,study --repeat 1 \
			--scratch "$SCRATCH" >"$BATS_TEST_TMPDIR/out$n" 2>&1 &
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
	run scratch_leftovers "$SCRATCH"
	assert_output_line "^scratch $SCRATCH/aio-bench-"
	run python3 "$BENCH" --parts engines --engines sync --repeat 1 --size 1m \
		--scratch "$SCRATCH"
	assert_status 0
	assert_output_line "^bench: removed what a killed run \(pid $pid, bench\) left: .*$SCRATCH/aio-bench-"
	run scratch_leftovers "$SCRATCH"
	assert_eq "" "$output" "left after the sweep"
}

# make_bench_bg MIN MAX: make bench QUICK=1 in its own process group, SIGINT
# not ignored (as a background job's is: what a terminal's Ctrl-C
# reaches); sets $pid and $delay, a random time from MIN to MAX seconds.
make_bench_bg() {
	delay=$(awk -v r="$RANDOM" -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + r / 32767 * (b - a) }')
	setsid env --default-signal=INT make -C "$TOP" --no-print-directory bench QUICK=1 REPEAT=1 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
}

@test "make bench stopped by Ctrl-C (SIGINT to its process group) exits 130 and leaves nothing" {
	requires root loop
	local pid delay
	make_bench_bg 2 8
	sleep "$delay"
	kill -INT -- -"$pid"
	wait_status "$pid"
	[[ $status == 130 ]] || { echo "status $status after $delay s" >&2; cat "$BATS_TEST_TMPDIR/out" >&2; return 1; }
	run scratch_leftovers "$TOP"
	assert_eq "" "$output" "left after Ctrl-C at $delay s"
}

@test "make bench killed with SIGKILL leaves what the next bench start removes" {
	requires root loop
	local pid delay
	make_bench_bg 4 10
	sleep "$delay"
	kill -KILL -- -"$pid"
	wait "$pid" || true
	quiet_after "$TOP/.scratch-bench-"
	run python3 "$BENCH" --parts engines --engines sync --repeat 1 --size 1m
	assert_output_line '^bench: removed what a killed run \(pid [0-9]+, bench\) left: .*/\.scratch-bench-'
	assert_status 0
	run scratch_leftovers "$TOP"
	assert_eq "" "$output" "left after the next start ($delay s)"
}
