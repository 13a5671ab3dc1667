#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# make bench's driver (tools/bench.py) and the overhead benchmark.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$SCRATCH/results
}

teardown() {
	common_teardown
}

run_dir() {
	ls -d "$AIO_SUITE_RESULTS"/*/*/*-bench* | head -1
}

@test "bench rejects an unknown part with one line and status 2" {
	run python3 "$TOP/tools/bench.py" --parts conform,nonsense
	assert_one_line_error bench
	assert_output_has "'nonsense'"
}

@test "bench rejects an unknown engine with one line and status 2" {
	run python3 "$TOP/tools/bench.py" --engines libaio,warp
	assert_one_line_error bench
	assert_output_has "'warp'"
}

@test "bench runs the engine stages with repeats into one run directory" {
	run python3 "$TOP/tools/bench.py" --parts engines --engines sync,libaio \
		--repeat 2 --size 2m --scratch "$SCRATCH"
	assert_status 0
	d=$(run_dir)
	[ -f "$d/env.json" ]
	[ -f "$d/aio-stress-file-sync-r0.json" ]
	[ -f "$d/aio-stress-file-sync-r1.json" ]
	[ -f "$d/aio-stress-file-libaio-r1.json" ]
	json_true "$d/summary.json" "len([r for r in d['engine_runs'] if r['status'] == 'ok']) >= 4"
	json_true "$d/aio-stress-file-libaio-r0.json" "[s['name'] for s in d['stages']] == ['write', 'read', 'random write', 'random read']"
	# Rounds: every engine once in round 1 before any runs a second time;
	# the machine probed at the start of each round and at the end.
	json_true "$d/summary.json" "[r['repeat'] for r in d['engine_runs']] == sorted(r['repeat'] for r in d['engine_runs'])"
	json_true "$d/machine.json" "[p['label'] for p in d['probes']] == ['bench round 1 start', 'bench round 2 start', 'bench end']" \
		"[p.get('round') for p in d['probes']] == [1, 2, None]"
	# The report reads each engine sample with its round's probe as its
	# control (as a study point's), so that normalization can use it.
	run env PYTHONPATH="$TOP" python3 -c 'import sys
from pathlib import Path
from aiosuite.report import collect
r = collect.load_run(Path(sys.argv[1]), "h", "k")
pts = [p for p in r.points.values() if p.source == "aio-stress"]
print(len(pts) >= 8, sorted({tuple(p.control) for p in pts}))' "$d"
	assert_status 0
	[ "$output" = "True [(0, 1)]" ]
	# the scratch directory bench made is gone
	[ -z "$(ls -A "$SCRATCH" | grep -v '^results$')" ]
}

@test "bench records the conformance run as KTAP and JSON" {
	run python3 "$TOP/tools/bench.py" --parts conform --scratch "$SCRATCH"
	assert_status 0
	d=$(run_dir)
	grep -q '^KTAP version 1' "$d/conform.ktap"
	json_true "$d/conform.json" "len(d['results']) > 60"
}

@test "bench-overhead prints the ratios against the bare loop and writes them" {
	run python3 "$TOP/tools/bench_overhead.py" --seconds 0.3 --rounds 1
	assert_status 0
	assert_output_has "aio-stress / bare loop:"
	f=$(ls "$AIO_SUITE_RESULTS"/*/*/*-overhead/overhead.json)
	json_true "$f" "d['ratio_vs_bare'] > 0 and d['iops_median']['aio-stress'] > 0"
}

@test "bench-overhead rejects --rounds 0 with status 2" {
	run python3 "$TOP/tools/bench_overhead.py" --rounds 0
	assert_one_line_error bench-overhead
}

@test "machine.py probes the machine into machine.json and rejects a bad argument with one line" {
	run python3 "$TOP/tools/machine.py" "$SCRATCH"
	assert_status 0
	run python3 "$TOP/tools/machine.py" "$SCRATCH"
	assert_status 0
	json_true "$SCRATCH/machine.json" \
		'd["schema"] == "aio-suite-machine/2" and len(d["probes"]) == 2 and all(p["cpu_loop_ns"] > 0 and len(p["cpu_loop_ns_samples"]) == 7 and p["control"]["source"] for p in d["probes"]) and "steal_pct_since_previous" in d["probes"][1]'
	run python3 "$TOP/tools/machine.py" --bogus
	assert_one_line_error machine
	assert_output_has "'--bogus'"
	run python3 "$TOP/tools/machine.py" "$SCRATCH/none"
	assert_one_line_error machine
	assert_output_has "'$SCRATCH/none'"
}

@test "SIGINT during a study round stops bench: no later round, exit 130, no loop device, mount or scratch left" {
	requires root loop
	local pid
	python3 "$TOP/tools/bench.py" --quick --parts study --repeat 2 \
		--scratch "$SCRATCH" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	interrupt_on_loop "$pid" "$SCRATCH" bench "$BATS_TEST_TMPDIR/out"
	run wait "$pid"
	assert_status 130
	run cat "$BATS_TEST_TMPDIR/out"
	refute_line "bench: study round 2: " "$output"
	refute_line "$SCRATCH/" "$(losetup --list --noheadings -O NAME,BACK-FILE)"
	refute_line " $SCRATCH/" "$(cat /proc/self/mounts)"
	[[ -z $(ls -A "$SCRATCH" | grep -v '^results$') ]] ||
		{ echo "left in $SCRATCH: $(ls -A "$SCRATCH")" >&2; return 1; }
}
