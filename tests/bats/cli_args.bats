#!/usr/bin/env bats
# Argument errors of the filesystem commands are caught before any ioctl,
# with a clear message and the usage exit status; paths off scoutfs are
# refused.  (Their behaviour on a mounted scoutfs is tested in the VM.)
load helpers

@test "release and stage require -V and name it" {
	run scoutfs release /tmp
	[ "$status" -eq 2 ]
	[[ "$output" == *"-V VERSION (the file's data_version) is required"* ]]
	run scoutfs stage -o 0 /tmp/a /tmp/b
	[ "$status" -eq 2 ]
	[[ "$output" == *"-V VERSION"* ]]
}

@test "a bad number or size is named" {
	run scoutfs release -V 12x /tmp/f
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad number '12x'"* ]]
	run scoutfs stage -V 1 -l 3Q /tmp/a /tmp/b
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad number '3Q'"* ]]
	run scoutfs walk-inodes meta_seq 1.x -1 /tmp
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad position '1.x'"* ]]
	run scoutfs data-wait-err -p /tmp -I 1 -V 1 -F 0 -C 4K -O read -E 5
	[ "$status" -eq 2 ]
	[[ "$output" == *"errno out of range"* ]]
}

@test "sizes take suffixes in options, as upstream's forms" {
	touch "$BATS_TEST_TMPDIR/f"
	# parsing succeeds and the path check is what refuses
	run scoutfs release -V 1 -o 1M -l 64K "$BATS_TEST_TMPDIR/f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not on a scoutfs filesystem"* ]]
}

@test "every filesystem command refuses a path that is not on scoutfs" {
	touch "$BATS_TEST_TMPDIR/f"
	for cmd in "stat" "statfs" "listxattr-hidden" "ino-path 1" "walk-inodes meta_seq 0 -1" \
		   "search-xattrs user.a.srch.b -p" "data-waiting -p" "setattr -V 1 -s 0"; do
		run scoutfs $cmd "$BATS_TEST_TMPDIR/f"
		[[ "$output" == *"not on a scoutfs filesystem"* ]] || {
			echo "scoutfs $cmd: $output"; return 1; }
	done
}

@test "each command has -h help" {
	for cmd in walk-inodes ino-path stat statfs release stage data-waiting \
		   data-wait-err setattr listxattr-hidden search-xattrs; do
		run scoutfs $cmd -h
		[ "$status" -eq 0 ] || { echo "$cmd -h: $status $output"; return 1; }
		[[ "$output" == *"usage: scoutfs $cmd"* ]]
	done
}
