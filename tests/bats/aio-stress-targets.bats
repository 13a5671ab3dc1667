#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress on targets a new user or a hostile tester gives
# it: missing paths, directories, FIFOs, read-only files, mounts and
# immutable files, O_DIRECT where the filesystem refuses it, a tiny full
# filesystem, a low `ulimit -n`, two runs in one directory, and -u.  Each
# failure is one line with status 1 and leaves no file behind.

load aio-stress-common

teardown() {
	[[ -z ${IMMUTABLE:-} ]] || chattr -i "$IMMUTABLE" 2>/dev/null
	[[ -z ${OTHER_DIR:-} ]] || rm -rf "$OTHER_DIR"
	stress_teardown
}

# in_mount_ns CMD...: CMD in a private mount namespace (mounts made there
# vanish with it, whatever happens to the test).
in_mount_ns() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" unshare -m --propagation private \
		bash -c "$@"
}

@test "aio-stress does not create a missing file for a read-only run" {
	run aio_stress --quiet -o 1 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "$F"
	[[ ! -e $F ]]
	run aio_stress --quiet -o 3 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress 1
	[[ ! -e $F ]]
}

@test "aio-stress refuses a read stage on a file shorter than -s instead of counting empty reads" {
	truncate -s 4m "$F"
	run aio_stress --quiet -o 1 -s 16m -r 64k "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "4194304"
	assert_output_has "16777216"
}

@test "aio-stress refuses to read /dev/null, whose reads return no data" {
	run aio_stress --quiet -o 1 -s 1m -r 4k /dev/null
	assert_one_line_error aio-stress 1
	assert_output_has /dev/null
}

@test "aio-stress refuses a directory with one line" {
	mkdir "$SCRATCH/dir"
	run aio_stress --quiet -o 1 -s 1m -r 4k "$SCRATCH/dir"
	assert_one_line_error aio-stress 1
	assert_output_has "directory"
	run aio_stress --quiet -o 0 -s 1m -r 4k "$SCRATCH/dir"
	assert_one_line_error aio-stress 1
	assert_output_has "directory"
}

@test "aio-stress refuses a FIFO with one line instead of blocking on it" {
	mkfifo "$SCRATCH/fifo"
	local engine
	for engine in libaio sync io_uring; do
		run timeout -k 5 20 "$AIO_STRESS" --quiet --engine "$engine" \
			-o 0 -s 1m -r 4k "$SCRATCH/fifo"
		[[ $status != 77 ]] || continue # io_uring not in this kernel
		assert_one_line_error aio-stress 1
		assert_output_has "FIFO"
	done
	run timeout -k 5 20 "$AIO_STRESS" --quiet -o 1 -s 1m -r 4k \
		"$SCRATCH/fifo"
	assert_one_line_error aio-stress 1
}

@test "aio-stress refuses a character device other than /dev/null, /dev/zero and /dev/full" {
	run timeout -k 5 20 "$AIO_STRESS" --quiet -o 1 -s 1m -r 4k /dev/urandom
	assert_one_line_error aio-stress 1
	assert_output_has "character device"
	run timeout -k 5 20 "$AIO_STRESS" --quiet -o 1 -s 1m -r 4k /dev/tty
	assert_one_line_error aio-stress 1
	run aio_stress --quiet -o 1 -s 1m -r 4k --json "$J" /dev/zero
	assert_status 0
	assert_eq 256 "$(json_get "$J" "d['stages'][0]['ios']")" "ios of reads of /dev/zero"
}

@test "aio-stress reads a read-only file as another user" {
	requires nonroot
	# A directory uid 65534 can reach (the test's own is private).
	OTHER_DIR=$(mktemp -d /tmp/aio-stress-ro.XXXXXX)
	chmod 0755 "$OTHER_DIR"
	F=$OTHER_DIR/file
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_status 0
	chmod 0444 "$F"
	run timeout -k 5 "$AIO_TEST_TIMEOUT" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$AIO_STRESS" --quiet -o 1 \
		-s 1m -r 4k "$F"
	assert_status 0
	run timeout -k 5 "$AIO_TEST_TIMEOUT" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$AIO_STRESS" --quiet -o 0 \
		-s 1m -r 4k "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "Permission denied"
}

@test "aio-stress reads an immutable file and refuses to write it with one line" {
	requires root
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_status 0
	chattr +i "$F" 2>/dev/null ||
		skip "chattr +i is not supported on $(stat -f -c %T "$SCRATCH")"
	IMMUTABLE=$F
	run aio_stress --quiet -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 256 "$(json_get "$J" "d['stages'][0]['ios']")" "ios of the read stage"
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "$F"
}

@test "aio-stress reads a file on a read-only mount and refuses to write there with one line" {
	requires root
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_status 0
	mkdir "$SCRATCH/ro"
	run in_mount_ns "mount --bind '$SCRATCH' '$SCRATCH/ro' &&
		mount -o remount,ro,bind '$SCRATCH/ro' &&
		'$AIO_STRESS' --quiet -o 1 -s 1m -r 4k '$SCRATCH/ro/file' &&
		! '$AIO_STRESS' --quiet -o 0 -s 1m -r 4k '$SCRATCH/ro/file' &&
		! '$AIO_STRESS' --quiet -o 0 -s 1m -r 4k '$SCRATCH/ro/new'"
	assert_status 0
	assert_eq 2 "$(grep -c '^aio-stress: .*Read-only file system' <<<"$output")" \
		"one-line refusals naming the read-only filesystem"
	[[ ! -e $SCRATCH/new ]]
}

@test "aio-stress -O where the filesystem refuses O_DIRECT fails with one line and leaves no file" {
	requires root
	mkdir "$SCRATCH/ramfs"
	run in_mount_ns "mount -t ramfs aio-suite-test '$SCRATCH/ramfs' &&
		{ '$AIO_STRESS' --quiet -O -o 0 -s 1m -r 4k '$SCRATCH/ramfs/f';
		  echo status=\$?; ls -A '$SCRATCH/ramfs'; }"
	assert_output_line '^aio-stress: cannot open .*ramfs/f with O_DIRECT'
	assert_output_line '^status=1$'
	assert_eq 2 "$(wc -l <<<"$output")" "lines: the error and the status (no file listed)"
}

@test "aio-stress -O on tmpfs runs or fails with one line" {
	requires root
	mkdir "$SCRATCH/tmpfs"
	run in_mount_ns "mount -t tmpfs -o size=8m aio-suite-test '$SCRATCH/tmpfs' &&
		'$AIO_STRESS' --quiet -O -o 0 -o 1 -s 1m -r 4k '$SCRATCH/tmpfs/f'"
	if ((status != 0)); then
		assert_one_line_error aio-stress 1
	fi
}

@test "aio-stress refuses a size beyond a tiny filesystem's free space up front" {
	requires root
	mkdir "$SCRATCH/tiny"
	run in_mount_ns "mount -t tmpfs -o size=2m aio-suite-test '$SCRATCH/tiny' &&
		{ '$AIO_STRESS' -o 0 -s 99999999g -r 4k '$SCRATCH/tiny/f';
		  echo status=\$?; ls -A '$SCRATCH/tiny'; }"
	assert_output_line '^aio-stress: not enough space for .*tiny/f'
	assert_output_line '^status=1$'
	assert_eq 2 "$(wc -l <<<"$output")" "lines: the error and the status (no file listed)"
}

@test "aio-stress stops a write stage at ENOSPC instead of submitting every record" {
	run aio_stress --quiet --engine sync -o 0 -s 1g -r 4k --json "$J" /dev/full
	assert_status 1
	assert_eq io_errors "$(json_get "$J" "d['result']")" result
	json_true "$J" "'No space left on device' in d['reason']" \
		"d['stages'][0]['ios'] == 0" "d['stages'][0]['iops'] == 0" \
		"0 < d['stages'][0]['errors'] <= 128" \
		"d['stages'][0]['first_error']['errno'] == 28"
}

# Two runs at once on a filesystem with room for one: both pass the check
# up front, the writes of one of them (or both) then meet ENOSPC, or the
# later one is refused up front when the first has already taken the room.
@test "aio-stress runs filling a tiny filesystem stop at ENOSPC and count no failed write" {
	requires root
	mkdir "$SCRATCH/tiny"
	run in_mount_ns "mount -t tmpfs -o size=24m aio-suite-test '$SCRATCH/tiny' &&
		{ '$AIO_STRESS' --quiet -n -o 0 -s 16m -r 4k --json '$SCRATCH/a.json' '$SCRATCH/tiny/a' &
		  '$AIO_STRESS' --quiet -n -o 0 -s 16m -r 4k --json '$SCRATCH/b.json' '$SCRATCH/tiny/b';
		  echo b=\$?; wait \$!; echo a=\$?; }"
	assert_output_line '^a=[01]$'
	assert_output_line '^b=[01]$'
	[[ $output != *a=0*b=0* && $output != *b=0*a=0* ]] || {
		echo "both runs wrote 16 MiB on a 24 MiB filesystem: $output" >&2
		return 1
	}
	local x
	for x in a b; do
		[[ -s $SCRATCH/$x.json ]] || continue
		json_true "$SCRATCH/$x.json" "d['result'] in ('ok', 'io_errors', 'failed')" \
			"all(s['ios'] * 4096 == s['bytes'] for s in d['stages'])"
		if [[ $(json_get "$SCRATCH/$x.json" "d['result']") == io_errors ]]; then
			json_true "$SCRATCH/$x.json" "d['stages'][0]['first_error']['errno'] == 28" \
				"'No space left on device' in d['reason']" \
				"d['stages'][0]['errors'] <= 256"
		fi
	done
	grep -q 'No space left on device\|not enough space' <<<"$output" || {
		echo "neither run met the full filesystem: $output" >&2
		return 1
	}
}

@test "aio-stress under a low ulimit -n fails with one line and leaves no file" {
	run bash -c "ulimit -n 12 && exec timeout 20 '$AIO_STRESS' --quiet \
		-c 8 -C 64k -o 0 -s 1m -r 4k '$SCRATCH/a' '$SCRATCH/b'"
	assert_one_line_error aio-stress 1
	assert_output_has "ulimit -n"
	[[ ! -e $SCRATCH/a && ! -e $SCRATCH/b ]]
}

@test "aio-stress runs twice at once in one directory, each removing only its files" {
	"$AIO_STRESS" --quiet -u -o 0 -o 1 -s 8m -r 4k "$SCRATCH/a" \
		>"$SCRATCH/a.log" 2>&1 &
	local pa=$! pb sa=0 sb=0
	"$AIO_STRESS" --quiet -u -o 0 -o 1 -s 8m -r 4k "$SCRATCH/b" \
		>"$SCRATCH/b.log" 2>&1 &
	pb=$!
	wait "$pa" || sa=$?
	wait "$pb" || sb=$?
	assert_eq 0 "$sa" "status of the first run ($(cat "$SCRATCH/a.log"))"
	assert_eq 0 "$sb" "status of the second run ($(cat "$SCRATCH/b.log"))"
	[[ ! -e $SCRATCH/a && ! -e $SCRATCH/b ]]
}

@test "aio-stress runs twice at once on one file, both completing" {
	"$AIO_STRESS" --quiet -o 0 -o 1 -s 8m -r 4k "$F" >"$SCRATCH/a.log" 2>&1 &
	local pa=$! sa=0 sb=0
	run aio_stress --quiet -o 0 -o 1 -s 8m -r 4k "$F"
	sb=$status
	wait "$pa" || sa=$?
	assert_eq 0 "$sa" "status of the first run ($(cat "$SCRATCH/a.log"))"
	assert_eq 0 "$sb" "status of the second run ($output)"
}

@test "aio-stress -u removes the file it created when the set-up fails" {
	run bash -c "ulimit -n 10 && exec timeout 20 '$AIO_STRESS' --quiet -u \
		-c 8 -C 64k -o 0 -s 1m -r 4k '$F'"
	assert_one_line_error aio-stress 1
	[[ ! -e $F ]]
}

@test "aio-stress -u keeps a file it did not create when the set-up fails" {
	echo data >"$F"
	run bash -c "ulimit -n 10 && exec timeout 20 '$AIO_STRESS' --quiet -u \
		-c 8 -C 64k -o 0 -s 1m -r 4k '$F'"
	assert_one_line_error aio-stress 1
	assert_eq data "$(cat "$F")" "the file's content"
}

@test "aio-stress -u removes the file after a run whose write stage failed" {
	requires root
	mkdir "$SCRATCH/tiny"
	run in_mount_ns "mount -t tmpfs -o size=4m aio-suite-test '$SCRATCH/tiny' &&
		'$AIO_STRESS' --quiet -o 0 -s 3m -r 4k '$SCRATCH/tiny/a' &&
		{ '$AIO_STRESS' --quiet -u -o 0 -s 3m -r 4k '$SCRATCH/tiny/b';
		  echo status=\$?; ls -A '$SCRATCH/tiny'; }"
	assert_output_line '^status=1$'
	refute_line '^b$' "$output"
}

@test "aio-stress refuses a block device smaller than -s with one line" {
	requires loop
	truncate -s 1m "$SCRATCH/small.img"
	local dev
	dev=$(attach_loop "$SCRATCH/small.img")
	run aio_stress --quiet -o 1 -s 4m -r 4k "$dev"
	assert_one_line_error aio-stress 1
	assert_output_has "$dev holds 1048576 bytes"
	run aio_stress --quiet -o 0 -s 4m -r 4k "$dev"
	assert_one_line_error aio-stress 1
}
