#!/usr/bin/env bats
# Mounting a filesystem made by scoutfs mkfs, and the mount errors.
load helpers

@test "a new filesystem mounts with an empty root directory and unmounts clean" {
	mkfs_and_mount
	[ "$(stat -c %i "$MNT")" -eq 1 ]
	[ "$(stat -c %F "$MNT")" = "directory" ]
	[ -z "$(ls -A "$MNT")" ]
	grep -q " $MNT scoutfs " /proc/mounts
	umount_and_fsck
}

@test "the seed's mount command line works as written" {
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 -Q 1,127.0.0.1,12346 -Q 2,127.0.0.1,12347 "$META" "$DATA"
	mkdir -p "$MNT"
	mount -t scoutfs -o quorum_slot_nr=0,metadev_path="$META" "$DATA" "$MNT"
	grep "$MNT" /proc/mounts | grep -q "quorum_slot_nr=0"
	umount_and_fsck
}

@test "mount without metadev_path fails and says it is required" {
	scoutfs mkfs -f "$META" "$DATA" > /dev/null
	kmsg_mark
	run mount -t scoutfs "$DATA" "$MNT"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "metadev_path=PATH option naming the metadata device is required"
}

@test "an unknown mount option fails and is named" {
	scoutfs mkfs -f "$META" "$DATA" > /dev/null
	kmsg_mark
	run mount -t scoutfs -o metadev_path="$META",bogus_opt=1 "$DATA" "$MNT"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "unknown mount option 'bogus_opt=1'"
}

@test "a metadata device without scoutfs is refused" {
	scoutfs mkfs -f "$META" "$DATA" > /dev/null
	dd if=/dev/zero of="$META" bs=64K count=4 conv=notrunc status=none
	kmsg_mark
	run mount -t scoutfs -o metadev_path="$META" "$DATA" "$MNT"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "is not a scoutfs metadata device"
}

@test "a data device from another filesystem is refused" {
	scoutfs mkfs -f "$META" "$DATA" > /dev/null
	# keep this data device, make a new metadata device with another fsid
	dd if="$DATA" of=/tmp/data-identity bs=4K count=1 status=none
	scoutfs mkfs -f "$META" "$DATA" > /dev/null
	dd if=/tmp/data-identity of="$DATA" bs=4K count=1 conv=notrunc status=none
	kmsg_mark
	run mount -t scoutfs -o metadev_path="$META" "$DATA" "$MNT"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "data device belongs to filesystem"
}

@test "a super block with a bad checksum is refused with the reason" {
	scoutfs mkfs -f "$META" "$DATA" > /dev/null
	# flip a byte inside both super slots (blocks 1 and 2)
	for blk in 1 2; do
		printf '\xff' | dd of="$META" bs=1 seek=$((blk * 65536 + 200)) conv=notrunc status=none
	done
	kmsg_mark
	run mount -t scoutfs -o metadev_path="$META" "$DATA" "$MNT"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "no valid super block: slot 0: .*crc"
}

@test "quorum_slot_nr naming an unconfigured slot is refused" {
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$META" "$DATA" > /dev/null
	kmsg_mark
	run mount -t scoutfs -o metadev_path="$META",quorum_slot_nr=3 "$DATA" "$MNT"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "quorum_slot_nr=3 names a slot that mkfs did not configure"
}
