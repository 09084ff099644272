#!/usr/bin/env bats
# Argument parsing of `scoutfs get-attr-x` and `set-attr-x` (issue 23):
# upstream's field options, one FILE, upstream's messages.  What they do
# on a mounted filesystem is tests/kernel/parity3.bats.
load helpers

setup() {
	D=$BATS_TEST_TMPDIR
	touch "$D/f"
}

@test "get-attr-x and set-attr-x have -h and --help" {
	for c in get-attr-x set-attr-x; do
		for h in -h --help; do
			run scoutfs $c $h
			[ "$status" -eq 0 ]
			[[ "$output" == *"usage: scoutfs $c "*"-t|--retention"* ]]
		done
	done
}

@test "get-attr-x and set-attr-x want exactly one file" {
	for c in get-attr-x set-attr-x; do
		run scoutfs $c
		[ "$status" -eq 2 ]
		[ "${lines[0]}" = "scoutfs $c: no filename given" ]
		run scoutfs $c "$D/f" "$D/f"
		[ "$status" -eq 2 ]
		[ "${lines[0]}" = "scoutfs $c: more than one argument given" ]
	done
}

@test "set-attr-x: values are checked, data version 0 refused, nothing to set is success" {
	run scoutfs set-attr-x -v 0 "$D/f"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scoutfs set-attr-x: data version must not be 0" ]
	for bad in "-t x" "-s 1z" "-c 1.x" "-c 1.1234567890" "--retention=" ; do
		run scoutfs set-attr-x $bad "$D/f"
		[ "$status" -eq 2 ]
	done
	# nothing to set: success without opening the file (as upstream's)
	run scoutfs set-attr-x "$D/no-such-file"
	[ "$status" -eq 0 ]
	# an unknown option is a usage error
	run scoutfs get-attr-x -z "$D/f"
	[ "$status" -eq 2 ]
}

@test "get-attr-x: a missing file fails with upstream's lines, one elsewhere than scoutfs is refused" {
	run scoutfs get-attr-x -t "$D/none"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "failed to open '$D/none': No such file or directory (2)" ]
	[ "${lines[1]}" = "scoutfs: get-attr-x failed: No such file or directory (2)" ]
	run scoutfs get-attr-x -t "$D/f"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "scoutfs get-attr-x: $D/f: not on a scoutfs filesystem" ]
}

# ---- setattr and data-wait-err in upstream's words ----------------------

@test "setattr refuses data version 0 and --offline without a size, as upstream's" {
	run scoutfs setattr -V 0 -s 1 "$D/f"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scoutfs setattr: data version must not be 0" ]
	for args in "-V 1 -o -s 0" "-V 1 -o" "--data-version 1 --offline"; do
		run scoutfs setattr $args "$D/f"
		[ "$status" -eq 2 ]
		[ "${lines[0]}" = "scoutfs setattr: must provide size if using --offline option" ]
	done
	run scoutfs setattr -V 1 -s 1
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scoutfs setattr: must provide path to file" ]
}

@test "setattr: no data version with a zero size parses; a file elsewhere than scoutfs is refused" {
	# (a directory, a device and refused calls: tests/kernel/parity3.bats)
	run scoutfs setattr -s 0 -t 1725670311.0 -r 1725670311.0 "$D/f"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "scoutfs setattr: $D/f: not on a scoutfs filesystem" ]
}

@test "data-wait-err names each missing option and a bad op or errno as upstream's" {
	base="-I 1 -V 1 -F 0 -C 4096 -O read -E -5"
	for drop in "-I 1:inode" "-V 1:version" "-F 0:offset" "-C 4096:count" \
		    "-O read:operation" "-E -5:error"; do
		args=${base/${drop%%:*}/}
		run scoutfs data-wait-err -p "$D" $args
		[ "$status" -eq 2 ]
		[ "${lines[0]}" = "scoutfs data-wait-err: no ${drop#*:} given" ]
	done
	run scoutfs data-wait-err -p "$D" -I 1 -V 1 -F 0 -C 4096 -O bogus -E -5
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scoutfs data-wait-err: invalid data wait op: 'bogus'" ]
	run scoutfs data-wait-err -p "$D" -I 1 -V 1 -F 0 -C 4096 -O read -E -4096
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scoutfs data-wait-err: errno out of range"* ]]
}
