#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: what a killed run leaves, and the sweep at the next start
# (docs/SCRATCH.md): aio-conform's scratch directory carries an owner
# file; a run killed with SIGKILL leaves at most its directory, the mounts
# in it and the loop devices they hold; the next aio-conform start removes
# exactly those, says so, and never touches a live run's directory or one
# without an owner file.  Loop devices are attached with autoclear, so a
# killed process leaks none that no mount holds.

load helpers

setup() {
	common_setup
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	common_teardown
}

aio_conform() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" "$@"
}

# What is left under $SCRATCH: mounts and loop devices, one per line.
leftovers() {
	grep -F "$SCRATCH" /proc/mounts || true
	losetup -a 2>/dev/null | grep -F "$SCRATCH" || true
}

# start_run ARGS...: aio-conform in the background; waits (up to 20 s)
# until its ext4 variant is mounted; sets PID.
start_run() {
	local i

	"$AIO_CONFORM" -d "$SCRATCH" "$@" >"$OUT" 2>&1 &
	PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -qs '^# variant tmpfs' "$OUT" && return 0
		sleep 0.1
	done
	kill -KILL "$PID"
	cat "$OUT" >&2
	return 1
}

@test "aio-conform's scratch directory names its owner" {
	start_run --variant ext4,tmpfs -t 'data.*'
	local dir
	dir=$(ls -d "$SCRATCH"/aio-conform.*)
	local owner
	owner=$(cat "$dir/.aio-suite-owner")
	kill -INT "$PID"
	wait "$PID" || true
	[[ $owner =~ ^pid=$PID\ start=[0-9]+\ prog=aio-conform\ pidns=[0-9]+\ boot=[0-9a-f-]+$ ]] || {
		echo "owner file: '$owner'" >&2
		return 1
	}
}

@test "aio-conform attaches its loop devices with autoclear" {
	requires root loop mkfs.ext4
	start_run --variant ext4,tmpfs -t 'data.*'
	local flags
	flags=$(losetup --list --noheadings -O AUTOCLEAR,BACK-FILE | grep -F "$SCRATCH" | awk '{ print $1 }')
	kill -INT "$PID"
	wait "$PID" || true
	assert_eq 1 "$flags" "AUTOCLEAR of the ext4 variant's loop device"
}

@test "a SIGKILLed aio-conform leaves only what the next start sweeps, and that start says what it removed" {
	requires root loop mkfs.ext4
	start_run --variant ext4,tmpfs -t 'data.*'
	local dir
	dir=$(ls -d "$SCRATCH"/aio-conform.*)
	kill -KILL "$PID"
	wait "$PID" || true
	# At most: the directory, its two mounts and the loop device the
	# ext4 mount holds.
	local left
	left=$(leftovers)
	[[ -z $left || $left == *"$dir/"* ]]
	run aio_conform -d "$SCRATCH" -t setup.basic
	assert_status 0
	assert_output_line "^aio-conform: removed what a killed run \(pid $PID, aio-conform\) left: .*mount $dir/ext4.*$dir\$"
	assert_output_line "^aio-conform: removed .*mount $dir/tmpfs"
	assert_output_line "^aio-conform: removed .*, loop[0-9]+, "
	assert_eq "" "$(leftovers)" leftovers
	assert_eq "" "$(ls -A "$SCRATCH")" "scratch contents"
}

@test "aio-conform's sweep leaves a live run's directory and one without an owner alone" {
	local start
	start=$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$$/stat)
	mkdir "$SCRATCH/live" "$SCRATCH/plain" "$SCRATCH/dead" "$SCRATCH/reused"
	echo "pid=$$ start=$start prog=study" >"$SCRATCH/live/.aio-suite-owner"
	# A pid that has exited, and a live pid with another start time.
	bash -c 'exit 0' &
	local gone=$!
	wait "$gone"
	echo "pid=$gone start=1 prog=aio-stress" >"$SCRATCH/dead/.aio-suite-owner"
	echo "pid=$$ start=$((start + 1)) prog=bench" >"$SCRATCH/reused/.aio-suite-owner"
	# A symbolic link out of an abandoned directory is not followed.
	echo keep >"$BATS_TEST_TMPDIR/outside"
	ln -s "$BATS_TEST_TMPDIR/outside" "$SCRATCH/dead/link"
	ln -s "$BATS_TEST_TMPDIR" "$SCRATCH/dead/linkdir"
	run aio_conform -d "$SCRATCH" -t setup.basic
	assert_status 0
	assert_output_line "^aio-conform: removed what a killed run \(pid $gone, aio-stress\) left: $SCRATCH/dead\$"
	assert_output_line "^aio-conform: removed what a killed run \(pid $$, bench\) left: $SCRATCH/reused\$"
	assert_eq "dead:no live:yes plain:yes reused:no outside:keep" \
		"dead:$([[ -e $SCRATCH/dead ]] && echo yes || echo no) live:$([[ -e $SCRATCH/live ]] && echo yes || echo no) plain:$([[ -e $SCRATCH/plain ]] && echo yes || echo no) reused:$([[ -e $SCRATCH/reused ]] && echo yes || echo no) outside:$(cat "$BATS_TEST_TMPDIR/outside")" \
		"what the sweep left"
}

@test "aio-conform's sweep says nothing when nothing was left" {
	run aio_conform -d "$SCRATCH" -t setup.basic
	assert_status 0
	refute_line '^aio-conform: ' "$output"
}

@test "a loop device attached with --loop goes when aio-stress is SIGKILLed" {
	requires loop
	local f=$SCRATCH/backing pid i dev=
	"$AIO_STRESS" --quiet --loop buffered --runtime 30 -o 0 -s 64m -r 4k "$f" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		dev=$(losetup -j "$f" 2>/dev/null | cut -d: -f1)
		[[ -n $dev ]] && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	[[ -n $dev ]] || skip "aio-stress ended before its loop device was seen"
	for ((i = 0; i < 100; i++)); do
		[[ -z $(losetup -j "$f" 2>/dev/null) ]] && break
		sleep 0.05
	done
	assert_eq "" "$(losetup -j "$f")" "loop devices left on $f"
}
