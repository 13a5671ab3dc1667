#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Description: a noisy neighbour for measuring what the suite can detect on
# a busy machine (make calibrate under load; RESULTS.md).  Until it is
# stopped (or --seconds have passed) it changes, every 5 to 30 s, how many
# CPU spinners run (0 to --max-spinners) and, one phase in three, also
# writes and syncs --io-mib MiB in the scratch directory, as the test runs
# of other sessions come and go.  Seeded, so two runs make the same
# sequence of phases; each phase is printed with its time.
#
#   ci/neighbours.sh [--seconds N] [--max-spinners N] [--io-mib N]
#                    [--seed N] [--scratch DIR]
#
# Everything it starts stops with it (SIGINT, SIGTERM or the end), and its
# scratch file is removed.
set -euo pipefail

PROG=neighbours
seconds=0 max_spinners=3 io_mib=64 seed=1 scratch=${TMPDIR:-/tmp}

usage_error() {
	echo "$PROG: $1 (see --help)" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	--seconds | --max-spinners | --io-mib | --seed)
		[ $# -ge 2 ] || usage_error "$1 needs a number"
		[[ $2 =~ ^[0-9]{1,7}$ ]] || usage_error "$1 must be a whole number, not '$2'"
		case $1 in
		--seconds) seconds=$2 ;;
		--max-spinners) max_spinners=$2 ;;
		--io-mib) io_mib=$2 ;;
		--seed) seed=$2 ;;
		esac
		shift 2
		;;
	--scratch)
		[ $# -ge 2 ] || usage_error "--scratch needs a directory"
		if [ ! -d "$2" ] || [ ! -w "$2" ]; then
			usage_error "--scratch: '$2' is not a writable directory"
		fi
		scratch=$2
		shift 2
		;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done
[ "$max_spinners" -le 64 ] || usage_error "--max-spinners must be at most 64, not '$max_spinners'"

file=$scratch/.aio-suite-neighbours-$$
pids=()

stop_phase() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		pkill -P "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	pids=()
	rm -f "$file"
}

finish() {
	trap - INT TERM EXIT
	stop_phase
	echo "$PROG: stopped at $(date -u +%H:%M:%S)"
}
trap 'finish; exit 130' INT
trap 'finish; exit 143' TERM
trap finish EXIT

RANDOM=$seed
t0=$SECONDS
phase=0
while [ "$seconds" -eq 0 ] || [ $((SECONDS - t0)) -lt "$seconds" ]; do
	phase=$((phase + 1))
	n=$((RANDOM % (max_spinners + 1)))
	len=$((5 + RANDOM % 26))
	io=$((RANDOM % 3 == 0 ? io_mib : 0))
	if [ "$seconds" -gt 0 ] && [ $((SECONDS - t0 + len)) -gt "$seconds" ]; then
		len=$((seconds - (SECONDS - t0)))
	fi
	echo "$PROG: $(date -u +%H:%M:%S) phase $phase: $n spinners, ${io} MiB written, ${len} s"
	for ((i = 0; i < n; i++)); do
		(while :; do :; done) &
		pids+=($!)
	done
	if [ "$io" -gt 0 ]; then
		(while :; do
			dd if=/dev/zero of="$file" bs=1M count="$io" conv=fsync status=none || exit 0
		done) &
		pids+=($!)
	fi
	sleep "$len" &
	wait $! || true
	stop_phase
done
