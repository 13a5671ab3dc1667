#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Description: the release tarball and the Debian package of the tree.
#
#   ci/package.sh dist [OUTDIR]   OUTDIR/aio-suite-VERSION.tar.gz: git archive
#                                 of HEAD under aio-suite-VERSION/ (make dist;
#                                 default OUTDIR build/dist)
#   ci/package.sh deb [OUTDIR]    OUTDIR/aio-suite_VERSION_ARCH.deb with its
#                                 .buildinfo and .changes: dpkg-buildpackage
#                                 -us -uc -b on a copy of the working tree
#                                 (make deb; default OUTDIR build/deb), then
#                                 lintian when it is installed (LINTIAN=0: not)
#   ci/package.sh version         the version: debian/changelog's first entry
#
# The tarball is HEAD, not the working tree (it says so when they differ);
# `git get-tar-commit-id <TARBALL` names its commit.  The package is built
# from the working tree (tracked and new files, not build/ or results/), as
# make check tests it.  Exit status: 0, 1 when it cannot be made (with the
# reason: not a git checkout, a missing build dependency, a failed build, a
# lintian error), 2 on a usage error.
set -u
prog=package
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=ci/lib.bash
. ci/lib.bash

version() {
	sed -n '1s/^aio-suite (\([^)]*\)).*/\1/p' debian/changelog
}

# out_dir DIR: DIR made and absolute.
out_dir() {
	mkdir -p "$1" || die "cannot make $1"
	(cd "$1" && pwd)
}

dist() {
	local out v name
	git rev-parse --verify -q HEAD >/dev/null 2>&1 ||
		die "make dist needs the git checkout (git archive of HEAD)"
	out=$(out_dir "$1")
	v=$(version)
	[ -n "$v" ] || die "no version in debian/changelog"
	name=aio-suite-$v
	if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
		echo "$prog: the working tree has uncommitted changes: the tarball is HEAD ($(git rev-parse --short HEAD)) without them" >&2
	fi
	rm -f "$out/$name.tar.gz"
	git archive --format=tar.gz --prefix="$name/" -o "$out/$name.tar.gz" HEAD ||
		die "git archive failed"
	echo "$prog: $out/$name.tar.gz ($(git rev-parse --short HEAD), $(du -k "$out/$name.tar.gz" | cut -f1) KiB)"
}

deb() {
	local out v src log missing t0=$SECONDS opts f
	command -v dpkg-buildpackage >/dev/null 2>&1 ||
		die "dpkg-buildpackage is not installed (apt-get install dpkg-dev debhelper dh-python)"
	if ! missing=$(dpkg-checkbuilddeps 2>&1); then
		missing=${missing##*: }
		die "missing build dependencies: $missing (as root: apt-get install debhelper dh-python $missing)"
	fi
	out=$(out_dir "$1")
	v=$(version)
	[ -n "$v" ] || die "no version in debian/changelog"
	src=$out/src/aio-suite-$v
	log=$out/build.log
	rm -rf "$out/src"
	mkdir -p "$src" || die "cannot make $src"
	copy_tree "$src" || die "cannot copy the tree into $src"
	rm -f "$out"/aio-suite*_"$v"_*.deb "$out"/aio-suite*_"$v"_*.ddeb \
		"$out"/aio-suite_"$v"_*.buildinfo "$out"/aio-suite_"$v"_*.changes
	opts=${DEB_BUILD_OPTIONS:-}
	[[ $opts == *parallel=* ]] || opts="$opts parallel=$(nproc)"
	echo "$prog: dpkg-buildpackage -us -uc -b in $src (log: $log)"
	# The package's build is its own: nothing of a calling make (its
	# MAKEFLAGS carry command-line variables such as BUILD=) or of the
	# install's variables reaches the tree's Makefile there.
	if ! (cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u PREFIX \
		-u DESTDIR -u BINDIR -u DATADIR -u MANDIR -u PYDIR -u PYTHON_SHEBANG -u PYCOMPILE \
		DEB_BUILD_OPTIONS="${opts# }" dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
		tail -n 20 "$log" | sed 's/^/  /' >&2
		die "dpkg-buildpackage failed (log: $log)"
	fi
	for f in "$out/src"/*.deb "$out/src"/*.ddeb "$out/src"/*.buildinfo "$out/src"/*.changes; do
		[ -e "$f" ] && mv "$f" "$out/"
	done
	rm -rf "$out/src"
	echo "$prog: $(cd "$out" && ls aio-suite_"$v"_*.deb) in $out, in $((SECONDS - t0)) s"
	if [ "${LINTIAN:-1}" = 0 ]; then
		return 0
	fi
	if ! command -v lintian >/dev/null 2>&1; then
		echo "$prog: lintian is not installed (apt-get install lintian): the package is not checked"
		return 0
	fi
	# Errors fail the build; warnings and the rest are printed (not its
	# remark on running as root).
	if lintian --fail-on error --display-info --pedantic \
		"$out"/aio-suite_"$v"_*.changes 2>&1 >"$out/lintian.log" |
		grep -v '^running with root privileges' >>"$out/lintian.log"
		[ "${PIPESTATUS[0]}" -eq 0 ]; then
		if [ -s "$out/lintian.log" ]; then
			echo "$prog: lintian:"
			sed 's/^/  /' "$out/lintian.log"
		else
			echo "$prog: lintian: no findings"
		fi
	else
		sed 's/^/  /' "$out/lintian.log" >&2
		die "lintian found errors (above; $out/lintian.log)"
	fi
}

case ${1:-} in
dist) dist "${2:-${BUILD:-build}/dist}" ;;
deb) deb "${2:-${BUILD:-build}/deb}" ;;
version) version ;;
-h | --help) sed -n '4,23p' "$0" | sed 's/^# \{0,1\}//' ;;
"") usage_error "what to make? dist, deb or version (see --help)" ;;
*) usage_error "unknown argument '$1' (dist, deb, version)" ;;
esac
