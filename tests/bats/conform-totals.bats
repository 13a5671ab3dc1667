#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: what aio-conform's totals count, and tests/run-all.sh with
# them.  A test with variants is one KTAP subtest per variant: the totals
# ("# Totals:", the summary line and the JSON's) count each variant's
# result, so a skip on one variant is a skip there, not hidden in its
# parent's ok; run-all counts a KTAP result with subtests as its subtests,
# the same way.

load helpers

setup() {
	common_setup
	J=$SCRATCH/out.json
}

teardown() {
	common_teardown
}

@test "aio-conform counts a variant's skip as a skip in its totals, summary and JSON" {
	# meta.raw.variant_skip passes on scratch and skips on tmpfs (as
	# another user the tmpfs variant itself is skipped: a skip too).
	run timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" -d "$SCRATCH" \
		--meta-raw -t meta.raw.variant_skip --variant scratch,tmpfs \
		--json "$J"
	assert_status 0
	assert_output_line '^    ok 1 scratch$'
	assert_output_line '^    ok 2 tmpfs # SKIP '
	assert_output_line '^ok 1 meta\.raw\.variant_skip$'
	assert_output_line '^# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0$'
	assert_eq "1 passed, 0 failed, 1 skipped" "${lines[-1]}" summary
	json_true "$J" "d['totals'] == {'passed': 1, 'failed': 0, 'skipped': 1}" \
		"len(d['results']) == 2"
}

@test "run-all counts a KTAP result with subtests as its subtests" {
	mkdir -p "$SCRATCH/b/tests"
	cat >"$SCRATCH/b/tests/test_fake" <<-'EOF'
	#!/bin/sh
	echo "KTAP version 1"
	echo "1..4"
	echo "    # Subtest: a"
	echo "    1..2"
	echo "    ok 1 x"
	echo "    ok 2 y # SKIP on this variant"
	echo "ok 1 a"
	echo "ok 2 b"
	echo "    ok 1 x"
	echo "    not ok 2 y"
	echo "not ok 3 c"
	echo "    ok 1 x"
	echo "not ok 4 d"
	exit 1
	EOF
	chmod +x "$SCRATCH/b/tests/test_fake"
	BUILD="$SCRATCH/b" AIO_SUITE_LOGDIR="$SCRATCH/logs" run "$TOP/tests/run-all.sh" unit
	assert_status 1
	# a: x passed, y skipped; b passed; c: x passed, y failed; d failed
	# although its one subtest passed.
	assert_eq "4 passed, 2 failed, 1 skipped" "${lines[-1]}" summary
}

@test "run-all counts aio-conform's results as aio-conform's own summary does" {
	# An aio-conform that runs a small selection with variants, for both
	# of run-all's conformance runs.
	mkdir -p "$SCRATCH/b"
	cat >"$SCRATCH/b/aio-conform" <<-EOF
	#!/bin/sh
	while [ \$# -gt 0 ] && [ "\$1" != --json ]; do shift; done
	exec "$AIO_CONFORM" -d "$SCRATCH" --meta-raw --variant scratch,tmpfs \\
		-t meta.raw.variant_skip -t meta.raw.pass -t meta.raw.skip "\$@"
	EOF
	chmod +x "$SCRATCH/b/aio-conform"
	BUILD="$SCRATCH/b" AIO_SUITE_LOGDIR="$SCRATCH/logs" run "$TOP/tests/run-all.sh" conform
	assert_status 0
	assert_eq "2 passed, 0 failed, 2 skipped" "$(tail -n 1 "$SCRATCH/logs/conform.ktap")" \
		"aio-conform's summary"
	assert_output_line '^# aio-conform : 2 passed, 0 failed, 2 skipped$'
	assert_eq "4 passed, 0 failed, 4 skipped" "${lines[-1]}" "run-all's summary"
}
