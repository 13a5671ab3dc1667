#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress on a kernel without native AIO or io_uring,
# simulated with build/tests/nosys (a seccomp filter): one line saying
# so, exit status 77 (automake's skip), a JSON whose result is "skipped",
# and no file created.  A low aio-max-nr (EAGAIN) is a run failure.

load aio-stress-common

NOSYS=$BUILD_DIR/tests/nosys

# nosys ARGS... -- aio-stress ARGS...: under the filter, with a timeout.
nosys() {
	[[ -x $NOSYS ]] || skip "$NOSYS is not built (make all)"
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" "$@"
}

@test "aio-stress without native AIO says so in one line and exits 77" {
	nosys io_setup -- "$AIO_STRESS" -o 0 -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_one_line_error aio-stress 77
	assert_eq "aio-stress: native AIO is not in this kernel (CONFIG_AIO=n)" \
		"$output" "the line"
	[[ ! -e $F ]]
	json_true "$J" "d['result'] == 'skipped'" "d['stages'] == []" \
		"d['reason'] == 'native AIO is not in this kernel (CONFIG_AIO=n)'"
}

@test "aio-stress --engine io_uring without io_uring (ENOSYS) says so in one line and exits 77" {
	nosys io_uring_setup -- "$AIO_STRESS" --engine io_uring -o 0 -s 1m \
		-r 4k --json "$J" "$F"
	assert_one_line_error aio-stress 77
	assert_output_has "io_uring is not available: "
	[[ ! -e $F ]]
	assert_eq skipped "$(json_get "$J" "d['result']")" result
}

@test "aio-stress --engine io_uring with io_uring disabled (EPERM) says so in one line and exits 77" {
	nosys -e EPERM io_uring_setup -- "$AIO_STRESS" --engine io_uring \
		-o 0 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress 77
	assert_output_has "io_uring is not available: Operation not permitted"
	[[ ! -e $F ]]
}

@test "aio-stress --engine sync runs on a kernel without AIO and io_uring" {
	nosys io_setup,io_uring_setup -- "$AIO_STRESS" --quiet --engine sync \
		-o 0 -o 1 -s 1m -r 4k "$F"
	assert_status 0
}

@test "aio-stress with aio-max-nr reached (io_setup EAGAIN) fails in one line with status 1" {
	nosys -e EAGAIN io_setup -- "$AIO_STRESS" -o 0 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "aio-max-nr"
	[[ ! -e $F ]]
}

@test "aio-stress --help documents exit status 77" {
	run "$AIO_STRESS" --help
	assert_status 0
	assert_output_has "77 skipped"
}
