#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress --verify verifies, also in a new process.  A file
# is written by one aio-stress process; a block of it is then zeroed,
# garbled, torn, misplaced, or replaced by an older copy with dd; a second
# aio-stress process reads it back with --verify and must fail (exit 1),
# naming the offset and the kind of the bad block.  Stale blocks need the
# generations the writer recorded (--verify-state).  aio-vcheck reads the
# same format.  Files of 1 MiB (256 blocks of 4 KiB) in a per-test scratch
# directory.

load helpers

BLK=4096
BAD=3 # the damaged block
BAD_OFF=$((BAD * BLK))

setup() {
	common_setup
	F=$SCRATCH/f
	J=$SCRATCH/read.json
	S=$SCRATCH/f.vstate
}

teardown() {
	common_teardown
}

# write_file [ARGS...]: one process writes $F with --verify.
write_file() {
	run aio_stress --quiet -o 0 -s 1m -r 4k --verify "$@" "$F"
	assert_status 0
}

# read_back [ARGS...]: a new process reads $F back with --verify.
read_back() {
	run aio_stress -o 1 -s 1m -r 4k --verify --json "$J" "$@" "$F"
}

# put_block SRC_FILE SRC_BLOCK DST_BLOCK: copy one 4 KiB block into $F.
put_block() {
	dd if="$1" of="$F" bs=$BLK skip="$2" seek="$3" count=1 conv=notrunc \
		status=none
}

# assert_bad KIND: the read failed on block $BAD, named with KIND.
assert_bad() {
	assert_status 1
	assert_output_has "verify error on $F at offset $BAD_OFF: $1"
	assert_eq verify_failed "$(json_get "$J" "d['result']")" result
	json_true "$J" \
		"d['stages'][0]['verify']['first_bad']['offset_bytes'] == $BAD_OFF" \
		"d['stages'][0]['verify']['first_bad']['kind'] == '$1'" \
		"d['stages'][0]['verify']['blocks_bad'] == 1" \
		"d['stages'][0]['verify']['bad_blocks_by_kind']['$1'] == 1" \
		"d['stages'][0]['verify']['blocks_checked'] == 256"
	assert_output_has "read: verify: 256 blocks checked, 1 bad ($1 1)"
}

@test "aio-stress --verify in a new process reads back a good file and says how many blocks it checked" {
	write_file
	read_back
	assert_status 0
	assert_output_has "read: verify: 256 blocks checked, 0 bad, 0 not checked"
	json_true "$J" "d['result'] == 'ok'" \
		"d['stages'][0]['verify']['blocks_checked'] == 256" \
		"d['stages'][0]['verify']['blocks_ok'] == 256" \
		"d['stages'][0]['verify']['blocks_checked_without_generation'] == 256"
	# Without a state file it says what it could not check.
	assert_output_has "without their generation"
}

@test "aio-stress --verify in a new process fails on a block zeroed with dd and names its offset" {
	write_file
	put_block /dev/zero 0 $BAD
	read_back
	assert_bad zero
}

@test "aio-stress --verify in a new process fails on a block of random bytes and names its offset" {
	write_file
	head -c $BLK /dev/urandom >"$SCRATCH/noise"
	put_block "$SCRATCH/noise" 0 $BAD
	read_back
	assert_bad garbage
}

# tear_block: the second half of block $BAD from the second half of block
# 5; sets TEAR to the first byte of block $BAD that changed (2048, or a
# few bytes past it where the two blocks' random data happen to agree,
# 1 time in 256 for each byte).
tear_block() {
	TEAR=$(python3 - "$F" "$BAD" <<-'EOF'
		import sys
		d = open(sys.argv[1], "rb").read()
		a = d[int(sys.argv[2]) * 4096:][:4096]
		b = d[5 * 4096:][:4096]
		print(next(i for i in range(2048, 4096) if a[i] != b[i]))
	EOF
	)
	dd if="$F" of="$F" bs=2048 skip=$((5 * 2 + 1)) seek=$((BAD * 2 + 1)) \
		count=1 conv=notrunc status=none
}

@test "aio-stress --verify in a new process fails on a torn block and names its offset" {
	write_file
	tear_block
	read_back
	assert_bad torn
	assert_output_has "the data is not from byte $TEAR of the block on"
}

@test "aio-stress --verify in a new process fails on a misplaced block and names both offsets" {
	write_file
	cp "$F" "$SCRATCH/copy"
	put_block "$SCRATCH/copy" 5 $BAD
	read_back
	assert_bad misplaced
	assert_output_has "misplaced (the block belongs at offset 20480)"
}

@test "aio-stress --verify in a new process fails on a block whose header was damaged" {
	write_file
	# One byte of the generation field, the header CRC left as it was.
	printf '\x7f' | dd of="$F" bs=1 seek=$((BAD_OFF + 32)) conv=notrunc \
		status=none
	read_back
	assert_bad bad_header
}

@test "aio-stress --verify reports blocks written with another record size as wrong_length" {
	# Blocks of 2 KiB, read as blocks of 4 KiB.
	run aio_stress --quiet -o 0 -s 1m -r 2k -a 2k --verify "$F"
	assert_status 0
	read_back
	assert_status 1
	assert_output_has "verify error on $F at offset 0: wrong_length (a block of 2048 bytes where blocks of 4096 were expected)"
	assert_eq wrong_length \
		"$(json_get "$J" "d['stages'][0]['verify']['first_bad']['kind']")" kind
}

@test "aio-stress --verify-state finds a stale block written back from an older copy" {
	write_file --verify-state "$S"
	cp "$F" "$SCRATCH/generation-2"
	write_file --verify-state "$S"
	put_block "$SCRATCH/generation-2" $BAD $BAD
	read_back --verify-state "$S"
	assert_bad stale
	assert_output_has "stale (generation 2, expected 3)"
	json_true "$J" \
		"d['stages'][0]['verify']['blocks_checked_with_generation'] == 256" \
		"d['options']['verify_state'] == '$S'"
}

@test "aio-stress --verify-state finds a valid block of another run as foreign" {
	write_file --verify-state "$S"
	# The same file written by another run: same offset, other file id.
	run aio_stress --quiet -o 0 -s 1m -r 4k --verify "$SCRATCH/g"
	assert_status 0
	dd if="$SCRATCH/g" of="$F" bs=$BLK skip=$BAD seek=$BAD count=1 \
		conv=notrunc status=none
	read_back --verify-state "$S"
	assert_bad foreign
}

@test "aio-stress --verify-state counts the blocks its writer never wrote as not checked" {
	# One round of 8 records: blocks 0-7 written, 248 never (zeroes).
	truncate -s 1m "$F"
	write_file -I 1 --verify-state "$S"
	read_back --verify-state "$S"
	assert_status 0
	assert_output_has "read: verify: 8 blocks checked, 0 bad, 248 not checked (248 never written by this run, 0 not read)"
	json_true "$J" "d['stages'][0]['verify']['blocks_unwritten'] == 248"
}

@test "aio-stress --verify read stage that checked no block exits 1 and says why" {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	# A writer whose every request failed: its state records no block.
	truncate -s 1m "$F"
	run strace -f -qq -o /dev/null -e inject=io_submit:error=EIO \
		"$AIO_STRESS" --quiet -o 0 -s 1m -r 4k --verify \
		--verify-state "$S" "$F"
	assert_status 1
	read_back --verify-state "$S"
	assert_status 1
	assert_output_has "read: --verify checked no block: 256 were not written by this run or its --verify-state, 0 were not read"
	json_true "$J" "d['stages'][0]['verify']['checked_nothing'] is True" \
		"d['stages'][0]['verify']['blocks_checked'] == 0" \
		"d['result'] == 'verify_failed'"
}

@test "aio-stress --verify-state of a read-only run refuses a missing state file with one line" {
	write_file
	run aio_stress --quiet -o 1 -s 1m -r 4k --verify-state "$SCRATCH/none" "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "cannot read --verify-state $SCRATCH/none"
}

@test "aio-stress --verify-state refuses to overwrite a file that is not a state file" {
	echo "precious" >"$S"
	run aio_stress --quiet -o 0 -s 1m -r 4k --verify-state "$S" "$F"
	assert_one_line_error aio-stress 2
	assert_output_has "not an aio-stress verify state file"
	assert_eq precious "$(cat "$S")" "the file's contents"
}

@test "aio-stress --verify-state refuses a state that has no record of the file" {
	write_file --verify-state "$S"
	run aio_stress --quiet -o 0 -s 1m -r 4k --verify "$SCRATCH/g"
	run aio_stress --quiet -o 1 -s 1m -r 4k --verify-state "$S" "$SCRATCH/g"
	assert_one_line_error aio-stress 2
	assert_output_has "has no record of $SCRATCH/g"
}

# inject KIND: damage block 2 after the write; the read must say so.
inject() {
	run aio_stress --quiet -o 0 -o 1 -s 1m -r 4k --verify \
		--inject "$1:8192" --json "$J" "$F"
	assert_status 1
	assert_output_has "verify error on $F at offset 8192: $1"
	json_true "$J" "d['stages'][1]['verify']['first_bad']['kind'] == '$1'" \
		"d['stages'][1]['verify']['blocks_bad'] == 1"
}

@test "aio-stress --inject foreign is found as foreign in the same process" {
	inject foreign
}

@test "aio-stress --inject bad_header is found as bad_header in the same process" {
	inject bad_header
}

@test "aio-stress --inject wrong_length is found as wrong_length in the same process" {
	inject wrong_length
}

@test "aio-stress --inject future is found as future in the same process" {
	inject future
}

@test "aio-vcheck -S finds a stale block with the state aio-stress wrote" {
	write_file --verify-state "$S"
	cp "$F" "$SCRATCH/generation-2"
	write_file --verify-state "$S"
	run "$BUILD_DIR/aio-vcheck" "$F"
	assert_status 0
	put_block "$SCRATCH/generation-2" $BAD $BAD
	run "$BUILD_DIR/aio-vcheck" -S "$S" "$F"
	assert_status 1
	echo "$output" >"$SCRATCH/v.json"
	json_true "$SCRATCH/v.json" \
		"d['first_bad'] == {'offset': $BAD_OFF, 'kind': 'stale'}" \
		"d['counts']['stale'] == 1" "d['blocks_checked'] == 256" \
		"d['first_bad_detail'] == 'stale (generation 2, expected 3)'"
}

@test "aio-vcheck finds a torn block in a file aio-stress wrote and says where the tear starts" {
	write_file
	tear_block
	run "$BUILD_DIR/aio-vcheck" "$F"
	assert_status 1
	echo "$output" >"$SCRATCH/v.json"
	json_true "$SCRATCH/v.json" \
		"d['first_bad'] == {'offset': $BAD_OFF, 'kind': 'torn'}" \
		"d['counts']['ok'] == 255" \
		"'from byte $TEAR of the block' in d['first_bad_detail']" "2048 <= $TEAR < 2056"
}
