#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-bare, the bare io_submit/io_getevents loop the overhead
# benchmark measures aio-stress against: its JSON line and its errors.

load helpers

setup() {
	common_setup
	J=$SCRATCH/bare.json
}

teardown() {
	common_teardown
}

@test "aio-bare prints one JSON object with iops above zero on /dev/null" {
	run --separate-stderr aio_bare -t 0.2 /dev/null
	assert_status 0
	assert_eq "" "$stderr" stderr
	[[ $output != *$'\n'* ]]
	printf '%s\n' "$output" >"$J"
	assert_eq aio-bare "$(json_get "$J" "d['tool']")" tool
	json_true "$J" "d['ios'] > 0 and d['iops'] > 0"
	# -t 0.2 is a fifth of a second, not the default three.
	json_true "$J" "0.19e9 <= d['elapsed_ns'] < 2e9"
}

@test "aio-bare reads /dev/zero with -o 1" {
	run --separate-stderr aio_bare -t 0.2 -o 1 -r 8k -d 16 -b 8 /dev/zero
	assert_status 0
	printf '%s\n' "$output" >"$J"
	json_true "$J" "d['iops'] > 0"
}

@test "aio-bare refuses an unknown option with one line and status 2" {
	run aio_bare -Q /dev/null
	assert_one_line_error aio-bare
	assert_output_has "'-Q'"
}

@test "aio-bare refuses a bad value with one line and status 2" {
	run aio_bare -t abc /dev/null
	assert_one_line_error aio-bare
	assert_output_has "'abc'"
}

@test "aio-bare without a file says so in one line with status 2" {
	run aio_bare -t 0.2
	assert_one_line_error aio-bare
}
