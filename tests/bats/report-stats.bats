#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the report's statistics that use all the data
# (aiosuite/stats.py, report/compare.py, composite.py, synchronous.py): a
# kernel's runs as the unit, Mann-Whitney where samples are many, tail
# figures informational until enough samples back them, composites per
# scenario, engine and over all points with a bootstrap interval, the
# "became synchronous" verdict, and the measures on the committed runs of
# docs/results/runs (an A/A pair flags nothing; a copy of a run with every
# throughput sample scaled by 0.85 is called, -15%).  Synthetic stores come
# from tools/synth.py (--runs, --run-cv, --round-cv, --copy-run).

load helpers
load report-helpers

RUNS=$TOP/docs/results/runs

# report ARGS...: the report without charts, into $OUT
report() {
	timeout -k 5 300 python3 "$REPORT" --no-charts --out "$OUT" "$@"
}

# rows PYEXPR: print "column source target labels metric change verdict"
# of each row of report.csv for which PYEXPR (over the row `r`, a dict) is
# true; a line "error: ..." when PYEXPR cannot be evaluated (a column the
# CSV lacks), so that a count of rows is never 0 by mistake
rows() {
	python3 - "$OUT/report.csv" "$1" <<'EOF'
import csv
import sys

try:
    for r in csv.DictReader(open(sys.argv[1])):
        if eval(sys.argv[2], {"r": r}):
            print(r["column"], r["source"], r["target"], r["labels"], r["metric"],
                  r["change_pct"] or "-", r["verdict"])
except Exception as e:
    print(f"error: {type(e).__name__}: {e}")
EOF
}

# nrows PYEXPR: how many rows of report.csv PYEXPR is true for
nrows() {
	rows "$1" | wc -l
}

# stats_py CODE: run CODE with aiosuite.stats as `stats`; prints what it prints
stats_py() {
	python3 - "$TOP" "$1" <<'EOF'
import math
import random
import sys

sys.path.insert(0, sys.argv[1])
from aiosuite import stats

exec(sys.argv[2])
EOF
}

# store_of RUN...: a store in $AIO_SUITE_RESULTS holding the committed runs
store_of() {
	local d=$AIO_SUITE_RESULTS/vm/6.18.44-fc-v595 r
	mkdir -p "$d"
	for r in "$@"; do
		cp -r "$RUNS/$r" "$d/"
	done
}

@test "Mann-Whitney's exact two-sided p is the table's for small samples" {
	run stats_py '
for a, b, want in (([1, 2, 3], [4, 5, 6], 0.1), ([1, 2, 3, 4], [5, 6, 7, 8], 2 / 70),
                   ([1, 2, 3, 5], [4, 6, 7, 8], 4 / 70), ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 2 / 252),
                   ([5, 6, 7], [1, 2, 3], 0.1)):
    r = stats.mann_whitney(a, b)
    assert r.exact and math.isclose(r.p, want, rel_tol=1e-12), (a, b, r, want)
# Ties: the normal approximation with the tie correction
r = stats.mann_whitney([1, 1, 2, 2, 3] * 4, [2, 3, 3, 4, 4] * 4)
assert not r.exact and 0 < r.p < 0.05, r
print("ok")'
	assert_status 0
	assert_eq ok "$output"
}

@test "a tail figure is informational with few samples a side, and compared by ranks with enough" {
	run stats_py '
rng = random.Random(1)
def draws(n, f):
    return [[f * rng.gauss(100.0, 1.0) for _ in range(n)]]
# p99.9 needs 10 samples a side: 5 are too few, however big the change.
c = stats.compare_groups(draws(5, 1.0), draws(5, 1.5), "lower", metric="clat_ns_p99_9")
assert c.verdict == stats.TAIL and math.isnan(c.p), c
c = stats.compare_groups(draws(12, 1.0), draws(12, 1.5), "lower", metric="clat_ns_p99_9")
assert c.verdict == stats.REGRESSION and c.test == "mann-whitney", c
# A maximum rests on one request: never called.
c = stats.compare_groups(draws(200, 1.0), draws(200, 3.0), "lower", metric="submit_ns_max")
assert c.verdict == stats.TAIL, c
# The p99 is the reference: called like any metric.
c = stats.compare_groups(draws(3, 1.0), draws(3, 1.5), "lower", metric="clat_ns_p99")
assert c.verdict == stats.REGRESSION and c.test == "welch", c
assert [stats.tail_min_samples(m) for m in ("iops", "clat_ns_p50", "clat_ns_p99",
        "clat_ns_p99_9", "p99_99", "reap_ns_max")] == [0, 0, 0, 10, 100, sys.maxsize]
print("ok")'
	assert_status 0
	assert_eq ok "$output"
}

@test "a stall that lifts one run's p99.9 in every round is no regression with three samples" {
	synth --release 6.1 --seed 1
	synth --release 6.2 --seed 2
	# Both runs get a p99.9; the candidate's is ten times higher in every
	# sample (a few slow requests), the rest is the same.
	local f m
	for f in "$(run_dir 6.1)/synth-engines.json" "$(run_dir 6.2)/synth-engines.json"; do
		m=1
		[[ $f == */6.2/* ]] && m=10
		edit "$f" "d['metrics']['clat_ns_p99_9'] = {'unit': 'ns', 'better': 'lower'}
for p in d['points']:
    p['samples']['clat_ns_p99_9'] = [x * 5 * $m for x in p['samples']['clat_ns_p99']]"
	done
	run report --formats csv,md --fail-on-regression
	assert_status 0
	[[ $(nrows 'r["metric"] == "clat_ns_p99_9" and r["column"] == "6.2"') == 10 ]]
	[[ $(nrows 'r["metric"] == "clat_ns_p99_9" and r["verdict"] not in ("tail", "baseline")') == 0 ]]
	grep -q ' tail |' "$OUT/report.md"
}

@test "where samples are many the rank test decides, with few Welch's t" {
	synth --release 6.1 --seed 1 --repeat 8 --random --cv 5
	synth --release 6.2 --seed 2 --repeat 8 --random --cv 5 --slowdown 20
	run report --formats csv --fail-on-regression
	assert_status 1
	[[ $(nrows 'r["column"] == "6.2" and r["source"] == "synth-engines" and r["metric"] == "iops" and r["test"] != "mann-whitney"') == 0 ]]
	[[ $(nrows 'r["column"] == "6.2" and r["test"] == "mann-whitney"') -gt 0 ]]
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1 --repeat 7
	synth --release 6.2 --seed 2 --repeat 7
	run report --formats csv
	[[ $(nrows 'r["column"] == "6.2" and r["source"] == "synth-engines" and r["metric"] == "iops" and r["test"] != "welch"') == 0 ]]
}

@test "a kernel's runs are the unit: A/A with runs that drift is not flagged, pooled samples are" {
	# Four runs a kernel, each offset by a draw of 10% CV, 2% CV inside:
	# the samples of one run are not independent of each other.
	synth --release 6.1 --seed 2 --runs 4 --run-cv 10 --cv 2
	synth --release 6.2 --seed 52 --runs 4 --run-cv 10 --cv 2
	run report --formats csv --fail-on-regression --no-drift-floor
	assert_status 0
	[[ $(nrows 'r["column"] == "6.2" and r["verdict"] in ("regression", "improvement")') == 0 ]]
	[[ $(nrows 'r["column"] == "6.2" and r["better"] and r["tested_unit"] != "runs"') == 0 ]]
	# The rule before: every sample counted as independent.
	run report --formats csv --fail-on-regression --no-drift-floor --pool-runs
	assert_status 1
	[[ $(nrows 'r["column"] == "6.2" and r["verdict"] == "regression"') -gt 0 ]]
}

@test "a kernel's slowdown beyond its runs' spread is flagged with the runs as the unit" {
	synth --release 6.1 --seed 1 --runs 4 --run-cv 2 --cv 2
	synth --release 6.2 --seed 51 --runs 4 --run-cv 2 --cv 2 --slowdown 20
	run report --formats csv --fail-on-regression
	assert_status 1
	[[ $(nrows 'r["column"] == "6.2" and r["metric"] == "iops" and r["source"] != "composite" and r["verdict"] != "regression"') == 0 ]]
}

@test "a kernel of one run takes the between-run variance of the other kernel's runs" {
	synth --release 6.1 --seed 1 --runs 4 --run-cv 10 --cv 1
	synth --release 6.2 --seed 77 --cv 1 --slowdown 8
	run report --formats csv,md --fail-on-regression --no-drift-floor
	assert_status 0
	[[ $(nrows 'r["column"] == "6.2" and r["better"] and r["source"] != "composite" and r["tested_unit"] != "runs/samples+runs"') == 0 ]]
	# What it could see is what the runs' spread allows, not its own 1% CV
	# (5 samples a side at 1% CV: the 5% floor).
	[[ $(nrows 'r["column"] == "6.2" and r["metric"] == "iops" and r["source"] == "synth-engines" and float(r["detectable_pct"]) <= 10') == 0 ]]
}

@test "comparing runs, the host's other runs lend their variance; the pair alone falls back to samples" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 10
	synth --release 6.1 --seed 3 --run-id 20260103T000000Z-c
	synth --release 6.1 --seed 4 --run-id 20260104T000000Z-d --slowdown 15
	run report --formats csv,md --by run --baseline 20260101T000000Z-a --no-drift-floor
	assert_status 0
	[[ $(nrows 'r["column"].endswith("-b") and r["verdict"] == "regression"') == 0 ]]
	grep -q 'between-run variance of the host.s other runs' "$OUT/report.md"
	run report --formats csv,md --by run --runs '*-a' --runs '*-b' --no-drift-floor --fail-on-regression
	assert_status 1
	grep -q 'the samples are the unit' "$OUT/report.md"
}

@test "a broad slowdown that no single point can prove is called by the composites" {
	synth --release 6.1 --seed 1 --random --cv 10 --repeat 12
	synth --release 6.2 --seed 101 --random --cv 10 --repeat 12 --slowdown 6
	run report --formats csv,md --fail-on-regression
	assert_status 1
	refute_line '^report: regression:' "$output"
	assert_output_line '^report: composite regression: all: iops -[67]\.[0-9]% \[.*\] over 10 points on 6\.2'
	[[ $(nrows 'r["source"] != "composite" and r["verdict"] == "regression"') == 0 ]]
	[[ $(nrows 'r["source"] == "composite" and r["target"] == "scenario" and r["labels"] == "synth-engines" and r["metric"] == "iops" and r["verdict"] == "regression"') == 1 ]]
	grep -q '^## Composites' "$OUT/report.md"
	grep -q '^- Composites: ' "$OUT/report.md"
}

@test "A/A with the machine moving from round to round: no composite is flagged" {
	local s
	for s in 1 2 3 4 5; do
		rm -rf "$AIO_SUITE_RESULTS"
		synth --release 6.1 --seed "$s" --random --cv 5 --repeat 6 --round-cv 15
		synth --release 6.2 --seed $((s + 100)) --random --cv 5 --repeat 6 --round-cv 15
		run report --formats csv --fail-on-regression
		assert_status 0
		[[ $(nrows 'r["verdict"] in ("regression", "improvement")') == 0 ]]
	done
}

@test "a composite's 95% interval covers the true ratio in at least 90 of 100 seeded trials" {
	run stats_py '
cover = called = 0
P, K = 20, 6
for trial in range(100):
    rng = random.Random(trial)
    true = [math.log(0.9) + rng.uniform(-0.05, 0.05) for _ in range(P)]
    level = [rng.uniform(1e3, 1e6) for _ in range(P)]
    rb = [rng.gauss(0, 0.05) for _ in range(K)]  # the machine, round by round
    rc = [rng.gauss(0, 0.05) for _ in range(K)]
    pts = [([[level[i] * math.exp(rb[j]) * (1 + rng.gauss(0, 0.1)) for j in range(K)]],
            [[level[i] * math.exp(true[i] + rc[j]) * (1 + rng.gauss(0, 0.1)) for j in range(K)]])
           for i in range(P)]
    r = stats.composite(pts, 0.05, 400, f"coverage {trial}")
    cover += r.low_pct <= 100 * math.expm1(sum(true) / P) <= r.high_pct
    called += r.p < 0.05
print(cover, called)'
	assert_status 0
	local cover called
	read -r cover called <<<"$output"
	((cover >= 90)) || { echo "covered $cover of 100" >&2; false; }
	# Not covering by being useless: a 10% change is seen most of the time.
	((called >= 50)) || { echo "called $called of 100" >&2; false; }
}

@test "the composites' bootstrap is seeded: the same store gives the same report" {
	synth --release 6.1 --seed 1 --random --cv 10
	synth --release 6.2 --seed 2 --random --cv 10 --slowdown 4
	run report --formats csv
	assert_status 0
	cp "$OUT/report.csv" "$SCRATCH/first.csv"
	run report --formats csv
	cmp "$OUT/report.csv" "$SCRATCH/first.csv"
	[[ $(nrows 'r["source"] == "composite" and r["ci_low_pct"] and r["detectable_pct"]') -gt 10 ]]
	run report --formats csv --seed 7
	! cmp -s "$OUT/report.csv" "$SCRATCH/first.csv"
}

@test "report refuses a --resamples it cannot use; --resamples 0 makes no composites" {
	synth --release 6.1 --seed 1
	synth --release 6.2 --seed 2 --slowdown 10
	run report --formats csv --resamples 5
	assert_one_line_error report 2
	assert_output_has "--resamples"
	run report --formats csv,md --resamples 0 --fail-on-regression
	assert_status 1
	[[ $(nrows 'r["source"] == "composite"') == 0 ]]
	! grep -q '^## Composites' "$OUT/report.md"
}

@test "A/A on the committed runs: two bench runs of one kernel, nothing flagged at point or composite level" {
	store_of 20261122T035553Z-bench 20261122T040600Z-bench 20261122T031918Z-bench \
		20261122T032822Z-bench
	local a b
	for a in 035553:040600 031918:032822; do
		b=${a#*:}
		a=${a%:*}
		run report --formats csv --by run --runs "*T${a}Z-bench" --runs "*T${b}Z-bench" \
			--baseline "20261122T${a}Z-bench" --fail-on-regression
		assert_status 0
		assert_output_has "0 regressions, 0 improvements, 0 new conformance failures, composites: 0 regressions, 0 improvements"
		[[ $(nrows 'r["source"] == "composite" and r["ci_low_pct"]') -gt 50 ]]
	done
}

@test "a committed run with every throughput sample scaled by 0.85 is called against the original: -15%" {
	store_of 20261122T035553Z-bench
	run python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" \
		--copy-run "$RUNS/20261122T035553Z-bench" --scale 0.85
	assert_status 0
	assert_output_has "20261122T035553Z-bench-x0.85"
	run report --formats csv,md --by run --baseline 20261122T035553Z-bench --fail-on-regression
	assert_status 1
	assert_output_line '^report: composite regression: all: iops -15\.0% \[.*\] over [0-9]+ points on 20261122T035553Z-bench-x0\.85'
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["source"] == "composite" and r["target"] == "all" and r["metric"] == "iops":
        print(round(float(r["change_pct"]), 1), r["verdict"])
EOF
	assert_eq "-15.0 regression" "$output"
}

@test "synth --copy-run refuses what is not a run directory, and --scale alone" {
	run python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" --copy-run "$SCRATCH/none" --scale 0.85
	assert_one_line_error synth 2
	assert_output_has "--copy-run"
	run python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" --release 6.1 --scale 0.85
	assert_one_line_error synth 2
	run python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" --copy-run "$RUNS/20261122T035553Z-bench" \
		--scale 0
	assert_one_line_error synth 2
	[[ ! -e $AIO_SUITE_RESULTS/vm ]]
}

# the engines point libaio qd=16 of RELEASE's run: its inline ratios become VALUES
set_inline() {
	edit "$(run_dir "$1")/synth-engines.json" "
for p in d['points']:
    if p['labels'] == {'engine': 'libaio', 'qd': 16}:
        p['samples']['inline_ratio'] = [$2]"
}

@test "a point that turns synchronous is a regression of its own, whatever its IOPS did" {
	synth --release 6.1 --seed 1
	synth --release 6.2 --seed 2
	set_inline 6.2 "0.99, 0.98, 1.0, 0.99, 0.97"
	run report --formats csv,md,html --fail-on-regression
	assert_status 1
	assert_output_line '^report: became synchronous: synth-engines ext4 engine=libaio qd=16 on 6\.2 \(inline 0\.10 -> inline 0\.99\)'
	refute_line '^report: regression:' "$output"
	[[ $(nrows 'r["metric"] == "synchronous" and r["column"] == "6.2" and r["labels"] == "engine=libaio;qd=16" and r["verdict"] == "regression"') == 1 ]]
	grep -q '^## Synchronous points' "$OUT/report.md"
	grep -q 'became synchronous' "$OUT/report.html"
	# The other way round it is an improvement, and passes.
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1
	synth --release 6.2 --seed 2
	set_inline 6.1 "0.99, 0.98, 1.0, 0.99, 0.97"
	run report --formats csv --fail-on-regression
	assert_status 0
	[[ $(nrows 'r["metric"] == "synchronous" and r["verdict"] == "improvement"') == 1 ]]
}

@test "a point near the threshold, or with fewer than 3 samples, does not turn on noise" {
	synth --release 6.1 --seed 1
	synth --release 6.2 --seed 2
	set_inline 6.1 "0.95, 0.93, 0.94, 0.92, 0.96"
	set_inline 6.2 "0.97, 0.94, 0.95, 0.96, 0.96"
	run report --formats csv,md --fail-on-regression
	assert_status 0
	grep -q 'turned, not called: not significant' "$OUT/report.md"
	rm -rf "$AIO_SUITE_RESULTS"
	synth --release 6.1 --seed 1 --repeat 2
	synth --release 6.2 --seed 2 --repeat 2
	set_inline 6.2 "0.99, 1.0"
	run report --formats csv --fail-on-regression
	assert_status 0
}

# fio_run RELEASE LEVEL: three repeats of a fio libaio job at iodepth 16 in
# RELEASE's run whose iodepth_level is LEVEL (a JSON object)
fio_run() {
	local d i
	d=$(run_dir "$1")
	for i in 0 1 2; do
		python3 - "$d/fio-randread-r$i.json" "$2" "$i" <<'EOF'
import json
import sys

s = {"total_ios": 100000, "io_bytes": 409600000, "iops": 50000.0 + 100 * int(sys.argv[3]),
     "bw_bytes": 204800000, "runtime": 2000,
     "clat_ns": {"percentile": {"50.000000": 300000, "99.000000": 900000}},
     "lat_ns": {"mean": 320000.0}, "slat_ns": {"mean": 2000.0}}
doc = {"fio version": "fio-3.33", "global options": {},
       "jobs": [{"jobname": "randread", "error": 0,
                 "job options": {"ioengine": "libaio", "iodepth": "16", "rw": "randread",
                                 "bs": "4k", "filename": "/synthetic/f"},
                 "read": s, "write": {"total_ios": 0, "io_bytes": 0},
                 "usr_cpu": 5.0, "sys_cpu": 20.0, "job_runtime": 2000,
                 "iodepth_level": json.loads(sys.argv[2])}]}
open(sys.argv[1], "w").write(json.dumps(doc))
EOF
	done
}

@test "a fio job whose achieved depth fell below half of the asked became synchronous" {
	synth --release 6.1 --seed 1
	synth --release 6.2 --seed 2
	fio_run 6.1 '{"1": 0.1, "2": 0.1, "4": 0.2, "8": 0.4, "16": 99.2, "32": 0, ">=64": 0}'
	fio_run 6.2 '{"1": 100.0, "2": 0, "4": 0, "8": 0, "16": 0, "32": 0, ">=64": 0}'
	run report --formats csv,md --fail-on-regression
	assert_status 1
	assert_output_line '^report: became synchronous: fio f .*depth=16.* on 6\.2 \(depth 15\.9 of 16 -> depth 1\.0 of 16\)'
}
