#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-conform's command line, its KTAP and JSON output, the
# meta group that proves the harness, and that it leaves no mount, loop
# device or scratch file behind, even when interrupted.

load helpers

setup() {
	common_setup
	J=$SCRATCH/out.json
}

teardown() {
	common_teardown
}

aio_conform() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_CONFORM" "$@"
}

@test "aio-conform rejects an unknown option with exit status 2" {
	run aio_conform --foo
	assert_one_line_error aio-conform
	assert_eq "aio-conform: unknown option '--foo'" "$output"
}

@test "aio-conform rejects an unknown variant with exit status 2" {
	run aio_conform --variant ext4,nosuchfs
	assert_one_line_error aio-conform
	assert_output_has "'nosuchfs'"
}

@test "aio-conform rejects a timeout that is not a number with exit status 2" {
	run aio_conform --timeout soon
	assert_one_line_error aio-conform
	assert_output_has "'soon'"
}

@test "aio-conform says that no test matches a -t pattern and exits 2" {
	run aio_conform -d "$SCRATCH" -t 'nomatch*'
	assert_one_line_error aio-conform
	assert_eq "aio-conform: no test matches -t 'nomatch*'" "$output"
}

@test "aio-conform -l says that no test matches a -t pattern and exits 2" {
	run aio_conform -l -t setup.basic -t 'nomatch*'
	assert_one_line_error aio-conform
	assert_output_has "'nomatch*'"
}

@test "aio-conform says that -T left no test selected and exits 2" {
	run aio_conform -d "$SCRATCH" -T '*'
	assert_one_line_error aio-conform
	assert_eq "aio-conform: no test is selected" "$output"
}

@test "aio-conform rejects a --json file it cannot write before it runs anything" {
	run aio_conform -d "$SCRATCH" --json /nonexistent/x.json
	assert_one_line_error aio-conform
	assert_output_has "'/nonexistent/x.json'"
	assert_eq "" "$(ls -A "$SCRATCH")" "scratch contents"
}

@test "aio-conform rejects a negative timeout with exit status 2" {
	run aio_conform --timeout -1
	assert_one_line_error aio-conform
	assert_eq "aio-conform: invalid timeout '-1'" "$output"
}

@test "aio-conform rejects a scratch directory that does not exist with exit status 2" {
	run aio_conform -d /nonexistent
	assert_one_line_error aio-conform
	assert_output_has "'/nonexistent'"
}

@test "aio-conform rejects a bad --deadline or --bail-after with exit status 2" {
	run aio_conform --deadline soon
	assert_one_line_error aio-conform
	assert_output_has "'soon'"
	run aio_conform --deadline 0
	assert_one_line_error aio-conform
	run aio_conform --bail-after -3
	assert_one_line_error aio-conform
	assert_output_has "'-3'"
}

@test "aio-conform --help shows the options and exits 0" {
	run aio_conform --help
	assert_status 0
	assert_output_has "--variant"
	assert_output_has "--json FILE"
	assert_output_has "--deadline SECONDS"
	assert_output_has "--bail-after N"
}

@test "aio-conform -l lists the tests without running them" {
	run aio_conform -l
	assert_status 0
	assert_output_line '^setup\.basic$'
	assert_output_line '^lifetime\.exit_with_inflight_kill$'
	assert_output_line '^data\.append \[per variant\]$'
	refute_line '^KTAP' "$output"
	refute_line '^meta\.' "$output"
}

@test "aio-conform -t and -T select tests by pattern" {
	run aio_conform -l -t 'setup.*' -T 'setup.ctxp_*'
	assert_status 0
	assert_output_line '^setup\.nr_zero$'
	refute_line '^setup\.ctxp_' "$output"
	refute_line '^submit\.' "$output"
}

@test "aio-conform prints KTAP whose plan matches its results and summary" {
	run aio_conform -d "$SCRATCH" -t 'setup.*' -t 'submit.bad_*'
	assert_status 0
	local first plan results summary
	first=$(head -n 1 <<<"$output")
	assert_eq "KTAP version 1" "$first" "first line"
	plan=$(grep -E '^1\.\.[0-9]+$' <<<"$output" | head -n 1)
	results=$(grep -cE '^(not )?ok [0-9]+ ' <<<"$output")
	assert_eq "1..$results" "$plan" plan
	summary=$(tail -n 1 <<<"$output")
	[[ $summary =~ ^([0-9]+)\ passed,\ 0\ failed,\ ([0-9]+)\ skipped$ ]]
	assert_eq "$results" "$((BASH_REMATCH[1] + BASH_REMATCH[2]))" total
}

@test "aio-conform reports each variant as an indented KTAP subtest" {
	run aio_conform -d "$SCRATCH" -t data.append --variant scratch,tmpfs
	assert_status 0
	assert_output_line '^    1\.\.2$'
	assert_output_line '^    ok 1 scratch$'
	assert_output_line '^    ok 2 tmpfs( # SKIP not root.*)?$'
	assert_output_line '^ok 1 data\.append$'
}

@test "aio-conform --json writes name, variant, result, reason and duration_ns" {
	run aio_conform -d "$SCRATCH" -t sync.fsync -t setup.basic \
		--variant scratch --json "$J"
	assert_status 0
	json_true "$J" \
		"len(d['results']) == 2" \
		"all(set(r) == {'name', 'variant', 'result', 'reason', 'duration_ns'} for r in d['results'])" \
		"[r['result'] for r in d['results']] == ['pass', 'pass']" \
		"{r['variant'] for r in d['results']} == {None, 'scratch'}" \
		"all(r['duration_ns'] > 0 for r in d['results'])"
}

@test "aio-conform --json says a run that ended normally is complete" {
	run aio_conform -d "$SCRATCH" -t setup.basic --json "$J"
	assert_status 0
	json_true "$J" "d['complete'] is True" "d['interrupted_by'] is None" \
		"d['bail_out'] is None" "d['deadline_reached'] is False"
}

@test "aio-conform --meta proves that pass, fail, skip, timeout and crashes are reported" {
	run aio_conform -d "$SCRATCH" --meta
	assert_status 0
	assert_output_line '^ok [0-9]+ meta\.fail_is_reported$'
	assert_output_line '^ok [0-9]+ meta\.timeout_is_reported$'
	assert_output_line '^ok [0-9]+ meta\.segv_is_reported$'
	assert_output_has " 0 failed,"
}

@test "aio-conform --meta-raw exits 1 because its tests fail on purpose" {
	run aio_conform -d "$SCRATCH" --meta-raw --timeout 1 -T 'meta.raw.variants'
	assert_status 1
	assert_output_line '^not ok [0-9]+ meta\.raw\.timeout # TIMEOUT$'
	assert_output_line '^not ok [0-9]+ meta\.raw\.fail$'
	assert_output_line '^ok [0-9]+ meta\.raw\.skip # SKIP .+'
}

@test "aio-conform passes as an unprivileged user with root-only tests skipped" {
	requires nonroot
	# The bats temporary directory's parents are not open to uid 65534.
	local dir
	dir=$(mktemp -d /tmp/aio-conform-bats.XXXXXX)
	chmod 0777 "$dir"
	run timeout -k 5 "$AIO_TEST_TIMEOUT" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$AIO_CONFORM" -d "$dir" \
		-t 'setup.*' -t 'regress.loop*' -t 'data.append' --system-wide
	rm -rf "$dir"
	assert_status 0
	# --system-wide lets setup.aio_nr_accounting on to its root check.
	assert_output_line '^ok [0-9]+ setup\.aio_nr_accounting # SKIP not root: lowering /proc/sys/fs/aio-max-nr needs root$'
	assert_output_line '^ok [0-9]+ regress\.loop_dio_backing # SKIP .*not root'
}

# Mounts and loop devices under a scratch directory, one per line.
leftovers() {
	grep -F "$1" /proc/mounts || true
	losetup -a 2>/dev/null | grep -F "$1" || true
}

@test "aio-conform leaves no mount, loop device or file behind" {
	requires root loop mkfs.ext4
	run aio_conform -d "$SCRATCH" -t data.append --variant ext4,tmpfs
	assert_status 0
	assert_eq "" "$(leftovers "$SCRATCH")" leftovers
	assert_eq "" "$(ls -A "$SCRATCH")" "scratch contents"
}

@test "aio-conform undoes its mounts and loop devices when interrupted" {
	requires root loop mkfs.ext4
	"$AIO_CONFORM" -d "$SCRATCH" --variant ext4,tmpfs -t 'stress.*' \
		-t 'data.*' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$! i st=0
	for ((i = 0; i < 100; i++)); do
		grep -qs '^# variant ext4' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	kill -INT "$pid"
	wait "$pid" || st=$?
	assert_eq 130 "$st" "exit status after SIGINT"
	assert_eq "" "$(leftovers "$SCRATCH")" leftovers
	assert_eq "" "$(ls -A "$SCRATCH")" "scratch contents"
}
