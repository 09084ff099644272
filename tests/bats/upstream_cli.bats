#!/usr/bin/env bats
# The `scoutfs` command line in upstream's forms, where no mounted
# filesystem is needed (the rest is tests/kernel/upstream_compat.bats):
# mkfs's upstream options and hex sizes, upstream's command names and
# long options, and the path default of -p.
load helpers

setup() {
	META=$BATS_TEST_TMPDIR/meta
	DATA=$BATS_TEST_TMPDIR/data
	truncate -s 64M "$META"
	truncate -s 16M "$DATA"
}

@test "mkfs takes upstream's -A, --allow-small-size, --max-meta-size and --max-data-size" {
	run scoutfs mkfs -A -Q 0,127.0.0.1,12345 "$META" "$DATA"
	[ "$status" -eq 0 ]
	run scoutfs mkfs -f --allow-small-size --quorum-slot 0,127.0.0.1,12345 \
		--max-meta-size 32M --max-data-size 8M "$META" "$DATA"
	[ "$status" -eq 0 ]
	[[ "$output" == *"512 blocks of 64 KiB (33554432 bytes)"* ]]
	[[ "$output" == *"2048 blocks of 4 KiB (8388608 bytes)"* ]]
	scoutfs fsck "$META" "$DATA"
}

@test "sizes parse as hex (0x...), as upstream's parse_human does" {
	run scoutfs mkfs -Q 0,127.0.0.1,12345 -m 0x2000000 -d 0x800000 "$META" "$DATA"
	[ "$status" -eq 0 ]
	[[ "$output" == *"512 blocks of 64 KiB (33554432 bytes)"* ]]
	[[ "$output" == *"2048 blocks of 4 KiB (8388608 bytes)"* ]]
	run scoutfs mkfs -f -Q 0,127.0.0.1,12345 -m 0xZZ "$META" "$DATA"
	[ "$status" -ne 0 ]
}

@test "upstream's command names and long options are accepted" {
	for c in df statfs stat stage release setattr list-hidden-xattrs walk-inodes; do
		run scoutfs "$c" --help
		[ "$status" -eq 0 ] || { echo "$c --help: $output"; false; }
	done
	run scoutfs stage --help
	[[ "$output" == *"--data-version"* ]]
	# a missing data version is a usage error naming the option
	run scoutfs release --offset 0 --length 4096 /nonexistent
	[ "$status" -eq 2 ]
	[[ "$output" == *"-V"* ]]
}

@test "commands with -p default to SCOUTFS_MOUNT_PATH, then the current directory" {
	run env SCOUTFS_MOUNT_PATH="$BATS_TEST_TMPDIR" scoutfs statfs
	[ "$status" -eq 1 ]
	[[ "$output" == *"$BATS_TEST_TMPDIR: not on a scoutfs filesystem"* ]]
	cd "$BATS_TEST_TMPDIR"
	run env -u SCOUTFS_MOUNT_PATH scoutfs df
	[ "$status" -eq 1 ]
	[[ "$output" == *".: not on a scoutfs filesystem"* ]]
	run env -u SCOUTFS_MOUNT_PATH scoutfs walk-inodes meta_seq 0 -1
	[ "$status" -eq 1 ]
	[[ "$output" == *".: not on a scoutfs filesystem"* ]]
}
