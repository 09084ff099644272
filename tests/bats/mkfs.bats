#!/usr/bin/env bats
# scoutfs mkfs: validation before any write, the seed's example, -f, sizes.
load helpers

setup() {
	META=$BATS_TEST_TMPDIR/meta
	DATA=$BATS_TEST_TMPDIR/data
	truncate -s 64M "$META"
	truncate -s 16M "$DATA"
}

sums() { cat "$META" "$DATA" | md5sum; }

# run mkfs expecting exit 1, one line naming the problem, nothing written
refused() {
	local want=$1; shift
	local before; before=$(sums)
	run scoutfs mkfs "$@"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"$want"* ]]
	[ "$(sums)" = "$before" ]
}

@test "the seed's mkfs example works as written" {
	ADDR=127.0.0.1
	run scoutfs mkfs -Q 0,$ADDR,12345 -Q 1,$ADDR,12346 -Q 2,$ADDR,12347 "$META" "$DATA"
	[ "$status" -eq 0 ]
	[[ "$output" == *"quorum slots:    3"* ]]
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 0 ]
}

@test "mkfs refuses a duplicate quorum slot" {
	refused "slot 1 given more than once" -Q 1,127.0.0.1,1 -Q 1,127.0.0.1,2 "$META" "$DATA"
}

@test "mkfs refuses an out-of-range slot number" {
	refused "must be 0 to 14" -Q 15,127.0.0.1,1 "$META" "$DATA"
}

@test "mkfs refuses a bad address" {
	refused "not an IPv4 or IPv6 address" -Q 0,300.1.1.1,1 "$META" "$DATA"
}

@test "mkfs accepts an IPv6 address" {
	run scoutfs mkfs -Q 0,::1,7000 "$META" "$DATA"
	[ "$status" -eq 0 ]
}

@test "mkfs refuses port 0 and port 65536" {
	refused "port '0' must be 1 to 65535" -Q 0,127.0.0.1,0 "$META" "$DATA"
	refused "port '65536' must be 1 to 65535" -Q 0,127.0.0.1,65536 "$META" "$DATA"
}

@test "mkfs refuses a metadata device that is too small" {
	truncate -s 1M "$META"
	refused "metadata device $META is too small" "$META" "$DATA"
}

@test "mkfs refuses a data device that is too small" {
	truncate -s 64K "$DATA"
	refused "data device $DATA is too small" "$META" "$DATA"
}

@test "mkfs refuses a device that doesn't exist" {
	before=$(sums)
	run scoutfs mkfs "$BATS_TEST_TMPDIR/nope" "$DATA"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open metadata device"* ]]
	[ "$(sums)" = "$before" ]
}

@test "mkfs refuses an existing filesystem without -f and overwrites with -f" {
	run scoutfs mkfs "$META" "$DATA"
	[ "$status" -eq 0 ]
	refused "already holds a scoutfs filesystem" "$META" "$DATA"
	run scoutfs mkfs -f "$META" "$DATA"
	[ "$status" -eq 0 ]
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 0 ]
}

@test "options may follow the devices" {
	run scoutfs mkfs "$META" "$DATA" -Q 0,127.0.0.1,5000
	[ "$status" -eq 0 ]
}

@test "sizes take K/M/G suffixes and extend regular files" {
	rm -f "$META" "$DATA"
	touch "$META" "$DATA"
	run scoutfs mkfs -m 32M -d 2048K "$META" "$DATA"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$META")" -eq $((32 * 1024 * 1024)) ]
	[ "$(stat -c %s "$DATA")" -eq $((2 * 1024 * 1024)) ]
	[[ "$output" == *"512 blocks of 64 KiB"* ]]
	run scoutfs fsck "$META" "$DATA"
	[ "$status" -eq 0 ]
}

@test "mkfs refuses a garbage size" {
	refused "invalid metadata size '12Q'" -m 12Q "$META" "$DATA"
}
