#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: tools/report.py's regression rule, conformance diff, outputs
# and command line, on synthetic result sets with known answers written by
# tools/synth.py into a per-test store ($AIO_SUITE_RESULTS).  synth.py
# standardises its draws, so "--slowdown 5 --cv 1" is exactly 5% worse with
# exactly 1% CV; --random gives plain normal draws for the A/A tests.

load helpers
load report-helpers

# report ARGS...: the report without charts, into $OUT
report() {
	timeout -k 5 120 python3 "$REPORT" --no-charts --out "$OUT" "$@"
}

# verdicts COLUMN: "metric verdict" of every compared row of that column
verdicts() {
	python3 - "$OUT/report.csv" "$1" <<'EOF'
import csv
import sys

for r in csv.DictReader(open(sys.argv[1])):
    if r["column"] == sys.argv[2]:
        print(r["source"], r["labels"], r["metric"], r["better"] or "info",
              r["change_pct"] or "-", r["verdict"])
EOF
}

# count VERDICT COLUMN
count() {
	verdicts "$2" | awk -v v="$1" '$NF == v' | wc -l
}

@test "stats: the t distribution's CDF matches published critical values" {
	run python3 - <<EOF
import sys
sys.path.insert(0, "$TOP")
import math
from aiosuite import stats
for t, df, p in [(12.7062, 1, 0.05), (2.306004, 8, 0.05), (2.776445, 4, 0.05),
                 (3.169273, 10, 0.01), (1.959964, 1e6, 0.05), (2.5, 7.3, None)]:
    got = stats.t_two_sided_p(t, df)
    if p is not None and abs(got - p) > 1e-5:
        sys.exit(f"t={t} df={df}: p={got}, expected {p}")
for t in (-3.0, -0.5, 0.0, 0.7, 4.0):
    if abs(stats.t_cdf(t, 1) - (0.5 + math.atan(t) / math.pi)) > 1e-12:
        sys.exit(f"Cauchy CDF wrong at {t}")
    if abs(stats.t_cdf(t, 2) - (0.5 + t / (2 * math.sqrt(2 + t * t)))) > 1e-12:
        sys.exit(f"df=2 CDF wrong at {t}")
print("ok")
EOF
	assert_status 0
	assert_eq ok "$output"
}

@test "A/A: two sets from the same distribution are never flagged (20 seed pairs)" {
	local s
	for s in $(seq 1 20); do
		rm -rf "$AIO_SUITE_RESULTS"
		synth --release 6.1 --seed "$s" --random --cv 1
		synth --release 6.2 --seed $((s + 100)) --random --cv 1
		run report --formats csv --fail-on-regression
		assert_status 0
		[[ $(count regression 6.2) == 0 ]] || { verdicts 6.2 | grep regression; false; }
		[[ $(count improvement 6.2) == 0 ]]
	done
}

@test "A/A in 10% CV noise: nothing flagged across 10 seed pairs; without the FDR correction, some" {
	local s plain=0
	for s in $(seq 1 10); do
		rm -rf "$AIO_SUITE_RESULTS"
		synth --release 6.1 --seed "$s" --random --cv 10
		synth --release 6.2 --seed $((s + 100)) --random --cv 10
		run report --formats csv --fail-on-regression
		assert_status 0
		[[ $(count regression 6.2) == 0 && $(count improvement 6.2) == 0 ]]
		run report --formats csv --no-fdr
		plain=$((plain + $(count regression 6.2) + $(count improvement 6.2)))
	done
	# About 60 metrics at 5% each: single tests do find "changes".
	((plain > 0))
}

@test "a 20% slowdown in 10% CV noise with 5 repeats is still found in a third of the metrics or more" {
	synth --release 6.1 --seed 1 --random --cv 10
	synth --release 6.12 --seed 101 --random --cv 10 --slowdown 20
	run report --formats csv --fail-on-regression
	assert_status 1
	local found all
	found=$(count regression 6.12)
	all=$(verdicts 6.12 | awk '$4 != "info"' | wc -l)
	((found * 3 > all)) || { echo "$found of $all flagged" >&2; false; }
}

@test "a 5% slowdown with 5 repeats and 1% CV is flagged, in both directions of metric" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 5
	run report --formats csv,md --fail-on-regression
	assert_status 1
	assert_output_line '^report: regression: synth-engines .*: iops -5\.0% on 6\.12'
	assert_output_line '^report: regression: synth-engines .*: clat_ns_p99 \+5\.0% on 6\.12'
	# Every metric with a direction regressed; the informational one did not.
	[[ $(verdicts 6.12 | awk '$4 != "info" && $NF != "regression"' | wc -l) == 0 ]]
	[[ $(verdicts 6.12 | awk '$4 == "info" && $NF != "same"' | wc -l) == 0 ]]
	[[ $(verdicts 6.12 | awk '$4 == "info"' | wc -l) -gt 0 ]]
	grep -q '^## Regressions' "$OUT/report.md"
}

@test "random noise: a 10% slowdown with 5 repeats and 1% CV is flagged for every seed" {
	local s
	for s in 1 2 3 4 5; do
		rm -rf "$AIO_SUITE_RESULTS"
		synth --release 6.1 --seed "$s" --random
		synth --release 6.12 --seed $((s + 50)) --random --slowdown 10
		run report --formats csv --fail-on-regression
		assert_status 1
		[[ $(verdicts 6.12 | awk '$3 == "iops" && $NF != "regression"' | wc -l) == 0 ]]
	done
}

@test "a 2% change inside the 5% noise floor is not flagged, though Welch alone would" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 2
	run report --formats csv --fail-on-regression
	assert_status 0
	[[ $(count regression 6.12) == 0 ]]
	# The same data with a 1% floor: the t-test finds the 2% change.
	run report --formats csv --fail-on-regression --noise 1
	assert_status 1
	[[ $(count regression 6.12) -gt 0 ]]
}

@test "a 2% change inside 5% CV noise is not significant even without a floor" {
	synth --release 6.1 --seed 1 --cv 5
	synth --release 6.12 --seed 2 --cv 5 --slowdown 2
	run report --formats csv --fail-on-regression --noise 0
	assert_status 0
	[[ $(count regression 6.12) == 0 ]]
	[[ $(count same 6.12) -gt 0 ]]
}

@test "fewer than 3 repeats are shown but never called, however big the change" {
	synth --release 6.1 --seed 1 --repeat 2
	synth --release 6.12 --seed 2 --repeat 2 --slowdown 30
	run report --formats csv,md --fail-on-regression
	assert_status 0
	[[ $(count regression 6.12) == 0 ]]
	[[ $(count few 6.12) -gt 0 ]]
	verdicts 6.12 | grep -q ' -30 few$'
	grep -q 'n<3' "$OUT/report.md"
	# Five samples against two: still not enough on one side.
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1 --repeat 5
	synth --release 6.12 --seed 2 --repeat 2 --slowdown 30
	run report --formats csv --fail-on-regression
	assert_status 0
}

@test "an improvement is reported and does not fail --fail-on-regression" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown -10
	run report --formats csv --fail-on-regression
	assert_status 0
	[[ $(count improvement 6.12) -gt 0 ]]
	[[ $(count regression 6.12) == 0 ]]
}

@test "a new conformance failure fails --fail-on-regression; a fixed one does not" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 1 --conform-fail reap.timeout
	run report --formats md,junit --fail-on-regression
	assert_status 1
	assert_output_line '^report: new conformance failure: reap\.timeout on 6\.12 \(pass on 6\.1\)'
	grep -q 'new failure: reap.timeout: pass → fail' "$OUT/report.md"
	# Without the flag the report is written and the exit status is 0.
	run report --formats md
	assert_status 0
	# The other way round: fixed, and a changed skip.
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1 --conform-fail reap.timeout
	synth --release 6.12 --seed 1 --conform-skip flags.nowait
	run report --formats md --fail-on-regression
	assert_status 0
	grep -q 'fixed: reap.timeout: fail (synthetic) → pass' "$OUT/report.md"
	grep -q 'skip change: flags.nowait: pass → skip (synthetic)' "$OUT/report.md"
}

@test "an emulated (TCG) run counts for conformance but never as performance" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 50 --emulated --conform-fail submit.basic
	run report --formats csv,md --fail-on-regression
	assert_status 1
	assert_output_has "new conformance failure: submit.basic on 6.12"
	refute_line '^report: regression' "$output"
	[[ $(verdicts 6.12 | wc -l) == 0 ]]
	grep -q 'emulated (TCG) runs only' "$OUT/report.md"
}

@test "--baseline takes a kernel or a run id; two runs of one kernel compare with --by run" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 5
	synth --release 6.12 --seed 3
	run report --formats csv --baseline 6.12
	assert_status 0
	assert_output_has "baseline 6.12:"
	run report --formats csv --baseline 20260101T000000Z-a --fail-on-regression --no-drift-floor
	assert_status 1
	assert_output_has "runs, baseline 20260101T000000Z-a:"
	[[ $(count regression 20260102T000000Z-b) -gt 0 ]]
	run report --formats csv --by run --runs '*-a' --runs '*-b'
	assert_status 0
	assert_output_has "2 runs, 2 runs, baseline 20260101T000000Z-a"
}

@test "between single runs (--by run) a real change is flagged: their own drift is no floor" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 10
	run report --formats csv,md --by run --fail-on-regression
	assert_status 1
	[[ $(count regression 20260102T000000Z-b) -gt 0 ]]
}

@test "two runs of one kernel set its drift floor when kernels are compared" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 10
	# 6.1's runs differ by 10%; pooled, 6.12 is about 9% slower than 6.1:
	# inside 6.1's own drift, so not a regression unless the floor is off
	# and the samples are pooled as if independent (--pool-runs).
	synth --release 6.12 --seed 3 --slowdown 14
	run report --formats csv,md --fail-on-regression
	assert_status 0
	grep -q '^Run-to-run drift: ' "$OUT/report.md"
	[[ $(verdicts 6.12 | awk '$NF == "regression"' | wc -l) == 0 ]]
	run report --formats csv --fail-on-regression --no-drift-floor --pool-runs
	assert_status 1
	# With the runs as the unit, their spread says the same without the floor.
	run report --formats csv --fail-on-regression --no-drift-floor
	assert_status 0
}

@test "a kernel's change bigger than its run-to-run drift is still flagged" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 3
	# A third run: the runs are the unit, two give their spread one degree
	# of freedom.
	synth --release 6.1 --seed 4 --run-id 20260103T000000Z-c --slowdown 1.5
	synth --release 6.12 --seed 3 --slowdown 15
	run report --formats csv --fail-on-regression
	assert_status 1
	[[ $(verdicts 6.12 | awk '$3 == "iops" && $NF != "regression"' | wc -l) == 0 ]]
	# A 3% drift is under the 5% floor: the floor stays 5%.
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
fl = {float(r["floor_pct"]) for r in csv.DictReader(open(sys.argv[1])) if r["better"]}
print(sorted(fl))
EOF
	assert_eq "[5.0]" "$output"
}

@test "with --by run, the drift of the host's other runs of the kernel is the floor, not the pair's own" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 10
	# Two more runs of the kernel that differ by 15% between them: the
	# history says this host drifts that much between runs.
	synth --release 6.1 --seed 3 --run-id 20260103T000000Z-c
	synth --release 6.1 --seed 4 --run-id 20260104T000000Z-d --slowdown 15
	run report --formats csv,md --by run --baseline 20260101T000000Z-a
	assert_status 0
	[[ $(count regression 20260102T000000Z-b) == 0 ]]
	grep -q 'other than the two compared' "$OUT/report.md"
	# Without the history (a and b alone) the same 10% is flagged.
	run report --formats csv --by run --runs '*-a' --runs '*-b' --fail-on-regression
	assert_status 1
	[[ $(count regression 20260102T000000Z-b) -gt 0 ]]
}

@test "a slowdown the machine probes explain is not called a regression" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	# Every metric 20% worse, and the machine itself 25% slower.
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 20 \
		--machine-slowdown 25
	run report --formats csv,md --by run --fail-on-regression
	assert_status 0
	assert_output_has "machine: 20260102T000000Z-b: probe +25.0% against 20260101T000000Z-a"
	[[ $(count regression 20260102T000000Z-b) == 0 ]]
	grep -q '^## Machine' "$OUT/report.md"
	grep -q 'the machine itself was slower than in 20260101T000000Z-a' "$OUT/report.md"
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["column"].endswith("-b") and r["better"]]
print(sorted({(r["floor_from"], r["floor_pct"]) for r in rows}))
EOF
	assert_eq "[('machine', '25')]" "$output"
	# The same data judged without the control: every metric regresses.
	run report --formats csv --by run --fail-on-regression --no-machine-floor
	assert_status 1
	[[ $(count regression 20260102T000000Z-b) -gt 0 ]]
}

@test "a slowdown bigger than the machine's own change is still flagged" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 40 --machine-slowdown 10
	run report --formats csv --fail-on-regression
	assert_status 1
	[[ $(verdicts 6.12 | awk '$3 == "iops" && $NF != "regression"' | wc -l) == 0 ]]
}

@test "a machine that did not move leaves the floor at --noise" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 8 --machine-slowdown 1
	run report --formats csv,md --fail-on-regression
	assert_status 1
	grep -q '| not moved |' "$OUT/report.md"
	[[ $(verdicts 6.12 | awk '$3 == "iops" && $NF != "regression"' | wc -l) == 0 ]]
}

@test "runs without machine probes are compared as before, with a note" {
	synth --release 6.1 --seed 1 --no-machine
	synth --release 6.12 --seed 2 --slowdown 8
	run report --formats csv,md --fail-on-regression
	assert_status 1
	grep -q 'no machine probes on one side' "$OUT/report.md"
}

@test "the report states the smallest change the samples could call, per metric and overall" {
	synth --release 6.1 --seed 1 --cv 10
	synth --release 6.12 --seed 2 --cv 10
	run report --formats csv,md
	assert_status 0
	# Welch with 5 + 5 samples at 10% CV: t(0.05, 8) * sqrt(2 * 0.1^2 / 5)
	# = 14.58% of the mean; at 1% CV the 5% floor is the bound.
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
v = {round(float(r["detectable_pct"]), 1) for r in csv.DictReader(open(sys.argv[1]))
     if r["column"] == "6.12" and r["better"] and r["n"] == "5"}
print(sorted(v))
EOF
	assert_eq "[14.6]" "$output"
	grep -q '^- Sensitivity: the smallest change these samples could call is 14.6%' "$OUT/report.md"
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2
	run report --formats csv
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
print(sorted({r["detectable_pct"] for r in csv.DictReader(open(sys.argv[1]))
              if r["column"] == "6.12" and r["better"] and r["n"] == "5"}))
EOF
	assert_eq "['5']" "$output"
}

@test "the outputs: Markdown, self-contained HTML, CSV and JUnit XML that parse" {
	requires gnuplot
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 5 --conform-fail submit.bad_fd
	run timeout -k 5 300 python3 "$REPORT" --out "$OUT"
	assert_status 0
	[[ -s $OUT/report.md && -s $OUT/report.html && -s $OUT/report.csv ]]
	# Self-contained: every src= is a data: URI, nothing is linked.
	run grep -oE '(src|href)="[^"]{0,20}' "$OUT/report.html"
	refute_line '(src|href)="[^d]' "$output"
	grep -q 'src="data:image/png;base64,' "$OUT/report.html"
	run python3 - "$OUT" <<'EOF'
import csv, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/report.csv")))
assert rows and {"column", "metric", "mean", "change_pct", "verdict"} <= set(rows[0]), rows[:1]
root = ET.parse(f"{out}/conform-junit.xml").getroot()
assert root.tag == "testsuites", root.tag
fails = [tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None]
assert fails == ["submit.bad_fd"], fails
print("ok")
EOF
	assert_status 0
	assert_eq ok "$output"
}

@test "every chart is drawn as a PNG and an SVG from synthetic data" {
	requires gnuplot
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 5 --conform-fail submit.bad_fd
	run timeout -k 5 300 python3 "$REPORT" --out "$OUT" --formats md
	assert_status 0
	local c
	for c in iops-qd-synth-engines latency-qd-synth-engines blocking-6.1 blocking-6.12 \
		batch-cost-synth-batching change conform latency-cdf; do
		[[ -s $OUT/charts/$c.png ]] || { echo "missing $c.png" >&2; false; }
		[[ -s $OUT/charts/$c.svg ]] || { echo "missing $c.svg" >&2; false; }
	done
}

@test "a chart without data is skipped with a note, not an error" {
	requires gnuplot
	synth --release 6.1 --seed 1
	run timeout -k 5 300 python3 "$REPORT" --out "$OUT" --formats md
	assert_status 0
	assert_output_line '^report: chart change: not drawn: only one kernel'
	grep -q 'change: not drawn' "$OUT/report.md"
}

@test "an empty store gives an empty report, not an error" {
	mkdir -p "$AIO_SUITE_RESULTS"
	run report --fail-on-regression
	assert_status 0
	run python3 "$REPORT" list
	assert_status 0
	assert_output_has "no runs"
}

@test "report list names every run with its kernel and whether it was emulated" {
	synth --release 6.1 --seed 1
	synth --release 5.10 --seed 2 --emulated
	run python3 "$REPORT" list
	assert_status 0
	assert_output_line '^synth +6\.1 +20260101T000000Z-synth-1 +no +.*1 conform, 1 machine, 3 scenario'
	assert_output_line '^synth +5\.10 .* TCG '
}

@test "report refuses bad arguments with one line naming the argument, status 2" {
	synth --release 6.1 --seed 1
	run python3 "$REPORT" --noise x
	assert_one_line_error report
	assert_output_has "--noise"
	run python3 "$REPORT" --noise -1
	assert_one_line_error report
	run python3 "$REPORT" --alpha 2
	assert_one_line_error report
	assert_output_has "--alpha"
	run python3 "$REPORT" --baseline 9.99
	assert_one_line_error report
	assert_output_has "'9.99'"
	run python3 "$REPORT" --by fortnight
	assert_one_line_error report
	assert_output_has "fortnight"
	run python3 "$REPORT" --formats md,pdf
	assert_one_line_error report
	assert_output_has "'pdf'"
	run python3 "$REPORT" --results "$SCRATCH/nowhere"
	assert_one_line_error report
	run python3 "$REPORT" --frobnicate
	assert_one_line_error report
	assert_output_has "--frobnicate"
	run python3 "$REPORT" frob
	assert_one_line_error report
	run python3 "$REPORT" --help
	assert_status 0
	assert_output_has "--fail-on-regression"
}

@test "a guest's aio-stress figures are shown as its own table, never compared" {
	synth --release 6.1 --seed 1
	g=$AIO_SUITE_RESULTS/guest/6.12.0-test/20260101T000000Z-qemu-tcg
	mkdir -p "$g"
	echo '{"emulated": true, "accelerator": "tcg"}' >"$g/env.json"
	# /dev/zero: reads of /dev/null return no data, which aio-stress refuses.
	"$AIO_STRESS" --quiet -o 3 -r 4k -s 1m -d 8 --json "$g/aio-stress-null-libaio-qd8.json" /dev/zero
	"$AIO_STRESS" --quiet -o 3 -r 4k -s 1m -d 8 --engine sync --json "$g/aio-stress-null-sync-qd8.json" /dev/zero
	run report --formats md,csv --fail-on-regression
	assert_status 0
	grep -q '^## Inside the guests (emulated)' "$OUT/report.md"
	grep -q 'aio-stress-null-libaio-qd8' "$OUT/report.md"
	grep -q 'aio-stress-null-sync-qd8' "$OUT/report.md"
	# and no compared metric of the guest
	[[ $(verdicts 6.12.0-test | wc -l) == 0 ]]
}
