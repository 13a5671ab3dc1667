#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: --repeat auto (aiosuite/study/auto.py): tools/study.py and
# tools/bench.py add rounds until every point's detectable change is at
# most --target-pct or the time budget (--budget-s) is spent, and record
# what was reached and why they stopped in summary.json ("auto"); the
# samples' length (--sample-scale).

load helpers

setup() {
	common_setup
	requires python3
	export AIO_SUITE_RESULTS=$SCRATCH/results
}

teardown() {
	common_teardown
}

# run_dir: the run directory the last study or bench wrote
run_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*/ 2>/dev/null | tail -1)
	echo "${d%/}"
}

@test "study --repeat auto with a tiny budget stops after one round and records why in summary.json" {
	run timeout -k 10 240 python3 "$TOP/tools/study.py" --scratch "$SCRATCH" --quick \
		--repeat auto --budget-s 0.001 batching
	assert_status 0
	assert_output_has "stop (budget)"
	local s
	s=$(run_dir)/summary.json
	json_true "$s" 'd["complete"] is True and d["repeat"] == "auto"'
	json_true "$s" 'd["auto"]["stopped"] == "budget" and d["auto"]["rounds"] == 1 and d["auto"]["budget_s"] == 0.001 and d["auto"]["target_pct"] == 5'
	# every point measured in the round is named, with too few samples to tell
	json_true "$s" 'd["auto"]["points_total"] > 0 and d["auto"]["points_reached"] == 0 and all(p["samples"] == 1 and p["detectable_pct"] is None and p["note"] for p in d["auto"]["per_point"])'
	json_true "$(run_dir)/batching.json" 'd["params"]["rounds"] == 3 and d["params"]["rounds_measured"] == 1 and all(len(v) == 1 for p in d["points"] if p["status"] == "ok" for v in p["samples"].values())'
}

@test "bench --repeat auto with a tiny budget stops after one round and records why in summary.json" {
	run timeout -k 10 240 python3 "$TOP/tools/bench.py" --parts engines --engines sync \
		--size 1m --repeat auto --budget-s 0.001 --scratch "$SCRATCH"
	assert_status 0
	assert_output_has "bench: auto: round 1: "
	local s
	s=$(run_dir)/summary.json
	json_true "$s" 'd["complete"] is True and d["repeat"] == "auto" and d["auto"]["stopped"] == "budget" and d["auto"]["rounds"] == 1'
	json_true "$s" 'len({r["repeat"] for r in d["engine_runs"]}) == 1'
}

@test "the auto rule stops at the target once every point has three samples within it" {
	run python3 - "$TOP" "$SCRATCH" <<'EOF'
import json
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from aiosuite.study import auto

run = Path(sys.argv[2])
a = auto.Auto(target_pct=5.0, budget_s=3600.0)
steady = [1000.0, 1001.0, 999.0, 1000.5]
for n in range(1, 5):
    pts = [{"target": "t", "labels": {"qd": 1}, "status": "ok", "reason": "",
            "samples": {"iops": steady[:n]}, "raw": []},
           {"target": "t", "labels": {"qd": 2}, "status": "ok", "reason": "",
            "samples": {"iops": steady[:n]}, "raw": []}]
    doc = {"schema": "aio-suite-scenario/1", "scenario": "s", "params": {},
           "metrics": {"iops": {"unit": "IO/s", "better": "higher"}}, "points": pts}
    (run / "s.json").write_text(json.dumps(doc))
    stop = a.done_round(*auto.scenario_points(run), 1.0)
    print(n, stop, a.stopped, a.summary()["points_reached"])
    if stop:
        break
EOF
	assert_status 0
	# fewer than 3 samples: go on; at 3, both points within 5%: stop
	[[ ${lines[0]} == "1 False None 0" ]]
	[[ ${lines[1]} == "2 False None 0" ]]
	[[ ${lines[2]} == "3 True target 2" ]]
	[[ ${#lines[@]} == 3 ]]
}

@test "study and bench refuse a bad --repeat, --target-pct, --budget-s or --sample-scale with one line and status 2" {
	local tool arg
	for tool in study bench; do
		for arg in "--repeat often" "--repeat 0" "--target-pct 0" "--target-pct nan" \
			"--budget-s -1" "--budget-s inf" "--sample-scale 0" "--sample-scale 9"; do
			# shellcheck disable=SC2086
			if [[ $tool == study ]]; then
				run timeout 20 python3 "$TOP/tools/study.py" $arg --scratch "$SCRATCH" batching
			else
				run timeout 20 python3 "$TOP/tools/bench.py" $arg --scratch "$SCRATCH"
			fi
			assert_status 2
			assert_one_line_error "$tool"
		done
	done
	run timeout 20 python3 "$TOP/tools/study.py" --repeat auto --round 1 batching
	assert_status 2
	assert_output_has "--round needs --repeat N, not auto"
}

@test "a study sample is --sample-scale of the scenario's own run time, recorded in its parameters" {
	run timeout -k 10 240 python3 "$TOP/tools/study.py" --scratch "$SCRATCH" --quick \
		--sample-scale 0.5 batching
	assert_status 0
	json_true "$(run_dir)/batching.json" 'd["params"]["sample_scale"] == 0.5 and d["params"]["runtime_s"] == 0.075'
}
