#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress counts only what was done.  Failed, empty and
# short requests are not I/Os (not IOPS), are named in the text and the
# JSON and make the run exit 1; repeated failures stop the stage; the
# stonewall says what it cut and the read stage after it reads only what
# was written; the inline-completion ratio counts the measured call's own
# requests.  Faults are injected with strace where the kernel gives none.

load aio-stress-common

# traced SYSCALL SPEC ARGS...: aio-stress ARGS with strace's fault
# injection on SYSCALL from its 40th call on (the dynamic loader's own
# calls come first).
traced() {
	local call=$1 spec=$2

	shift 2
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	run timeout -k 5 "$AIO_TEST_TIMEOUT" strace -f -qq -o /dev/null \
		-e trace="$call" -e inject="$call:$spec:when=40+" \
		"$AIO_STRESS" "$@"
}

@test "aio-stress counts reads that return no data as empty, not I/Os, stops and exits 1" {
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_status 0
	traced pread64 retval=0 --engine sync -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_status 1
	assert_output_line '^read: 0 requests failed, [0-9]+ moved no data, 0 were short; not counted as I/Os'
	assert_output_line '^aio-stress: read stopped after 32 requests that moved no data'
	json_true "$J" "d['result'] == 'short_io'" \
		"d['stages'][0]['empty_ios'] >= 32" \
		"d['stages'][0]['ios'] + d['stages'][0]['empty_ios'] < 256" \
		"d['stages'][0]['bytes'] == 4096 * d['stages'][0]['ios']" \
		"abs(d['stages'][0]['iops'] - d['stages'][0]['ios'] * 1e9 / d['stages'][0]['elapsed_ns']) < 1"
}

@test "aio-stress counts short reads apart from I/Os and exits 1" {
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_status 0
	traced pread64 retval=100 --engine sync --quiet -o 1 -s 1m -r 4k \
		--json "$J" "$F"
	assert_status 1
	json_true "$J" "d['result'] == 'short_io'" \
		"d['stages'][0]['short_ios'] > 0" \
		"d['stages'][0]['ios'] + d['stages'][0]['short_ios'] == 256" \
		"d['stages'][0]['bytes'] == 4096 * d['stages'][0]['ios'] + 100 * d['stages'][0]['short_ios']" \
		"'were short' in d['reason']"
}

@test "aio-stress stops a stage after repeated I/O errors and names the error" {
	traced pwrite64 error=EIO --engine sync --quiet -o 0 -o 1 -s 64m -r 4k \
		--json "$J" "$F"
	assert_status 1
	assert_output_line '^aio-stress: write of 4096 bytes at offset [0-9]+ of .*: Input/output error$'
	assert_output_line '^aio-stress: write stopped after 32 failed requests: Input/output error$'
	json_true "$J" "d['result'] == 'io_errors'" \
		"[s['name'] for s in d['stages']] == ['write']" \
		"32 <= d['stages'][0]['errors'] <= 128" \
		"d['stages'][0]['first_error']['errno'] == 5" \
		"d['stages'][0]['first_error']['message'] == 'Input/output error'" \
		"d['stages'][0]['bytes'] == 4096 * d['stages'][0]['ios']" \
		"'Input/output error' in d['reason']"
}

@test "aio-stress counts no failed write as an I/O: /dev/full gives 0 IOPS" {
	run aio_stress --quiet --engine sync -o 0 -s 4m -r 4k --json "$J" /dev/full
	assert_status 1
	json_true "$J" "d['stages'][0]['ios'] == 0" "d['stages'][0]['iops'] == 0" \
		"d['stages'][0]['errors'] > 0" "d['reason'] != ''"
}

@test "aio-stress reports an inline ratio of exactly 1 for writes to /dev/null" {
	local engine
	for engine in libaio sync io_uring; do
		run aio_stress --quiet --engine "$engine" -o 0 -s 4m -r 4k \
			-d 32 -b 8 --json "$J" /dev/null
		[[ $status != 77 ]] || continue
		assert_status 0
		json_true "$J" "d['stages'][0]['submit']['inline_ratio'] == 1.0" \
			"d['stages'][0]['submit']['inline_iocbs'] == 1024"
	done
}

# -t 2 -c 2 -C 8m -s 16m: thread 0 writes 16 MiB, thread 1 8 MiB; when
# thread 1 is done the stonewall stops thread 0 short of its range.  The
# read stage sets out to read what was written (it may be cut in turn).
@test "aio-stress says what the stonewall cut and reads only what the write stage wrote" {
	local k
	for ((k = 0; k < 3; k++)); do
		rm -f "$F"
		run aio_stress -t 2 -c 2 -C 8m -o 0 -o 1 -s 16m -r 4k \
			--json "$J" "$F"
		assert_status 0
		[[ $(json_get "$J" "d['stages'][0]['stonewalled']") == true ]] && break
	done
	[[ $(json_get "$J" "d['stages'][0]['stonewalled']") == true ]] || {
		echo "thread 0 finished 16 MiB before thread 1 its 8 MiB, three times" >&2
		return 1
	}
	assert_output_line '^write: stonewalled: [0-9.]+ of 24.00 MB done'
	assert_output_line '^read: left out [0-9.]+ MB of the range that the write stage did not write$'
	json_true "$J" "d['stages'][0]['planned_bytes'] == 24 << 20" \
		"d['stages'][0]['bytes'] < d['stages'][0]['planned_bytes']" \
		"d['stages'][1]['planned_bytes'] == d['stages'][0]['bytes']" \
		"d['stages'][1]['planned_bytes'] + d['stages'][1]['unwritten_bytes_left_out'] == 24 << 20" \
		"all(r['bytes'] <= w['bytes'] for w, r in zip(sorted(d['stages'][0]['per_file'], key=lambda p: p['start_bytes']), sorted(d['stages'][1]['per_file'], key=lambda p: p['start_bytes'])))"
}

@test "aio-stress -x runs every thread to the end of its range and reads all of it" {
	run aio_stress --quiet -x -t 2 -c 2 -C 8m -o 0 -o 1 -s 16m -r 4k \
		--json "$J" "$F"
	assert_status 0
	json_true "$J" "not d['stages'][0]['stonewalled']" \
		"d['stages'][0]['bytes'] == 24 << 20" \
		"d['stages'][1]['bytes'] == 24 << 20" \
		"d['stages'][1]['unwritten_bytes_left_out'] == 0"
}
