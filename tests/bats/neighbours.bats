#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Description: ci/neighbours.sh, the noisy neighbour of a calibration
# under load: its phases are seeded, it leaves no process and no scratch
# file behind, and bad input is one line.

load helpers

N=$TOP/ci/neighbours.sh

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# children PID: the processes whose parent is PID, one a line
children() {
	pgrep -P "$1" || true
}

@test "neighbours refuses bad arguments with one line and status 2" {
	run "$N" --seconds soon
	assert_one_line_error neighbours
	run "$N" --max-spinners 65
	assert_one_line_error neighbours
	run "$N" --scratch "$SCRATCH/none"
	assert_one_line_error neighbours
	run "$N" --loud
	assert_one_line_error neighbours
}

@test "neighbours with one seed makes the same phases twice" {
	run "$N" --seconds 1 --seed 7 --max-spinners 0 --io-mib 1 --scratch "$SCRATCH"
	assert_status 0
	local first=${output//[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/T}
	run "$N" --seconds 1 --seed 7 --max-spinners 0 --io-mib 1 --scratch "$SCRATCH"
	assert_status 0
	assert_eq "$first" "${output//[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/T}"
}

@test "neighbours stopped by SIGTERM mid-phase stops its spinners and writer and removes its file" {
	# seed 1's first phase runs a spinner and a writer (checked below)
	"$N" --seed 1 --max-spinners 2 --io-mib 1 --scratch "$SCRATCH" >"$SCRATCH/log" 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		[ "$(children "$pid" | wc -l)" -ge 2 ] && break
		sleep 0.1
	done
	grep -q "phase 1: 1 spinners, 1 MiB written" "$SCRATCH/log"
	local kids
	kids=$(children "$pid")
	[ -n "$kids" ]
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_eq 143 "$rc"
	sleep 0.5
	for i in $kids; do
		! kill -0 "$i" 2>/dev/null
	done
	[ -z "$(ls -A "$SCRATCH" | grep neighbours)" ]
	grep -q "neighbours: stopped" "$SCRATCH/log"
}
