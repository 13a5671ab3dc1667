#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress's numbers as a hostile user gives them: zero,
# negative, huge, and products that would wrap.  Each refusal is one line
# naming the option, status 2, before any file is touched.

load aio-stress-common

# refused ARGS...: aio-stress ARGS on $F is one line, status 2, no file.
refused() {
	run aio_stress "$@" "$F"
	assert_one_line_error aio-stress
	[[ ! -e $F ]] || {
		echo "the refused run left $F behind" >&2
		return 1
	}
}

@test "aio-stress refuses zero counts and sizes with one line each" {
	local opt
	for opt in -d -i -I -b -t -c --iovecs; do
		refused "$opt" 0 -s 1m -r 4k
		assert_output_has "$opt"
	done
	for opt in -s -r -a -C; do
		refused "$opt" 0 -s 1m -r 4k
		assert_output_has "-${opt#-}"
	done
	refused --runtime 0 -s 1m -r 4k
	assert_output_has --runtime
}

@test "aio-stress refuses negative numbers with one line each" {
	local opt
	for opt in -d -i -I -b -t -c --iovecs --cpu -s -r -a -C; do
		refused "$opt" -1 -s 1m -r 4k
	done
	refused --runtime -1 -s 1m -r 4k
}

@test "aio-stress -I 4294967297 is a count of rounds, not 1 after a 32-bit wrap" {
	run aio_stress --quiet -I 4294967297 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 256 "$(json_get "$J" "d['stages'][0]['ios']")" "ios of the whole 1 MiB range"
	assert_eq 4294967297 "$(json_get "$J" "d['options']['iterations']")" iterations
}

@test "aio-stress refuses -c 2 -C 8796093022208, whose offsets pass 2^63, with one line" {
	refused -c 2 -C 8796093022208 -o 0 -s 1m -r 4k
	assert_output_has "contexts"
}

@test "aio-stress refuses -C that puts the last context beyond the file" {
	refused -c 4 -C 1m -o 0 -s 2m -r 4k
	assert_output_has "too small"
}

@test "aio-stress refuses --runtime 1e30 with one line instead of overflowing" {
	refused --runtime 1e30 -o 0 -s 1m -r 4k
	assert_output_has "1e30"
	refused --runtime inf -o 0 -s 1m -r 4k
	refused --runtime nan -o 0 -s 1m -r 4k
}

@test "aio-stress refuses sizes beyond the largest file offset or request" {
	refused -s 99999999999999999999 -o 0 -r 4k
	refused -s 9000000000g -o 0 -r 4k
	assert_output_has "largest file offset"
	refused -r 3g -o 0 -s 4g
	assert_output_has "-r"
	refused -a 2g -o 0 -s 1m -r 4k
	assert_output_has "-a"
}

@test "aio-stress refuses a depth whose buffers do not fit with one line" {
	refused -d 65536 -c 4096 -C 4k -o 0 -s 1g -r 4k
	assert_output_has "-d 65536"
}

@test "aio-stress refuses --cpu beyond the CPUs of the machine" {
	refused --cpu "$(getconf _NPROCESSORS_CONF)" -o 0 -s 1m -r 4k
	assert_output_has "--cpu"
}

@test "aio-stress refuses an unwritable --json path before the run" {
	refused --json "$SCRATCH/no/such/dir/out.json" -o 0 -s 1m -r 4k
	assert_output_has "$SCRATCH/no/such/dir/out.json"
}

@test "aio-stress refuses unknown options and missing arguments with one line" {
	refused -Z -s 1m
	assert_output_has "-Z"
	refused --frobnicate -s 1m
	assert_output_has "--frobnicate"
	run aio_stress "$F" -s
	assert_one_line_error aio-stress
	assert_output_has "-s"
	run aio_stress "$F" --engine
	assert_one_line_error aio-stress
	assert_output_has "--engine"
}
