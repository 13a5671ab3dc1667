#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the in-run control: build/aio-machine (src/tools/aio-machine.c)
# prints aio-machine/1 JSON whose timings are positive and grow with the
# work asked (a check of the probe, not a verdict on the kernel: generous
# bounds, the least of several timings), refuses bad usage with one line;
# tools/machine.py records it as the "control" of every probe of
# aio-suite-machine/2 and falls back to its Python loop, saying why, when
# the C probe is not built or fails; the report's schema check reads both
# versions of machine.json.  (Its --help and an unknown option: probes.bats,
# with every probe.)

load helpers

setup() {
	common_setup
	AIO_MACHINE=$BUILD_DIR/aio-machine
	[[ -x $AIO_MACHINE ]] || skip "build/aio-machine is not built (run make)"
}

teardown() {
	common_teardown
}

# machine ARGS...: aio-machine under a timeout, its JSON in $SCRATCH/m.json
machine() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_MACHINE" "$@" >"$SCRATCH/m.json"
}

KINDS='("user_loop", "getppid", "read_dev_zero", "memcpy")'

# least KIND ARGS...: the least CPU time of KIND's timings, in ns (CPU
# time: a timing that another process preempted on this busy machine is
# not longer for it).
least() {
	local kind=$1

	shift
	machine -n 7 "$@" || return 1
	json_get "$SCRATCH/m.json" "min(d['$kind']['cpu_samples_ns'])"
}

# scales KIND OPT N: KIND's least time with OPT 2N over that with OPT N is
# between 1.3 and 3 (2 expected); the other kinds get little work.  A loop
# the compiler dropped or folded would not scale.
scales() {
	local kind=$1 opt=$2 n=$3 small=(-l 1000 -p 10 -z 10 -c 1) a b

	a=$(least "$kind" "${small[@]}" "$opt" "$n") || return 1
	b=$(least "$kind" "${small[@]}" "$opt" $((2 * n))) || return 1
	_python -c "import sys; r = $b / $a; print(f'$kind $opt: $a ns, x2: $b ns, ratio {r:.2f}'); sys.exit(0 if 1.3 <= r <= 3.0 else 1)"
}

# ---- aio-machine ----

@test "aio-machine prints aio-machine/1 JSON with the median and every sample of each timing" {
	machine -n 5
	json_true "$SCRATCH/m.json" \
		'd["schema"] == "aio-machine/1" and d["tool"] == "aio-machine" and d["repeats"] == 5' \
		"all(len(d[k]['samples_ns']) == len(d[k]['cpu_samples_ns']) == 5 for k in $KINDS)" \
		"all(min(d[k]['samples_ns']) <= d[k]['median_ns'] <= max(d[k]['samples_ns']) for k in $KINDS)" \
		"all(min(d[k]['cpu_samples_ns']) <= d[k]['cpu_median_ns'] <= max(d[k]['cpu_samples_ns']) for k in $KINDS)" \
		'd["user_loop"]["iterations"] == 4000000 and d["getppid"]["calls"] == 30000' \
		'd["read_dev_zero"]["calls"] == 25000 and d["read_dev_zero"]["bytes_per_call"] == 64' \
		'd["memcpy"]["buffer_bytes"] == 4 << 20 and d["memcpy"]["copies"] == 32'
}

@test "aio-machine's timings, rates and CPU times are all positive" {
	machine -n 3
	json_true "$SCRATCH/m.json" \
		"all(x > 0 for k in $KINDS for x in d[k]['samples_ns'] + d[k]['cpu_samples_ns'])" \
		'd["user_loop"]["per_iteration_ns"] > 0 and d["getppid"]["per_call_ns"] > 0' \
		'd["read_dev_zero"]["per_call_ns"] > 0 and d["memcpy"]["bytes_per_s"] > 0' \
		'd["process"]["wall_ns"] > 0 and d["process"]["cpu_ns"] > 0 and 0 < d["process"]["cpu_per_wall"] <= 1.05' \
		'd["process"]["user_cpu_ns"] >= 0 and d["process"]["system_cpu_ns"] >= 0'
}

@test "aio-machine reports the CPU steal of /proc/stat before and after the probe" {
	machine -n 1
	json_true "$SCRATCH/m.json" \
		'd["steal"]["jiffies_after"] >= d["steal"]["jiffies_before"] >= 0' \
		'd["steal"]["total_jiffies_after"] >= d["steal"]["total_jiffies_before"] > 0' \
		'd["steal"]["pct_during_probe"] is None or 0 <= d["steal"]["pct_during_probe"] <= 100'
}

@test "aio-machine copies a buffer larger than the L2 cache by default" {
	[[ -r /sys/devices/system/cpu/cpu0/cache/index2/size ]] ||
		skip "sysfs does not show the CPU caches here"
	machine -n 1 -l 1 -p 1 -z 1 -c 1
	json_true "$SCRATCH/m.json" \
		'd["memcpy"]["l2_cache_bytes"] > 0 and d["memcpy"]["buffer_bytes"] > d["memcpy"]["l2_cache_bytes"]'
}

@test "aio-machine's user-space loop takes about twice as long for twice the iterations" {
	scales user_loop -l 2000000
}

@test "aio-machine's getppid loop takes about twice as long for twice the calls" {
	scales getppid -p 10000
}

@test "aio-machine's /dev/zero read loop takes about twice as long for twice the calls" {
	scales read_dev_zero -z 10000
}

@test "aio-machine's memory copy takes about twice as long for twice the copies" {
	scales memcpy -c 16
}

@test "aio-machine with its defaults spends less than half a second of CPU" {
	machine
	json_true "$SCRATCH/m.json" 'd["process"]["cpu_ns"] < 0.5e9'
}

@test "aio-machine refuses bad numbers with one line naming the value, status 2" {
	local c
	for c in "-n 0" "-n 1001" "-n x" "-l 0" "-l -5" "-l 1e6" "-p 0" "-z 0" \
		"-r 0" "-r 2m" "-r 1q" "-m 0" "-m 2g" "-c 0"; do
		run "$AIO_MACHINE" $c
		assert_one_line_error aio-machine 2
		assert_output_has "'${c#* }' for ${c%% *}"
	done
}

@test "aio-machine refuses an unknown option, a missing value and an operand, status 2" {
	run "$AIO_MACHINE" --bogus
	assert_one_line_error aio-machine 2
	assert_output_has "unknown option '--bogus'"
	run "$AIO_MACHINE" -n
	assert_one_line_error aio-machine 2
	assert_output_has "'-n' needs an argument"
	run "$AIO_MACHINE" /dev/null
	assert_one_line_error aio-machine 2
	assert_output_has "unexpected argument '/dev/null'"
}

@test "aio-machine refuses a buffer that does not fit in its memory limit, status 2" {
	run bash -c "ulimit -v 400000; exec '$AIO_MACHINE' -m 1g"
	assert_one_line_error aio-machine 2
	assert_output_has "memory"
}

@test "aio-machine fails with one line when a system call of its loops fails, status 1" {
	local nosys=$BUILD_DIR/tests/nosys
	[[ -x $nosys ]] || skip "build/tests/nosys is not built"
	run "$nosys" getppid -- "$AIO_MACHINE" -n 1
	assert_one_line_error aio-machine 1
	assert_output_has "getppid"
}

# ---- tools/machine.py ----

@test "machine.py records aio-machine as the control of each probe in aio-suite-machine/2" {
	run python3 "$TOP/tools/machine.py" "$SCRATCH"
	assert_status 0
	run python3 "$TOP/tools/machine.py" "$SCRATCH"
	assert_status 0
	json_true "$SCRATCH/machine.json" \
		'd["schema"] == "aio-suite-machine/2" and len(d["probes"]) == 2' \
		'[p["index"] for p in d["probes"]] == [0, 1]' \
		'all(p["control"]["source"] == "aio-machine" and p["control"]["reason"] == "" for p in d["probes"])' \
		'all(p["control"]["schema"] == "aio-machine/1" and p["control"]["user_loop"]["median_ns"] > 0 for p in d["probes"])' \
		'all(p["cpu_loop_ns"] > 0 and len(p["cpu_loop_ns_samples"]) == len(p["cpu_loop_cpu_ns_samples"]) == 7 for p in d["probes"])' \
		'"steal_pct_since_previous" in d["probes"][1]'
}

@test "machine.py falls back to its Python loop without a built aio-machine and says why" {
	mkdir "$SCRATCH/nobuild"
	BUILD=$SCRATCH/nobuild run python3 "$TOP/tools/machine.py" "$SCRATCH"
	assert_status 0
	json_true "$SCRATCH/machine.json" \
		'd["schema"] == "aio-suite-machine/2"' \
		'd["probes"][0]["control"]["source"] == "python"' \
		'"aio-machine is not built" in d["probes"][0]["control"]["reason"]' \
		'd["probes"][0]["control"]["user_loop"]["samples_ns"] == d["probes"][0]["cpu_loop_ns_samples"]' \
		'd["probes"][0]["control"]["user_loop"]["cpu_samples_ns"] == d["probes"][0]["cpu_loop_cpu_ns_samples"]' \
		'd["probes"][0]["control"]["process"]["cpu_ns"] > 0'
}

@test "machine.py falls back to its Python loop when aio-machine fails, with its message" {
	mkdir "$SCRATCH/badbuild"
	printf '#!/bin/sh\necho "aio-machine: broken on purpose" >&2\nexit 1\n' \
		>"$SCRATCH/badbuild/aio-machine"
	chmod +x "$SCRATCH/badbuild/aio-machine"
	BUILD=$SCRATCH/badbuild run python3 "$TOP/tools/machine.py"
	assert_status 0
	[[ $(json_get <(echo "$output") 'd["control"]["source"]') == python ]]
	[[ $(json_get <(echo "$output") 'd["control"]["reason"]') == "aio-machine: broken on purpose" ]]
}

@test "the report's schema check reads machine.json of aio-suite-machine/2 and /1" {
	run python3 "$TOP/tools/machine.py" "$SCRATCH"
	assert_status 0
	run python3 "$TOP/tools/schema.py" "$SCRATCH/machine.json"
	assert_status 0
	_python - "$SCRATCH/machine.json" "$SCRATCH/v1.json" <<'EOF'
import json
import sys

d = json.load(open(sys.argv[1]))
d["schema"] = "aio-suite-machine/1"
for p in d["probes"]:
    p.pop("control")
    p.pop("index")
json.dump(d, open(sys.argv[2], "w"))
EOF
	run python3 "$TOP/tools/schema.py" "$SCRATCH/v1.json"
	assert_status 0
}

@test "the report's schema check refuses a point whose control_probe or cpu_bound has the wrong type" {
	local f=$SCRATCH/x.json
	printf '%s' '{"schema": "aio-suite-scenario/1", "scenario": "x", "points": [{"target": "t", "labels": {}, "status": "ok", "reason": "", "samples": {"iops": [1.0]}, "raw": [], "control_probe": [0, null], "cpu_bound": true}]}' >"$f"
	run python3 "$TOP/tools/schema.py" "$f"
	assert_status 0
	sed -i 's/\[0, null\]/["seven"]/' "$f"
	run python3 "$TOP/tools/schema.py" "$f"
	assert_status 1
	assert_output_has "points[0].control_probe[0]: the string 'seven' where a number belongs"
	sed -i 's/\["seven"\]/[0]/; s/"cpu_bound": true/"cpu_bound": "yes"/' "$f"
	run python3 "$TOP/tools/schema.py" "$f"
	assert_status 1
	assert_output_has "points[0].cpu_bound:"
}
