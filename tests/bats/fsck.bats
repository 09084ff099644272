#!/usr/bin/env bats
# scoutfs fsck and print: clean on a fresh filesystem, corruption named.
load helpers

setup() {
	META=$BATS_TEST_TMPDIR/meta
	DATA=$BATS_TEST_TMPDIR/data
	truncate -s 64M "$META"
	truncate -s 16M "$DATA"
	scoutfs mkfs -Q 0,127.0.0.1,12345 "$META" "$DATA" >/dev/null
}

# the blkno of the fs_root block, as print shows it
fs_root_blkno() {
	scoutfs print "$META" | awk '/^  fs_root:/ { print $5 }'
}

@test "fsck is clean on a fresh filesystem" {
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 0 ]
	[[ "$output" == *"clean"* ]]
}

@test "print shows both supers and the root inode" {
	run scoutfs print "$META"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[current]"* ]]
	[[ "$output" == *"quorum slot 0: 127.0.0.1 port 12345"* ]]
	[[ "$output" == *"fs.inode 1.0.0: inode mode 040755 nlink 2"* ]]
	[[ "$output" == *"meta_seq.seq 1.1.0"* ]]
}

@test "fsck names a btree block with a flipped byte and its bad crc" {
	blkno=$(fs_root_blkno)
	[ -n "$blkno" ]
	off=$((blkno * 65536 + 1000))
	printf '\xff' | dd of="$META" bs=1 seek=$off conv=notrunc status=none
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -ne 0 ]
	[[ "$output" == *"meta block $blkno: bad crc"* ]]
	run scoutfs print "$META"
	[ "$status" -ne 0 ]
}

@test "fsck reports a truncated image cleanly" {
	truncate -s 8M "$META"
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 1 ]
	[[ "$output" == *"truncated"* ]]
	run scoutfs print "$META"
	[ "$status" -eq 1 ]
}

@test "fsck refuses a device that is not scoutfs" {
	truncate -s 0 "$META"
	truncate -s 64M "$META"
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no valid super block"* ]]
}

@test "fsck notices a data device from another filesystem" {
	other=$BATS_TEST_TMPDIR/other
	truncate -s 64M "$other"
	cp --sparse=always "$DATA" "$BATS_TEST_TMPDIR/data.orig"
	scoutfs mkfs "$other" "$DATA" -f >/dev/null
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not match the metadata fsid"* ]]
}
