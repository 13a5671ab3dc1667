#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: ci/kernels.py checked and interrupted (issue 10, item 7):
# every option is checked before anything is fetched or booted; SIGINT
# or SIGTERM to it, or Ctrl-C to its process group, stops the run at the
# first signal with status 130, kills qemu, removes its temporary
# directory and stores nothing for the interrupted kernel; the guest gets
# a deadline before the host's timeout.  qemu is a stand-in script here
# that waits, so the tests need no kernel and take seconds.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$SCRATCH/results
	export AIO_SUITE_ACCEL=tcg
	mkdir -p "$SCRATCH/bin" "$SCRATCH/tmp"
	# The stand-in: answers --version, else records its pid and command
	# line and waits as a hung guest would.
	cat >"$SCRATCH/bin/qemu-system-x86_64" <<-'EOF'
	#!/bin/sh
	case "$1" in --version) echo "QEMU emulator version 0.0 (stand-in)"; exit 0 ;; esac
	echo "$@" >"$FAKE_QEMU_ARGS"
	echo $$ >"$FAKE_QEMU_PID.tmp" && mv "$FAKE_QEMU_PID.tmp" "$FAKE_QEMU_PID"
	exec sleep 300
	EOF
	chmod +x "$SCRATCH/bin/qemu-system-x86_64"
	export FAKE_QEMU_PID=$SCRATCH/qemu.pid FAKE_QEMU_ARGS=$SCRATCH/qemu.args
	head -c 100000 /dev/zero >"$SCRATCH/bzImage"
}

teardown() {
	if [[ -s ${FAKE_QEMU_PID:-} ]]; then
		kill -KILL "$(cat "$FAKE_QEMU_PID")" 2>/dev/null
	fi
	common_teardown
}


# kernels_bg: ci/kernels.py on the stand-in kernel, in the background,
# with the stand-in qemu first on PATH; sets $pid.
kernels_bg() {
	PATH=$SCRATCH/bin:$PATH TMPDIR=$SCRATCH/tmp "$@" python3 "$TOP/ci/kernels.py" \
		--kernel "$SCRATCH/bzImage" --releases "" --run boot --timeout 200 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
}

# wait_qemu: until the stand-in qemu runs (up to 60 s: the initramfs is
# built first).
wait_qemu() {
	local i
	for ((i = 0; i < 600; i++)); do
		[[ -s $FAKE_QEMU_PID ]] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "qemu was not started" >&2
	cat "$BATS_TEST_TMPDIR/out" >&2
	return 1
}

# running PID: PID exists and is not a zombie (one whose parent died is
# reaped by init in its own time).
running() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

# assert_stopped: exit status 130, qemu gone, no temporary directory, no
# run directory stored.
assert_stopped() {
	if [[ $status != 130 ]]; then
		echo "exit status: expected 130, seen $status" >&2
		cat "$BATS_TEST_TMPDIR/out" >&2
		return 1
	fi
	local q
	q=$(cat "$FAKE_QEMU_PID")
	sleep 0.2
	if running "$q"; then
		echo "qemu (pid $q) is still running" >&2
		return 1
	fi
	[[ -z $(ls -A "$SCRATCH/tmp") ]] || { echo "left in TMPDIR: $(ls -A "$SCRATCH/tmp")" >&2; return 1; }
	[[ ! -e $AIO_SUITE_RESULTS ]] || { echo "stored: $(find "$AIO_SUITE_RESULTS")" >&2; return 1; }
	grep -q '^kernels: interrupted by SIG' "$BATS_TEST_TMPDIR/out"
}

@test "kernels.py checks --timeout, --fuzz, --modules and its other options up front, one line and status 2" {
	assert_refused kernels python3 "$TOP/ci/kernels.py" -- "--timeout -1" \
		"--timeout 0" "--timeout inf" "--fuzz -5" "--seed -1" \
		"--modules /nonexistent --kernel $SCRATCH/bzImage" "--modules $SCRATCH" \
		"--kernel /nonexistent" "--summary /nonexistent/x.json" \
		"--conform-args -t,x" "--bogus" "--releases ../../x" "--releases 6.1,6.12"
	[[ ! -e $AIO_SUITE_RESULTS ]]
}

@test "SIGTERM to kernels.py kills qemu, removes its temporary directory, stores nothing and exits 130" {
	requires busybox-static
	kernels_bg
	wait_qemu
	kill -TERM "$pid"
	wait_status "$pid"
	assert_stopped
}

@test "SIGINT to kernels.py alone (a background job) stops the run too" {
	requires busybox-static
	kernels_bg
	wait_qemu
	kill -INT "$pid"
	wait_status "$pid"
	assert_stopped
}

@test "Ctrl-C to the process group stops at the first kernel, stored as nothing" {
	requires busybox-static
	kernels_bg setsid env --default-signal=INT
	wait_qemu
	kill -INT -- -"$pid"
	wait_status "$pid"
	assert_stopped
	refute_line 'booting' "$(grep -v 'bzImage: booting' "$BATS_TEST_TMPDIR/out")"
}

@test "the guest gets a deadline before the host's timeout" {
	requires busybox-static
	kernels_bg
	wait_qemu
	kill -TERM "$pid"
	wait_status "$pid"
	# --timeout 200: the results must be on their way by 170 s of uptime
	grep -q ' aio.deadline=170 ' "$FAKE_QEMU_ARGS" ||
		{ echo "qemu's command line: $(cat "$FAKE_QEMU_ARGS")" >&2; return 1; }
}

@test "after SIGKILL to kernels.py qemu ends and the next run removes the temporary directory, saying so" {
	requires busybox-static
	kernels_bg
	wait_qemu
	local q killed=$pid
	q=$(cat "$FAKE_QEMU_PID")
	kill -KILL "$pid"
	wait "$pid" || true
	sleep 0.5
	if running "$q"; then
		echo "qemu (pid $q) outlived kernels.py" >&2
		return 1
	fi
	[[ -n $(ls -A "$SCRATCH/tmp") ]]
	rm -f "$FAKE_QEMU_PID"
	kernels_bg
	wait_qemu
	kill -TERM "$pid"
	wait_status "$pid"
	assert_stopped
	grep -q "^kernels: removed what a killed run (pid $killed, kernels) left: $SCRATCH/tmp/aio-kernels\." \
		"$BATS_TEST_TMPDIR/out"
}
