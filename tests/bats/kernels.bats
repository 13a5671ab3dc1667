#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the cross-kernel runner (ci/kernels.py and its modules):
# the mirror comes from the machine's apt sources, the initramfs holds
# what the guest needs, a Debian kernel boots under qemu and its results
# come home, a kernel that cannot boot or a guest that hangs is reported
# without stopping the run, a truncated or damaged result stream is
# rejected, and the CI workflow files are valid YAML.  Boots use the
# kernel cache (ci/fetch_kernels.py) and --run boot, about 10 s each
# under TCG.

load helpers

setup() {
	common_setup
	export AIO_SUITE_RESULTS=$SCRATCH/results
}

teardown() {
	common_teardown
}

kernels() {
	timeout -k 5 240 python3 "$TOP/ci/kernels.py" "$@"
}

# A results stream as the guest's /init writes it, for a directory.
make_stream() { # DIR OUT
	tar -C "$1" -czf "$SCRATCH/r.tgz" .
	{
		echo "AIO-SUITE-RESULTS-BEGIN v1 $(wc -c <"$SCRATCH/r.tgz") $(sha256sum "$SCRATCH/r.tgz" | cut -d' ' -f1)"
		base64 "$SCRATCH/r.tgz"
		echo "AIO-SUITE-RESULTS-END"
	} >"$2"
}

@test "the Debian mirror is read from the machine's apt sources, deb822 included" {
	mkdir -p "$SCRATCH/etc/sources.list.d"
	cat >"$SCRATCH/etc/sources.list.d/other.sources" <<-'EOF'
	Types: deb
	URIs: https://example.invalid/node
	Suites: nodistro
	Components: main
	EOF
	cat >"$SCRATCH/etc/sources.list.d/debian.sources" <<-'EOF'
	Types: deb
	URIs: http://mirror.example.invalid/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /nonexistent.gpg

	Types: deb
	URIs: http://mirror.example.invalid/debian-security
	Suites: bookworm-security
	Components: main
	EOF
	run python3 - "$TOP/ci" "$SCRATCH/etc" <<-'EOF'
	import sys
	from pathlib import Path
	sys.path.insert(0, sys.argv[1])
	import apt_sources
	e = apt_sources.debian_archive(apt_sources.machine_entries(Path(sys.argv[2])), "bookworm")
	print(e.uri if e else "none")
	EOF
	assert_status 0
	assert_eq "http://mirror.example.invalid/debian" "$output"
}

@test "no tracked file of the runner names a mirror host" {
	run grep -rlE 'deb\.debian\.org|ftp\.[a-z.]*debian|snapshot\.debian' \
		"$TOP/ci" "$TOP/.github" "$TOP/.gitlab-ci.yml" "$TOP/tests/bats/kernels.bats"
	assert_status 1
}

@test "the initramfs holds busybox, /init, the suite and a kernel's modules" {
	requires busybox-static python3
	local mods="" kver=""
	if python3 "$TOP/ci/fetch_kernels.py" --cached-only 6.1 >"$SCRATCH/k.json" 2>/dev/null; then
		mods=$(json_get "$SCRATCH/k.json" 'd[0]["modules"]')
		kver=$(json_get "$SCRATCH/k.json" 'd[0]["kver"]')
	fi
	run python3 "$TOP/ci/initramfs.py" --out "$SCRATCH/i.cpio" \
		${mods:+--modules "$mods"}
	assert_status 0
	run python3 "$TOP/ci/initramfs.py" --list "$SCRATCH/i.cpio"
	assert_status 0
	assert_output_line '^init$'
	assert_output_line '^bin/busybox$'
	assert_output_line '^bin/insmod$'
	assert_output_line '^dev/console$'
	assert_output_line '^usr/bin/aio-conform$'
	assert_output_line '^usr/bin/aio-stress$'
	assert_output_line '^usr/sbin/mkfs.ext4$'
	assert_output_line 'libc\.so\.6$'
	assert_output_line '^etc/aio/modules.list$'
	if [[ -n $mods ]]; then
		# decompressed, with their dependencies (configfs for null_blk)
		assert_output_line "^lib/modules/$kver/.*/null_blk\\.ko\$"
		assert_output_line "^lib/modules/$kver/.*/configfs\\.ko\$"
		assert_output_line "^lib/modules/$kver/.*/brd\\.ko\$"
		assert_output_line "^lib/modules/$kver/.*/dm-mod\\.ko\$"
		refute_line '\.ko\.(xz|zst)$' "$output"
	fi
}

@test "a Debian kernel boots in qemu and its results are stored with the accelerator" {
	requires qemu busybox-static kernel-cache
	run kernels --releases 6.1 --run boot --timeout 120
	assert_status 0
	assert_output_has "6.1: ok"
	local env
	env=$(find "$AIO_SUITE_RESULTS" -name env.json | head -1)
	[[ -n $env ]]
	json_true "$env" 'd["accelerator"] in ("kvm", "tcg")'
	json_true "$env" 'd["emulated"] == (d["accelerator"] == "tcg")'
	json_true "$env" 'd["kernel_release"].startswith("6.1.")'
	# results/<host>/<guest release>/<run id>/
	local rel
	rel=$(json_get "$env" 'd["kernel_release"]')
	[[ $env == "$AIO_SUITE_RESULTS/$(uname -n)/$rel/"*/env.json ]]
	[[ -s $(dirname "$env")/console.log ]]
	json_true "$(dirname "$env")/qemu.json" 'd["status"] == "ok"'
}

@test "in the guest aio-conform, the I/O-error test and the fuzzer run and their results come home" {
	requires qemu busybox-static kernel-cache
	run kernels --releases 6.1 --no-stress --fuzz 200 --timeout 180 \
		--conform-args "-t setup.* -t submit.* -t data.direct_roundtrip"
	assert_status 0
	local d
	d=$(dirname "$(find "$AIO_SUITE_RESULTS" -name conform.json | head -1)")
	[[ -d $d ]]
	json_true "$d/conform.json" 'len(d["results"]) > 10'
	json_true "$d/conform.json" 'not [r for r in d["results"] if r["result"] == "fail"]'
	grep -q '^# variant xfs: ' "$d/conform.ktap"
	if [[ -f $d/ioerr.json ]]; then
		json_true "$d/ioerr.json" 'all(r["result"] != "fail" for r in d["results"])'
	fi
	[[ ! -x $BUILD_DIR/aio-fuzz ]] || json_true "$d/fuzz.json" 'd["result"] == "pass"'
	grep -q $'^dmesg\tok' "$d/steps.tsv"
}

@test "a guest whose conformance run cannot finish in time sends its results home before qemu is killed" {
	requires qemu busybox-static kernel-cache
	# 60 s for the guest: its deadline is 40 s of uptime, aio-conform is
	# stopped before then, the later steps skip for want of time.
	run kernels --releases 6.1 --no-stress --fuzz 200 --timeout 60
	assert_status 0
	assert_output_has "6.1: ok"
	local d
	d=$(dirname "$(find "$AIO_SUITE_RESULTS" -name conform.json | head -1)")
	[[ -d $d ]]
	json_true "$d/conform.json" 'len(d["results"]) > 0'
	grep -q $'^conform\tok' "$d/steps.tsv"
	grep -q $'\tskip\tno time left before the host\'s deadline\t' "$d/steps.tsv"
	# the run is marked incomplete: steps were cut for want of time
	json_true "$d/summary.json" 'd["complete"] is False'
}

@test "a corrupt kernel image is reported and the run goes on to the next kernel" {
	requires qemu busybox-static kernel-cache
	head -c 2000000 /dev/urandom >"$SCRATCH/bzImage"
	run kernels --kernel "$SCRATCH/bzImage" --releases 6.1 --run boot \
		--timeout 60
	assert_status 1
	assert_output_line "bzImage: (error|panic|timeout) "
	assert_output_has "6.1: ok"
	# the failure is stored too, with what the console and qemu said
	local q
	q=$(find "$AIO_SUITE_RESULTS" -path '*failed*' -name qemu.json | head -1)
	[[ -n $q ]]
	json_true "$q" 'd["status"] != "ok" and d["reason"] != ""'
}

@test "a kernel that panics is reported with its panic line" {
	requires qemu busybox-static kernel-cache
	# no /init to run and no root to mount: "VFS: Unable to mount root fs"
	run kernels --releases 6.1 --run boot --timeout 60 \
		--append "rdinit=/nonexistent root=/dev/nonexistent"
	assert_status 1
	assert_output_has "6.1: panic"
	assert_output_line 'reason: .*Kernel panic'
}

@test "a guest that does not finish in time is killed and shown with its console" {
	requires qemu busybox-static kernel-cache
	run kernels --releases 6.1 --run boot --timeout 5
	assert_status 1
	assert_output_has "6.1: timeout"
	assert_output_has "no power-off within 5 s"
	assert_output_line '^ +\| '
}

@test "a complete results stream unpacks" {
	mkdir -p "$SCRATCH/d"
	echo '{"schema": "aio-conform/1"}' >"$SCRATCH/d/conform.json"
	make_stream "$SCRATCH/d" "$SCRATCH/stream"
	run python3 "$TOP/ci/results_stream.py" "$SCRATCH/stream" "$SCRATCH/out"
	assert_status 0
	cmp "$SCRATCH/d/conform.json" "$SCRATCH/out/conform.json"
}

@test "a truncated results stream is rejected, not taken as a pass" {
	mkdir -p "$SCRATCH/d"
	head -c 100000 /dev/urandom | base64 >"$SCRATCH/d/conform.ktap"
	make_stream "$SCRATCH/d" "$SCRATCH/stream"
	# cut in the middle: no end marker
	head -c $(($(wc -c <"$SCRATCH/stream") / 2)) "$SCRATCH/stream" >"$SCRATCH/cut"
	run python3 "$TOP/ci/results_stream.py" "$SCRATCH/cut" "$SCRATCH/out"
	assert_status 1
	assert_output_has "truncated results stream"
	[[ ! -e $SCRATCH/out/conform.ktap ]]
	# lines lost but the end marker there: the length gives it away
	{ head -5 "$SCRATCH/stream"; tail -1 "$SCRATCH/stream"; } >"$SCRATCH/cut2"
	run python3 "$TOP/ci/results_stream.py" "$SCRATCH/cut2" "$SCRATCH/out"
	assert_status 1
	assert_output_has "truncated results stream"
}

@test "a results stream with a changed byte fails its checksum" {
	mkdir -p "$SCRATCH/d"
	head -c 30000 /dev/urandom >"$SCRATCH/d/blob"
	make_stream "$SCRATCH/d" "$SCRATCH/stream"
	# flip one base64 character on the third line to another valid one
	awk 'NR == 3 { c = substr($0, 10, 1); r = (c == "A") ? "B" : "A";
		$0 = substr($0, 1, 9) r substr($0, 11) } { print }' \
		"$SCRATCH/stream" >"$SCRATCH/bad"
	run python3 "$TOP/ci/results_stream.py" "$SCRATCH/bad" "$SCRATCH/out"
	assert_status 1
	assert_output_has "checksum mismatch"
}

@test "the CI workflow files are valid YAML with their jobs" {
	local py=python3
	/usr/bin/python3 -c 'import yaml' 2>/dev/null && py=/usr/bin/python3
	run "$py" "$TOP/ci/check_yaml.py" "$TOP/.github/workflows/ci.yml" \
		"$TOP/.gitlab-ci.yml"
	assert_status 0
	# the stand-in check, where PyYAML is missing, passes them too ...
	AIO_SUITE_NO_PYYAML=1 run python3 "$TOP/ci/check_yaml.py" \
		"$TOP/.github/workflows/ci.yml" "$TOP/.gitlab-ci.yml"
	assert_status 0
	# ... and catches a tab and a stray indentation
	printf 'on:\n  push:\njobs:\n  a:\n    runs-on: x\n     steps:\n\t- run: y\n' \
		>"$SCRATCH/bad.yml"
	AIO_SUITE_NO_PYYAML=1 run python3 "$TOP/ci/check_yaml.py" "$SCRATCH/bad.yml"
	assert_status 1
	assert_output_has "a tab in the indentation"
}

@test "aio-fuzz refuses to run outside the guest" {
	[[ -x $BUILD_DIR/aio-fuzz ]] || skip "aio-fuzz not built"
	if grep -q 'aio.run=' /proc/cmdline; then
		skip "this is the suite's guest"
	fi
	run "$BUILD_DIR/aio-fuzz" -d "$SCRATCH"
	assert_one_line_error aio-fuzz
	assert_output_has "runs only in the qemu guest"
}
