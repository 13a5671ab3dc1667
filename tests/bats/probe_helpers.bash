# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034,SC2154
#
# Description: helpers of probes.bats and safety.bats (after `load
# helpers`): run a probe under a timeout, and scratch mounts, swap, holders
# and immutable files that teardown undoes, newest first, before the loop
# devices are detached.
#
#   probe NAME ARGS...          build/NAME under a timeout
#   undo KIND ARG               record what teardown undoes: mount DIR,
#                               swap DEV, immutable FILE, pid PID
#   scratch_mount DIR ARGS...   mkdir DIR and mount ARGS DIR; undone
#   ext4_loop                   a loop device over a fresh ext4 image with
#                               one file in it: sets DEV, IMG
#   mounted_ext4                ext4_loop, mounted on $SCRATCH/mnt: sets MNT
#   assert_fsck_clean DEV       fsck.ext4 -fn finds nothing wrong
#   hold_exclusive DEV          a process holds DEV open with O_EXCL
#   with_nofile N CMD...        CMD with descriptors 0-2 only and ulimit -n N

# Every probe in src/tools, and those of them that write.
PROBES=(aio-bare aio-plug aio-exit aio-vcheck aio-ioerr aio-fuzz aio-machine)

probe() {
	local p=$1

	shift
	timeout -k 5 "${PROBE_TIMEOUT:-30}" "$BUILD_DIR/$p" "$@"
}

probe_setup() {
	common_setup
	UNDO=$BATS_TEST_TMPDIR/undo
	: >"$UNDO"
}

probe_teardown() {
	local kind arg

	if [[ -s ${UNDO:-} ]]; then
		while read -r kind arg; do
			case $kind in
			mount)
				umount "$arg" 2>/dev/null ||
					umount -l "$arg" 2>/dev/null
				;;
			swap) swapoff "$arg" 2>/dev/null ;;
			immutable) chattr -i "$arg" 2>/dev/null ;;
			pid)
				kill "$arg" 2>/dev/null
				wait "$arg" 2>/dev/null
				;;
			esac
		done < <(tac "$UNDO")
	fi
	common_teardown
}

undo() {
	echo "$1 $2" >>"$UNDO"
}

scratch_mount() {
	local dir=$1

	shift
	mkdir -p "$dir"
	mount "$@" "$dir" || return 1
	undo mount "$dir"
}

ext4_loop() {
	IMG=$SCRATCH/ext4.img
	truncate -s 32m "$IMG"
	mkfs.ext4 -q -F "$IMG" >/dev/null
	DEV=$(attach_loop "$IMG")
}

mounted_ext4() {
	ext4_loop
	MNT=$SCRATCH/mnt
	scratch_mount "$MNT" "$DEV"
	echo "data that must survive" >"$MNT/file"
	sync
}

assert_fsck_clean() {
	local out

	if ! out=$(fsck.ext4 -fn "$1" 2>&1); then
		echo "fsck.ext4 -fn $1 found the filesystem damaged:" >&2
		echo "$out" >&2
		return 1
	fi
}

hold_exclusive() {
	local ready=$BATS_TEST_TMPDIR/held

	rm -f "$ready"
	# The interpreter itself in the background, so that $! is its pid.
	"$(_python -c 'import sys; print(sys.executable)')" -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
open(sys.argv[2], "w").close()
time.sleep(120)' "$1" "$ready" 3>&- &
	undo pid $!
	for _ in $(seq 100); do
		[[ -e $ready ]] && return 0
		sleep 0.05
	done
	echo "no process came to hold $1" >&2
	return 1
}

with_nofile() {
	local n=$1

	shift
	bash -c 'for fd in /proc/$$/fd/*; do
		fd=${fd##*/}
		((fd > 2)) && eval "exec $fd>&-"
	done
	ulimit -n "$0" && exec "$@"' "$n" "$@"
}
