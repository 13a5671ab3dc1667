#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tools/study.py: the scenario studies (issue 4).  Every scenario runs in
# --quick mode into an isolated results root (AIO_SUITE_RESULTS) with its
# scratch files under the test's own directory.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$BATS_TEST_TMPDIR/results
	STUDY_TIMEOUT=${STUDY_TIMEOUT:-240}
}

teardown() {
	common_teardown
	if [[ -n ${SHARED_TMP:-} && -d $SHARED_TMP ]]; then
		rm -rf "$SHARED_TMP"
	fi
}

# study ARGS...: tools/study.py under a timeout, scratch files in $SCRATCH.
study() {
	timeout -k 10 "$STUDY_TIMEOUT" python3 "$TOP/tools/study.py" \
		--scratch "$SCRATCH" "$@"
}

# The run directory the last study wrote.
run_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*/ 2>/dev/null | tail -1)
	echo "${d%/}"
}

# check_scenario FILE NAME KEY...: FILE is aio-suite-scenario/1 for NAME;
# no point failed; every ok point has samples for each KEY, each sample
# naming the machine probe of its round; every point says whether it is
# CPU-bound; every chart, table and raw file it names exists and is not
# empty; every fio run it names parsed.  Prints what is wrong.
check_scenario() {
	python3 - "$@" <<'EOF'
import json
import os
import sys

path, name, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
d = json.load(open(path))
top = os.path.dirname(path)
bad = []
for k in ("schema", "scenario", "seed", "question", "params", "metrics", "points", "charts"):
    if k not in d:
        bad.append(f"missing key {k}")
if d.get("schema") != "aio-suite-scenario/1":
    bad.append(f"schema {d.get('schema')}")
if d.get("scenario") != name:
    bad.append(f"scenario {d.get('scenario')}")
if not d.get("points"):
    bad.append("no points")
for p in d.get("points", []):
    where = f"{p.get('target')} {p.get('labels')}"
    if p.get("status") not in ("ok", "skipped", "failed", "hang"):
        bad.append(f"{where}: status {p.get('status')}")
    if p.get("status") == "failed":
        bad.append(f"{where}: failed: {p.get('reason')}")
    if p.get("status") == "skipped" and not p.get("reason"):
        bad.append(f"{where}: skipped without a reason")
    if p.get("status") == "ok":
        for k in keys:
            if not p["samples"].get(k):
                bad.append(f"{where}: no samples of {k}")
        # Each sample names the machine probe of its round (control_probe).
        lens = {len(v) for v in p["samples"].values()}
        if lens != {len(p.get("control_probe", []))}:
            bad.append(f"{where}: control_probe {p.get('control_probe')} for {lens} samples")
    if not isinstance(p.get("cpu_bound"), bool):
        bad.append(f"{where}: cpu_bound is {p.get('cpu_bound')!r}")
        for r in p.get("raw", []):
            if not os.path.getsize(os.path.join(top, r)):
                bad.append(f"{where}: raw file {r} is empty")
for c in d.get("charts", []) + d.get("tables", []):
    f = os.path.join(top, c)
    if not os.path.exists(f) or os.path.getsize(f) == 0:
        bad.append(f"{c} is missing or empty")
    elif c.endswith(".png") and open(f, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        bad.append(f"{c} is not a PNG")
if any(p.get("status") == "ok" for p in d.get("points", [])):
    if not d.get("charts"):
        bad.append("points were measured but no chart was drawn")
    if not d.get("crosscheck"):
        bad.append("points were measured but the fio job did not run")
for x in d.get("crosscheck", []):
    if x.get("status") == "skipped":
        continue
    if x.get("status") == "failed":
        bad.append(f"fio {x.get('what')}: {x.get('reason')}")
    elif not x.get("fio_raw"):
        bad.append(f"fio {x.get('what')}: no fio JSON stored")
    for f in x.get("fio_raw", []) + x.get("aio_stress_raw", []):
        json.load(open(os.path.join(top, f)))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# run_scenario NAME KEY...: run NAME in --quick mode and check its JSON.
run_scenario() {
	local name=$1 dir
	shift
	run study --quick "$name"
	assert_status 0
	dir=$(run_dir)
	[[ -f $dir/env.json ]] || { echo "no env.json in $dir" >&2; return 1; }
	check_scenario "$dir/$name.json" "$name" "$@"
}

@test "study --help names every scenario and exits 0" {
	run python3 "$TOP/tools/study.py" --help
	assert_status 0
	for s in blocking batching plug exit vectored engines loop buffered; do
		assert_output_has "  $s "
	done
}

@test "study rejects an unknown scenario with one line and exit status 2" {
	run python3 "$TOP/tools/study.py" nosuch
	assert_one_line_error study 2
	assert_output_has "unknown scenario 'nosuch' (blocking, batching, plug, exit, vectored, engines, loop, buffered, all)"
}

@test "study rejects --repeat 0 with one line and exit status 2" {
	run python3 "$TOP/tools/study.py" --repeat 0 batching
	assert_one_line_error study 2
}

@test "study rejects an unknown option with one line and exit status 2" {
	run python3 "$TOP/tools/study.py" --bogus
	assert_one_line_error study 2
}

@test "every scenario has a job file that names it and its seed and that fio parses" {
	requires fio
	local s job line
	for s in blocking batching plug exit vectored engines loop buffered; do
		job=$TOP/jobs/$s.fio
		[[ -f $job ]] || { echo "no $job" >&2; return 1; }
		line=$(grep -m1 -v '^; SPDX' "$job")
		[[ $line == "; Scenario $s, seed "* ]] ||
			{ echo "$job: first comment is '$line'" >&2; return 1; }
		# As it is, with nothing set in the environment (tests/bats/jobs.bats).
		run env -i PATH="$PATH" fio --parse-only "$job"
		assert_status 0
	done
}

@test "the blocking study writes its matrix JSON, a Markdown table and a heatmap" {
	requires gnuplot
	run_scenario blocking inline_ratio submit_ns_per_iocb_p50 \
		submit_ns_per_iocb_p99 submit_ns_per_iocb_max submit_wall_fraction \
		cpu_ns_per_io
	assert_output_line '^\| target \| mode \| op \| file state \|'
	[[ -s $(run_dir)/blocking.md && -s $(run_dir)/blocking.png ]]
	# The points on tmpfs, and only they, are CPU-bound.
	json_true "$(run_dir)/blocking.json" \
		'all(p["cpu_bound"] == (d["targets"].get(p["target"], {}).get("fstype") == "tmpfs") for p in d["points"])'
}

@test "the batching study measures every batch size on /dev/null and a file" {
	requires gnuplot fio
	run_scenario batching submit_ns_per_iocb_p50 submit_ns_per_call_p50 \
		cpu_ns_per_io iops
	json_true "$(run_dir)/batching.json" \
		'sorted({p["labels"]["batch"] for p in d["points"] if p["status"] == "ok"}) == [1, 2, 3, 4, 8, 16, 32, 64, 128]' \
		'all(p["cpu_bound"] == (p["labels"]["file"] == "/dev/null" or d["targets"]["scratch"]["fstype"] == "tmpfs") for p in d["points"])'
}

@test "the plug study measures first-iocb latency and merges on a loop device" {
	requires root loop gnuplot fio
	run_scenario plug first_iocb_ns_p50 latency_ns_mean merges_per_request \
		submit_ns_per_call_mean
	json_true "$(run_dir)/plug.json" 'all(p["status"] == "ok" for p in d["points"])'
}

@test "the exit study reaps every child, with and without AIO in flight" {
	requires odirect gnuplot fio
	run_scenario exit reap_ns_p50 reap_ns_max submitted
	json_true "$(run_dir)/exit.json" \
		'any(p["status"] == "ok" and p["labels"]["requested"] == 128 for p in d["points"])'
}

@test "the vectored study verifies its data and prints aio-stress's and fio's IOPS with their ratio" {
	requires odirect gnuplot fio
	run_scenario vectored write_cpu_ns_per_kib read_cpu_ns_per_kib \
		write_bytes_per_s read_bytes_per_s verified_blocks cpu_ns_per_io
	json_true "$(run_dir)/vectored.json" \
		'all(p["samples"]["verify_failures"] == [0.0] and p["samples"]["verified_blocks"][0] > 0 for p in d["points"] if p["status"] == "ok")'
	# The cross-check: a file, O_DIRECT, QD 8.
	assert_output_line 'cross-check .*: aio-stress [0-9]+ IOPS, fio [0-9]+ IOPS, ratio [0-9.]+: (agree|DISAGREE)'
	json_true "$(run_dir)/vectored.json" \
		'd["crosscheck"][0]["device_bound"] and d["crosscheck"][0]["status"] in ("agree", "disagree") and d["crosscheck"][0]["agree"] == (abs(d["crosscheck"][0]["ratio"] - 1) <= 0.10)'
}

@test "the engines study compares libaio, io_uring and sync and skips what the target lacks with a reason" {
	requires odirect io_uring gnuplot fio
	run_scenario engines iops iops_per_cpu_s clat_ns_p50 clat_ns_p99 cpu_ns_per_io
	json_true "$(run_dir)/engines.json" \
		'{"libaio", "libaio-user-reap", "io_uring", "sync"} <= {p["labels"]["engine"] for p in d["points"] if p["status"] == "ok"}'
	# Every aio-stress file of the run belongs to a point, skipped ones
	# included: the report never reads one as a point of its own.
	run python3 - "$(run_dir)" <<'EOF'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
listed = {r for p in json.load(open(d / "engines.json"))["points"] for r in p["raw"]}
stray = sorted(f.name for f in d.glob("aio-stress-engines-*.json")
               if f.name not in listed and "-xcheck-" not in f.name)
print(stray)
EOF
	assert_eq "[]" "$output"
}

@test "the loop study finds every block written through loop in the backing file" {
	requires root loop gnuplot fio
	run_scenario loop write_bytes_per_s read_bytes_per_s cached_growth_bytes \
		backing_blocks_ok write_cpu_ns_per_io read_cpu_ns_per_io
	json_true "$(run_dir)/loop.json" \
		'[p["labels"]["direct_io"] for p in d["points"] if p["status"] == "ok" and p["samples"]["backing_blocks_bad"] == [0.0]] == ["off", "on"]'
	# loop_dio is what aio-stress read back from the loop device's sysfs
	# (targets[].loop_direct_io), never just what was asked.
	local raw
	raw=$(grep -l '"loop_direct_io": true' "$(run_dir)"/aio-stress-loop-*.json 2>/dev/null | head -1)
	[[ -n $raw ]] || skip "no aio-stress run of the loop study read back direct I/O on"
	json_true "$(run_dir)/loop.json" \
		'all(p["samples"]["loop_dio"] == [1.0 if p["labels"]["direct_io"] == "on" else 0.0] for p in d["points"] if p["status"] == "ok")'
}

@test "the buffered study records every repeat as a sample" {
	requires gnuplot fio
	run study --quick --repeat 2 buffered
	assert_status 0
	check_scenario "$(run_dir)/buffered.json" buffered \
		submit_ns_per_iocb_p50 submit_ns_per_iocb_p99 inline_ratio cpu_ns_per_io
	json_true "$(run_dir)/buffered.json" \
		'all(len(v) == 2 for p in d["points"] if p["status"] == "ok" for v in p["samples"].values()) and d["params"]["repeat"] == 2'
}

@test "study --repeat 2 measures in rounds: every point gets a sample per round and the machine is probed before each scenario of each" {
	requires gnuplot fio
	run study --quick --repeat 2 batching vectored
	assert_status 0
	assert_output_has "batching (seed 004), round 2 of 2"
	local d
	d=$(run_dir)
	for s in batching vectored; do
		# Two samples per ok point, from two distinct raw files per point.
		json_true "$d/$s.json" \
			'all(len(v) == 2 for p in d["points"] if p["status"] == "ok" for v in p["samples"].values())'
		json_true "$d/$s.json" \
			'all(len(set(p["raw"])) == len(p["raw"]) >= 2 for p in d["points"] if p["status"] == "ok")'
		json_true "$d/$s.json" 'd["params"]["rounds"] == 2 and d["params"]["repeat"] == 2'
	done
	# One cross-check entry whose turns (2 with --quick) are spread over
	# the rounds, one aio-stress and one fio run per round.
	json_true "$d/batching.json" \
		'len(d["crosscheck"]) == 1 and [r[-6:] for r in d["crosscheck"][0]["aio_stress_raw"]] == ["0.json", "1.json"] and len(d["crosscheck"][0]["fio_samples"]) == 2'
	json_true "$d/machine.json" \
		'[p["label"] for p in d["probes"]] == ["study round 1 batching", "study round 1 vectored", "study round 2 batching", "study round 2 vectored", "study round 2 end"] and all(p["cpu_loop_ns"] > 0 for p in d["probes"])' \
		'[p["round"] for p in d["probes"]] == [1, 1, 2, 2, 2] and [p["index"] for p in d["probes"]] == [0, 1, 2, 3, 4]'
	# Each sample of a point names the probe taken before its scenario in
	# its round: batching's probes 0 and 2, vectored's 1 and 3.
	json_true "$d/batching.json" \
		'all(p["control_probe"] == [0, 2] for p in d["points"] if p["status"] == "ok")'
	json_true "$d/vectored.json" \
		'all(p["control_probe"] == [1, 3] for p in d["points"] if p["status"] == "ok")'
}

@test "study --round adds one round to the scenarios already in the run directory" {
	requires gnuplot
	export AIO_SUITE_RUN_DIR=$AIO_SUITE_RESULTS/h/k/run
	run study --quick --repeat 2 --round 1 buffered
	assert_status 0
	json_true "$AIO_SUITE_RUN_DIR/buffered.json" \
		'all(len(v) == 1 for p in d["points"] if p["status"] == "ok" for v in p["samples"].values())'
	run study --quick --repeat 2 --round 2 buffered
	assert_status 0
	json_true "$AIO_SUITE_RUN_DIR/buffered.json" \
		'any(p["status"] == "ok" for p in d["points"]) and all(len(v) == 2 for p in d["points"] if p["status"] == "ok" for v in p["samples"].values())'
}

@test "study rejects --round outside 1..--repeat, and --round without a run directory, with status 2" {
	export AIO_SUITE_RUN_DIR=$AIO_SUITE_RESULTS/h/k/run
	run study --repeat 2 --round 3 buffered
	assert_one_line_error study
	assert_output_has "--round must be 1 to --repeat (2), not 3"
	unset AIO_SUITE_RUN_DIR
	run study --repeat 2 --round 1 buffered
	assert_one_line_error study
	assert_output_has "AIO_SUITE_RUN_DIR"
}

@test "as uid 65534 the root-only scenarios are skipped with the reason, not failed" {
	requires nonroot
	SHARED_TMP=$(mktemp -d /tmp/aio-study-nonroot.XXXXXX)
	chmod 1777 "$SHARED_TMP"
	mkdir -m 1777 "$SHARED_TMP/scratch" "$SHARED_TMP/results"
	run timeout -k 10 "$STUDY_TIMEOUT" setpriv --reuid=65534 --regid=65534 \
		--clear-groups env AIO_SUITE_RESULTS="$SHARED_TMP/results" \
		/usr/bin/python3 "$TOP/tools/study.py" --quick \
		--scratch "$SHARED_TMP/scratch" plug loop exit
	assert_status 0
	local dir
	dir=$(ls -d "$SHARED_TMP"/results/*/*/*/ | tail -1)
	for s in plug loop; do
		json_true "$dir/$s.json" \
			'd["points"] and all(p["status"] == "skipped" and "root" in p["reason"] for p in d["points"])'
	done
	# exit: the file target is measured, the loop device is skipped.
	json_true "$dir/exit.json" \
		'all((p["status"] == "skipped" and "root" in p["reason"]) == (p["target"] == "loop-dio") for p in d["points"])'
	json_true "$dir/exit.json" 'any(p["status"] == "ok" for p in d["points"])'
}

@test "SIGINT during a study leaves no loop device, mount or scratch file behind" {
	requires root loop
	local pid
	# python3 itself is the background job, so SIGINT goes to it.
	python3 "$TOP/tools/study.py" --scratch "$SCRATCH" --quick plug exit loop \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	# Interrupt as soon as a loop device is over one of the study's files.
	interrupt_on_loop "$pid" "$SCRATCH" study "$BATS_TEST_TMPDIR/out"
	run wait "$pid"
	assert_status 130
	refute_line "$SCRATCH/" "$(losetup --list --noheadings -O NAME,BACK-FILE)"
	refute_line " $SCRATCH/" "$(cat /proc/self/mounts)"
	if compgen -G "$SCRATCH/.scratch-study-*" >/dev/null; then
		echo "scratch directory left behind: $(ls -d "$SCRATCH"/.scratch-study-*)" >&2
		return 1
	fi
}

@test "aio-exit, aio-plug and aio-vcheck reject an unknown option with one line and exit status 2" {
	local p
	for p in aio-exit aio-plug aio-vcheck; do
		run "$BUILD_DIR/$p" -x
		assert_one_line_error "$p" 2
	done
}

@test "aio-exit, aio-plug and aio-vcheck say which option lacks its argument" {
	local p opt
	for p in aio-exit:-n aio-plug:-n aio-vcheck:-b; do
		opt=${p#*:}
		p=${p%%:*}
		run "$BUILD_DIR/$p" "$opt"
		assert_one_line_error "$p" 2
		assert_output_has "option '$opt' needs an argument"
	done
}

@test "aio-exit reaps children killed with reads in flight and reports no hang" {
	requires odirect
	aio_stress --quiet -o 0 -s 4m -r 64k "$SCRATCH/f"
	run timeout -k 5 60 "$BUILD_DIR/aio-exit" -m kill -n 16 -q 8 -t 2 -w 10 "$SCRATCH/f"
	assert_status 0
	echo "$output" >"$BATS_TEST_TMPDIR/exit.json"
	json_true "$BATS_TEST_TMPDIR/exit.json" \
		'd["hangs"] == 0 and d["ok"] == 2 and all(t["submitted"] == 16 for t in d["trials"])'
}

@test "aio-vcheck finds the block zeroed after aio-stress --verify wrote the file" {
	aio_stress --quiet -o 0 --verify -s 1m -r 4k "$SCRATCH/f"
	run "$BUILD_DIR/aio-vcheck" "$SCRATCH/f"
	assert_status 0
	dd if=/dev/zero of="$SCRATCH/f" bs=4096 seek=3 count=1 conv=notrunc status=none
	run "$BUILD_DIR/aio-vcheck" "$SCRATCH/f"
	assert_status 1
	echo "$output" >"$BATS_TEST_TMPDIR/v.json"
	json_true "$BATS_TEST_TMPDIR/v.json" \
		'd["first_bad"] == {"offset": 12288, "kind": "zero"} and d["counts"]["zero"] == 1'
}

@test "a study chart in a directory whose name holds gnuplot code is drawn without running it" {
	requires gnuplot
	# The run directory holds the host name and kernel release, which the
	# suite does not choose: a quote in one must not end gnuplot's string.
	local dir=$BATS_TEST_TMPDIR/"h';system(\"touch $BATS_TEST_TMPDIR/X\");x='\`touch $BATS_TEST_TMPDIR/Y\`"
	mkdir -p "$dir"
	printf '"file"\n1 10 10 100 5\n2 9 18 90 6\n4 8 32 80 7\n' >"$dir/batching.dat"
	run python3 -c '
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from aiosuite.study import plot
d = Path(sys.argv[2])
print(plot.draw("batching", d / "batching.dat", d / "batching.png") or "drawn")
' "$TOP" "$dir"
	assert_status 0
	assert_output_has drawn
	[[ ! -e $BATS_TEST_TMPDIR/X && ! -e $BATS_TEST_TMPDIR/Y ]]
	[[ -s $dir/batching.png ]]
}
