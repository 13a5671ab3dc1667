#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-conform's tests cannot pass on a kernel that gets wrong
# what they check.  With AIO_CONFORM_MISBEHAVE=NAME a test acts out the
# kernel bug NAME (harness.h, t_misbehave()): a zero timeout where the
# kernel should wait, an eventfd that fires before the event is in the
# ring, a signal mask left in place, a poll's event delivered twice,
# io_destroy returning before the reads are done; then it must fail.  A
# test whose precondition is gone (a read that completed before io_cancel
# met it) must skip, saying so, not pass.  The I/O kept in flight with
# blk-throttle leaves no cgroup and no loop device behind.

load helpers

setup() {
	common_setup
	CGROUPS=()
}

teardown() {
	# The cgroups a test made itself, should it have ended early.
	local d
	for d in "${CGROUPS[@]}"; do rmdir "$d" 2>/dev/null || true; done
	common_teardown
}

# misbehave NAME ARGS...: aio-conform with the kernel bug NAME acted out.
misbehave() {
	local name=$1

	shift
	run env AIO_CONFORM_MISBEHAVE="$name" timeout -k 5 "$AIO_TEST_TIMEOUT" \
		"$AIO_CONFORM" -d "$SCRATCH" "$@"
}

# skip_if_skipped TEST: the run skipped TEST (no blk-throttle here, say):
# nothing was shown, so this test is a skip with its reason.
skip_if_skipped() {
	local line

	line=$(grep -E "^ok [0-9]+ ${1//./\\.} # SKIP" <<<"$output" | head -1)
	[[ -z $line ]] || skip "$1 skipped here: ${line#*# SKIP }"
}

@test "reap.timeout_expires passes, and fails when io_getevents does not wait for its timeout" {
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		-t reap.timeout_expires
	assert_status 0
	assert_output_line '^ok 1 reap\.timeout_expires$'
	misbehave timeout-zero -t reap.timeout_expires
	assert_status 1
	assert_output_line '^# reap\.timeout_expires: reap\.c:[0-9]+: io_getevents returned after [0-9]+ ns, before its timeout of 20000000 ns$'
	assert_output_line '^not ok 1 reap\.timeout_expires$'
}

@test "the eventfd tests fail when the ring is empty once the eventfd has fired" {
	misbehave eventfd-early -t notify.resfd_eventfd \
		-t notify.resfd_wakes_with_event
	assert_status 1
	assert_output_line '^not ok 1 notify\.resfd_eventfd$'
	assert_output_line '^not ok 2 notify\.resfd_wakes_with_event$'
	assert_output_line 'sys_io_getevents\(t->ctx, 0, 1, &ev, &zero\): expected 1, got 0'
}

@test "reap.pgetevents_mask fails when io_pgetevents leaves its mask in place" {
	misbehave pgetevents-keeps-mask -t reap.pgetevents_mask
	skip_if_skipped reap.pgetevents_mask
	assert_status 1
	assert_output_line '^# reap\.pgetevents_mask: reap\.c:[0-9]+: after io_pgetevents timed out: the caller.s mask blocks SIGUSR2, and it did not before$'
	assert_output_line '^not ok 1 reap\.pgetevents_mask$'
}

@test "cancel.poll_races_wakeup fails when a poll's event comes twice" {
	misbehave poll-event-twice -t cancel.poll_races_wakeup
	skip_if_skipped cancel.poll_races_wakeup
	assert_status 1
	assert_output_line '^# cancel\.poll_races_wakeup: cancel\.c:[0-9]+: round 0: a second event \(data 0, res 0x[0-9a-f]+\) for one poll$'
	assert_output_line '^not ok 1 cancel\.poll_races_wakeup$'
}

@test "destroy.waits_inflight fails when the buffers are looked at before io_destroy has waited" {
	requires root
	misbehave destroy-no-wait -t destroy.waits_inflight --variant scratch
	skip_if_skipped destroy.waits_inflight
	assert_status 1
	assert_output_line '^    # destroy\.waits_inflight: destroy\.c:[0-9]+: buffer [0-9]+: byte [0-9]+ not read when io_destroy returned$'
	assert_output_line '^not ok 1 destroy\.waits_inflight$'
}

@test "cancel.read skips, not passes, when its reads are complete before io_cancel" {
	requires root
	misbehave cancel-read-done -t cancel.read
	assert_status 0
	refute_line 'no blk-throttle' "$output"
	assert_output_line '^ok 1 cancel\.read # SKIP the reads were complete before io_cancel returned, 3 times, even throttled to 10 reads a second: none was met in flight$'
}

@test "cancel.read and destroy.waits_inflight catch reads in flight and leave no cgroup or loop device behind" {
	requires root
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		-t cancel.read -t destroy.waits_inflight --variant scratch,tmpfs
	skip_if_skipped cancel.read
	assert_status 0
	assert_output_line '^ok 1 cancel\.read$'
	assert_output_line '^    ok 1 scratch$'
	# tmpfs has no block device: the reads are done inside io_submit.
	assert_output_line '^    ok 2 tmpfs # SKIP all 32 reads were complete before io_destroy: nothing in flight for it to wait for \(tmpfs has no block device of its own'
	run_dir=$(sed -n 's|^# aio-conform: scratch \([^,]*\),.*|\1|p' <<<"$output")
	[[ -n $run_dir ]]
	# The cgroups are named after the run's scratch directory.
	left=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break }
		$(i + 1) ~ /^cgroup2?$/ { print $5 }' /proc/self/mountinfo |
		while read -r mnt; do
			ls -d "$mnt/${run_dir##*/}".* 2>/dev/null || true
		done)
	assert_eq "" "$left" "cgroups left by the run"
	assert_eq "" "$(losetup -a | grep -F "$run_dir")" "loop devices left"
}

@test "a throttled test removes the empty cgroup a run ended at once left, and no other" {
	requires root
	local mnt dead stale live
	mnt=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break }
		$(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)blkio(,|$)/ { print $5; exit }' \
		/proc/self/mountinfo)
	[[ -n $mnt ]] || skip "no cgroup v1 blkio hierarchy is mounted"
	# A pid that is gone, and one that is alive (this shell).
	true &
	dead=$!
	wait "$dead"
	stale=$mnt/aio-conform.gone00.$dead
	live=$mnt/aio-conform.live00.$$
	CGROUPS=("$stale" "$live")
	mkdir "$stale" "$live"
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		-t cancel.read
	[[ -d $live ]] || { echo "$live, of a live process, was removed" >&2; return 1; }
	[[ ! -d $stale ]] || { echo "$stale was left" >&2; return 1; }
	assert_status 0
	assert_output_line '^ok 1 cancel\.read$'
}

@test "notify.poll_woken_while_checked fails when the wake-up inside the poll's check is lost" {
	misbehave poll-rewake-lost -t notify.poll_woken_while_checked
	skip_if_skipped notify.poll_woken_while_checked
	assert_status 1
	assert_output_line '^# notify\.poll_woken_while_checked: poll_fuse\.c:[0-9]+: the file became ready while the kernel checked it after a wake-up, and said so with another wake-up, but the poll did not complete \(2 FUSE_POLL requests\); reap: ETIMEDOUT$'
	assert_output_line '^not ok 1 notify\.poll_woken_while_checked$'
}
