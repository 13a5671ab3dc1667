#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the parts of the mutation score (ci/mutants.py, make
# mutants, which is not part of make check): the mutants themselves, their
# application to the 6.1 source and a revert that leaves it byte for byte
# as unpacked, the summary's schema and its table, and the runner taking a
# complete results stream as the end of a guest that halts instead of
# powering off (a stand-in qemu).  With the mutants' kernel in the cache
# (make mutants, or ci/mutants.py --prepare) also: that kernel boots with
# two CPUs and its guest ends qemu by itself, one mutant end to end, and a
# SIGTERM in the middle of a mutant leaves the tree clean.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$SCRATCH/results
}

teardown() {
	common_teardown
}

mutants() {
	timeout -k 5 "${MUTANTS_TIMEOUT:-60}" python3 "$TOP/ci/mutants.py" "$@"
}

cache_dir() {
	python3 "$TOP/ci/fetch_kernels.py" --cache-dir
}

# The linux-source-6.1 tarball: installed, or fetched by make mutants.
source_tarball() {
	local t
	for t in /usr/src/linux-source-6.1.tar.xz \
		"$(cache_dir)/mutants/linux-source-6.1.tar.xz"; do
		[[ -f $t ]] && echo "$t" && return 0
	done
	return 1
}

# Skip unless the mutants' kernel is built in the cache and not in use.
requires_mutants_kernel() {
	requires qemu busybox-static
	local base
	base=$(cache_dir)/mutants/6.1
	[[ -f $base/bzImage-clean && -f $base/manifest.json ]] ||
		skip "no mutants' kernel in $base (make mutants, or python3 ci/mutants.py --prepare)"
	if [[ -f $base/.lock ]] && ! flock -n "$base/.lock" true; then
		skip "a mutation run is using $base"
	fi
	MUTANTS_BASE=$base
}

# A stand-in qemu-system-x86_64 first in PATH.  FAKE_GUEST says what its
# guest does: halt (sends its results, then "reboot: System halted" and
# nothing more: a kernel without ACPI), quiet (sends its results, then
# neither halts nor ends), truncated (a stream without its end line, then
# halts).  It writes its pid to $SCRATCH/fake.pid.
fake_qemu() {
	mkdir -p "$SCRATCH/bin" "$SCRATCH/guest"
	echo 6.1.0-fake >"$SCRATCH/guest/uname-r"
	printf 'boot\tok\t\t1.0\n' >"$SCRATCH/guest/steps.tsv"
	tar -C "$SCRATCH/guest" -czf "$SCRATCH/r.tgz" .
	cat >"$SCRATCH/bin/qemu-system-x86_64" <<-EOF
	#!/bin/bash
	[[ \$1 == --version ]] && { echo "QEMU emulator version 0 (stand-in)"; exit 0; }
	echo \$\$ >"$SCRATCH/fake.pid"
	for a in "\$@"; do
		case \$a in
		file,id=con,path=*) con=\${a#file,id=con,path=} ;;
		file,id=res,path=*) res=\${a#file,id=res,path=} ;;
		esac
	done
	tgz="$SCRATCH/r.tgz"
	echo "[    0.5] Run /init as init process" >>"\$con"
	echo "aio-guest: kernel 6.1.0-fake, run=boot" >>"\$con"
	{
		echo "AIO-SUITE-RESULTS-BEGIN v1 \$(wc -c <"\$tgz") \$(sha256sum "\$tgz" | cut -d' ' -f1)"
		base64 "\$tgz"
		[[ \$FAKE_GUEST == truncated ]] || echo "AIO-SUITE-RESULTS-END"
	} >>"\$res"
	echo "aio-guest: results sent (\$(wc -c <"\$tgz") bytes)" >>"\$con"
	[[ \$FAKE_GUEST == quiet ]] || echo "[    1.2] reboot: System halted" >>"\$con"
	exec sleep 300
	EOF
	chmod +x "$SCRATCH/bin/qemu-system-x86_64"
	export PATH=$SCRATCH/bin:$PATH AIO_SUITE_ACCEL=tcg
	: >"$SCRATCH/bzImage"
	: >"$SCRATCH/initrd"
}

# boot_fake TIMEOUT: qemu.boot() on the stand-in, its Boot as JSON in
# $SCRATCH/boot.json.
boot_fake() {
	python3 - "$TOP/ci" "$SCRATCH" "$1" <<-'EOF'
	import json, sys
	from dataclasses import asdict
	from pathlib import Path
	sys.path.insert(0, sys.argv[1])
	import qemu
	s = Path(sys.argv[2])
	b = qemu.boot(s / "bzImage", s / "initrd", "", "tcg", s / "boot",
	              float(sys.argv[3]))
	(s / "boot.json").write_text(json.dumps(asdict(b)))
	EOF
}

@test "there are at least 20 mutants, each a patch to the kernel that says what bug it models" {
	run python3 "$TOP/ci/mutants.py" --list
	assert_status 0
	(($(wc -l <<<"$output") >= 20))
	assert_output_line '^001-[a-z0-9-]+  [a-z]'
	local p files
	for p in "$TOP"/ci/mutants/[0-9][0-9][0-9]-*.patch; do
		head -1 "$p" | grep -q '^SPDX-License-Identifier: GPL-2.0$'
		grep -q '^Description: .\{20,\}' "$p"
		files=$(grep '^+++ b/' "$p" | cut -c7-)
		[[ -n $files ]]
		# the kernel's AIO code, eventfd, the block layer, iomap's DIO
		if grep -Ev '^(fs/aio\.c|fs/eventfd\.c|block/.*|fs/iomap/.*)$' <<<"$files"; then
			echo "$p changes $files" >&2
			false
		fi
	done
}

@test "every mutant applies to the pristine 6.1 source and its revert leaves the tree byte for byte as unpacked" {
	requires python3
	local tarball
	tarball=$(source_tarball) ||
		skip "no linux-source-6.1 tarball (apt-get install linux-source-6.1; make mutants fetches it otherwise)"
	mkdir -p "$SCRATCH/t/src"
	# only the files the mutants change (and a neighbour that none does)
	tar -xJf "$tarball" -C "$SCRATCH/t/src" --strip-components=1 \
		linux-source-6.1/fs/aio.c linux-source-6.1/fs/eventfd.c \
		linux-source-6.1/block/fops.c linux-source-6.1/fs/iomap/direct-io.c \
		linux-source-6.1/fs/read_write.c
	run python3 - "$TOP/ci" "$SCRATCH/t" <<-'EOF'
	import sys
	from pathlib import Path
	sys.path.insert(0, sys.argv[1])
	import mutants as M
	tree = M.Tree(Path(sys.argv[2]))
	tree.record()
	for m in M.read_mutants():
	    tree.keep_pristine(m.files)
	    ok, out = M.run_patch(tree.src, m.patch, dry_run=True)
	    assert ok, f"{m.id}: {out}"
	    assert not tree.differences(), f"{m.id}: the dry run changed the tree"
	    ok, out = M.run_patch(tree.src, m.patch)
	    assert ok, f"{m.id}: {out}"
	    diff = tree.differences()
	    assert diff == [f"changed {f}" for f in sorted(m.files)], f"{m.id}: {diff}"
	    # and undone by the reverse patch: it changed what it says
	    ok, out = M.run_patch(tree.src, m.patch, reverse=True, dry_run=True)
	    assert ok, f"{m.id}: does not reverse: {out}"
	    left = tree.restore(m.files)
	    assert not left and not tree.differences(), f"{m.id}: {left}"
	print("ok", len(M.read_mutants()))
	EOF
	assert_status 0
	assert_output_line '^ok [0-9]+$'
}

@test "a change to the source tree outside the mutants is found by the tree check" {
	requires python3
	mkdir -p "$SCRATCH/t/src/fs"
	echo 'int x;' >"$SCRATCH/t/src/fs/aio.c"
	echo 'int y;' >"$SCRATCH/t/src/fs/other.c"
	run python3 - "$TOP/ci" "$SCRATCH/t" <<-'EOF'
	import os, sys
	from pathlib import Path
	sys.path.insert(0, sys.argv[1])
	import mutants as M
	tree = M.Tree(Path(sys.argv[2]))
	tree.record()
	src = tree.src
	assert tree.differences() == []
	os.utime(src / "fs/aio.c")            # touched, same bytes: clean
	assert tree.differences() == []
	(src / "fs/other.c").write_text("int z;\n")  # same size, other bytes
	(src / "fs/aio.c.orig").write_text("")       # patch's leftovers
	(src / "fs/aio.c").unlink()
	print("\n".join(sorted(tree.differences())))
	EOF
	assert_status 0
	assert_output_line '^added fs/aio.c.orig$'
	assert_output_line '^changed fs/other.c$'
	assert_output_line '^missing fs/aio.c$'
}

@test "a mutants summary follows aio-suite-mutants/1 and renders as a Markdown table with the score and the survivors" {
	run python3 - "$TOP/ci" "$SCRATCH/summary.json" <<-'EOF'
	import json, sys
	from dataclasses import asdict
	sys.path.insert(0, sys.argv[1])
	import mutants as M
	rs = [M.Result("001-a", "one", ["fs/aio.c"], "x", status="killed",
	               killed_by=["reap.bad_args: fail (EINVAL expected)"],
	               build_s=7.0, run_s=40.0),
	      M.Result("002-b", "two", ["fs/aio.c"], "y", status="survived",
	               build_s=6.0, run_s=41.0, note="a test of the wrap"),
	      M.Result("003-c", "three", ["fs/aio.c"], "z", status="not-viable",
	               reason="does not build: error")]
	doc = {"schema": M.SCHEMA, "complete": True, "interrupted": None,
	       "kernel_release": "6.1.192", "mutants": [asdict(r) for r in rs],
	       "totals": M.totals(rs), "elapsed_s": 300.0, "clean_build_s": 9.0,
	       "cold_build_s": 213.0, "accelerator": "tcg", "emulated": True,
	       "jobs": 2, "baseline": {"run_s": 44.0, "failing": []}}
	assert M.validate(doc) == [], M.validate(doc)
	assert doc["totals"]["score_percent"] == 50.0
	assert doc["totals"]["viable"] == 2
	json.dump(doc, open(sys.argv[2], "w"))
	bad = dict(doc, mutants=[dict(asdict(rs[0]), killed_by=[])])
	print("\n".join(M.validate(bad)))
	EOF
	assert_status 0
	assert_output_has "killed by nothing"
	assert_output_has "totals.survived is 1, the mutants say 0"
	run python3 "$TOP/ci/mutants.py" --validate "$SCRATCH/summary.json"
	assert_status 0
	run python3 "$TOP/tools/mutants_table.py" "$SCRATCH/summary.json"
	assert_status 0
	assert_output_has "**50.0%** of the viable mutants killed: 1 killed, 1 survived, 1 not viable"
	assert_output_line '^\| 001-a: one \| killed \| reap.bad_args: fail'
	assert_output_line '^\| kernel build from scratch \(-j2\) \| 3.5 min \|$'
	assert_output_line '^- 002-b: two Would kill it: a test of the wrap$'
}

@test "the mutants tools refuse bad input in one line" {
	run python3 "$TOP/ci/mutants.py" --bogus
	assert_one_line_error mutants 2
	run python3 "$TOP/ci/mutants.py" --only 999
	assert_one_line_error mutants 2
	assert_output_has "no mutant matches '999'"
	run python3 "$TOP/ci/mutants.py" --timeout 0
	assert_one_line_error mutants 2
	echo '{"schema": "other"}' >"$SCRATCH/x.json"
	run python3 "$TOP/tools/mutants_table.py" "$SCRATCH/x.json"
	assert_one_line_error mutants_table 1
	run python3 "$TOP/tools/mutants_table.py" "$SCRATCH/none.json"
	assert_one_line_error mutants_table 1
	run python3 "$TOP/ci/mutants.py" --validate "$SCRATCH/x.json"
	assert_status 1
	assert_output_has "schema is 'other'"
}

@test "a guest that halts after its complete results stream ends the boot at once, not at the timeout" {
	fake_qemu
	FAKE_GUEST=halt run boot_fake 60
	assert_status 0
	json_true "$SCRATCH/boot.json" 'd["status"] == "ok"' \
		'd["ended"] == "results"' 'd["elapsed_s"] < 20'
	# qemu was killed, not left behind
	! kill -0 "$(cat "$SCRATCH/fake.pid")" 2>/dev/null
}

@test "a guest that neither halts nor powers off after its results is killed after a grace period" {
	fake_qemu
	FAKE_GUEST=quiet run boot_fake 60
	assert_status 0
	json_true "$SCRATCH/boot.json" 'd["status"] == "ok"' \
		'd["ended"] == "results"' 'd["elapsed_s"] >= 4' 'd["elapsed_s"] < 30'
}

@test "a truncated results stream is not the end: the guest runs into its timeout" {
	fake_qemu
	FAKE_GUEST=truncated run boot_fake 6
	assert_status 0
	json_true "$SCRATCH/boot.json" 'd["status"] == "timeout"' \
		'd["ended"] == "timeout"'
	! kill -0 "$(cat "$SCRATCH/fake.pid")" 2>/dev/null
}

@test "a kernel that halts after sending its results is stored as a good run by make kernels" {
	requires busybox-static python3
	fake_qemu
	FAKE_GUEST=halt run timeout -k 5 120 python3 "$TOP/ci/kernels.py" \
		--kernel "$SCRATCH/bzImage" --releases "" --no-host --run boot \
		--timeout 100
	assert_status 0
	assert_output_line 'bzImage: ok in [0-9.]+ s'
	local q
	q=$(find "$AIO_SUITE_RESULTS" -name qemu.json | head -1)
	[[ -n $q && $q != *failed* ]]
	json_true "$q" 'd["status"] == "ok"' 'd["ended"] == "results"'
	[[ $(cat "$(dirname "$q")/uname-r") == 6.1.0-fake ]]
}

@test "the mutants' kernel boots in qemu with two CPUs and its guest ends qemu by itself" {
	requires_mutants_kernel
	run timeout -k 5 120 python3 "$TOP/ci/kernels.py" \
		--kernel "$MUTANTS_BASE/bzImage-clean" --releases "" --no-host \
		--run boot --timeout 100
	assert_status 0
	local q
	q=$(find "$AIO_SUITE_RESULTS" -name qemu.json | head -1)
	json_true "$q" 'd["status"] == "ok"' 'd["ended"] == "exit"'
	# the races the mutants model need a second CPU
	grep -q 'smp: Brought up 1 node, 2 CPUs' "$(dirname "$q")/console.log"
}

@test "one mutant end to end: built, booted, killed by the test that checks it, and the tree clean again" {
	requires_mutants_kernel
	# min_nr > nr accepted: reap.bad_args must kill it
	MUTANTS_TIMEOUT=900 run mutants --only 011 --timeout 300 \
		--conform-args "-t reap.*"
	assert_status 0
	local s
	s=$(find "$AIO_SUITE_RESULTS/mutants" -mindepth 2 -maxdepth 2 -name summary.json)
	[[ -f $s ]]
	run python3 "$TOP/ci/mutants.py" --validate "$s"
	assert_status 0
	json_true "$s" 'd["complete"] is True' \
		'[m["id"] for m in d["mutants"]] == ["011-getevents-min-gt-nr"]' \
		'd["mutants"][0]["status"] == "killed"' \
		'any(k.startswith("reap.bad_args") for k in d["mutants"][0]["killed_by"])' \
		'd["mutants"][0]["build_s"] > 0 and d["mutants"][0]["run_s"] > 0' \
		'd["baseline"]["status"] == "ok"'
	run python3 "$TOP/ci/mutants.py" --check-tree
	assert_status 0
}

@test "a SIGTERM while a mutant is applied reverts it and stores the run as interrupted" {
	requires_mutants_kernel
	python3 "$TOP/ci/mutants.py" --only 013 --timeout 300 \
		--conform-args "-t reap.zero_timeout" >"$SCRATCH/log" 2>&1 &
	local pid=$! i applied=0
	for ((i = 0; i < 600; i++)); do
		if ! python3 "$TOP/ci/mutants.py" --check-tree >/dev/null 2>&1; then
			applied=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 120; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		cat "$SCRATCH/log" >&2
		false
	fi
	local rc=0
	wait "$pid" || rc=$?
	cat "$SCRATCH/log" >&2
	((applied)) || false
	assert_eq 143 "$rc" "exit status"
	run python3 "$TOP/ci/mutants.py" --check-tree
	assert_status 0
	json_true "$(find "$AIO_SUITE_RESULTS/mutants" -mindepth 2 -maxdepth 2 -name summary.json)" \
		'd["complete"] is False' 'd["interrupted"] == "SIGTERM"'
}
