#!/usr/bin/env bats
# I/O errors and corrupt metadata: a metadata or data device that starts
# failing, and metadata blocks torn or written to the wrong place.  The
# callers get EIO, the filesystem goes read-only with one log line naming
# why, nothing oopses or hangs, unmount works, and the devices, once
# healthy again, hold the last committed state (fsck clean, data intact).
# The failing devices are device-mapper tables switched from linear to
# error under the mounted filesystem.
load helpers

DM_META=scoutfs-test-meta
DM_DATA=scoutfs-test-data

setup() {
	# device-mapper: the module, or built in (the debug kernel)
	modprobe dm-mod 2> /dev/null || [ -c /dev/mapper/control ]
	kmsg_mark
}

teardown() {
	mountpoint -q "$MNT" && umount "$MNT"
	dmsetup remove --retry "$DM_META" 2> /dev/null
	dmsetup remove --retry "$DM_DATA" 2> /dev/null
	return 0
}

# dm_table NAME DEV linear|error
dm_table() {
	local sectors
	sectors=$(blockdev --getsz "$2")
	if [ "$3" = linear ]; then
		echo "0 $sectors linear $2 0"
	else
		echo "0 $sectors error"
	fi
}

dm_create() {
	dm_table "$1" "$2" linear | dmsetup create "$1"
	dmsetup mknodes "$1"
	[ -b "/dev/mapper/$1" ]
}

# switch NAME (over DEV) to a table of TYPE, in place
dm_switch() {
	dmsetup suspend "$1"
	dm_table "$1" "$2" "$3" | dmsetup load "$1"
	dmsetup resume "$1"
}

mount_dm() {
	mkdir -p "$MNT"
	mount -t scoutfs -o "metadev_path=/dev/mapper/$DM_META,quorum_slot_nr=0" \
		"/dev/mapper/$DM_DATA" "$MNT"
}

mkfs_dm_and_mount() {
	dm_create "$DM_META" "$META"
	dm_create "$DM_DATA" "$DATA"
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "/dev/mapper/$DM_META" \
		"/dev/mapper/$DM_DATA" > /dev/null
	mount_dm
}

mount_is_ro() {
	grep " $MNT scoutfs " /proc/mounts | grep -q ' ro[, ]'
}

# Drop our metadata block cache and the page cache, so reads go to disk.
drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

@test "a failing metadata device gives EIO, the filesystem goes read-only, and what was committed survives" {
	mkfs_dm_and_mount
	mkdir "$MNT/dir"
	for i in $(seq 1 200); do echo "file $i" > "$MNT/dir/f$i"; done
	sync
	dm_switch "$DM_META" "$META" error
	echo "not committed" > "$MNT/late"
	# its commit fails: the change is refused, never reported written
	run sync -f "$MNT/late"
	[ "$status" -ne 0 ]
	kmsg_since_mark | grep -q "the filesystem is now read-only"
	run touch "$MNT/after"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	mount_is_ro
	umount "$MNT"
	# healthy again: the committed state, clean
	dm_switch "$DM_META" "$META" linear
	scoutfs fsck "/dev/mapper/$DM_META" "/dev/mapper/$DM_DATA"
	mount_dm
	[ "$(cat "$MNT/dir/f1")" = "file 1" ]
	[ "$(cat "$MNT/dir/f200")" = "file 200" ]
	[ "$(ls "$MNT/dir" | wc -l)" -eq 200 ]
	[ ! -e "$MNT/after" ]
	[ ! -e "$MNT/late" ]
	umount "$MNT"
	scoutfs fsck "/dev/mapper/$DM_META" "/dev/mapper/$DM_DATA"
}

@test "metadata reads that fail give EIO and make the filesystem read-only" {
	mkfs_dm_and_mount
	mkdir "$MNT/dir"
	for i in $(seq 1 2000); do echo "file $i" > "$MNT/dir/f$i"; done
	umount "$MNT"
	mount_dm
	dm_switch "$DM_META" "$META" error
	# the mount read only the root's blocks: listing the directory reads
	run ls -l "$MNT/dir"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
	kmsg_since_mark | grep -q "read error"
	kmsg_since_mark | grep -q "the filesystem is now read-only"
	mount_is_ro
	umount "$MNT"
	dm_switch "$DM_META" "$META" linear
	scoutfs fsck "/dev/mapper/$DM_META" "/dev/mapper/$DM_DATA"
}

@test "a failing data device gives EIO to fsync and to reads, and the filesystem goes read-only" {
	mkfs_dm_and_mount
	head -c 1M /dev/urandom > "$MNT/old"
	sum_old=$(sha256sum < "$MNT/old")
	sync
	dm_switch "$DM_DATA" "$DATA" error
	drop_caches || true
	run cat "$MNT/old"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
	run dd if=/dev/urandom of="$MNT/new" bs=64k count=4 conv=fsync status=none
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
	kmsg_since_mark | grep -q "writing file data failed"
	mount_is_ro
	umount "$MNT"
	dm_switch "$DM_DATA" "$DATA" linear
	scoutfs fsck "/dev/mapper/$DM_META" "/dev/mapper/$DM_DATA"
	mount_dm
	[ "$(sha256sum < "$MNT/old")" = "$sum_old" ]
	umount "$MNT"
}

# The blkno of a leaf of the fs tree holding the items of ino, from print.
fs_leaf_of_ino() {
	scoutfs print "$META" | awk -v ino="$1" '
		/^ *fs_root:/ { in_fs = 1 }
		/^ *(meta_free|data_free|logs_root):/ { in_fs = 0 }
		in_fs && /block [0-9]+/ { for (i = 1; i < NF; i++) if ($i == "block") blk = $(i + 1) }
		in_fs && $0 ~ "fs.inode " ino "\\." { print blk; exit }'
}

# A file "precious" whose inode item is in a leaf of its own, away from
# the root's, so the mount reads fine and only reaching the file reads
# the leaf; sets $blk to that leaf.
precious_file_in_its_own_leaf() {
	mkfs_and_mount
	mkdir "$MNT/d"
	for i in $(seq 1 1500); do : > "$MNT/d/filler-file-with-a-long-name-$i"; done
	echo precious > "$MNT/d/precious"
	ino=$(stat -c %i "$MNT/d/precious")
	umount "$MNT"
	blk=$(fs_leaf_of_ino "$ino")
	[ -n "$blk" ]
	[ "$blk" != "$(fs_leaf_of_ino 1)" ]
}

# The mount works, reading the file fails without showing a byte of it,
# and the filesystem is read-only with a log line naming the block.
reading_the_leaf_fails_and_goes_read_only() {
	mount_scoutfs
	run cat "$MNT/d/precious"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
	# the file's contents never show, only the error naming its path
	! grep -qx precious <<< "$output" || false
	mount_is_ro
	kmsg_since_mark | grep -q "block $blk .*failed verification: .*$1"
	kmsg_since_mark | grep -q "the filesystem is now read-only"
}

@test "a torn metadata block is detected by its checksum and the filesystem goes read-only" {
	precious_file_in_its_own_leaf
	# tear it: the second half of the 64 KiB block is zeros
	dd if=/dev/zero of="$META" bs=32k seek=$((blk * 2 + 1)) count=1 conv=notrunc status=none
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -ne 0 ]
	reading_the_leaf_fails_and_goes_read_only crc
}

@test "a metadata block written to the wrong place is detected and never read as the right one" {
	precious_file_in_its_own_leaf
	# a misdirected write: another valid block of the tree lands on this one
	other=$(fs_leaf_of_ino 1)
	dd if="$META" of="$META" bs=64k skip="$other" seek="$blk" count=1 conv=notrunc status=none
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -ne 0 ]
	reading_the_leaf_fails_and_goes_read_only blkno
}
