#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: no program of the suite destroys data.  Every program that
# writes (aio-stress, aio-bare, aio-plug, aio-ioerr) goes through the one
# write-safety check of src/lib/target.c: a block device in use (mounted,
# swap, claimed exclusively, also from another mount namespace) is refused
# even with --force; one that carries a filesystem, swap, RAID, LVM or
# partition-table signature is refused unless --force.  The probes that
# only read (aio-exit, aio-vcheck) leave a mounted filesystem intact, and
# aio-fuzz writes only files it made itself.  No test forces a write onto a
# mounted filesystem: --force is tried on unmounted devices only.

load helpers
load probe_helpers

setup() {
	probe_setup
}

teardown() {
	probe_teardown
}

# refused PROG: the last run was one refusal line of PROG about $DEV.
refused() {
	assert_one_line_error "$1" 1 || return 1
	assert_output_has "refusing to write to $DEV: it "
}

# ---- each program against a mounted ext4 filesystem ----

@test "aio-bare refuses a block device with a mounted filesystem, which fsck then finds intact" {
	requires loop mkfs.ext4
	mounted_ext4
	run probe aio-bare -t 1 "$DEV"
	refused aio-bare
	assert_output_has "it is mounted on $MNT"
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

@test "aio-plug refuses a block device with a mounted filesystem, which fsck then finds intact" {
	requires loop mkfs.ext4
	mounted_ext4
	run probe aio-plug -n 10 "$DEV"
	refused aio-plug
	assert_output_has "it is mounted on $MNT"
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

@test "aio-ioerr refuses a block device with a mounted filesystem, which fsck then finds intact" {
	requires loop mkfs.ext4
	mounted_ext4
	run probe aio-ioerr "$DEV"
	refused aio-ioerr
	assert_output_has "it is mounted on $MNT"
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

@test "aio-stress refuses a block device with a mounted filesystem in the shared words" {
	requires loop mkfs.ext4
	mounted_ext4
	run --separate-stderr aio_stress --quiet -o 0 -s 1m -r 4k "$DEV"
	assert_status 1
	assert_eq "aio-stress: refusing to write to $DEV: it is mounted on $MNT (a device in use is not written, even with --force)" \
		"$stderr" "the refusal line"
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

@test "aio-exit only reads a block device with a mounted filesystem, which fsck then finds intact" {
	requires loop mkfs.ext4
	mounted_ext4
	run --separate-stderr probe aio-exit -n 8 -q 8 -t 1 -w 10 "$DEV"
	assert_status 0
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

@test "aio-vcheck only reads a block device with a mounted filesystem, which fsck then finds intact" {
	requires loop mkfs.ext4
	mounted_ext4
	# Not blocks aio-stress wrote: status 1 with a JSON verdict, no write.
	run --separate-stderr probe aio-vcheck "$DEV"
	assert_status 1
	[[ $output == *'"schema": "aio-vcheck/1"'* ]]
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

@test "aio-fuzz refuses a block device given as its directory" {
	requires loop mkfs.ext4
	mounted_ext4
	run probe aio-fuzz -d "$DEV" --iterations 1
	assert_one_line_error aio-fuzz 2
	assert_output_has "is not a directory"
	umount "$MNT"
	assert_fsck_clean "$DEV"
}

# ---- --force: overrides a signature, never a device in use ----

@test "aio-bare --force writes over an unmounted ext4 signature" {
	requires loop mkfs.ext4
	ext4_loop
	run probe aio-bare -t 1 "$DEV"
	refused aio-bare
	assert_output_has "it carries a filesystem signature (ext4) (use --force to overwrite it)"
	run --separate-stderr probe aio-bare --force -t 0.2 "$DEV"
	assert_status 0
	json_true <(echo "$output") "d['ios'] > 0"
}

@test "aio-plug --force writes over an unmounted ext4 signature" {
	requires loop mkfs.ext4
	ext4_loop
	run probe aio-plug -n 10 "$DEV"
	refused aio-plug
	run --separate-stderr probe aio-plug --force -n 10 "$DEV"
	assert_status 0
	json_true <(echo "$output") "d['op'] == 'write' and d['rounds'] == 10"
}

@test "aio-ioerr --force takes an unmounted device with an ext4 signature" {
	requires loop mkfs.ext4
	ext4_loop
	run probe aio-ioerr "$DEV"
	refused aio-ioerr
	# Past the check it runs, or skips where device-mapper is missing.
	run probe aio-ioerr --force "$DEV"
	[[ $status == 0 || $status == 77 ]]
	[[ $output != *refusing* ]]
}

@test "--force does not make aio-bare write to a device another program holds exclusively" {
	requires loop
	truncate -s 16m "$SCRATCH/blank.img"
	DEV=$(attach_loop "$SCRATCH/blank.img")
	hold_exclusive "$DEV"
	run probe aio-bare --force -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "claimed exclusively"
	assert_output_has "even with --force"
}

# ---- the checker itself ----

@test "a blank block device is written without --force" {
	requires loop
	truncate -s 16m "$SCRATCH/blank.img"
	DEV=$(attach_loop "$SCRATCH/blank.img")
	run --separate-stderr probe aio-bare -t 0.2 "$DEV"
	assert_status 0
}

@test "a device mounted in another mount namespace is refused" {
	requires loop mkfs.ext4
	command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
	ext4_loop
	mkdir -p "$SCRATCH/ns"
	unshare -m sh -c 'mount "$1" "$2" && touch "$3" && exec sleep 60' sh \
		"$DEV" "$SCRATCH/ns" "$BATS_TEST_TMPDIR/ns-mounted" 3>&- &
	undo pid $!
	for _ in $(seq 100); do
		[[ -e $BATS_TEST_TMPDIR/ns-mounted ]] && break
		sleep 0.05
	done
	[[ -e $BATS_TEST_TMPDIR/ns-mounted ]]
	# Not in this namespace's mountinfo: the O_EXCL probe finds it.
	run probe aio-bare -t 1 "$DEV"
	refused aio-bare
	assert_output_has "claimed exclusively"
}

@test "a btrfs mount, whose mountinfo names no device number, is refused" {
	requires loop mkfs.btrfs
	truncate -s 128m "$SCRATCH/btrfs.img"
	mkfs.btrfs -q -f "$SCRATCH/btrfs.img" >/dev/null
	DEV=$(attach_loop "$SCRATCH/btrfs.img")
	scratch_mount "$SCRATCH/mnt" "$DEV" || skip "btrfs cannot be mounted here"
	run probe aio-bare -t 1 "$DEV"
	refused aio-bare
	assert_output_has "it is mounted on $SCRATCH/mnt"
}

@test "a swap signature is refused, and --force writes over it" {
	requires loop
	command -v mkswap >/dev/null || skip "mkswap is not installed (util-linux)"
	truncate -s 16m "$SCRATCH/swap.img"
	mkswap "$SCRATCH/swap.img" >/dev/null
	DEV=$(attach_loop "$SCRATCH/swap.img")
	run probe aio-bare -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "signature (swap)"
	run --separate-stderr probe aio-bare --force -t 0.2 "$DEV"
	assert_status 0
}

@test "a device in use as swap is refused" {
	requires loop
	command -v swapon >/dev/null || skip "swapon is not installed (util-linux)"
	truncate -s 16m "$SCRATCH/swap.img"
	mkswap "$SCRATCH/swap.img" >/dev/null
	DEV=$(attach_loop "$SCRATCH/swap.img")
	swapon "$DEV" 2>/dev/null || skip "swapon refused a loop device here"
	undo swap "$DEV"
	run probe aio-bare -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "it is in use as swap"
}

@test "a RAID member signature (md 0.90, written with dd) is refused, and --force writes over it" {
	requires loop
	local img=$SCRATCH/raid.img off
	truncate -s 16m "$img"
	# The md 0.90 superblock: 64 KiB from the end, magic a92b4efc, 0.90.
	off=$(((16 << 20) - (64 << 10)))
	printf '\xfc\x4e\x2b\xa9\x00\x00\x00\x00\x5a\x00\x00\x00' |
		dd of="$img" bs=1 seek="$off" conv=notrunc status=none
	DEV=$(attach_loop "$img")
	run probe aio-bare -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "RAID or LVM signature (linux_raid_member)"
	run --separate-stderr probe aio-bare --force -t 0.2 "$DEV"
	assert_status 0
}

@test "an LVM physical volume label (written with dd) is refused" {
	requires loop
	local img=$SCRATCH/lvm.img
	truncate -s 16m "$img"
	# Sector 1: LABELONE, sector 1, its CRC, header offset 32, LVM2 001, a
	# uuid of 32 A's; the CRC is LVM's (initial f597a6cf) over bytes 20-511.
	{
		printf 'LABELONE\x01\x00\x00\x00\x00\x00\x00\x00'
		printf '\x8b\xab\x18\x00\x20\x00\x00\x00LVM2 001'
		printf 'A%.0s' $(seq 32)
	} | dd of="$img" bs=1 seek=512 conv=notrunc status=none
	DEV=$(attach_loop "$img")
	run probe aio-bare -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "RAID or LVM signature (LVM2_member)"
}

# mbr IMG: a DOS partition table with one Linux partition from 1 MiB.
mbr() {
	printf '\x83' | dd of="$1" bs=1 seek=450 conv=notrunc status=none
	printf '\x00\x08\x00\x00\x00\xf8\x00\x00' |
		dd of="$1" bs=1 seek=454 conv=notrunc status=none
	printf '\x55\xaa' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
}

@test "a partition table is refused, and --force writes over it" {
	requires loop
	truncate -s 32m "$SCRATCH/pt.img"
	mbr "$SCRATCH/pt.img"
	DEV=$(attach_loop "$SCRATCH/pt.img")
	run probe aio-bare -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "it carries a partition table (dos)"
	run --separate-stderr probe aio-bare --force -t 0.2 "$DEV"
	assert_status 0
}

@test "a device with a mounted partition is refused" {
	requires loop mkfs.ext4
	truncate -s 32m "$SCRATCH/pt.img"
	mbr "$SCRATCH/pt.img"
	DEV=$(losetup -P -f --show "$SCRATCH/pt.img")
	echo "$DEV" >>"$LOOPS_FILE"
	sleep 0.2
	[[ -e /sys/class/block/${DEV#/dev/}/${DEV#/dev/}p1 && -b ${DEV}p1 ]] ||
		skip "this kernel makes no partitions of a loop device (no CONFIG_MSDOS_PARTITION)"
	mkfs.ext4 -q -F "${DEV}p1" >/dev/null
	scratch_mount "$SCRATCH/mnt" "${DEV}p1"
	# Never forced onto a mounted filesystem: the plain refusal only.
	run probe aio-bare -t 0.2 "$DEV"
	refused aio-bare
	assert_output_has "has a partition mounted: ${DEV#/dev/}p1"
}

@test "the image file under a mounted loop device is refused like the device" {
	requires loop mkfs.ext4
	mounted_ext4
	run probe aio-bare -t 1 "$IMG"
	assert_one_line_error aio-bare 1
	assert_output_has "refusing to write to $IMG: it is the backing file of $DEV, which is mounted on $MNT"
	run --separate-stderr aio_stress --quiet -o 0 -s 1m -r 4k "$IMG"
	assert_status 1
	umount "$MNT"
	assert_fsck_clean "$DEV"
}
