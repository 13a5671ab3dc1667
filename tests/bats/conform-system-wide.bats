#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-conform's tests that change what other processes on
# the machine see (setup.aio_nr_accounting lowers /proc/sys/fs/aio-max-nr)
# run only with --system-wide, and are skipped with the reason without
# it.  What they change is recorded before it is changed and put back by
# the runner once the test has ended, also when the watchdog killed it.
# These tests lower aio-max-nr for a second or two, as the qemu guest's
# run does; teardown puts it back should aio-conform not have.

load helpers

setup() {
	common_setup
	AIO_MAX_NR_SAVED=
}

teardown() {
	if [[ -n ${AIO_MAX_NR_SAVED:-} ]]; then
		echo "$AIO_MAX_NR_SAVED" >/proc/sys/fs/aio-max-nr
	fi
	common_teardown
}

@test "aio-conform skips setup.aio_nr_accounting without --system-wide, saying what it changes" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		-t setup.aio_nr_accounting
	assert_status 0
	assert_output_line '^ok 1 setup\.aio_nr_accounting # SKIP changes /proc/sys/fs/aio-max-nr machine-wide: run with --system-wide$'
}

@test "aio-conform --system-wide runs setup.aio_nr_accounting and leaves aio-max-nr as it was" {
	requires root
	AIO_MAX_NR_SAVED=$(cat /proc/sys/fs/aio-max-nr)
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		-t setup.aio_nr_accounting --system-wide
	assert_status 0
	assert_output_line '^ok 1 setup\.aio_nr_accounting$'
	assert_eq "$AIO_MAX_NR_SAVED" "$(cat /proc/sys/fs/aio-max-nr)" aio-max-nr
}

@test "aio-conform puts aio-max-nr back when the watchdog kills the test that lowered it" {
	requires root
	AIO_MAX_NR_SAVED=$(cat /proc/sys/fs/aio-max-nr)
	# The test hangs with aio-max-nr lowered (t_misbehave()); the
	# watchdog kills it after 1 s; the runner puts the value back.
	run env AIO_CONFORM_MISBEHAVE=aio-max-nr-hang \
		timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		-t setup.aio_nr_accounting --system-wide --timeout 1
	assert_status 1
	assert_output_line '^not ok 1 setup\.aio_nr_accounting # TIMEOUT$'
	refute_line 'cannot put' "$output"
	assert_eq "$AIO_MAX_NR_SAVED" "$(cat /proc/sys/fs/aio-max-nr)" aio-max-nr
}
