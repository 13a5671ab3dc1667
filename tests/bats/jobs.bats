#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the fio job files in jobs/ run as they are (issue 10, items 0
# and 6): `fio jobs/NAME.fio` in an empty directory, with nothing set in the
# environment, does I/O on a file it creates there and nowhere else, as root
# and as another user; no job file names a device; the studies run a copy
# with their own values (tools/fiojob.py) and keep the text fio ran.  Each
# job is run shortened: fiojob sets the runtime and size it has to 1 s and
# 16 MiB and changes nothing else.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$BATS_TEST_TMPDIR/results
}

teardown() {
	common_teardown
	if [[ -n ${SHARED_TMP:-} && -d $SHARED_TMP ]]; then
		rm -rf "$SHARED_TMP"
	fi
}

fiojob() {
	_python "$TOP/tools/fiojob.py" "$@"
}

# run_job JOB BASE [WRAPPER...]: run a shortened copy of JOB (BASE.fio) with
# fio in BASE, a new empty directory, under WRAPPER (setpriv, strace) and an
# empty environment; fio's JSON goes to BASE.json.  The directory and the
# JSON are made by WRAPPER's user.
run_job() {
	local job=$1 base=$2 short=()
	shift 2

	grep -q '^runtime=' "$job" && short+=(runtime=1s)
	grep -q '^size=' "$job" && short+=(size=16m)
	fiojob -o "$base.fio" "$job" "${short[@]}" || return 1
	"$@" mkdir "$base" || return 1
	(cd "$base" && timeout -k 5 "$AIO_TEST_TIMEOUT" "$@" env -i PATH="$PATH" \
		fio --output-format=json --output="$base.json" "$base.fio")
}

# check_run BASE: fio's JSON (BASE.json) shows every job done without an
# error, with I/O done and a description naming its seed, and BASE holds
# nothing but the files the job's filename= lines name.  Prints what is
# wrong.
check_run() {
	_python - "$1" <<'EOF'
import json
import os
import re
import sys

base = sys.argv[1]
bad = []
try:
    text = open(base + ".json").read()
    d = json.loads(text[text.find("{"):])
except (OSError, ValueError) as e:
    print(f"no fio JSON: {e}")
    sys.exit(1)
glob = d.get("global options", {})
if not d.get("jobs"):
    bad.append("no job ran")
for j in d.get("jobs", []):
    name = j.get("jobname")
    if j.get("error"):
        bad.append(f"{name}: fio error {j['error']}")
    ios = sum(j.get(k, {}).get("total_ios", 0) for k in ("read", "write", "trim"))
    if ios <= 0:
        bad.append(f"{name}: no I/O done (total_ios {ios})")
    desc = j.get("job options", {}).get("description", glob.get("description", ""))
    if "seed " not in desc:
        bad.append(f"{name}: no description= naming the seed thread")
want = set()
for line in open(base + ".fio"):
    m = re.match(r"\s*filename=(.*)", line)
    if m:
        want.add(m.group(1).strip())
seen = set(os.listdir(base))
if any("/" in f for f in want):
    bad.append(f"a target outside the current directory: {sorted(want)}")
elif seen != want:
    bad.append(f"the directory holds {sorted(seen)}, the job names {sorted(want)}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# run_every_job BASE [WRAPPER...]: run_job and check_run for every file in
# jobs/ under BASE/NAME; prints the failures, one block per job.
run_every_job() {
	local top=$1 job name out bad=0
	shift

	for job in "$TOP"/jobs/*.fio; do
		name=$(basename "$job" .fio)
		if ! out=$(run_job "$job" "$top/$name" "$@" 2>&1); then
			echo "$name: fio failed: $out"
			bad=1
		elif ! out=$(check_run "$top/$name"); then
			echo "$name: $out"
			bad=1
		fi
	done
	return $bad
}

@test "every job file runs (shortened) in an empty directory with nothing in the environment, doing I/O on a file it creates there" {
	requires fio odirect
	run run_every_job "$BATS_TEST_TMPDIR"
	assert_status 0
}

@test "every job file runs (shortened) as uid 65534" {
	requires fio odirect nonroot
	# The bats temporary directory's parents are not open to uid 65534.
	SHARED_TMP=$(mktemp -d /tmp/aio-jobs-bats.XXXXXX)
	chmod 1777 "$SHARED_TMP"
	run run_every_job "$SHARED_TMP" setpriv --reuid=65534 --regid=65534 --clear-groups
	assert_status 0
}

@test "every job file writes nothing outside the directory it runs in and leaves no shared memory" {
	requires fio odirect
	command -v strace >/dev/null 2>&1 || skip "strace is not installed (apt-get install strace)"
	local job name bad=()
	for job in "$TOP"/jobs/*.fio; do
		name=$(basename "$job" .fio)
		run_job "$job" "$BATS_TEST_TMPDIR/$name" strace -ff -qq --seccomp-bpf -o "$BATS_TEST_TMPDIR/$name.trace" \
			-e trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,truncate,mknod,mknodat,chmod,fchmodat,chown,fchownat,lchown,shmget,shmctl ||
			bad+=("$name: fio failed")
	done
	run _python - "$BATS_TEST_TMPDIR" <<'EOF'
import glob
import os
import re
import sys

top = sys.argv[1]
allowed = (os.path.realpath(top) + "/", "/dev/null")
writes = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
call = re.compile(r"(\w+)\((.*)\)\s+= (-?\d+)")
bad = []
for trace in sorted(glob.glob(f"{top}/*.trace.*")):
    made, removed = set(), set()
    cwd = os.path.join(top, os.path.basename(trace).split(".trace.")[0])
    for line in open(trace):
        m = call.match(line)
        if not m or int(m.group(3)) < 0:
            continue
        name, args, ret = m.groups()
        if name == "shmget":
            made.add(ret)
            continue
        if name == "shmctl":
            if "IPC_RMID" in args:
                removed.add(args.split(",")[0].strip())
            continue
        if name.startswith("open") or name == "creat":
            if name != "creat" and not writes.search(args):
                continue
        for path in re.findall(r'"((?:[^"\\]|\\.)*)"', args):
            full = os.path.realpath(os.path.join(cwd, path))
            if not (full + "/").startswith(allowed[0]) and full != allowed[1]:
                bad.append(f"{os.path.basename(trace)}: {line.strip()}")
    if made - removed:
        bad.append(f"{os.path.basename(trace)}: shared memory {sorted(made - removed)} not removed")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
	bad+=("$output")
	assert_eq "" "$(printf '%s' "${bad[*]}")" "writes outside the test directory"
}

@test "every job file parses as it is with nothing set in the environment" {
	requires fio
	local job bad=()
	for job in "$TOP"/jobs/*.fio; do
		(cd "$BATS_TEST_TMPDIR" && env -i PATH="$PATH" fio --parse-only "$job" >/dev/null 2>&1) ||
			bad+=("$(basename "$job")")
	done
	assert_eq "" "${bad[*]}" "job files fio cannot parse"
}

@test "every time-based job file stops within a minute" {
	local job rt bad=()
	for job in "$TOP"/jobs/*.fio; do
		grep -q '^time_based=1' "$job" || continue
		rt=$(sed -n 's/^runtime=\([0-9]*\)s$/\1/p' "$job")
		[[ -n $rt ]] && ((rt <= 60)) || bad+=("$(basename "$job"): runtime '${rt:-not in seconds}'")
	done
	assert_eq "" "${bad[*]}" "time-based jobs without a runtime of at most 60 s"
}

@test "no job file names a device: every target is a file in the current directory" {
	run grep -nE '/dev/(loop|sd|nvme|vd|xvd|hd|mmcblk|md|dm-|mapper)|^[[:space:]]*(filename|directory|filename_format)=.*/' \
		"$TOP"/jobs/*.fio
	assert_status 1
	run grep -LE '^[[:space:]]*filename=' "$TOP"/jobs/*.fio
	assert_eq "" "$output" "job files without a filename="
}

@test "make install installs the job files unchanged and an installed one runs as it is" {
	requires fio odirect
	run make -C "$TOP" --no-print-directory install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/usr
	assert_status 0
	local jobs=$BATS_TEST_TMPDIR/root/usr/share/aio-suite/jobs job
	for job in "$TOP"/jobs/*.fio; do
		cmp "$job" "$jobs/$(basename "$job")"
	done
	run run_job "$jobs/batching.fio" "$BATS_TEST_TMPDIR/batching"
	assert_status 0
	run check_run "$BATS_TEST_TMPDIR/batching"
	assert_status 0
}

# ---- tools/fiojob.py ----

@test "fiojob replaces the options it is given and changes no other line" {
	run fiojob "$TOP/jobs/batching.fio" filename=/x/y.dat runtime=2s
	assert_status 0
	# Only the two lines differ, each changed in place.
	diff <(grep -v '^;' "$TOP/jobs/batching.fio") <(grep -v '^;' <<<"$output") |
		grep '^[<>]' >"$BATS_TEST_TMPDIR/diff" || true
	assert_eq "< filename=aio-suite-batching.dat
< runtime=60s
> filename=/x/y.dat
> runtime=2s" "$(LC_ALL=C sort "$BATS_TEST_TMPDIR/diff")" "changed lines"
	assert_output_line '^; Effective job: .*batching.fio with filename=/x/y.dat runtime=2s$'
}

@test "fiojob refuses an option the job does not set, with one line" {
	run fiojob "$TOP/jobs/batching.fio" runtme=2s
	assert_one_line_error fiojob 2
	assert_output_has "does not set runtme"
}

@test "fiojob refuses a value that would add a line to the job" {
	run fiojob "$TOP/jobs/batching.fio" $'filename=x\n[evil]'
	assert_one_line_error fiojob 2
}

@test "fiojob refuses a missing job file and a missing section, with one line" {
	run fiojob "$BATS_TEST_TMPDIR/none.fio"
	assert_one_line_error fiojob 2
	run fiojob --section nosuch "$TOP/jobs/loop.fio"
	assert_one_line_error fiojob 2
	assert_output_has "no section [nosuch]"
}

@test "fiojob --section keeps only that job section and [global]" {
	run fiojob --section loop-direct "$TOP/jobs/loop.fio" size=8m
	assert_status 0
	assert_output_line '^\[loop-direct\]$'
	assert_output_line '^\[global\]$'
	refute_line '^\[loop-buffered\]' "$output"
}

# ---- the studies ----

@test "a study's fio cross-check keeps the job text fio ran and names it in the scenario JSON" {
	requires fio odirect
	run timeout -k 10 240 python3 "$TOP/tools/study.py" --scratch "$SCRATCH" --quick batching
	assert_status 0
	local dir
	dir=$(ls -d "$AIO_SUITE_RESULTS"/*/*/*/ | tail -1)
	json_true "$dir/batching.json" \
		'len(d["crosscheck"]) == 1' \
		'len(d["crosscheck"][0]["fio_jobs"]) == len(d["crosscheck"][0]["fio_raw"]) >= 1' \
		'd["crosscheck"][0]["options"]["filename"].endswith("batching.dat")'
	local jobfile raw
	jobfile=$dir/$(json_get "$dir/batching.json" 'd["crosscheck"][0]["fio_jobs"][0]')
	raw=$dir/$(json_get "$dir/batching.json" 'd["crosscheck"][0]["fio_raw"][0]')
	# The file is what fio ran: its filename and runtime are in fio's JSON.
	json_true "$raw" \
		"d['jobs'][0]['job options']['filename'] == '$(sed -n 's/^filename=//p' "$jobfile")'" \
		"d['jobs'][0]['job options']['runtime'] == '$(sed -n 's/^runtime=//p' "$jobfile")'"
}
