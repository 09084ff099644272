#!/usr/bin/env bats
# Argument parsing of `scoutfs move-blocks` (issue 23): upstream's options
# (-f/--from-offset, -l/--length, -t/--to-offset, all required, and two
# paths) and messages, and our -s/--stage with -V/--data-version.  What
# it does on a mounted filesystem is tests/kernel/parity2.bats.
load helpers

setup() {
	D=$BATS_TEST_TMPDIR
	touch "$D/f" "$D/g"
}

@test "move-blocks has -h and --help" {
	for h in -h --help; do
		run scoutfs move-blocks $h
		[ "$status" -eq 0 ]
		[[ "$output" == *"usage: scoutfs move-blocks FROM_FILE --from-offset OFFSET --length LENGTH TO_FILE --to-offset OFFSET"* ]]
	done
}

@test "move-blocks: both paths and all three offsets are required, with upstream's messages" {
	run scoutfs move-blocks -f 0 -l 4K -t 0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs move-blocks: must provide from file path" ]]
	run scoutfs move-blocks "$D/f" -f 0 -l 4K -t 0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs move-blocks: must provide to file path" ]]
	run scoutfs move-blocks "$D/f" "$D/g" -l 4K -t 0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs move-blocks: must provide from file offset --from-offset" ]]
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -t 0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs move-blocks: must provide region length --length" ]]
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -l 4K
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs move-blocks: must provide to file offset --to-offset" ]]
	run scoutfs move-blocks "$D/f" "$D/g" "$D/f" -f 0 -l 4K -t 0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs move-blocks: more than two file path arguments given" ]]
}

@test "move-blocks: bad numbers, unknown options, --stage without --data-version are usage errors" {
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -l 4Q -t 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad number '4Q'"* ]]
	run scoutfs move-blocks "$D/f" "$D/g" -f x -l 4K -t 0
	[ "$status" -eq 2 ]
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -l 4K -t 0 -x
	[ "$status" -eq 2 ]
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -l 4K -t 0 -s
	[ "$status" -eq 2 ]
	[[ "$output" == *"--stage needs the destination's --data-version"* ]]
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -l 4K -t 0 -V 3
	[ "$status" -eq 2 ]
	run scoutfs move-blocks "$D/f" "$D/g" -f 0 -l 4K -t 0 -s -V nope
	[ "$status" -eq 2 ]
}

@test "move-blocks: files that cannot be opened, or not on scoutfs, fail with upstream's messages" {
	run scoutfs move-blocks "$D/missing" "$D/g" -f 0 -l 4K -t 0
	[ "$status" -eq 1 ]
	[ "$output" = "failed to open '$D/missing': No such file or directory (2)" ]
	run scoutfs move-blocks "$D/f" "$D/missing" -f 0 -l 4K -t 0
	[ "$status" -eq 1 ]
	[ "$output" = "failed to open '$D/missing': No such file or directory (2)" ]
	# long options, sizes with suffixes, options after the paths: parsed,
	# and the ioctl is refused off scoutfs
	run scoutfs move-blocks --from-offset 1M --length 64K "$D/f" "$D/g" --to-offset 0x1000 --stage --data-version 0x2
	[ "$status" -eq 1 ]
	[[ "$output" == "ioctl failed on '$D/g': "* ]]
}
