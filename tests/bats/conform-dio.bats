#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-conform's dio group (O_DIRECT races, sub-block I/O,
# the page cache, reflinks) can fail: with AIO_CONFORM_INJECT naming a
# test, the test does to its file what the bug it looks for would do
# (stale data in a zeroed tail, a lost sector, a short i_size, a clone
# written through) and must report it; without, it passes.  Also the
# --scale and --long knobs that size the race tests.

load helpers

setup() {
	common_setup
	J=$SCRATCH/out.json
}

teardown() {
	common_teardown
}

aio_conform() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" "$@"
}

@test "aio-conform rejects a --scale of 0 or a word with exit status 2" {
	run aio_conform --scale 0
	assert_one_line_error aio-conform
	assert_eq "aio-conform: invalid --scale '0'" "$output"
	run aio_conform --scale big
	assert_one_line_error aio-conform
	assert_output_has "'big'"
}

@test "aio-conform --scale multiplies a race test's count and the JSON records it" {
	requires odirect
	run aio_conform -d "$SCRATCH" --variant scratch \
		-t dio.hole_fill_then_read --json "$J"
	assert_status 0
	assert_output_line '^    # 32 rounds on '
	json_true "$J" "d['scale'] == 1" "d['long'] is False"
	run aio_conform -d "$SCRATCH" --variant scratch --scale 2 \
		-t dio.hole_fill_then_read --json "$J"
	assert_status 0
	assert_output_line '^# aio-conform: race loops at default counts, scale 2$'
	assert_output_line '^    # 64 rounds on '
	json_true "$J" "d['scale'] == 2" "d['long'] is False"
}

@test "aio-conform --long runs a race test at its peer's full count" {
	requires odirect
	run aio_conform -d "$SCRATCH" --variant scratch --long \
		-t dio.hole_fill_then_read --json "$J"
	assert_status 0
	assert_output_line '^# aio-conform: race loops at full \(--long\) counts, scale 1$'
	assert_output_line '^    # 500 rounds on '
	json_true "$J" "d['scale'] == 1" "d['long'] is True"
}

@test "every dio test passes on the scratch filesystem without injection" {
	requires odirect
	run aio_conform -d "$SCRATCH" --variant scratch -t 'dio.*' --json "$J"
	assert_status 0
	json_true "$J" \
		"len(d['results']) >= 12" \
		"all(r['result'] in ('pass', 'skip') for r in d['results'])"
}

@test "every dio test fails on the scratch filesystem when its bug is injected" {
	requires odirect
	AIO_CONFORM_INJECT='dio.*' run aio_conform -d "$SCRATCH" \
		--variant scratch -t 'dio.*' --json "$J"
	assert_status 1
	# Each says what it found where, in the suite's block format.
	assert_output_line 'should hold zeros, it holds the data of seed 0xd01 \(the old data\)'
	assert_output_line 'should hold the data of seed 0xd02 \(the new data\), it holds zeros'
	assert_output_line 'is complete, the size is '
	# Only a test that does not apply here (reflinks on ext4) may skip.
	json_true "$J" \
		"len(d['results']) >= 12" \
		"all(r['result'] == 'fail' or (r['result'] == 'skip' and
		     'reflink' in r['reason']) for r in d['results'])" \
		"sum(r['result'] == 'fail' for r in d['results']) >= 11"
}

@test "dio.cow_overlapping_writes fails on xfs and btrfs when the clone is written through" {
	requires root loop mkfs.xfs mkfs.btrfs
	run aio_conform -d "$SCRATCH" --variant xfs,btrfs \
		-t dio.cow_overlapping_writes --json "$J"
	assert_status 0
	json_true "$J" "[r['result'] for r in d['results']] == ['pass', 'pass']"
	AIO_CONFORM_INJECT=dio.cow_overlapping_writes run aio_conform \
		-d "$SCRATCH" --variant xfs,btrfs -t dio.cow_overlapping_writes \
		--json "$J"
	assert_status 1
	assert_output_line 'of the clone: the sector at 4096 should hold the data of seed 0xd01 \(the old data\), it holds the data of seed 0xd02'
	json_true "$J" "[r['result'] for r in d['results']] == ['fail', 'fail']"
}
