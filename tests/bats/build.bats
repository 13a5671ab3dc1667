#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The build, the set-up script and the test runner itself.

load helpers

setup() {
	common_setup
}

teardown() {
	# An old-distro run a failed test left going.
	[ -z "${OLD_DISTRO_PID:-}" ] || kill -TERM "$OLD_DISTRO_PID" 2>/dev/null
	common_teardown
}

@test "make lint finds every C file in kernel style and every script parses" {
	command -v clang-format >/dev/null || skip "clang-format is not installed (apt-get install clang-format)"
	run make -C "$TOP" --no-print-directory lint
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the tree builds with clang and no warnings" {
	command -v clang >/dev/null || skip "clang is not installed (apt-get install clang)"
	run make -C "$TOP" --no-print-directory CC=clang BUILD="$SCRATCH/clang" \
		OPT="-O1 -Werror" "$SCRATCH/clang/aio-stress" "$SCRATCH/clang/aio-conform" \
		"$SCRATCH/clang/aio-bare"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -x "$SCRATCH/clang/aio-stress" ]
	[ -x "$SCRATCH/clang/aio-conform" ]
}

@test "make install puts the binaries and job files under DESTDIR" {
	run make -C "$TOP" --no-print-directory install DESTDIR="$SCRATCH/root" PREFIX=/usr
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -x "$SCRATCH/root/usr/bin/aio-stress" ]
	[ -x "$SCRATCH/root/usr/bin/aio-conform" ]
	[ -x "$SCRATCH/root/usr/bin/aio-bare" ]
	run "$SCRATCH/root/usr/bin/aio-stress" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "aio-stress "* ]]
}

@test "deps lists the Debian packages the suite needs" {
	run "$TOP/ci/deps.sh" --list
	[ "$status" -eq 0 ]
	for p in libaio-dev liburing-dev libblkid-dev fio gnuplot-nox bats python3 \
		e2fsprogs xfsprogs btrfs-progs util-linux; do
		grep -qx "$p" <<<"$output" || { echo "missing $p"; false; }
	done
}

# A fake dpkg-query that reports every package missing, and a fake id.
fake_debian() {
	mkdir -p "$SCRATCH/bin"
	printf '#!/bin/sh\necho "unknown ok not-installed"\n' >"$SCRATCH/bin/dpkg-query"
	printf '#!/bin/sh\necho 1000\n' >"$SCRATCH/bin/id"
	chmod +x "$SCRATCH/bin/dpkg-query" "$SCRATCH/bin/id"
}

@test "deps as a non-root user prints the apt-get line and carries on" {
	fake_debian
	PATH="$SCRATCH/bin:$PATH" run "$TOP/ci/deps.sh"
	[ "$status" -eq 0 ]
	[[ "$output" == *"apt-get install -y "*"libaio-dev"*"fio"* ]]
	[[ "$output" == *"skipped with the reason"* ]]
}

@test "deps --missing names what is missing and fails" {
	fake_debian
	PATH="$SCRATCH/bin:$PATH" run "$TOP/ci/deps.sh" --missing
	[ "$status" -eq 1 ]
	[[ "$output" == *liburing-dev* ]]
}

@test "deps does nothing when every package is installed" {
	"$TOP/ci/deps.sh" --missing >/dev/null || skip "some packages are missing on this machine"
	run "$TOP/ci/deps.sh"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "deps rejects an unknown argument with one line and status 2" {
	run "$TOP/ci/deps.sh" --bogus
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "deps: unknown argument '--bogus'" ]]
}

@test "run-all counts TAP results and ends with the summary line" {
	mkdir -p "$SCRATCH/b/tests"
	cat >"$SCRATCH/b/tests/test_fake" <<-'EOF2'
	#!/bin/sh
	echo "1..4"
	echo "ok 1 passes"
	echo "not ok 2 fails"
	echo "ok 3 skips # SKIP no reason needed here"
	echo "not ok 4 known # XFAIL 5.10, fixed by abc"
	exit 1
	EOF2
	chmod +x "$SCRATCH/b/tests/test_fake"
	BUILD="$SCRATCH/b" AIO_SUITE_LOGDIR="$SCRATCH/logs" run "$TOP/tests/run-all.sh" unit
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "2 passed, 1 failed, 1 skipped" ]
}

@test "run-all counts a test binary that dies without a verdict as a failure" {
	mkdir -p "$SCRATCH/b/tests"
	printf '#!/bin/sh\necho "1..3"\necho "ok 1 first"\nkill -SEGV $$\n' >"$SCRATCH/b/tests/test_crash"
	chmod +x "$SCRATCH/b/tests/test_crash"
	BUILD="$SCRATCH/b" AIO_SUITE_LOGDIR="$SCRATCH/logs" run "$TOP/tests/run-all.sh" unit
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "1 passed, 1 failed, 0 skipped" ]
}

@test "run-all rejects an unknown part with status 2" {
	run "$TOP/tests/run-all.sh" nonsense
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown part 'nonsense'"* ]]
}

@test "aio-stress shows a progress line when stderr is a terminal" {
	command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
	run script -qec "$AIO_STRESS -o 0 -n -r 4k --runtime 1.6 /dev/null" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\r'"write: "*" MB/s, "*" MB in "* ]]
}

@test "aio-stress prints no progress line when stderr is not a terminal" {
	run "$AIO_STRESS" -o 0 -n -r 4k --runtime 1.6 /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\r'* ]]
}

# Builds where AIO users live: liburing 0.7 (Debian 11, Ubuntu 20.04), no
# liburing at all (RHEL 8), glibc before 2.32, and the chroot check.

@test "the tree builds and its io_uring engine passes with the fallbacks of an old liburing" {
	local b=$SCRATCH/oldur
	run make -C "$TOP" --no-print-directory BUILD="$b" OPT="-O1 -Werror" \
		CONFIG_WITHOUT="IO_URING_ENTER IO_URING_GET_EVENTS IO_URING_RING_FEATURES" \
		"$b/tests/test_engine"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -qx '#define HAVE_IO_URING_GET_EVENTS 0' "$b/config.h"
	cd "$SCRATCH"
	run timeout -k 5 300 "$b/tests/test_engine"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" != *"not ok"* ]]
}

@test "without liburing the tree builds and io_uring is a skip: not compiled in" {
	local b=$SCRATCH/nouring
	run make -C "$TOP" --no-print-directory BUILD="$b" HAVE_LIBURING= \
		OPT="-O1 -Werror" "$b/aio-stress"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# An engine this build lacks is absent, as on a kernel without it:
	# exit 77, a skip.
	run -77 "$b/aio-stress" --quiet --engine io_uring -o 0 -s 64k -r 4k \
		"$SCRATCH/f"
	[[ "$output" == *"io_uring is not available: not compiled in"* ]]
}

@test "a second make rebuilds nothing, the config step included" {
	run make -C "$TOP" --no-print-directory all
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -Eq '^#define HAVE_IO_URING_ENTER [01]$' "$TOP/build/config.h"
	run make -C "$TOP" --no-print-directory all
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "the tree builds with kernel headers older than 5.8 (no LOOP_CONFIGURE, no pidfd_open)" {
	# Headers as Ubuntu 20.04 (5.4) and RHEL 8 (4.18) have them: this
	# system's, less loop_config and SYS_pidfd_open.
	local h=$SCRATCH/old-headers b=$SCRATCH/oldhdr
	mkdir -p "$h/linux" "$h/sys"
	echo '#include <linux/loop.h>' | ${CC:-cc} -E -H -x c - -o /dev/null 2>&1 |
		awk '/\/linux\/loop\.h$/ { print $2; exit }' >"$SCRATCH/loop.h.path"
	[ -s "$SCRATCH/loop.h.path" ]
	sed '/^struct loop_config {/,/^};/d; /#define LOOP_CONFIGURE[[:space:]]/d' \
		"$(cat "$SCRATCH/loop.h.path")" >"$h/linux/loop.h"
	run ! grep -Eq '#define LOOP_CONFIGURE[[:space:]]|^struct loop_config' \
		"$h/linux/loop.h"
	printf '%s\n' '#ifndef OLD_SYS_SYSCALL_H' '#define OLD_SYS_SYSCALL_H' \
		'#include_next <sys/syscall.h>' '#undef SYS_pidfd_open' '#endif' \
		>"$h/sys/syscall.h"
	run make -C "$TOP" --no-print-directory BUILD="$b" CC="${CC:-cc} -I$h" \
		OPT="-O1 -Werror" "$b/aio-stress" "$b/aio-conform"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "old-distro rejects an unknown argument with one line and status 2" {
	run "$TOP/ci/old-distro.sh" --bogus
	assert_one_line_error old-distro 2
	[[ "$output" == "old-distro: unknown argument '--bogus'" ]]
}

@test "old-distro skips with the reason and the command to run it when not root" {
	mkdir -p "$SCRATCH/bin"
	printf '#!/bin/sh\necho 1000\n' >"$SCRATCH/bin/id"
	chmod +x "$SCRATCH/bin/id"
	PATH="$SCRATCH/bin:$PATH" run "$TOP/ci/old-distro.sh"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 1 - the suite on Debian bullseye # SKIP needs root"* ]]
	[[ "$output" == *"make check-old-distro"* ]]
}

@test "old-distro --no-create skips when no chroot is cached" {
	mkdir -p "$SCRATCH/bin"
	printf '#!/bin/sh\necho 0\n' >"$SCRATCH/bin/id"
	chmod +x "$SCRATCH/bin/id"
	PATH="$SCRATCH/bin:$PATH" run "$TOP/ci/old-distro.sh" --no-create \
		--cache "$SCRATCH/cache"
	[ "$status" -eq 0 ]
	[[ "$output" == *"# SKIP no bullseye chroot cached in $SCRATCH/cache/chroot-bullseye (--no-create)"* ]]
	[ ! -e "$SCRATCH/cache/chroot-bullseye" ]
}

@test "old-distro interrupted leaves nothing mounted and no copy of the tree" {
	requires root
	local cache=${AIO_SUITE_CHROOT_CACHE:-/var/cache/aio-suite} ns pid i t0
	local root=$cache/chroot-bullseye
	[ -f "$root/.aio-suite-chroot" ] ||
		skip "no bullseye chroot cached in $root (make check-old-distro makes one)"
	: >"$SCRATCH/out"
	AIO_SUITE_LOGDIR=$SCRATCH/logs "$TOP/ci/old-distro.sh" --no-create \
		>"$SCRATCH/out" 2>&1 &
	pid=$!
	OLD_DISTRO_PID=$pid
	for ((i = 0; i < 600; i++)); do
		ns=$(sed -n 's/^# in mount namespace \(mnt:\[[0-9]*\]\).*/\1/p' "$SCRATCH/out")
		[ -n "$ns" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$ns" ] || { kill "$pid"; cat "$SCRATCH/out"; false; }
	t0=$SECONDS
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	OLD_DISTRO_PID=
	[ "$rc" -eq 143 ] || { echo "status $rc"; cat "$SCRATCH/out"; false; }
	# At once, not when the build and the tests are done.
	[ $((SECONDS - t0)) -lt 10 ] || { echo "took $((SECONDS - t0)) s"; false; }
	# No process is left in the run's mount namespace (its mounts die
	# with it), nothing is mounted below the chroot in this namespace,
	# and the copy of the tree is gone.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" != "$ns" ] ||
			{ echo "left in $ns: ${p#/proc/}"; false; }
	done
	run ! grep -q " $root[ /]" /proc/self/mounts
	wdir=$(sed -n 's/^# the tree copied into \([^ ]*\) in.*/\1/p' "$SCRATCH/out")
	[ -n "$wdir" ] && [ ! -e "$wdir" ]
}
