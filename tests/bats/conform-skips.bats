#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-conform on a kernel that lacks something is a skip with
# its reason, not a failure: native AIO (io_setup ENOSYS, CONFIG_AIO=n),
# io_uring (ENOSYS, or EPERM from kernel.io_uring_disabled), a low
# /proc/sys/fs/aio-max-nr, a low `ulimit -n`, a filesystem that refuses
# O_DIRECT; also when a test's fixture (harness.h) is what cannot be made.
# A kernel without a system call is simulated with tests/tools/nosys (a
# seccomp filter).

load helpers

setup() {
	common_setup
	J=$SCRATCH/out.json
	NOSYS=$BUILD_DIR/tests/nosys
	[[ -x $NOSYS ]] || skip "$NOSYS is not built (make all)"
}

teardown() {
	restore_aio_max_nr
	common_teardown
}

aio_conform() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" "$@"
}

@test "aio-conform skips every test, and exits 0, when io_setup is ENOSYS" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" io_setup -- \
		"$AIO_CONFORM" -d "$SCRATCH" --variant scratch --json "$J"
	assert_status 0
	assert_output_line '^# aio-conform: native AIO is not in this kernel \(CONFIG_AIO=n\)'
	assert_output_line '^0 passed, 0 failed, [0-9]+ skipped$'
	refute_line '^not ok' "$output"
	json_true "$J" \
		"d['aio_missing'] == 'native AIO is not in this kernel (CONFIG_AIO=n)'" \
		"len(d['results']) > 100" \
		"all(r['result'] == 'skip' for r in d['results'])" \
		"all(r['reason'] == d['aio_missing'] for r in d['results'])" \
		"d['complete'] is True"
}

@test "aio-conform skips the file tests on every variant when io_setup is ENOSYS" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" io_setup -- \
		"$AIO_CONFORM" -d "$SCRATCH" -t data.append --variant scratch,tmpfs
	assert_status 0
	assert_output_line '^    ok 1 scratch # SKIP native AIO is not in this kernel'
	assert_output_line '^    ok 2 tmpfs # SKIP native AIO is not in this kernel'
	assert_output_line '^ok 1 data\.append # SKIP native AIO is not in this kernel'
}

@test "aio-conform --meta still proves the harness when io_setup is ENOSYS" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" io_setup -- \
		"$AIO_CONFORM" -d "$SCRATCH" --meta -T 'meta.bail*'
	assert_status 0
	assert_output_line '^ok [0-9]+ meta\.fail_is_reported$'
	assert_output_line '^ok [0-9]+ meta\.watchdog_reports_what_was_in_flight # SKIP native AIO'
	assert_output_has " 0 failed,"
}

@test "aio-conform skips only what needs io_uring when io_uring_setup is ENOSYS" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" io_uring_setup -- \
		"$AIO_CONFORM" -d "$SCRATCH" --meta-raw -t meta.raw.io_uring \
		-t meta.raw.pass -t meta.raw.aio_limit --json "$J"
	assert_status 0
	assert_output_line '^ok [0-9]+ meta\.raw\.io_uring # SKIP io_uring is not available: io_uring_setup: ENOSYS'
	assert_output_line '^ok [0-9]+ meta\.raw\.pass$'
	json_true "$J" "d['aio_missing'] is None" \
		"d['io_uring_missing'].startswith('io_uring is not available')"
}

@test "aio-conform runs its AIO tests when only io_uring is refused (EPERM)" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" -e EPERM io_uring_setup -- \
		"$AIO_CONFORM" -d "$SCRATCH" -t 'setup.*' -t 'submit.*'
	assert_status 0
	assert_output_line '^# aio-conform: io_uring is not available: io_uring_setup: EPERM \(kernel\.io_uring_disabled is [0-9]+\)$'
	assert_output_line '^([0-9]+) passed, 0 failed, [0-9]+ skipped$'
	refute_line 'SKIP io_uring' "$output"
}

@test "aio-conform skips, not fails, the tests that need more descriptors than ulimit -n 20" {
	# (dio.cow_overlapping_writes skips anyway where there are no reflinks.)
	run bash -c 'ulimit -n 20 && exec timeout -k 5 "$1" "$2" -d "$3" --variant scratch --json "$4" -T dio.cow_overlapping_writes' \
		_ "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" "$SCRATCH" "$J"
	assert_status 0
	refute_line '^not ok' "$output"
	assert_output_line '^ok [0-9]+ regress\.poll_wakeups # SKIP a low limit: out of file descriptors \(EMFILE\) with the open-file limit at 20'
	json_true "$J" \
		"all(r['result'] != 'fail' for r in d['results'])" \
		"all('EMFILE' in r['reason'] or r['reason'].endswith('run with --system-wide') or 'does not open here' in r['reason'] for r in d['results'] if r['result'] == 'skip')"
}

# The value of aio-max-nr before a test lowered it, restored on every exit.
restore_aio_max_nr() {
	if [[ -n ${AIO_MAX_NR_SAVED:-} ]]; then
		echo "$AIO_MAX_NR_SAVED" >/proc/sys/fs/aio-max-nr
		AIO_MAX_NR_SAVED=
	fi
}

# lower_aio_max_nr: aio-max-nr to what is in use now plus 128 events, so
# that the contexts of other processes do not decide what is left; its old
# value saved for restore_aio_max_nr.  The new value in $max.
lower_aio_max_nr() {
	AIO_MAX_NR_SAVED=$(cat /proc/sys/fs/aio-max-nr)
	max=$(($(cat /proc/sys/fs/aio-nr) + 128))
	echo "$max" >/proc/sys/fs/aio-max-nr
}

@test "aio-conform skips, not fails, what needs more than 128 events left under aio-max-nr" {
	requires root
	# aio-max-nr is machine-wide and not namespaced: it is lowered for
	# the second or so these tests take, and restored right after and
	# by teardown (which bats runs on every exit of a test, also when
	# interrupted); other runs of AIO on this machine meanwhile may see
	# EAGAIN for more than 128 events.
	lower_aio_max_nr
	run aio_conform -d "$SCRATCH" -t 'setup.*' -t 'lifetime.*' --json "$J"
	restore_aio_max_nr
	assert_status 0
	refute_line '^not ok' "$output"
	assert_output_line "^ok [0-9]+ setup\\.sizes # SKIP a low limit: io_setup\\([0-9]+\\) is EAGAIN with /proc/sys/fs/aio-max-nr $max and aio-nr [0-9]+ in use"
	assert_output_line '^ok [0-9]+ lifetime\.exit_with_inflight # SKIP a low limit: io_setup\(263\)'
	json_true "$J" \
		"all(r['result'] != 'fail' for r in d['results'])" \
		"sum(r['result'] == 'skip' for r in d['results']) >= 5"
}

@test "aio-conform skips, not fails, a test whose fixture context is past aio-max-nr" {
	requires root
	# As above: lowered for a second, restored right after and by
	# teardown.  128 events left: fewer than the 256 of the context that
	# stress.threads_share_one_context declares as its fixture.
	lower_aio_max_nr
	run aio_conform -d "$SCRATCH" -t reap.bad_args \
		-t stress.threads_share_one_context
	restore_aio_max_nr
	assert_status 0
	refute_line '^not ok' "$output"
	assert_output_line "^ok 2 stress\\.threads_share_one_context # SKIP a low limit: io_setup\\(256\\) is EAGAIN with /proc/sys/fs/aio-max-nr $max and aio-nr [0-9]+ in use"
}

@test "aio-conform skips a test whose fixture file needs O_DIRECT on a filesystem that refuses it" {
	requires root
	command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
	mkdir "$SCRATCH/ramfs"
	# ramfs has no O_DIRECT; mounted in a private mount namespace, it
	# goes with the run.
	run timeout -k 5 "$AIO_TEST_TIMEOUT" unshare --mount --propagation private \
		sh -c 'mount -t ramfs ramfs "$1" && exec "$2" -d "$1" --variant scratch -t data.direct_roundtrip -t destroy.waits_inflight' \
		_ "$SCRATCH/ramfs" "$AIO_CONFORM"
	assert_status 0
	assert_output_line '^# variant scratch: .* on ramfs$'
	assert_output_line '^    ok 1 scratch # SKIP O_DIRECT unsupported on ramfs \(open: EINVAL\)$'
	assert_output_line '^ok 1 data\.direct_roundtrip # SKIP O_DIRECT unsupported on ramfs'
	# O_DIRECT where taken, else buffered: it runs, and finds the
	# buffered reads complete inside io_submit, with nothing in flight
	# for io_destroy to wait for: a skip that says so.
	assert_output_line '^ok 2 destroy\.waits_inflight # SKIP all 32 reads were complete before io_destroy: nothing in flight for it to wait for \(buffered reads \(no O_DIRECT on ramfs\) complete inside io_submit\)$'
}

@test "aio-conform skips the tests whose fixtures need io_pgetevents or IOCB_CMD_POLL on a kernel without them" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" io_pgetevents -- \
		"$AIO_CONFORM" -d "$SCRATCH" -t 'reap.pgetevents_*' -t reap.bad_args
	assert_status 0
	assert_output_line '^ok 1 reap\.bad_args$'
	assert_output_line '^ok 2 reap\.pgetevents_mask # SKIP io_pgetevents absent \(ENOSYS\)$'
	# A kernel before 4.18 says EINVAL to the opcode: so does this filter,
	# to every io_submit (which the fixture's probe is).
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$NOSYS" -e EINVAL io_submit -- \
		"$AIO_CONFORM" -d "$SCRATCH" -t notify.poll_pipe
	assert_status 0
	assert_output_line '^ok 1 notify\.poll_pipe # SKIP IOCB_CMD_POLL absent \(EINVAL on a probe\)$'
}
