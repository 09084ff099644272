#!/usr/bin/env bats
# Argument parsing of the commands added for parity with upstream (issue
# 23): get-fiemap, get-referring-entries, punch-offline, and walk-inodes
# in upstream's current -p form beside the seed's.  What they do on a
# mounted filesystem is tests/kernel/parity.bats.  Exit statuses are
# ours (README: 0, 1 failure, 2 usage); the messages carry upstream's
# wording where upstream has one.
load helpers

setup() {
	D=$BATS_TEST_TMPDIR
	touch "$D/f"
}

@test "the new commands have -h and --help" {
	for cmd in get-fiemap get-referring-entries punch-offline; do
		for h in -h --help; do
			run scoutfs $cmd $h
			[ "$status" -eq 0 ] || { echo "$cmd $h: $status $output"; return 1; }
			[[ "$output" == *"usage: scoutfs $cmd"* ]]
		done
	done
}

@test "get-fiemap: -P with -L, no file, two files and unknown options are usage errors" {
	run scoutfs get-fiemap -P -L "$D/f"
	[ "$status" -eq 2 ]
	[[ "$output" == *"can't pass both -P and -L options"* ]]
	run scoutfs get-fiemap --physical --logical "$D/f"
	[ "$status" -eq 2 ]
	run scoutfs get-fiemap
	[ "$status" -eq 2 ]
	run scoutfs get-fiemap "$D/f" "$D/f"
	[ "$status" -eq 2 ]
	run scoutfs get-fiemap -x "$D/f"
	[ "$status" -eq 2 ]
	# a file that cannot be opened: upstream's message
	run scoutfs get-fiemap -Lb "$D/missing"
	[ "$status" -eq 1 ]
	[ "$output" = "failed to open '$D/missing': No such file or directory (2)" ]
}

@test "get-referring-entries: the inode number is required, once, and must be a number" {
	run scoutfs get-referring-entries -p "$D"
	[ "$status" -eq 2 ]
	[[ "$output" == *"must provide inode number"* ]]
	run scoutfs get-referring-entries -p "$D" 1 2
	[ "$status" -eq 2 ]
	[[ "$output" == *"more than one argument given"* ]]
	run scoutfs get-referring-entries -p "$D" 12x
	[ "$status" -eq 2 ]
	[[ "$output" == *"inode parse error"* ]]
	# parsing passes (also in hex, options after the argument); the
	# path check refuses
	run scoutfs get-referring-entries 0x10 --path "$D"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$D: not on a scoutfs filesystem"* ]]
	cd "$D"
	run env SCOUTFS_MOUNT_PATH="$D/f" scoutfs get-referring-entries 5
	[ "$status" -eq 1 ]
	[[ "$output" == *"$D/f: not on a scoutfs filesystem"* ]]
}

@test "punch-offline: -V, -o and -l are all required; one FILE" {
	run scoutfs punch-offline "$D/f" -l 4096 -V 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"must provide offset"* ]]
	run scoutfs punch-offline "$D/f" -o 0 -V 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"must provide length"* ]]
	run scoutfs punch-offline "$D/f" -o 0 -l 4096
	[ "$status" -eq 2 ]
	[[ "$output" == *"-V"* ]]
	run scoutfs punch-offline -o 0 -l 4096 -V 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"must provide path to file"* ]]
	run scoutfs punch-offline "$D/f" "$D/f" -o 0 -l 4096 -V 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown extra argument given"* ]]
	run scoutfs punch-offline "$D/f" -o 0 -l 4Q -V 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad number '4Q'"* ]]
	# upstream's long options and size suffixes parse; the path check refuses
	run scoutfs punch-offline --offset 1M --length 64K --data-version 0x2 "$D/f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$D/f: not on a scoutfs filesystem"* ]]
}

@test "walk-inodes: upstream's -p forms and the seed's path argument all reach the path" {
	for args in "-p $D meta_seq 0 -1" "meta_seq 0 -1 -p $D" "-p$D data_seq 0 -1" \
		    "--path $D meta_seq 0 -1" "--path=$D meta_seq 1.2 -1" \
		    "meta_seq 0 -1 $D" "data_seq 1.2.3 -1 $D" "-- meta_seq 0 -1 $D"; do
		run scoutfs walk-inodes $args
		[ "$status" -eq 1 ] || { echo "walk-inodes $args: $status $output"; return 1; }
		[[ "$output" == *"$D: not on a scoutfs filesystem"* ]]
	done
}

@test "walk-inodes: -p with a path argument, a missing range or a bad position is a usage error" {
	run scoutfs walk-inodes -p "$D" meta_seq 0 -1 "$D"
	[ "$status" -eq 2 ]
	run scoutfs walk-inodes -p "$D" meta_seq 0
	[ "$status" -eq 2 ]
	run scoutfs walk-inodes -p "$D" -p "$D" meta_seq 0 -1
	[ "$status" -eq 2 ]
	run scoutfs walk-inodes meta_seq 0 -1 -p
	[ "$status" -eq 2 ]
	run scoutfs walk-inodes -p "$D" ctime 0 -1
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown index 'ctime'"* ]]
	for pos in 1.x 1.2.3.4 x -2; do
		run scoutfs walk-inodes -p "$D" meta_seq "$pos" -1
		[ "$status" -eq 2 ] || { echo "$pos: $status $output"; return 1; }
		[[ "$output" == *"bad position '$pos'"* ]]
	done
}
