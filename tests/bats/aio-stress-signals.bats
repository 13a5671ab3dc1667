#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress interrupted at random moments: SIGINT, SIGTERM
# and SIGKILL, threads that meet at barriers between stages, --loop.  It
# never hangs, exits 128 + the signal, and leaves no loop device (and with
# -u no file) behind.

load aio-stress-common

# The pid of the aio-stress under `strace -f` (its only child).
traced_child() {
	local i c

	for ((i = 0; i < 100; i++)); do
		c=$(pgrep -P "$1" -x aio-stress | head -1)
		[[ -n $c ]] && break
		sleep 0.05
	done
	echo "$c"
}

# Every futex call returns 100 ms late (strace's fault injection), so the
# threads leave each barrier one by one, far apart: a Ctrl-C in between
# used to send some home while the others waited at the next barrier for
# ever.  Now thread 0 decides once, between two barriers, for all.
@test "aio-stress with 4 threads never hangs on SIGINT at random moments between stages" {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	local k i pid child hangs=0 st
	for ((k = 0; k < 8; k++)); do
		strace -f -qq -o /dev/null -e trace=futex \
			-e inject=futex:delay_exit=100000 \
			"$AIO_STRESS" --quiet -t 4 -n -s 256k -r 4k \
			"$SCRATCH/a" "$SCRATCH/b" "$SCRATCH/c" "$SCRATCH/d" \
			3>&- &
		pid=$!
		child=$(traced_child "$pid")
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		[[ -z $child ]] || kill -INT "$child" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			hangs=$((hangs + 1))
			kill -KILL "$child" 2>/dev/null || true
		fi
		st=0
		wait "$pid" || st=$?
		# strace exits with its tracee's status: done, or interrupted.
		[[ $st == 0 || $st == 130 || $hangs != 0 ]] || {
			echo "run $k: exit status $st" >&2
			return 1
		}
	done
	assert_eq 0 "$hangs" "runs still waiting 10 s after SIGINT"
}

# start_loop ARGS...: aio-stress --loop buffered --runtime 30 ARGS on $F in
# the background (PID), once its loop device is attached.
start_loop() {
	local i

	"$AIO_STRESS" --quiet --loop buffered --runtime 30 -o 0 -o 1 \
		-s 4m -r 4k "$@" "$F" 3>&- &
	PID=$!
	for ((i = 0; i < 200; i++)); do
		[[ -z $(losetup -j "$F" 2>/dev/null) ]] || return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "no loop device appeared over $F" >&2
	kill -KILL "$PID" 2>/dev/null
	return 1
}

# wait_exit PID: its exit status in ST; fails when it runs 20 s more.
wait_exit() {
	local i

	for ((i = 0; i < 200; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -KILL "$1" 2>/dev/null; then
		echo "aio-stress still ran 20 s after the signal" >&2
		return 1
	fi
	ST=0
	wait "$1" || ST=$?
}

# no_loop_left: no loop device over $F remains (a detach by the kernel,
# LO_FLAGS_AUTOCLEAR, may take a moment after the last close).
no_loop_left() {
	local i

	for ((i = 0; i < 100; i++)); do
		[[ -n $(losetup -j "$F" 2>/dev/null) ]] || return 0
		sleep 0.1
	done
	echo "loop devices left over $F: $(losetup -j "$F")" >&2
	return 1
}

@test "aio-stress --loop -u leaves no loop device and no file after SIGINT or SIGTERM at random moments" {
	requires loop
	local sig k
	for sig in INT TERM; do
		for ((k = 0; k < 3; k++)); do
			start_loop -u
			sleep "0.$((RANDOM % 10))"
			kill "-$sig" "$PID"
			wait_exit "$PID"
			no_loop_left
			[[ ! -e $F ]] || {
				echo "SIG$sig left $F behind" >&2
				return 1
			}
			assert_eq $((128 + $(kill -l "$sig"))) "$ST" "exit status after SIG$sig"
		done
	done
}

@test "aio-stress --loop never hangs on SIGINT during its set-up" {
	requires loop
	local k pid
	for ((k = 0; k < 5; k++)); do
		rm -f "$F"
		"$AIO_STRESS" --quiet --loop buffered -u -o 0 -o 1 -s 64m \
			-r 4k "$F" 3>&- &
		pid=$!
		sleep "0.0$((RANDOM % 10))"
		kill -INT "$pid" 2>/dev/null || true
		wait_exit "$pid"
		[[ $ST == 0 || $ST == 130 ]] || {
			echo "exit status $ST after SIGINT" >&2
			return 1
		}
		no_loop_left
		[[ ! -e $F ]]
	done
}

# Needs the loop device attached with LO_FLAGS_AUTOCLEAR and held open by
# aio-stress (docs/SCRATCH.md): then the kernel detaches it when the
# killed process's descriptors close.
@test "aio-stress --loop leaves no loop device behind when killed with SIGKILL" {
	requires loop
	local k
	for ((k = 0; k < 2; k++)); do
		start_loop
		sleep "0.$((RANDOM % 10))"
		kill -KILL "$PID"
		wait_exit "$PID"
		no_loop_left
	done
}
