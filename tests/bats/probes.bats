#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the probes of src/tools (aio-bare, aio-plug, aio-exit,
# aio-vcheck, aio-ioerr, aio-fuzz) as a new user and a hostile tester use
# them: --help, bad options and numbers, targets of the wrong kind, missing
# paths, read-only targets, O_DIRECT where it is refused, low limits and a
# kernel without native AIO.  Each gets one line naming the program, the
# problem and the argument (exit 2 for usage, 1 for a failed run, 77 when
# native AIO is missing), never a hang or anything left behind.

load helpers
load probe_helpers

setup() {
	probe_setup
	NOSYS=$BUILD_DIR/tests/nosys
	F=$SCRATCH/f
	head -c $((4 << 20)) /dev/zero >"$F"
}

teardown() {
	probe_teardown
}

# The arguments that make each probe run on $1 (a file or device).
args_for() {
	case $2 in
	aio-bare) echo "-t 0.2" ;;
	aio-plug) echo "-n 5" ;;
	aio-exit) echo "-t 1 -n 4 -q 4" ;;
	aio-vcheck | aio-ioerr) echo "" ;;
	esac
}

# ---- --help and options ----

@test "every probe prints its usage on stdout with -h and --help, status 0" {
	local p opt
	for p in "${PROBES[@]}"; do
		for opt in -h --help; do
			run --separate-stderr probe "$p" "$opt"
			assert_status 0
			assert_eq "" "$stderr" "$p $opt stderr"
			[[ $output == "usage: $p "* ]] || {
				echo "$p $opt: $output" >&2
				return 1
			}
		done
	done
}

@test "every probe's --help names the skip status of a kernel without native AIO" {
	local p
	for p in aio-bare aio-plug aio-exit aio-ioerr aio-fuzz; do
		run probe "$p" --help
		assert_output_has "77 skip"
	done
}

@test "every probe names an unknown long option in one line with status 2" {
	local p
	for p in "${PROBES[@]}"; do
		run probe "$p" --bogus "$F"
		assert_one_line_error "$p" 2
		assert_output_has "unknown option '--bogus'"
	done
}

@test "every probe that writes takes --force and those that only read refuse it" {
	local p
	for p in aio-bare aio-plug; do
		run --separate-stderr probe "$p" --force $(args_for "$F" "$p") "$F"
		assert_status 0
	done
	for p in aio-exit aio-vcheck; do
		run probe "$p" --force "$F"
		assert_one_line_error "$p" 2
	done
}

@test "aio-bare refuses -r 1t with one line and status 2" {
	run probe aio-bare -r 1t "$F"
	assert_one_line_error aio-bare 2
	assert_output_has "-r 1t"
}

@test "the probes refuse zero, negative and huge numbers with one line and status 2" {
	local c
	for c in "aio-bare -d 0" "aio-bare -t -1" "aio-bare -t 1e30" "aio-bare -b 99999999" \
		"aio-plug -n 0" "aio-plug -r 3" "aio-plug -b -4" "aio-plug -r 1t" \
		"aio-exit -w 0" "aio-exit -t 0" "aio-exit -n -1" "aio-exit -w 1e30" \
		"aio-vcheck -b 1t" "aio-vcheck -b 0"; do
		run probe $c "$F"
		assert_one_line_error "${c%% *}" 2
	done
	run probe aio-fuzz -d "$SCRATCH" --hang-seconds 0
	assert_one_line_error aio-fuzz 2
	assert_output_has "--hang-seconds"
}

@test "aio-exit bounds what its children would allocate before any trial, status 2" {
	truncate -s 2g "$SCRATCH/big"
	run probe aio-exit -n 1000 -q 1000 -r 1g -t 1 "$SCRATCH/big"
	assert_one_line_error aio-exit 2
	assert_output_has "of memory"
}

@test "aio-exit -n 100000 allocates only what the ring can hold and reports no hang" {
	requires odirect
	# The old child wanted 6.5 GB for buffers the ring never takes.
	run --separate-stderr bash -c 'ulimit -v 4000000 && exec "$@"' sh \
		"$BUILD_DIR/aio-exit" -n 100000 -t 1 "$F"
	assert_status 0
	json_true <(echo "$output") "d['hangs'] == 0 and d['ok'] == 1" \
		"0 < d['trials'][0]['submitted'] < 100000"
}

# ---- targets of the wrong kind ----

@test "every probe refuses a FIFO with one line, without blocking on it" {
	local p
	mkfifo "$SCRATCH/fifo"
	for p in aio-bare aio-plug aio-exit aio-vcheck aio-ioerr; do
		PROBE_TIMEOUT=10 run probe "$p" "$SCRATCH/fifo"
		assert_one_line_error "$p" 2
		assert_output_has "$SCRATCH/fifo"
	done
	PROBE_TIMEOUT=10 run probe aio-bare -o 1 "$SCRATCH/fifo"
	assert_one_line_error aio-bare 2
	PROBE_TIMEOUT=10 run probe aio-fuzz -d "$SCRATCH/fifo"
	assert_one_line_error aio-fuzz 2
}

@test "every probe refuses a directory with one line and status 2" {
	local p
	for p in aio-bare aio-plug aio-exit aio-vcheck aio-ioerr; do
		run probe "$p" "$SCRATCH"
		assert_one_line_error "$p" 2
		assert_output_has "$SCRATCH"
	done
}

@test "the reading probes name a missing path in one line with status 1" {
	local c
	for c in "aio-bare -o 1" "aio-plug -o 1" "aio-exit" "aio-vcheck"; do
		run probe $c "$SCRATCH/missing"
		assert_one_line_error "${c%% *}" 1
		assert_output_has "$SCRATCH/missing"
	done
	[[ ! -e $SCRATCH/missing ]]
}

@test "aio-bare never creates a file in /dev for a mistyped device" {
	requires root
	local dev=/dev/aio-suite-no-such-device-$$
	run probe aio-bare -t 0.2 "$dev"
	assert_one_line_error aio-bare 1
	[[ ! -e $dev ]]
}

@test "aio-ioerr on a regular file says it needs a scratch block device, before any plan" {
	run --separate-stderr probe aio-ioerr "$F"
	assert_status 2
	assert_eq "" "$output" "stdout (no KTAP plan)"
	[[ $stderr == "aio-ioerr: $F is not a block device: "*"scratch block device"* ]]
}

@test "aio-ioerr and aio-fuzz check --json before the run" {
	run probe aio-ioerr --json /nonexistent/x.json "$F"
	assert_one_line_error aio-ioerr 2
	assert_output_has /nonexistent/x.json
	run probe aio-fuzz -d "$SCRATCH" --json /nonexistent/x.json
	assert_one_line_error aio-fuzz 2
}

# ---- what counts ----

@test "aio-bare -o 1 on an empty file fails with one line instead of counting empty reads" {
	: >"$SCRATCH/empty"
	run --separate-stderr probe aio-bare -o 1 -t 0.2 "$SCRATCH/empty"
	assert_status 1
	assert_eq "" "$output" "stdout (no IOPS)"
	[[ $stderr == "aio-bare: short read at offset 0 of $SCRATCH/empty: 0 of 4096 bytes"* ]]
}

@test "aio-bare on a full filesystem names the failed write and removes the file it made" {
	requires root
	scratch_mount "$SCRATCH/tiny" -t tmpfs -o size=64k tmpfs
	head -c 65536 /dev/zero >"$SCRATCH/tiny/fill" 2>/dev/null || true
	run --separate-stderr probe aio-bare -t 0.2 "$SCRATCH/tiny/f"
	assert_status 1
	assert_eq "" "$output" "stdout (no IOPS)"
	[[ $stderr == "aio-bare: write of 4096 bytes at offset 0 of $SCRATCH/tiny/f failed: No space left on device" ]]
	[[ ! -e $SCRATCH/tiny/f ]]
}

# ---- read-only targets and O_DIRECT ----

# verified FILE: a file aio-stress --verify wrote, that aio-vcheck passes.
verified() {
	aio_stress --quiet -o 0 --verify -s 4m -r 4k "$1"
}

# readers_read FILE WHY: the reading probes read FILE; the writing ones
# fail with one line "cannot open FILE for writing: WHY".
readers_read() {
	local c
	for c in "aio-bare -o 1 -t 0.2" "aio-plug -o 1 -n 5" "aio-exit -t 1" "aio-vcheck"; do
		run --separate-stderr probe $c "$1"
		assert_status 0 || return 1
	done
	for c in "aio-bare -t 0.2" "aio-plug -n 5"; do
		run probe $c "$1"
		assert_one_line_error "${c%% *}" 1 || return 1
		assert_output_has "cannot open $1 for writing: $2" || return 1
	done
}

@test "the reading probes read an immutable file, the writing ones say why they cannot" {
	requires root
	command -v chattr >/dev/null || skip "chattr is not installed (e2fsprogs)"
	verified "$F"
	chattr +i "$F" 2>/dev/null || skip "$(stat -f -c %T "$SCRATCH") takes no immutable flag"
	undo immutable "$F"
	readers_read "$F" "Operation not permitted"
}

@test "the reading probes read on a read-only mount, the writing ones say why they cannot" {
	requires root
	mkdir -p "$SCRATCH/src"
	verified "$SCRATCH/src/f"
	scratch_mount "$SCRATCH/ro" --bind "$SCRATCH/src"
	mount -o remount,ro,bind "$SCRATCH/ro"
	readers_read "$SCRATCH/ro/f" "Read-only file system"
}

@test "aio-plug and aio-exit name O_DIRECT and the filesystem that refuses it" {
	requires root
	scratch_mount "$SCRATCH/ram" -t ramfs ramfs
	head -c $((1 << 20)) /dev/zero >"$SCRATCH/ram/f"
	dd if=/dev/zero of="$SCRATCH/ram/probe" bs=4096 count=1 oflag=direct \
		status=none 2>/dev/null && skip "ramfs takes O_DIRECT on this kernel"
	local p
	for p in aio-plug aio-exit; do
		run probe "$p" "$SCRATCH/ram/f"
		assert_one_line_error "$p" 1
		assert_output_has "with O_DIRECT: the filesystem (ramfs) does not support it"
	done
}

# ---- low limits ----

@test "with io_setup answering ENOSYS every AIO probe says so and exits 77" {
	local c
	for c in "aio-bare -t 0.2" "aio-plug -n 5" "aio-exit -t 1"; do
		run "$NOSYS" io_setup -- "$BUILD_DIR/${c%% *}" ${c#* } "$F"
		assert_one_line_error "${c%% *}" 77
		assert_output_has "native AIO is not in this kernel (CONFIG_AIO=n)"
	done
	run "$NOSYS" io_setup -- "$BUILD_DIR/aio-fuzz" --anywhere -d "$SCRATCH" --iterations 1
	assert_one_line_error aio-fuzz 77
	assert_output_has "native AIO is not in this kernel"
	# aio-vcheck uses no AIO: it runs as ever.
	verified "$SCRATCH/v"
	run --separate-stderr "$NOSYS" io_setup -- "$BUILD_DIR/aio-vcheck" "$SCRATCH/v"
	assert_status 0
}

@test "aio-ioerr skips a kernel without native AIO with a reason in its plan" {
	requires loop
	truncate -s 8m "$SCRATCH/blank.img"
	DEV=$(attach_loop "$SCRATCH/blank.img")
	run --separate-stderr "$NOSYS" io_setup -- "$BUILD_DIR/aio-ioerr" "$DEV"
	assert_status 77
	assert_output_line '^1\.\.0 # SKIP native AIO is not in this kernel'
}

@test "with io_setup answering EAGAIN the probes name fs.aio-max-nr in one line, status 1" {
	local c
	for c in "aio-bare -t 0.2" "aio-plug -n 5" "aio-exit -t 1"; do
		run "$NOSYS" -e EAGAIN io_setup -- "$BUILD_DIR/${c%% *}" ${c#* } "$F"
		assert_one_line_error "${c%% *}" 1
		assert_output_has "fs.aio-max-nr"
	done
}

@test "a ring over fs.aio-max-nr is a usage error naming the option" {
	local max
	max=$(cat /proc/sys/fs/aio-max-nr)
	((max < 1048576)) || skip "fs.aio-max-nr ($max) is not below the largest -q"
	run probe aio-exit -q 1048576 -t 1 "$F"
	assert_one_line_error aio-exit 2
	assert_output_has "-q 1048576 asks for 1048576 AIO events, more than fs.aio-max-nr allows ($max)"
}

@test "under ulimit -n 4 the probes run or fail with one line naming the limit" {
	run --separate-stderr with_nofile 4 "$BUILD_DIR/aio-bare" -t 0.2 "$F"
	assert_status 0
	run with_nofile 4 "$BUILD_DIR/aio-exit" -t 1 "$F"
	assert_status 1
	assert_output_line '^aio-exit: .*ulimit -n is 4'
	run with_nofile 4 "$BUILD_DIR/aio-fuzz" --anywhere --iterations 0 \
		-d "$SCRATCH"
	assert_one_line_error aio-fuzz 1
	assert_output_has "ulimit -n is 4"
}

# ---- nothing left behind ----

@test "aio-bare removes the file it created when the run fails" {
	run "$NOSYS" io_setup -- "$BUILD_DIR/aio-bare" -t 0.2 "$SCRATCH/new"
	assert_status 77
	[[ ! -e $SCRATCH/new ]]
	run --separate-stderr probe aio-bare -t 0.2 "$SCRATCH/new"
	assert_status 0
	[[ -f $SCRATCH/new ]]
}

@test "aio-fuzz leaves no file behind and never follows a link planted in its directory" {
	# --iterations 0: its files are made and removed, no iocb is fuzzed.
	echo "precious" >"$SCRATCH/victim"
	mkdir "$SCRATCH/d"
	ln -s "$SCRATCH/victim" "$SCRATCH/d/fuzz-direct"
	ln -s "$SCRATCH/victim" "$SCRATCH/d/fuzz-buffered"
	run --separate-stderr probe aio-fuzz --anywhere --iterations 0 -d "$SCRATCH/d"
	assert_status 0
	assert_eq precious "$(cat "$SCRATCH/victim")" "the link's target"
	assert_eq "fuzz-buffered fuzz-direct" "$(ls -A "$SCRATCH/d" | xargs)" "what is left in -d"
}

@test "aio-bare stopped by SIGINT or SIGTERM exits 128+N and removes the file it created" {
	local sig want pid i rc
	for sig in INT:130 TERM:143; do
		want=${sig#*:}
		sig=${sig%:*}
		rm -f "$SCRATCH/new"
		"$BUILD_DIR/aio-bare" -t 30 "$SCRATCH/new" >/dev/null 3>&- &
		pid=$!
		for ((i = 0; i < 200; i++)); do
			[[ -e $SCRATCH/new ]] && break
			sleep 0.05
		done
		sleep 0.2
		kill "-$sig" "$pid"
		for ((i = 0; i < 200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -KILL "$pid" 2>/dev/null; then
			echo "aio-bare did not exit after SIG$sig" >&2
			return 1
		fi
		rc=0
		wait "$pid" || rc=$?
		assert_eq "$want" "$rc" "exit status after SIG$sig"
		[[ ! -e $SCRATCH/new ]]
	done
}
