#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: normalized figures (aiosuite/report/normalize.py): a study
# sample relative to the machine probe of its round, compared normalized
# per metric family only where that reduces the spread of the baseline's
# own samples. Synthetic stores from tools/synth.py: --round-cv gives each
# round a machine factor, --control round a control probe that follows it,
# --control random one with the same spread that does not.

load helpers
load report-helpers

# report ARGS...: the report (CSV only, no charts, no history) into $OUT
report() {
	timeout -k 5 300 python3 "$REPORT" --no-charts --no-history --formats csv \
		--out "$OUT" "$@"
}

# csvq PYEXPR: print PYEXPR evaluated over R, the rows of report.csv that
# are points (not composites or synchronous states), with med() a median;
# "error: ..." when it cannot be evaluated (a column the CSV lacks)
csvq() {
	python3 - "$OUT/report.csv" "$1" <<'EOF'
import csv
import statistics
import sys

try:
    R = [r for r in csv.DictReader(open(sys.argv[1]))
         if r["source"] != "composite" and r["metric"] != "synchronous"]
    print(eval(sys.argv[2], {"R": R, "med": statistics.median}))
except Exception as e:
    print(f"error: {type(e).__name__}: {e}")
EOF
}

# pair CONTROL [SLOWDOWN [SEED]]: 6.1 and 6.2, 6 rounds of 10% machine
# noise each, 2% noise of the points' own; 6.2 SLOWDOWN% worse
pair() {
	local seed=${3:-1}
	synth --release 6.1 --seed "$seed" --random --cv 2 --repeat 6 --round-cv 10 \
		--control "$1"
	synth --release 6.2 --seed $((seed + 100)) --random --cv 2 --repeat 6 --round-cv 10 \
		--control "$1" --slowdown "${2:-0}"
}

@test "a control that follows the machine's rounds is chosen for IOPS and latency and the report says so" {
	pair round
	run report
	assert_status 0
	assert_output_has "normalization: 5 of 6 metric families compared relative to the machine"
	[[ $(csvq 'sorted({r["metric"] for r in R if r["normalized"] == "true"})') == \
		"['clat_ns_p50', 'clat_ns_p99', 'iops', 'submit_ns_per_iocb_p50']" ]]
	# CPU time does not follow the wall-time factor, ratios are not normalized
	[[ $(csvq 'sum(r["normalized"] == "true" for r in R if r["metric"] in ("cpu_ns_per_io", "inline_ratio"))') == 0 ]]
}

@test "a 10% slowdown hidden in 10% round noise is called normalized and not raw" {
	pair round 10
	run report
	assert_status 0
	[[ $(csvq 'sum(r["verdict"] == "regression" for r in R if r["metric"] == "iops")') == 10 ]]
	[[ $(csvq 'med(float(r["detectable_pct"]) for r in R if r["metric"] == "iops" and r["detectable_pct"]) < 8') == True ]]
	run report --no-normalize
	assert_status 0
	assert_output_has "normalization: off (--no-normalize)"
	[[ $(csvq 'sum(r["normalized"] == "true" for r in R)') == 0 ]]
	[[ $(csvq 'sum(r["verdict"] == "regression" for r in R if r["metric"] == "iops")') == 0 ]]
	[[ $(csvq 'med(float(r["detectable_pct"]) for r in R if r["metric"] == "iops" and r["detectable_pct"]) > 12') == True ]]
}

@test "normalized A/A pairs with 10% round noise raise no false alarm in five seeds" {
	local s
	for s in 1 2 3 4 5; do
		rm -rf "$AIO_SUITE_RESULTS"
		pair round 0 "$s"
		run report --fail-on-regression
		assert_status 0
		[[ $(csvq 'sum(r["normalized"] == "true" for r in R) > 0') == True ]]
		[[ $(csvq 'sum(r["verdict"] in ("regression", "improvement") for r in R)') == 0 ]]
	done
}

@test "a control that does not follow the rounds is not chosen" {
	pair random 5
	run report
	assert_status 0
	assert_output_has "normalization: none of 6 metric families spreads less"
	[[ $(csvq 'sum(r["normalized"] == "true" for r in R)') == 0 ]]
	[[ $(csvq 'len(R) > 0') == True ]]
}

@test "runs without control probes are compared raw" {
	synth --release 6.1 --seed 1 --repeat 6 --round-cv 10
	synth --release 6.2 --seed 2 --repeat 6 --round-cv 10
	run report
	assert_status 0
	assert_output_has "normalization: no metric with control probes"
	[[ $(csvq 'sum(r["normalized"] == "true" for r in R)') == 0 ]]
}

@test "a family is compared raw when one run has no control for its samples" {
	pair round
	edit "$(run_dir 6.2)/machine.json" 'd["probes"] = [{k: v for k, v in p.items() if k != "control"} for p in d["probes"]]'
	run report
	assert_status 0
	[[ $(csvq 'sum(r["normalized"] == "true" for r in R)') == 0 ]]
}

@test "KCIDB exports the raw figures of a family the report compares normalized" {
	pair round
	run timeout -k 5 300 python3 "$REPORT" --no-charts --no-history --formats csv,kcidb \
		--out "$OUT"
	assert_status 0
	[[ $(csvq 'any(r["normalized"] == "true" and r["metric"] == "iops" for r in R)') == True ]]
	run python3 - "$OUT/kcidb" "$(run_dir 6.1)/synth-engines.json" <<'PYEOF'
import glob
import json
import sys

raw = {(p["labels"]["engine"], p["labels"]["qd"]): p["samples"]["iops"]
       for p in json.load(open(sys.argv[2]))["points"]}
seen = 0
for f in glob.glob(sys.argv[1] + "/*-6.1-*.json"):
    for t in json.load(open(f)).get("tests", []):
        m = t.get("misc", {})
        if m.get("metric") == "iops" and m.get("point", {}).get("source") == "synth-engines":
            lab = m["point"]["labels"]
            assert m["samples"] == raw[(lab["engine"], lab["qd"])], t["path"]
            seen += 1
print(seen)
PYEOF
	assert_status 0
	[[ $output == 10 ]]
}
