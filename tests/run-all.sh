#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test of the suite and end with one line:
#   N passed, N failed, N skipped
#
#   tests/run-all.sh [unit|conform|old-distro|bats ...]   (default: all)
#
# Each part speaks TAP or KTAP; its result lines are counted (ok, not ok,
# "# SKIP"; "# XFAIL" counts as passed): the top-level ones, except that a
# KTAP result with subtests (indented above it) counts as its subtests, so
# that a skipped variant of an aio-conform test is a skip here too, as in
# aio-conform's own totals.  A part that exits non-zero without saying
# "not ok" counts as one failure of its own.
# Logs of the run go to $AIO_SUITE_LOGDIR (default results/check/).
set -u
cd "$(dirname "$0")/.."
# The tests run make as a user would, from a shell. Under `make -C DIR
# check` the outer make's flags (print-directory among them) would reach
# those inner makes through the environment and add "make[1]: Entering
# directory" lines to the output the tests read.
unset MAKEFLAGS MFLAGS MAKELEVEL

BUILD=${BUILD:-build}
logdir=${AIO_SUITE_LOGDIR:-results/check}
mkdir -p "$logdir"
passed=0 failed=0 skipped=0

# count NAME LOGFILE RC: add the TAP results of LOGFILE, subtests for
# their parent.
count() {
	local name=$1 log=$2 rc=$3 p f s
	read -r p f s < <(awk '
		/^ *(not )?ok [0-9]+/ {
			match($0, /^ */)
			d = int((RLENGTH + 3) / 4)
			c = d + 1
			l = tolower(substr($0, RLENGTH + 1))
			if (l ~ /^not /) v = l ~ /# *(todo|xfail)/ ? "p" : "f"
			else v = l ~ /# *skip/ ? "s" : "p"
			if (n[c]) {
				P[d] += P[c]; F[d] += F[c]; S[d] += S[c]
				# A failing parent whose subtests passed.
				if (v == "f" && !F[c]) F[d]++
			} else if (v == "p") P[d]++
			else if (v == "f") F[d]++
			else S[d]++
			n[d]++
			P[c] = F[c] = S[c] = n[c] = 0
		}
		END { print P[0] + 0, F[0] + 0, S[0] + 0 }' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" | tee -a "$log"
		f=$((f + 1))
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	echo "# $name: $p passed, $f failed, $s skipped"
}

run_unit() {
	local t log rc
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		log="$logdir/unit-$(basename "$t").tap"
		echo "# unit: $t"
		timeout -k 5 300 "$t" >"$log" 2>&1
		rc=$?
		grep -E '^(not ok|#)' "$log" | grep -v '^# *$' | sed 's/^/  /' | head -50
		count "unit $(basename "$t")" "$log" "$rc"
	done
}

run_conform() {
	local log rc
	if [ ! -x "$BUILD/aio-conform" ]; then
		echo "not ok - $BUILD/aio-conform was not built"
		failed=$((failed + 1))
		return
	fi
	for mode in "" "--meta"; do
		log="$logdir/conform${mode:+-meta}.ktap"
		echo "# conformance: aio-conform $mode"
		timeout -k 10 900 "$BUILD/aio-conform" $mode \
			--json "$logdir/conform${mode:+-meta}.json" >"$log" 2>&1
		rc=$?
		grep -E '^(not ok|ok .*# (SKIP|XFAIL))' "$log" | sed 's/^/  /'
		count "aio-conform $mode" "$log" "$rc"
	done
}

# The suite built and run in a cached Debian 11 chroot (ci/old-distro.sh);
# a skip with the reason where it cannot run (not root, no debootstrap).
run_old_distro() {
	local log=$logdir/old-distro.tap rc
	echo "# old distro: ci/old-distro.sh"
	AIO_SUITE_LOGDIR=$logdir timeout -k 10 1200 ./ci/old-distro.sh >"$log" 2>&1
	rc=$?
	grep -E '^(not ok|ok .*# SKIP|#)' "$log" | sed 's/^/  /'
	count old-distro "$log" "$rc"
}

run_bats() {
	local log=$logdir/bats.tap rc
	if ! command -v bats >/dev/null 2>&1; then
		echo "ok - bats # SKIP bats is not installed (apt-get install bats)" | tee "$log"
		count bats "$log" 0
		return
	fi
	echo "# bats: tests/bats"
	bats --tap --timing tests/bats >"$log" 2>&1
	rc=$?
	grep -E '^(not ok|ok .*# skip)' "$log" | sed 's/^/  /'
	grep -E '^#' "$log" | head -80 | sed 's/^/  /'
	count bats "$log" "$rc"
}

parts=${*:-unit conform old-distro bats}
for part in $parts; do
	case $part in
	unit) run_unit ;;
	conform) run_conform ;;
	old-distro) run_old_distro ;;
	bats) run_bats ;;
	*) echo "run-all: unknown part '$part' (unit, conform, old-distro, bats)" >&2; exit 2 ;;
	esac
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
