#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: tools/report.py and runs that did not finish: summary.json
# "complete": false (killed) or "interrupted": "SIGINT", aio-conform's
# "complete": false with "interrupted_by" or "bail_out".  Such a run is
# listed and marked as incomplete, and left out of every comparison unless
# --include-incomplete; an interrupted test is never a new conformance
# failure.  Stores are written by tools/synth.py.

load helpers
load report-helpers

report() {
	timeout -k 5 120 python3 "$REPORT" --no-charts --out "$OUT" "$@"
}

# csv_incomplete COLUMN: the "incomplete" values of COLUMN's rows in report.csv
csv_incomplete() {
	python3 - "$OUT/report.csv" "$1" <<'EOF'
import csv
import sys

print(sorted({r["incomplete"] for r in csv.DictReader(open(sys.argv[1]))
              if r["column"] == sys.argv[2]}))
EOF
}

@test "a run killed before it finished is listed as incomplete and left out of the comparison" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 20 --conform-fail submit.basic --incomplete
	run report --formats md,html,csv --fail-on-regression
	assert_status 0
	assert_output_line '^report: incomplete run: synth/6\.12/20260101T000000Z-synth-2: not finished: summary\.json says complete false .*; left out \(--include-incomplete\)$'
	assert_output_line '^report: 2 runs \(1 incomplete, left out\), 1 kernels, baseline 6\.1: 0 regressions'
	grep -q '^## Incomplete runs' "$OUT/report.md"
	grep -q '^| synth | 6.12 | 20260101T000000Z-synth-2 | not finished: summary.json says complete false' "$OUT/report.md"
	grep -q '^| synth | 6.12 | 20260101T000000Z-synth-2 | no | no | ' "$OUT/report.md"
	grep -q '<h2>Incomplete runs</h2>' "$OUT/report.html"
	run csv_incomplete 6.12
	assert_eq "[]" "$output"
}

@test "--include-incomplete compares an incomplete run and marks its column in the CSV" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 20 --incomplete
	run report --formats md,csv --fail-on-regression --include-incomplete
	assert_status 1
	assert_output_line '^report: regression: .* on 6\.12'
	assert_output_line '^report: incomplete run: synth/6\.12/20260101T000000Z-synth-2: not finished: .*\)$'
	run csv_incomplete 6.12
	assert_eq "['true']" "$output"
	run csv_incomplete 6.1
	assert_eq "['false']" "$output"
}

@test "an interrupted run is incomplete; its interrupted test is no new conformance failure" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --interrupted SIGINT
	run report --formats md --fail-on-regression
	assert_status 0
	assert_output_has "incomplete run: synth/6.12/20260101T000000Z-synth-2: interrupted by SIGINT (summary.json); aio-conform interrupted by SIGINT (conform.json); left out"
	run report --formats md,junit --fail-on-regression --include-incomplete
	assert_status 0
	refute_line '^report: new conformance failure' "$output"
	grep -q 'other change: cancel.read: pass → interrupted (interrupted by SIGINT)' "$OUT/report.md"
	grep -q '<skipped message="interrupted by SIGINT"' "$OUT/conform-junit.xml"
}

@test "a timeout an older aio-conform recorded when the run was interrupted is no new conformance failure" {
	synth --release 6.1 --seed 1
	# Its conform.json has no "complete": the test running at the SIGINT
	# reads "timeout"; summary.json says the run was interrupted.
	synth --release 6.12 --seed 2 --interrupted SIGINT --legacy-conform \
		--conform-timeout reap.timeout
	run report --formats md --fail-on-regression --include-incomplete
	assert_status 0
	refute_line '^report: new conformance failure' "$output"
	grep -q 'other change: reap.timeout: pass → interrupted (timeout recorded when the run was interrupted by SIGINT: synthetic)' "$OUT/report.md"
	# The same timeout in a run that finished is a new failure.
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --legacy-conform --conform-timeout reap.timeout
	run report --formats md --fail-on-regression
	assert_status 1
	assert_output_has "new conformance failure: reap.timeout on 6.12 (pass on 6.1)"
}

@test "a conformance run that bailed out is incomplete, and a wedged kernel fails the report" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --bail-out "3 tests in a row left an unkillable child"
	run report --formats md,junit --fail-on-regression
	assert_status 1
	assert_output_has "incomplete run: synth/6.12/20260101T000000Z-synth-2: aio-conform bailed out: 3 tests in a row left an unkillable child (conform.json); left out"
	assert_output_has "wedged kernel: synth/6.12/20260101T000000Z-synth-2: aio-conform bailed out: 3 tests in a row left an unkillable child"
	assert_output_has ", 1 wedged kernel runs;"
	grep -q '| aio-conform bailed out: 3 tests in a row left an unkillable child (conform.json) |' "$OUT/report.md"
	grep -q '<failure message="3 tests in a row left an unkillable child" type="bail_out"' "$OUT/conform-junit.xml"
	# Without --fail-on-regression the report itself succeeds.
	run report --formats md
	assert_status 0
}

@test "a run without summary.json, from before it was written, is complete" {
	synth --release 6.1 --seed 1 --no-summary --legacy-conform
	synth --release 6.12 --seed 2 --slowdown 20 --no-summary --legacy-conform
	run report --formats md --fail-on-regression
	assert_status 1
	refute_line 'incomplete' "$output"
	! grep -q '^## Incomplete runs' "$OUT/report.md"
}

@test "a summary.json that cannot be read makes its run incomplete" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 20
	echo '{"complete": tr' >"$AIO_SUITE_RESULTS/synth/6.12/20260101T000000Z-synth-2/summary.json"
	run report --formats md --fail-on-regression
	assert_status 0
	assert_output_line '^report: bad file: synth/6\.12/20260101T000000Z-synth-2/summary\.json: not JSON'
	assert_output_line '^report: incomplete run: synth/6\.12/.*: summary\.json cannot be read: not JSON'
}

@test "report list says which runs are complete" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --interrupted SIGTERM
	run python3 "$REPORT" list
	assert_status 0
	assert_output_line '^synth +6\.1 +20260101T000000Z-synth-1 +no +yes +'
	assert_output_line '^synth +6\.12 +20260101T000000Z-synth-2 +no +no +.*; incomplete: interrupted by SIGTERM \(summary\.json\)'
}

@test "--baseline naming an incomplete run says so and how to compare it" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --incomplete
	run report --baseline 6.12
	assert_one_line_error report
	assert_output_has "--baseline '6.12' names incomplete runs only"
	assert_output_has "--include-incomplete"
	run report --baseline 6.12 --include-incomplete --formats csv
	assert_status 0
	assert_output_has "baseline 6.12:"
}
