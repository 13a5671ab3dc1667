#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Description: the Debian package in a clean Debian chroot.  apt-get
# installs it there with its Depends from the archive; then, from the
# installed files only, aio-conform --list, aio-stress --help, man -w
# aio-stress, a quick study into the results directory it is given,
# aio-report over those results; then apt-get purge removes it.  Prints
# TAP: one line per step.
#
#   ci/deb-chroot.sh [--suite NAME] [--cache DIR] [--no-create] [--rebuild] DEB
#
#   DEB            the package (make deb: build/deb/aio-suite_VERSION_ARCH.deb)
#   --suite NAME   Debian suite of the chroot (default: this machine's,
#                  VERSION_CODENAME of /etc/os-release)
#   --cache DIR    where the base chroot is kept (default
#                  $AIO_SUITE_CHROOT_CACHE or /var/cache/aio-suite):
#                  DIR/chroot-NAME-deb, and what apt-get downloads in
#                  DIR/apt-NAME-deb/, so that a second run downloads nothing
#   --no-create    skip, rather than run debootstrap, when none is cached
#   --rebuild      make the base chroot again even when the cached one is good
#
# The base chroot is debootstrap --variant=minbase and nothing more, made
# once (about a minute) and never changed: each run mounts an overlay over
# it, with /dev, /proc and /sys, in a private mount and pid namespace
# (unshare), so that what the run installs and writes vanishes with the
# namespace on every exit path, even SIGKILL.  It needs root, unshare,
# overlayfs, debootstrap and the archive of the machine's apt sources
# (ci/apt_sources.py); without them it prints a skip line with the reason
# and exits 0.  AIO_SUITE_DEB_CHROOT=skip skips it, =cached is --no-create.
# Step logs go to $AIO_SUITE_LOGDIR/deb-chroot (default
# results/check/deb-chroot).
set -u
prog='deb-chroot'
cd "$(dirname "$0")/.." || exit 1
top=$PWD
# shellcheck source=ci/lib.bash
. ci/lib.bash

suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
cache=${AIO_SUITE_CHROOT_CACHE:-/var/cache/aio-suite}
create=1
rebuild=0
deb=
# What the base is made of: a cached chroot with another recipe is made again.
recipe() { echo "suite=$suite variant=minbase packages="; }

help_end=32
chroot_options "$@"
for a in "${rest[@]}"; do
	[[ $a != -* ]] || usage_error "unknown option '$a'"
	[ -z "$deb" ] || usage_error "one package, not '$deb' and '$a'"
	deb=$a
done
[ -n "$deb" ] || usage_error "which package? (make deb builds build/deb/aio-suite_VERSION_ARCH.deb)"
[ -n "$suite" ] || usage_error "no VERSION_CODENAME in /etc/os-release: give --suite"

root=$cache/chroot-$suite-deb
apt_cache=$cache/apt-$suite-deb
logdir=${AIO_SUITE_LOGDIR:-results/check}/deb-chroot
[[ $logdir == /* ]] || logdir=$top/$logdir

# skip REASON: the whole check is skipped; says how to run it.
skip() {
	echo "ok 1 - the Debian package in a clean $suite chroot # SKIP $*"
	echo "# to run it: bats tests/bats/deb.bats (as root, with debootstrap installed)"
	echo "1..1"
	exit 0
}

# ---------------------------------------------------------------------------
# Inside the namespace (started by the part below): the overlay, the
# mounts, each step in the chroot.  $run is the run's directory: the
# overlay's upper and work directories, the merged root and the logs.

# in_chroot CMD: CMD as root in the merged chroot, with a clean environment.
in_chroot() {
	chroot "$merged" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
		/bin/sh -c "cd /root && $1"
}

run_inside() {
	local name log
	merged=$run/root
	log=$run/logs
	name=${deb##*/}
	readlink /proc/self/ns/mnt >"$run/mntns"
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	mkdir -p "$run/upper" "$run/work" "$merged" "$log" "$apt_cache" || return 1
	if ! mount -t overlay overlay \
		-o "lowerdir=$root,upperdir=$run/upper,workdir=$run/work" "$merged"; then
		tap_not_ok "mount an overlay over the base chroot (overlayfs)"
		return 1
	fi
	if ! { mount --rbind /dev "$merged/dev" && mount -t proc proc "$merged/proc" &&
		mount --rbind /sys "$merged/sys" &&
		mount --bind "$apt_cache" "$merged/var/cache/apt/archives"; }; then
		tap_not_ok "mount /dev, /proc, /sys and the package cache into the chroot"
		return 1
	fi
	echo "# in mount namespace $(cat "$run/mntns"): an overlay over $root, /dev, /proc and /sys mounted"
	cp "$deb" "$merged/tmp/$name" || return 1

	# The package and its Depends from the archive (apt-get update first
	# when the lists of the base are too old for it); man-db for man -w.
	step "apt-get installs $name and its Depends from the $suite archive" \
		"$log/install.log" \
		"apt-get install -y -q --no-install-recommends /tmp/$name man-db ||
		 { apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/$name man-db; }" ||
		{ echo "# the rest needs the package"; return 1; }
	echo "# $(in_chroot "dpkg-query -W -f '\${Package} \${Version}\n' aio-suite python3 fio gnuplot-nox liburing2 | paste -s -d, | sed 's/,/, /g'")"
	# What the package put in place, to see that nothing else is written
	# there from now on.
	in_chroot "touch /tmp/.installed; dpkg -L aio-suite | grep -v '^/\\.$' | sort >/tmp/.files"

	# shellcheck disable=SC2016 # expanded by the chroot's shell
	step "aio-conform --list lists the conformance tests" "$log/conform-list.log" \
		'aio-conform --list && test "$(aio-conform --list | wc -l)" -ge 20'
	step "aio-stress --help prints its usage" "$log/stress-help.log" \
		'aio-stress --help && aio-stress --help 2>&1 | grep -q -- --engine'
	# shellcheck disable=SC2016
	step "man -w aio-stress finds the installed page" "$log/man.log" \
		'p=$(man -w aio-stress) && echo "$p" && test "$p" = /usr/share/man/man1/aio-stress.1.gz &&
		 man -w 7 aio-suite'
	# shellcheck disable=SC2016 # expanded by the chroot's shell
	step "aio-study --quick batching runs from the installed files and writes under --results" \
		"$log/study.log" \
		'set -e
		aio-study --quick --results /srv/results batching
		d=$(ls -d /srv/results/*/*/*-study-batching)
		echo "run directory: $d"
		test -s "$d/batching.json"
		python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d[\"complete\"] is True else \"summary.json: not complete\")" "$d/summary.json"
		ls "$d"/fio-batching-*.json "$d"/batching.png
		test ! -e /root/.local/share/aio-suite/results'
	# shellcheck disable=SC2016
	step "aio-report compares the study's results and draws its charts from the installed templates" \
		"$log/report.log" \
		'set -e
		aio-report --results /srv/results
		test -s /srv/results/report/report.md
		ls /srv/results/report/charts/*.png'
	# shellcheck disable=SC2016
	step "the installed commands wrote nothing into the installed tree" \
		"$log/installed-tree.log" \
		'new=$(find /usr/share/aio-suite /usr/bin -newer /tmp/.installed)
		 [ -z "$new" ] || { echo "written after the install: $new"; exit 1; }'
	# shellcheck disable=SC2016
	step "apt-get purge aio-suite removes every file of the package" \
		"$log/purge.log" \
		'set -e
		apt-get purge -y -q aio-suite
		left=$(for f in $(cat /tmp/.files); do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done
		       find /usr/share/aio-suite 2>/dev/null || true)
		[ -z "$left" ] || { echo "left:"; echo "$left"; exit 1; }'
	return 0
}

if [ "${in_namespace:-0}" = 1 ]; then
	run=$AIO_SUITE_DEB_RUN
	deb=$run/$(basename "$deb")
	run_inside
	status=$?
	echo "$n $failed" >"$run/steps"
	[ "$failed" -eq 0 ] && exit "$status"
	exit 1
fi

# ---------------------------------------------------------------------------
# The machine's side: preconditions, the cached base, the run's directory,
# the namespace, and the check that nothing is left mounted.

[ -f "$deb" ] || usage_error "no package '$deb' (make deb builds it)"
case ${AIO_SUITE_DEB_CHROOT:-} in
skip) skip "AIO_SUITE_DEB_CHROOT=skip" ;;
cached) create=0 ;;
esac
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mounts)"
for tool in chroot unshare flock python3; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
	skip "no overlayfs in this kernel"
grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"

# The base is good when its recipe is ours and apt and dpkg answer.
chroot_good() {
	[ -f "$root/.aio-suite-chroot" ] &&
		[ "$(cat "$root/.aio-suite-chroot")" = "$(recipe)" ] &&
		chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /bin/sh -c \
			'apt-get --version && dpkg --version' >/dev/null 2>&1
}

mkdir -p "$cache" "$logdir" || exit 1
exec 9>"$cache/chroot-$suite-deb.lock"
echo "TAP version 13"
# Exclusive while the base is checked or made, shared while it is used
# (each run has its own overlay); the package cache has a lock of apt's.
flock -w 1800 -x 9 || skip "$cache/chroot-$suite-deb.lock is held by another run"
if [ "$rebuild" = 1 ] || ! chroot_good; then
	if [ "$rebuild" = 0 ] && [ "$create" = 0 ]; then
		[ -e "$root" ] || skip "no $suite chroot cached in $root (--no-create)"
		skip "the cached chroot $root is broken or outdated (--no-create)"
	fi
	if [ -e "$root" ] && [ "$rebuild" = 0 ]; then
		echo "# the cached chroot $root is broken or outdated: making it again"
	fi
	chroot_debootstrap "$suite" "$root" "" "$cache/debootstrap-$suite-deb.log"
	case $? in
	0) recipe >"$root/.aio-suite-chroot" ;;
	2) skip "$CHROOT_WHY" ;;
	*)
		tap_not_ok "$CHROOT_WHY"
		diag "$cache/debootstrap-$suite-deb.log" 10
		echo "1..$n"
		exit 1
		;;
	esac
else
	echo "# reusing the $suite chroot in $root (made $(date -r "$root/.aio-suite-chroot" '+%F %R'))"
fi
flock -s 9

# What killed runs left: a run directory whose owner is gone (its
# namespace, and so its mounts, went with it).
for d in "$cache"/run-deb.*; do
	[ -d "$d" ] || continue
	p=$(cat "$d/pid" 2>/dev/null)
	if [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null; then
		chroot_remove_tree "$d" && echo "# removed $d, left by a killed run"
	fi
done

run=$(mktemp -d "$cache/run-deb.XXXXXX") || exit 1
echo $$ >"$run/pid"
chroot_guard "$run"
cp "$deb" "$run/" || { tap_not_ok "copy $deb"; echo "1..$n"; exit 1; }

export AIO_SUITE_DEB_RUN=$run
chroot_unshare --suite "$suite" --cache "$cache" "$deb"
status=$?
[ -f "$run/steps" ] && read -r n f <"$run/steps" && failed=$((failed + f))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
rm -rf "$logdir" && mkdir -p "$logdir" && cp -r "$run/logs/." "$logdir/" 2>/dev/null

# Nothing of the chroot is mounted in the machine's namespace, and no
# process is left in the run's own (which holds its mounts).
chroot_nothing_left "$(cat "$run/mntns" 2>/dev/null)" "$root" "$run"
echo "# logs in $logdir"
echo "1..$n"
[ "$failed" -eq 0 ]
