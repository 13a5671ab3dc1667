#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the studies and make bench on a kernel without native AIO
# or without io_uring (issue 10, item 2), simulated by build/tests/nosys
# (a seccomp filter: io_setup or io_uring_setup answers ENOSYS, or EPERM
# as with kernel.io_uring_disabled).  They say so in one line, skip what
# needs the missing call with the reason, measure the rest and exit 0.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$BATS_TEST_TMPDIR/results
	NOSYS=$BUILD_DIR/tests/nosys
	[[ -x $NOSYS ]] || skip "$NOSYS is not built (make all)"
}

teardown() {
	common_teardown
}

run_dir() {
	local d
	d=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*/ 2>/dev/null | tail -1)
	echo "${d%/}"
}

NO_AIO="native AIO is not in this kernel (CONFIG_AIO=n)"

@test "without native AIO the batching and exit studies skip their AIO points with the reason and exit 0" {
	run timeout -k 5 120 "$NOSYS" io_setup -- python3 "$TOP/tools/study.py" \
		--quick --scratch "$SCRATCH" batching exit
	assert_status 0
	# said once, not once a point
	assert_output_has "study: $NO_AIO: what needs native AIO is skipped"
	[[ $(grep -c '^study: .*native AIO' <<<"$output") == 1 ]]
	refute_line '^(batching|exit): .*native AIO' "$output"
	refute_line 'failed' "$output"
	local d
	d=$(run_dir)
	json_true "$d/batching.json" \
		"d['points'] and all(p['status'] == 'skipped' and p['reason'] == '$NO_AIO' for p in d['points'])" \
		"all(x['status'] == 'skipped' and x['reason'] == '$NO_AIO' for x in d['crosscheck'])"
	# exit: every point with an AIO context skips; the control (no
	# io_setup) is still measured
	json_true "$d/exit.json" \
		"all(p['status'] == 'skipped' and p['reason'] == '$NO_AIO' for p in d['points'] if p['labels'].get('context', True))" \
		"all(p['status'] == 'ok' for p in d['points'] if p['labels'].get('context', True) is False)"
	json_true "$d/summary.json" "d['complete'] and d['unavailable'] == {'native AIO': '$NO_AIO'}"
}

@test "without io_uring (EPERM) only the io_uring points of the engines study skip" {
	requires odirect
	run timeout -k 5 180 "$NOSYS" -e EPERM io_uring_setup -- \
		python3 "$TOP/tools/study.py" --quick --scratch "$SCRATCH" engines
	assert_status 0
	assert_output_line '^study: io_uring is not available: io_uring_setup: Operation not permitted .*: what needs io_uring is skipped$'
	json_true "$(run_dir)/engines.json" \
		'all((p["status"] == "skipped") == p["labels"]["engine"].startswith("io_uring") for p in d["points"])' \
		'all(p["reason"].startswith("io_uring is not available: ") for p in d["points"] if p["status"] == "skipped")' \
		'{"libaio", "libaio-user-reap", "sync"} <= {p["labels"]["engine"] for p in d["points"] if p["status"] == "ok"}'
}

@test "without native AIO bench skips the libaio engines with the reason, runs the others and exits 0" {
	run timeout -k 5 120 "$NOSYS" io_setup -- python3 "$TOP/tools/bench.py" \
		--parts engines --engines libaio,libaio-user-reap,io_uring,sync --repeat 1 \
		--size 2m --scratch "$SCRATCH"
	assert_status 0
	assert_output_has "bench: $NO_AIO: what needs native AIO is skipped"
	json_true "$(run_dir)/summary.json" \
		"all((r['status'] == 'skipped') == r['engine'].startswith('libaio') for r in d['engine_runs'])" \
		"all(r['reason'] == '$NO_AIO' for r in d['engine_runs'] if r['status'] == 'skipped')" \
		"d['complete'] is True"
}

@test "without io_uring bench skips only the io_uring engine" {
	run timeout -k 5 120 "$NOSYS" io_uring_setup -- python3 "$TOP/tools/bench.py" \
		--parts engines --engines libaio,io_uring,sync --repeat 1 \
		--size 2m --scratch "$SCRATCH"
	assert_status 0
	assert_output_line '^bench: io_uring is not available: .*: what needs io_uring is skipped$'
	json_true "$(run_dir)/summary.json" \
		"all((r['status'] == 'skipped') == (r['engine'] == 'io_uring') for r in d['engine_runs'])"
}

@test "bench-overhead says in one line that it has nothing to measure without native AIO" {
	run timeout -k 5 60 "$NOSYS" io_setup -- python3 "$TOP/tools/bench_overhead.py" \
		--seconds 0.2 --rounds 1
	assert_status 0
	assert_eq "bench-overhead: skipped: $NO_AIO" "$output"
}

@test "a program's exit status 77 is a skip of its point with the program's reason" {
	# A stand-in aio-stress that cannot run here, as on a kernel without AIO.
	mkdir -p "$SCRATCH/build"
	local p
	for p in aio-exit aio-plug aio-vcheck; do
		ln -s "$BUILD_DIR/$p" "$SCRATCH/build/$p"
	done
	printf '#!/bin/sh\necho "aio-stress: this kernel cannot run it (a stand-in)" >&2\nexit 77\n' \
		>"$SCRATCH/build/aio-stress"
	chmod +x "$SCRATCH/build/aio-stress"
	BUILD=$SCRATCH/build run timeout -k 5 60 python3 "$TOP/tools/study.py" \
		--quick --scratch "$SCRATCH" vectored
	assert_status 0
	json_true "$(run_dir)/vectored.json" \
		'd["points"] and all(p["status"] == "skipped" and p["reason"] == "aio-stress: this kernel cannot run it (a stand-in)" for p in d["points"])'
}
