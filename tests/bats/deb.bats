#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Description: make deb builds the suite's Debian package (debian/,
# dpkg-buildpackage, lintian) and make dist its release tarball; the
# package installs in a clean Debian chroot with its Depends from the
# archive, and there, from the installed files only, aio-conform --list,
# aio-stress --help, man -w aio-stress, a quick study into the results
# directory it is given and aio-report run, and apt-get purge removes it
# (ci/deb-chroot.sh).  The tarball, unpacked, builds with make.
#
# Time: make deb about 40 s; the chroot about 25 s when its base is cached
# in /var/cache/aio-suite/chroot-<suite>-deb, a minute and a half more when
# debootstrap makes it (and apt-get downloads about 60 MB of packages,
# kept for the next run); make dist and its build about 20 s.
# AIO_SUITE_DEB_CHROOT=cached runs the chroot part only with a cached base,
# =skip not at all.

load helpers

# deb_file: the package's path (not its -dbgsym companion's).
deb_file() {
	local f
	for f in "$BATS_FILE_TMPDIR"/b/deb/aio-suite_*_*.deb; do
		[[ -f $f ]] && echo "$f" && return 0
	done
	return 1
}

# The package, made once for the file, and the chroot run over it: their
# output and status in $BATS_FILE_TMPDIR, read by the tests.
setup_file() {
	local d=$BATS_FILE_TMPDIR deb rc=0
	make -C "$TOP" --no-print-directory BUILD="$d/b" deb >"$d/make-deb.log" 2>&1 || rc=$?
	echo "$rc" >"$d/make-deb.rc"
	deb=$(deb_file) || true
	rc=0
	if [[ -n $deb ]]; then
		AIO_SUITE_LOGDIR=$d/logs timeout -k 10 1500 "$TOP/ci/deb-chroot.sh" "$deb" \
			>"$d/chroot.tap" 2>&1 || rc=$?
	else
		echo "ok 1 - the chroot # SKIP make deb made no package" >"$d/chroot.tap"
	fi
	echo "$rc" >"$d/chroot.rc"
}

setup() {
	common_setup
}

# needs_deb: skip when the package could not be built here for want of a
# tool (the reason make deb gave), fail when its build failed.
needs_deb() {
	local d=$BATS_FILE_TMPDIR why
	[[ $(cat "$d/make-deb.rc") == 0 ]] && return 0
	why=$(grep -E '^package: (dpkg-buildpackage is not installed|missing build dependencies)' \
		"$d/make-deb.log" | head -1) || true
	[[ -z $why ]] || skip "${why#package: }"
	cat "$d/make-deb.log"
	return 1
}

# chroot_result DESC: the chroot run's TAP line that starts with DESC is
# ok; skips with the run's reason when the chroot could not be made.
chroot_result() {
	local tap=$BATS_FILE_TMPDIR/chroot.tap line
	needs_deb
	line=$(grep -E '^ok 1 - .* # SKIP ' "$tap") || true
	[[ -z $line ]] || skip "${line#* # SKIP }"
	line=$(grep -E "^(not )?ok [0-9]+ - $1" "$tap") || true
	if [[ $line != ok* ]]; then
		echo "no ok line for '$1' in the chroot run:"
		cat "$tap"
		return 1
	fi
	echo "$line"
}

@test "make deb builds aio-suite_VERSION_ARCH.deb with the binaries, the commands, the Python package, job files, templates and man pages" {
	needs_deb
	local deb v
	deb=$(deb_file)
	v=$("$TOP/ci/package.sh" version)
	[[ ${deb##*/} == aio-suite_${v}_$(dpkg --print-architecture).deb ]]
	run dpkg-deb -c "$deb"
	assert_status 0
	for f in usr/bin/aio-stress usr/bin/aio-conform usr/bin/aio-study usr/bin/aio-report \
		usr/bin/aio-bench usr/share/aio-suite/python/aiosuite/store.py \
		usr/share/aio-suite/python/aiosuite/installed.json \
		usr/share/aio-suite/jobs/batching.fio usr/share/aio-suite/plots/batching.gp \
		usr/share/man/man1/aio-stress.1.gz usr/share/man/man7/aio-suite.7.gz \
		usr/share/doc/aio-suite/copyright; do
		assert_output_has "./$f"
	done
	# No compiled Python: py3compile makes it when the package is installed.
	[[ $output != *__pycache__* ]]
}

@test "the package depends on python3, fio, gnuplot, e2fsprogs, mount and the libraries its binaries link" {
	needs_deb
	run dpkg-deb -f "$(deb_file)" Depends
	assert_status 0
	for p in python3 fio gnuplot-nox e2fsprogs mount libc6 liburing2 libblkid1; do
		[[ ", $output," == *", $p"[\ ,]* || $output == *"| $p"* ]] ||
			{ echo "no $p in Depends: $output"; false; }
	done
}

@test "the package's commands run /usr/bin/python3 on the package in /usr/share/aio-suite/python, which names /usr/bin and /usr/share/aio-suite" {
	needs_deb
	local x=$SCRATCH/x
	dpkg-deb -x "$(deb_file)" "$x"
	run head -1 "$x/usr/bin/aio-study"
	[ "$output" = "#!/usr/bin/python3" ]
	grep -q 'sys.path.insert(0, "/usr/share/aio-suite/python")' "$x/usr/bin/aio-study"
	grep -q 'aiosuite.report' "$x/usr/bin/aio-report"
	run json_get "$x/usr/share/aio-suite/python/aiosuite/installed.json" \
		'[d["bin"], d["data"], d["commands"]]'
	[ "$output" = '["/usr/bin", "/usr/share/aio-suite", "/usr/bin"]' ] || { echo "$output"; false; }
}

@test "lintian finds no error and no warning in the package" {
	needs_deb
	command -v lintian >/dev/null || skip "lintian is not installed (apt-get install lintian)"
	# make deb ran it (--pedantic, failing on errors) into lintian.log.
	local log=$BATS_FILE_TMPDIR/b/deb/lintian.log
	[ -f "$log" ]
	run grep -E '^[EW]: ' "$log"
	[ "$status" -eq 1 ] || { cat "$log"; false; }
}

@test "apt-get installs the package in a clean Debian chroot, with its Depends from the archive" {
	chroot_result "apt-get installs aio-suite_.*\.deb and its Depends"
}

@test "aio-conform --list runs from the package in the chroot" {
	chroot_result "aio-conform --list lists the conformance tests"
}

@test "aio-stress --help runs from the package in the chroot" {
	chroot_result "aio-stress --help prints its usage"
}

@test "man -w aio-stress finds the package's man page in the chroot" {
	chroot_result "man -w aio-stress finds the installed page"
}

@test "a quick study from the package's files writes its results under --results in the chroot" {
	chroot_result "aio-study --quick batching runs from the installed files and writes under --results"
}

@test "aio-report from the package compares the study and draws charts from the installed templates in the chroot" {
	chroot_result "aio-report compares the study's results and draws its charts"
}

@test "the package's commands write nothing into the installed tree" {
	chroot_result "the installed commands wrote nothing into the installed tree"
}

@test "apt-get purge removes every file of the package" {
	chroot_result "apt-get purge aio-suite removes every file of the package"
}

@test "the chroot run leaves nothing mounted and exits 0" {
	chroot_result "nothing of the chroot is left mounted"
	[[ $(cat "$BATS_FILE_TMPDIR/chroot.rc") == 0 ]] || { cat "$BATS_FILE_TMPDIR/chroot.tap"; false; }
}

@test "make dist writes aio-suite-VERSION.tar.gz of HEAD, which builds with make after unpacking" {
	git -C "$TOP" rev-parse --verify -q HEAD >/dev/null || skip "not a git checkout"
	local v tarball src
	v=$("$TOP/ci/package.sh" version)
	run make -C "$TOP" --no-print-directory BUILD="$SCRATCH/b" dist
	assert_status 0
	tarball=$SCRATCH/b/dist/aio-suite-$v.tar.gz
	[ -s "$tarball" ]
	run git get-tar-commit-id < <(gzip -dc "$tarball")
	[ "$output" = "$(git -C "$TOP" rev-parse HEAD)" ]
	mkdir "$SCRATCH/u"
	tar -xzf "$tarball" -C "$SCRATCH/u"
	src=$SCRATCH/u/aio-suite-$v
	[ -f "$src/Makefile" ] && [ -f "$src/debian/control" ] && [ ! -e "$src/.git" ]
	run make -C "$src" --no-print-directory -j"$(nproc)" BUILD="$src/build"
	assert_status 0
	[ -x "$src/build/aio-stress" ] && [ -x "$src/build/aio-conform" ]
	run "$src/build/aio-stress" --help
	assert_status 0
}

@test "make dist outside a git checkout says, in one line, that it needs one" {
	mkdir -p "$SCRATCH/t/ci" "$SCRATCH/t/debian"
	cp "$TOP/ci/package.sh" "$TOP/ci/lib.bash" "$SCRATCH/t/ci/"
	cp "$TOP/debian/changelog" "$SCRATCH/t/debian/"
	GIT_CEILING_DIRECTORIES=$SCRATCH run "$SCRATCH/t/ci/package.sh" dist "$SCRATCH/out"
	assert_one_line_error package 1
	assert_output_has "needs the git checkout"
}
