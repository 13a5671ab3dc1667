#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: how an aio-conform run ends when it cannot run to the end:
# interrupted by SIGINT, SIGTERM or SIGHUP, past its --deadline, bailing
# out on processes the kernel will not let die, or killed outright; and
# what its watchdog says about a test that hangs.  The raw meta tests
# (--meta-raw) provide the hangs, the slow tests and the simulated taint.

load helpers

setup() {
	common_setup
	J=$SCRATCH/out.json
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	common_teardown
}

aio_conform() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" "$@"
}

# interrupt SIGNAL: start three 1.5 s raw tests, send SIGNAL while the
# second runs; $status is the exit status, $OUT the output.
interrupt() {
	local pid i

	AIO_CONFORM_META_RUN=deadline "$AIO_CONFORM" -d "$SCRATCH" \
		--meta-raw -t 'meta.raw.slow_*' --json "$J" >"$OUT" 2>&1 &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		grep -qs '^ok 1 meta\.raw\.slow_1$' "$OUT" && break
		sleep 0.05
	done
	# Half a second into the second test's 1.5 s.
	sleep 0.5
	kill "-$1" "$pid"
	# Guard: a run that ignores the signal is killed after 30 s.
	timeout 30 tail --pid="$pid" -f /dev/null ||
		kill -KILL "$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
	output=$(cat "$OUT")
}

@test "aio-conform interrupted by SIGINT records the running test as interrupted and exits 130" {
	interrupt INT
	assert_status 130
	assert_output_line '^not ok 2 meta\.raw\.slow_2 # interrupted$'
	assert_output_line '^# interrupted by SIGINT: stopping$'
	json_true "$J" "d['complete'] is False" \
		"d['interrupted_by'] == 'SIGINT'" "d['bail_out'] is None" \
		"[r['result'] for r in d['results']] == ['pass', 'interrupted']" \
		"d['results'][1]['reason'] == 'interrupted by SIGINT'"
}

@test "aio-conform interrupted by SIGTERM exits 143 and names the signal in the JSON" {
	interrupt TERM
	assert_status 143
	json_true "$J" "d['complete'] is False" \
		"d['interrupted_by'] == 'SIGTERM'" \
		"d['results'][-1]['result'] == 'interrupted'"
}

@test "aio-conform interrupted by SIGHUP exits 129 and names the signal in the JSON" {
	interrupt HUP
	assert_status 129
	json_true "$J" "d['complete'] is False" "d['interrupted_by'] == 'SIGHUP'"
}

@test "aio-conform --deadline stops the run, lists the rest as not run and exits 1" {
	AIO_CONFORM_META_RUN=deadline run aio_conform -d "$SCRATCH" \
		--meta-raw -t 'meta.raw.slow_*' --deadline 2 --json "$J"
	assert_status 1
	assert_output_line '^ok 3 meta\.raw\.slow_3 # SKIP not run: the run.s --deadline of 2 s passed$'
	assert_output_line "^# the run's --deadline of 2 s passed: stopped$"
	assert_output_line '^# run incomplete: 3 of 3 tests reported$'
	json_true "$J" "d['complete'] is False" "d['deadline_s'] == 2" \
		"d['deadline_reached'] is True" "d['interrupted_by'] is None" \
		"len(d['results']) == 3" \
		"d['results'][-1]['reason'].startswith('not run')" \
		"d['totals']['failed'] + d['totals']['passed'] + d['totals']['skipped'] == 3"
}

@test "aio-conform writes its JSON as incomplete at the start, so a killed run says so" {
	AIO_CONFORM_META_RUN=deadline "$AIO_CONFORM" -d "$SCRATCH" \
		--meta-raw -t 'meta.raw.slow_*' --json "$J" >"$OUT" 2>&1 &
	local pid=$! i
	for ((i = 0; i < 100; i++)); do
		grep -qs '^1\.\.3$' "$OUT" && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	json_true "$J" "d['complete'] is False" "d['results'] == []" \
		"d['tool'] == 'aio-conform'"
	rm -rf "$SCRATCH"/aio-conform.*
}

@test "aio-conform's watchdog names the in-flight iocbs, the rings and the call of a hung test" {
	run aio_conform -d "$SCRATCH" --meta-raw -t meta.raw.watchdog --json "$J"
	assert_status 1
	assert_output_line '^# meta\.raw\.watchdog: watchdog: 3 iocbs submitted and not reaped, /proc/sys/fs/aio-nr [0-9]+$'
	assert_output_line '^# meta\.raw\.watchdog:   pid [0-9]+ ctx 0x[0-9a-f]+ PREAD fd [0-9]+ offset 8192 4096 bytes, [0-9.]+ s ago$'
	assert_output_line '^# meta\.raw\.watchdog: ring ctx 0x[0-9a-f]+ \(pid [0-9]+\): head 0 tail 1 of [0-9]+$'
	assert_output_line '^# meta\.raw\.watchdog: tid [0-9]+ in io_getevents\(ctx 0x[0-9a-f]+, 1\) for [0-9.]+ s$'
	assert_output_line '^# meta\.raw\.watchdog: pid [0-9]+ state S'
	assert_output_line '^not ok 1 meta\.raw\.watchdog # TIMEOUT$'
	json_true "$J" "d['results'][0]['result'] == 'timeout'" \
		"sorted(i['opcode'] for i in d['results'][0]['watchdog']['iocbs']) == ['POLL', 'POLL', 'PREAD']" \
		"[i['offset_bytes'] for i in d['results'][0]['watchdog']['iocbs'] if i['opcode'] == 'PREAD'] == [8192]" \
		"d['results'][0]['watchdog']['calls'][0]['call'] == 'io_getevents'" \
		"any(r['tail'] == 1 for r in d['results'][0]['watchdog']['rings'])" \
		"d['results'][0]['watchdog']['aio_nr'] >= 0"
}

@test "aio-conform shows a hung test's kernel stack and wchan as root" {
	requires root
	run aio_conform -d "$SCRATCH" --meta-raw -t meta.raw.watchdog --json "$J"
	assert_status 1
	assert_output_line '^# meta\.raw\.watchdog: pid [0-9]+ state S wchan [a-z_]+'
	assert_output_line '^# meta\.raw\.watchdog:   \[<0>\] '
	json_true "$J" "len(d['results'][0]['watchdog']['processes'][0]['stack']) > 0"
}

@test "aio-conform fails a test that newly taints the kernel and names the taint" {
	# Simulated: the kernel's flags are read from --taint-file, which
	# meta.raw.taint sets bit 9 (W) in; the host is never tainted.
	echo 0 >"$SCRATCH/taint"
	run aio_conform -d "$SCRATCH" --meta-raw -t meta.raw.taint -t meta.raw.pass \
		--taint-file "$SCRATCH/taint" --json "$J"
	assert_status 1
	assert_output_line '^# meta\.raw\.taint: kernel taint: the test left W \(kernel warning\) \(/proc/sys/kernel/tainted 512, was 0\)$'
	assert_output_line '^not ok [0-9]+ meta\.raw\.taint$'
	assert_output_line '^ok [0-9]+ meta\.raw\.pass$'
}

@test "aio-conform kills a grandchild that left the test's process group" {
	AIO_CONFORM_META_DIR=$SCRATCH run aio_conform -d "$SCRATCH" \
		--meta-raw -t meta.raw.escaped_grandchild
	assert_status 0
	local pid start now
	read -r pid start <"$SCRATCH/escaped"
	now=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$pid/stat" 2>/dev/null || true)
	if [[ $now == "$start" ]]; then
		kill -KILL "$pid"
		echo "grandchild $pid is still alive after the run" >&2
		return 1
	fi
}

@test "aio-conform runs its tests when it is pid 1 of a pid namespace" {
	requires root
	command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
	run timeout -k 5 "$AIO_TEST_TIMEOUT" unshare --pid --fork --mount-proc \
		"$AIO_CONFORM" -d "$SCRATCH" -t setup.basic -t submit.bad_ctx
	assert_status 0
	assert_output_line '^ok 1 setup\.basic$'
	assert_output_line '^2 passed, 0 failed, 0 skipped$'
}

@test "aio-conform bails out after three tests in a row leave a process the kernel will not let die" {
	requires root
	[[ -c /dev/fuse ]] || skip "no /dev/fuse: the unkillable processes are made in a FUSE mount"
	run timeout -k 5 120 "$AIO_CONFORM" -d "$SCRATCH" --meta \
		-t meta.bail_out_after_unkillable_tests
	assert_status 0
	assert_output_line '^# the inner run said: Bail out! the kernel left 3 processes unkillable \(3 tests in a row\): pid [0-9]+ state D'
	assert_output_line '^ok 1 meta\.bail_out_after_unkillable_tests$'
}
