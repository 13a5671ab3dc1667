# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034,SC2154
#
# Description: helpers of the ci/ scripts, sourced, not run, by a script at
# the top of the tree that sets prog: one-line errors, the copy of the
# working tree, and the cached Debian chroots of ci/old-distro.sh and
# ci/deb-chroot.sh (made once with debootstrap from the archive of the
# machine's own apt sources, kept outside the repository, used inside a
# private mount namespace) with their TAP output.  (SC2034, SC2154:
# variables set for the scripts, and by them.)
#
#   die MESSAGE, usage_error MESSAGE
#                               "$prog: MESSAGE" on stderr, exit 1 or 2
#   copy_tree DIR               the working tree's files (tracked and new,
#                               not ignored; without git, all but build/,
#                               results/ and .git) into DIR
#   chroot_options ARGS...      the options of the chroot scripts: --suite
#                               NAME, --cache DIR, --no-create, --rebuild,
#                               --in-namespace and -h (the script's comment
#                               lines 4 to $help_end) into suite, cache,
#                               create, rebuild, in_namespace; the other
#                               arguments, in order, into the array rest
#   chroot_remove_tree DIR      rm -rf that never crosses into a mount
#                               (refuses, status 1, when one is below DIR)
#   chroot_debootstrap SUITE ROOT PACKAGES LOG
#                               debootstrap --variant=minbase SUITE with
#                               PACKAGES (comma-separated, may be empty)
#                               into ROOT.new.PID, then put it in place of
#                               ROOT; prints "# " progress lines.  Status 0
#                               made; 1 failed and 2 cannot be made here
#                               (no debootstrap, no archive, no space: a
#                               skip), with the reason in CHROOT_WHY
#   chroot_nothing_left NS DIR...
#                               TAP: ok when nothing is mounted below a DIR
#                               in this namespace and no process is in the
#                               run's mount namespace NS (readlink
#                               /proc/PID/ns/mnt; may be empty), else not
#                               ok with what is left
#   chroot_guard DIR            on every exit (SIGINT, SIGTERM, SIGHUP: exit
#                               130, 143, 129) kill the run's namespace
#                               (chroot_unshare's child) and remove DIR
#   chroot_unshare ARGS...      this script again, "$0 --in-namespace ARGS",
#                               in a private mount and pid namespace; waits
#                               for it; its exit status
#   tap_ok DESC, tap_not_ok DESC
#                               a TAP result line, counted in n (and failed)
#   diag FILE [N]               the last N lines of FILE as TAP diagnostics
#   step DESC LOG CMD           in_chroot CMD (the caller's function), its
#                               output to LOG: ok with the time taken, or
#                               not ok with the end of LOG; CMD's status

CHROOT_WHY=
n=0
failed=0

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage_error() {
	echo "$prog: $*" >&2
	exit 2
}

copy_tree() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -e "$f" ] && printf '%s\0' "$f"
			done | tar --null -T - -cf - | tar -xf - -C "$1"
	else
		tar --exclude=./build --exclude='./build-*' --exclude=./results \
			--exclude=./.cache --exclude=./.git -cf - . | tar -xf - -C "$1"
	fi
}

chroot_options() {
	rest=()
	while [ $# -gt 0 ]; do
		case $1 in
		--suite)
			[ $# -ge 2 ] || usage_error "option '--suite' needs a value"
			[[ $2 =~ ^[a-z][a-z0-9-]*$ ]] || usage_error "bad suite name '$2'"
			suite=$2
			shift
			;;
		--cache)
			[ $# -ge 2 ] || usage_error "option '--cache' needs a value"
			[[ $2 == /* ]] || usage_error "--cache needs an absolute path, not '$2'"
			cache=${2%/}
			shift
			;;
		--no-create) create=0 ;;
		--rebuild) rebuild=1 ;;
		--in-namespace) in_namespace=1 ;;
		-h | --help)
			sed -n "4,${help_end}p" "$0" | sed 's/^# \{0,1\}//'
			exit 0
			;;
		*) rest+=("$1") ;;
		esac
		shift
	done
}

tap_ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}

tap_not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}

diag() {
	tail -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/#   /'
}

step() {
	local desc=$1 log=$2 t0=$SECONDS rc
	in_chroot "$3" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		tap_ok "$desc, in $((SECONDS - t0)) s"
	else
		tap_not_ok "$desc (exit status $rc)"
		diag "$log"
	fi
	return "$rc"
}

chroot_remove_tree() {
	local m
	m=$(cat /proc/[0-9]*/mounts 2>/dev/null | awk -v r="$1" '
		$2 == r || index($2, r "/") == 1 { print $2; exit }')
	if [ -n "$m" ]; then
		echo "$prog: not removing $1: $m is mounted" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

chroot_debootstrap() {
	local suite=$1 root=$2 packages=$3 log=$4 uri keyring avail
	local new=$2.new.$$ parent=${2%/*} t0=$SECONDS
	CHROOT_WHY=
	if ! command -v debootstrap >/dev/null 2>&1; then
		CHROOT_WHY="no chroot cached in $root and debootstrap is not installed (apt-get install debootstrap)"
		return 2
	fi
	if ! uri=$(python3 ci/apt_sources.py 2>&1); then
		CHROOT_WHY="no Debian archive known: ${uri#apt_sources: }"
		return 2
	fi
	keyring=$(sed -n 's/^keyring //p' <<<"$uri")
	uri=$(sed -n 's/^uri //p' <<<"$uri")
	if ! python3 - "$uri/dists/$suite/Release" >/dev/null 2>&1 <<-'EOF'; then
		import sys, urllib.request
		urllib.request.urlopen(sys.argv[1], timeout=15).read(1)
	EOF
		CHROOT_WHY="the archive $uri has no $suite, or is not reachable (no network?)"
		return 2
	fi
	avail=$(df -Pk "$parent" | awk 'NR == 2 { print int($4 / 1024) }')
	if [ "${avail:-0}" -lt 1500 ]; then
		CHROOT_WHY="$parent has $avail MB free; the chroot needs about 1500"
		return 2
	fi
	echo "# making the $suite chroot in $root from $uri (about a minute)"
	chroot_remove_tree "$new" || { CHROOT_WHY="cannot remove $new"; return 1; }
	if ! debootstrap --variant=minbase ${packages:+--include="$packages"} \
		${keyring:+--keyring="$keyring"} "$suite" "$new" "$uri" >"$log" 2>&1; then
		CHROOT_WHY="debootstrap makes a $suite chroot (log: $log)"
		chroot_remove_tree "$new"
		return 1
	fi
	if [ -e "$root" ] && ! chroot_remove_tree "$root"; then
		CHROOT_WHY="cannot remove the old chroot $root"
		return 1
	fi
	mv "$new" "$root" || { CHROOT_WHY="cannot move $new to $root"; return 1; }
	echo "# debootstrap: made the $suite chroot in $((SECONDS - t0)) s ($(du -sm "$root" | cut -f1) MB)"
}

chroot_guard() {
	chroot_guarded=$1
	child=
	trap chroot_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# On an early exit: unshare blocks SIGTERM while its child runs, so it is
# killed, and --kill-child kills the child, the pid namespace's init: with
# it go every process of the run and the mount namespace with its mounts.
chroot_cleanup() {
	if [ -n "$child" ]; then
		kill -KILL "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	chroot_remove_tree "$chroot_guarded"
}

chroot_unshare() {
	local rc
	unshare --mount --propagation private --pid --fork --kill-child \
		"$BASH" "$0" --in-namespace "$@" &
	child=$!
	wait "$child"
	rc=$?
	child=
	return "$rc"
}

chroot_nothing_left() {
	local ns=$1 left p d
	shift
	left=$(for d in "$@"; do
		awk -v r="$d" '$2 == r || index($2, r "/") == 1 { print "mounted: " $2 }' /proc/self/mounts
	done)
	if [ -n "$ns" ]; then
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] &&
				left+=$'\n'"left in $ns: pid ${p#/proc/} ($(cat "$p/comm" 2>/dev/null))"
		done
	fi
	left=${left#$'\n'}
	if [ -z "$left" ]; then
		tap_ok "nothing of the chroot is left mounted"
	else
		tap_not_ok "nothing of the chroot is left mounted"
		while IFS= read -r p; do echo "#   $p"; done <<<"$left"
	fi
}
