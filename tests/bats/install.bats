#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Description: make install puts the Python commands (aio-study,
# aio-report, aio-bench) beside the binaries, with the package, the job
# files and the gnuplot templates; the installed commands run outside any
# checkout, find the installed files and write their results under the
# user's data directory or the directory they are given, never into the
# installed tree; in the checkout, the package still finds the checkout's.

load helpers

# One installation for the file, under a prefix of its own (no DESTDIR:
# the commands run from where they were installed).
setup_file() {
	local b=${BUILD:-build}
	[[ $b == /* ]] || b=$TOP/$b
	export PREFIX_DIR=$BATS_FILE_TMPDIR/prefix
	env -u PREFIX -u DESTDIR -u BINDIR -u DATADIR -u MANDIR -u PYDIR \
		make -C "$TOP" --no-print-directory BUILD="$b" \
		PREFIX="$PREFIX_DIR" install >"$BATS_FILE_TMPDIR/install.log" 2>&1
	echo $? >"$BATS_FILE_TMPDIR/install.rc"
}

setup() {
	common_setup
	[[ $(cat "$BATS_FILE_TMPDIR/install.rc") == 0 ]] || {
		cat "$BATS_FILE_TMPDIR/install.log"
		false
	}
	HOMEDIR=$SCRATCH/home
	mkdir -p "$HOMEDIR"
}

teardown() {
	common_teardown
}

# installed CMD ARGS...: the installed command, from a directory outside the
# checkout, with a home of the test's own and nothing of the checkout's
# environment.
installed() {
	(cd "$SCRATCH" && env -u AIO_SUITE_RESULTS -u AIO_SUITE_RUN_DIR -u BUILD \
		-u AIO_SUITE_BIN -u AIO_SUITE_DATA -u XDG_DATA_HOME -u PYTHONPATH -u PYTHONDONTWRITEBYTECODE \
		HOME="$HOMEDIR" PATH="$PREFIX_DIR/bin:$PATH" \
		timeout -k 5 300 "$@")
}

@test "make install puts aio-study, aio-report and aio-bench beside the binaries, and each runs outside the checkout" {
	local c
	for c in aio-study aio-report aio-bench aio-stress aio-conform; do
		[[ -x $PREFIX_DIR/bin/$c ]] || { echo "no $PREFIX_DIR/bin/$c"; false; }
	done
	for c in study report bench; do
		run installed "aio-$c" --help
		assert_status 0
		assert_output_has "usage: $c"
	done
	[ -f "$PREFIX_DIR/share/aio-suite/python/aiosuite/store.py" ]
	[ -f "$PREFIX_DIR/share/aio-suite/plots/batching.gp" ]
	[ -f "$PREFIX_DIR/share/aio-suite/jobs/batching.fio" ]
}

@test "the installed aio-study writes its run under the user's data directory, and nothing into the installed tree" {
	touch "$SCRATCH/stamp"
	run installed aio-study --quick exit
	assert_status 0
	local d
	d=$(ls -d "$HOMEDIR"/.local/share/aio-suite/results/*/*/*-study-exit 2>/dev/null)
	[[ -n $d && -s $d/exit.json ]] || { echo "$output"; false; }
	run find "$PREFIX_DIR" -newer "$SCRATCH/stamp"
	[ -z "$output" ] || { echo "written into the installed tree: $output"; false; }
}

@test "the installed aio-study writes under \$XDG_DATA_HOME/aio-suite/results when it is set" {
	(cd "$SCRATCH" && env -u AIO_SUITE_RESULTS -u AIO_SUITE_RUN_DIR \
		HOME="$HOMEDIR" XDG_DATA_HOME="$SCRATCH/xdg" \
		timeout -k 5 300 "$PREFIX_DIR/bin/aio-study" --quick exit) >"$SCRATCH/log" 2>&1 ||
		{ cat "$SCRATCH/log"; false; }
	ls "$SCRATCH"/xdg/aio-suite/results/*/*/*-study-exit/exit.json
	[ ! -e "$HOMEDIR/.local/share/aio-suite" ]
}

@test "aio-study --results DIR puts the installed command's run under DIR" {
	run installed aio-study --quick --results "$SCRATCH/res" exit
	assert_status 0
	ls "$SCRATCH"/res/*/*/*-study-exit/exit.json
	[ ! -e "$HOMEDIR/.local/share/aio-suite/results" ]
}

@test "the installed aio-report draws its charts from the installed gnuplot templates" {
	command -v gnuplot >/dev/null || skip "gnuplot is not installed (apt-get install gnuplot-nox)"
	python3 "$TOP/tools/synth.py" "$SCRATCH/store" --release 6.1 >/dev/null
	python3 "$TOP/tools/synth.py" "$SCRATCH/store" --release 6.2 >/dev/null
	run installed aio-report --results "$SCRATCH/store" --out "$SCRATCH/out"
	assert_status 0
	ls "$SCRATCH"/out/charts/*.png
	[ -s "$SCRATCH/out/report.md" ]
}

@test "AIO_SUITE_BIN points the installed aio-study at other binaries, and a missing one is named in one line" {
	mkdir -p "$SCRATCH/nobin"
	run installed env AIO_SUITE_BIN="$SCRATCH/nobin" aio-study --quick exit
	assert_one_line_error study 1
	assert_output_has "$SCRATCH/nobin/aio-stress does not exist (AIO_SUITE_BIN"
}

@test "aio-study and aio-bench refuse an empty --results in one line" {
	run python3 "$TOP/tools/study.py" --results "" exit
	assert_one_line_error study 2
	assert_output_has "--results needs a directory"
	run python3 "$TOP/tools/bench.py" --results "" --parts conform
	assert_one_line_error bench 2
	assert_output_has "--results needs a directory"
}

@test "in the checkout the package finds the checkout's build/, jobs/, plots/ and results/" {
	run env -u AIO_SUITE_RESULTS -u AIO_SUITE_BIN -u AIO_SUITE_DATA -u BUILD \
		python3 -c 'import sys
sys.path.insert(0, sys.argv[1])
from aiosuite import store
print(store.INSTALLED, store.BUILD, store.JOBS, store.PLOTS, store.results_root(),
      store.default_scratch(), store.tool_command("report")[1])' "$TOP"
	assert_status 0
	[ "$output" = "{} $TOP/build $TOP/jobs $TOP/plots $TOP/results $TOP $TOP/tools/report.py" ] ||
		{ echo "$output"; false; }
}

@test "make uninstall removes the commands, the package, the job files and the templates" {
	local root=$SCRATCH/root b=${BUILD:-build}
	[[ $b == /* ]] || b=$TOP/$b
	run env -u PREFIX make -C "$TOP" --no-print-directory BUILD="$b" install DESTDIR="$root"
	assert_status 0
	[ -x "$root/usr/local/bin/aio-study" ]
	run env -u PREFIX make -C "$TOP" --no-print-directory BUILD="$b" uninstall DESTDIR="$root"
	assert_status 0
	run find "$root" -type f
	[ -z "$output" ] || { echo "left: $output"; false; }
}
