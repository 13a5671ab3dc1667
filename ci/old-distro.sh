#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Description: the suite on an old distribution, where many AIO users
# live: Debian 11 (bullseye: gcc 10, glibc 2.31, liburing 0.7, Python
# 3.9).  In a chroot made once with debootstrap and cached outside the
# repository, it builds this tree (make all, also without liburing as on
# RHEL 8), runs the C unit tests and aio-conform on the running kernel and
# the Python report tools, and prints TAP: one line per step.
#
#   ci/old-distro.sh [--suite NAME] [--cache DIR] [--no-create] [--rebuild]
#
#   --suite NAME   Debian suite of the chroot (default bullseye)
#   --cache DIR    where the chroot is kept (default $AIO_SUITE_CHROOT_CACHE
#                  or /var/cache/aio-suite): DIR/chroot-NAME
#   --no-create    skip, rather than run debootstrap, when none is cached
#   --rebuild      make the chroot again even when the cached one is good
#
# The chroot is made from the archive of the machine's own apt sources
# (ci/apt_sources.py; AIO_SUITE_APT_MIRROR overrides), in about a minute,
# and made again when it is broken or its recipe changed.  It needs root,
# debootstrap and the archive; without them it prints a skip line with the
# reason and exits 0.  AIO_SUITE_OLD_DISTRO=skip skips it too.  Logs go to
# $AIO_SUITE_LOGDIR/old-distro (default results/check/old-distro).
#
# /dev, /proc and /sys are mounted into the chroot only inside a private
# mount and pid namespace (unshare): they vanish with it on every exit
# path, even SIGKILL, and nothing is ever mounted there in the machine's
# own namespace.  SIGINT, SIGTERM and SIGHUP end the run and remove the
# copy of the tree from the chroot.
set -u
prog=old-distro
cd "$(dirname "$0")/.." || exit 1
top=$PWD
# shellcheck source=ci/lib.bash
. ci/lib.bash

suite=bullseye
cache=${AIO_SUITE_CHROOT_CACHE:-/var/cache/aio-suite}
create=1
rebuild=0
packages=build-essential,liburing-dev,libblkid-dev,python3,e2fsprogs,xfsprogs
# What the chroot is made of: a cached chroot with another recipe is made again.
recipe() { echo "suite=$suite variant=minbase packages=$packages"; }

help_end=30
chroot_options "$@"
[ ${#rest[@]} -eq 0 ] || usage_error "unknown argument '${rest[0]}'"

root=$cache/chroot-$suite
logdir=${AIO_SUITE_LOGDIR:-results/check}/old-distro
[[ $logdir == /* ]] || logdir=$top/$logdir
n=0
failed=0

# skip REASON: the whole check is skipped; says how to run it.
skip() {
	echo "ok 1 - the suite on Debian $suite # SKIP $*"
	echo "# to run it: make check-old-distro (as root, with debootstrap installed)"
	echo "1..1"
	exit 0
}

# ---------------------------------------------------------------------------
# Inside the namespace (started by the part below): mount, run each step in
# the chroot, report.  $1 is the tree's directory inside the chroot.
# in_chroot CMD: CMD in the tree's copy, with a clean environment and a
# TMPDIR that goes with the copy.
in_chroot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 TERM=dumb TMPDIR="$wdir/.tmp" \
		/bin/sh -c "cd '$wdir' && $1"
}

run_inside() {
	local w=$1 log p f s name line re t0
	wdir=$w
	n=$2
	readlink /proc/self/ns/mnt >"$root$w/.mntns"
	trap 'umount -R -l "$root" 2>/dev/null' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	# The chroot's root is a mount point of its own, so that tests can
	# make mounts private inside it.
	if ! { mount --bind "$root" "$root" && mount --rbind /dev "$root/dev" &&
		mount -t proc proc "$root/proc" &&
		mount --rbind /sys "$root/sys"; }; then
		tap_not_ok "mount /dev, /proc and /sys into the chroot"
		return 1
	fi
	echo "# in mount namespace $(cat "$root$w/.mntns"), /dev, /proc and /sys mounted"
	log=$root$w/logs
	mkdir -p "$log" "$root$w/.tmp"

	echo "# $(in_chroot 'gcc --version | head -n 1'), $(in_chroot 'ldd --version | head -n 1')"
	echo "# $(in_chroot "dpkg-query -W -f '\${Package} \${Version}\n' liburing-dev libblkid-dev linux-libc-dev python3" | paste -s -d, | sed 's/,/, /g')"
	if ! step "make all builds on Debian $suite" "$log/build.log" \
		"make -j$(nproc) all"; then
		echo "# the rest needs the build"
		return 1
	fi
	if grep -q 'warning:' "$log/build.log"; then
		tap_not_ok "gcc builds the tree without a warning (-Wall -Wextra)"
		grep -A3 'warning:' "$log/build.log" | head -40 | sed 's/^/#   /'
	else
		tap_ok "gcc builds the tree without a warning (-Wall -Wextra)"
	fi
	step "make all builds without liburing, as on RHEL 8" \
		"$log/build-nouring.log" \
		"make -j$(nproc) BUILD=build-nouring HAVE_LIBURING= all" &&
		step "the engine tests pass in the build without liburing" \
			"$log/unit-nouring-test_engine.tap" \
			"build-nouring/tests/test_engine"

	# Unit tests and aio-conform through the tree's own runner: one line
	# per part it counted.
	t0=$SECONDS
	in_chroot "AIO_SUITE_LOGDIR=$w/logs ./tests/run-all.sh unit conform" \
		>"$log/run-all.log" 2>&1
	echo "# tests/run-all.sh unit conform in the chroot: $((SECONDS - t0)) s"
	re='^# (.+): ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		name=${BASH_REMATCH[1]% } p=${BASH_REMATCH[2]}
		f=${BASH_REMATCH[3]} s=${BASH_REMATCH[4]}
		if [ "$f" -eq 0 ]; then
			tap_ok "$name on Debian $suite: $p passed, $s skipped"
		else
			tap_not_ok "$name on Debian $suite: $f failed, $p passed, $s skipped"
		fi
	done <"$log/run-all.log"
	if ! tail -n 1 "$log/run-all.log" | grep -Eq '^[0-9]+ passed, [0-9]+ failed'; then
		tap_not_ok "tests/run-all.sh unit conform ends with its totals"
		diag "$log/run-all.log" 5
	elif ! tail -n 1 "$log/run-all.log" | grep -q ' 0 failed'; then
		grep -E '^ *not ok' "$log/run-all.log" | head -20 | sed 's/^/#   /'
	fi

	# The Python tools on the chroot's Python: every file compiles, every
	# module imports (annotations evaluated), and a report is made of two
	# synthetic runs.
	# shellcheck disable=SC2016 # expanded by the chroot's shell
	step "the Python tools compile, import and make a report on $(in_chroot 'python3 --version')" \
		"$log/python.log" \
		'set -e; python3 -m py_compile tools/*.py ci/*.py $(find aiosuite -name "*.py")
		for f in tools/*.py ci/*.py; do
			(cd "${f%/*}" && python3 -c "import $(basename "$f" .py)" </dev/null)
		done
		python3 -c "import importlib, pkgutil, aiosuite
for m in pkgutil.walk_packages(aiosuite.__path__, \"aiosuite.\"):
    if not m.name.endswith(\".__main__\"):
        importlib.import_module(m.name)" </dev/null
		st=$(mktemp -d); trap "rm -rf $st" EXIT
		python3 tools/synth.py "$st/store" --release 5.10 >/dev/null
		python3 tools/synth.py "$st/store" --release 6.1 --slowdown 10 >/dev/null
		python3 tools/report.py --results "$st/store" --no-charts --out "$st/out"
		test -s "$st/out/report.md"'
	return 0
}

# ---------------------------------------------------------------------------
# The machine's side: preconditions, the cached chroot, the copy of the
# tree, the namespace, and the check that nothing is left mounted.

if [ "${in_namespace:-0}" = 1 ]; then
	# $AIO_SUITE_OLD_DISTRO_WDIR is the tree inside the chroot, the
	# step counter goes on from $AIO_SUITE_OLD_DISTRO_N.
	run_inside "$AIO_SUITE_OLD_DISTRO_WDIR" "$AIO_SUITE_OLD_DISTRO_N"
	status=$?
	echo "$n" >"$root$AIO_SUITE_OLD_DISTRO_WDIR/.steps"
	[ "$failed" -eq 0 ] && exit "$status"
	exit 1
fi

[ "${AIO_SUITE_OLD_DISTRO:-}" = skip ] && skip "AIO_SUITE_OLD_DISTRO=skip"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mounts)"
for tool in chroot unshare flock python3; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done

# The chroot is good when its recipe is ours and its compiler, make and
# libraries answer.
chroot_good() {
	[ -f "$root/.aio-suite-chroot" ] &&
		[ "$(cat "$root/.aio-suite-chroot")" = "$(recipe)" ] &&
		chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /bin/sh -c \
			'gcc --version && make --version && python3 --version &&
			 dpkg-query -W liburing-dev libblkid-dev' >/dev/null 2>&1
}

# make_chroot: debootstrap into a new directory, then put it in place.
make_chroot() {
	local log=$cache/debootstrap-$suite.log rc
	chroot_debootstrap "$suite" "$root" "$packages" "$log"
	rc=$?
	case $rc in
	0) recipe >"$root/.aio-suite-chroot" ;;
	2) skip "$CHROOT_WHY" ;;
	*)
		tap_not_ok "$CHROOT_WHY"
		diag "$log" 10
		;;
	esac
	return "$rc"
}

mkdir -p "$cache" "$logdir" || exit 1
exec 9>"$cache/chroot-$suite.lock"
echo "TAP version 13"
# Exclusive while the chroot is checked or made, shared while it is used:
# two runs at once share one chroot, each with its own copy of the tree.
flock -w 1800 -x 9 || skip "$cache/chroot-$suite.lock is held by another run"
if [ "$rebuild" = 1 ] || ! chroot_good; then
	if [ "$rebuild" = 0 ] && [ ! -e "$root" ] && [ "$create" = 0 ]; then
		skip "no $suite chroot cached in $root (--no-create)"
	fi
	if [ -e "$root" ] && [ "$rebuild" = 0 ]; then
		echo "# the cached chroot $root is broken or outdated: making it again"
	fi
	if [ "$create" = 0 ] && [ "$rebuild" = 0 ]; then
		skip "the cached chroot $root is broken or outdated (--no-create)"
	fi
	make_chroot || { echo "1..$n"; exit 1; }
else
	echo "# reusing the $suite chroot in $root (made $(date -r "$root/.aio-suite-chroot" '+%F %R'))"
fi
flock -s 9

# The tree as it is in the working copy (tracked and new files, not
# build/ or results/), copied into the chroot's /tmp.
host_wdir=$(mktemp -d "$root/tmp/aio-suite.XXXXXX") || exit 1
wdir=${host_wdir#"$root"}
chroot_guard "$host_wdir"
t0=$SECONDS
copy_tree "$host_wdir" || { tap_not_ok "copy the tree into the chroot"; echo "1..$n"; exit 1; }
echo "# the tree copied into $host_wdir in $((SECONDS - t0)) s"

export AIO_SUITE_OLD_DISTRO_WDIR=$wdir AIO_SUITE_OLD_DISTRO_N=$n
chroot_unshare --suite "$suite" --cache "$cache"
status=$?
[ -f "$host_wdir/.steps" ] && n=$(cat "$host_wdir/.steps")
[ "$status" -eq 0 ] || failed=$((failed + 1))
rm -rf "$logdir" && mkdir -p "$logdir" && cp -r "$host_wdir/logs/." "$logdir/" 2>/dev/null

# Nothing of the chroot is mounted in the machine's namespace, and no
# process is left in the run's own (which holds its mounts).
chroot_nothing_left "$(cat "$host_wdir/.mntns" 2>/dev/null)" "$root"
echo "# logs in $logdir"
echo "1..$n"
[ "$failed" -eq 0 ]
