#!/usr/bin/env bats
# fsx (tests/fsx): random writes, reads, mmap, truncates, fallocates,
# O_DIRECT and seeks on several files, checked against an in-memory model,
# with remounts in between so what reached the disk is checked too.
# FSX_OPS sets the number of operations (default: bounded for CI).
load helpers

FSX="$SCOUTFS_TOP/build/default/bin/fsx"
REMOUNT="umount $MNT && mount -t scoutfs -o metadev_path=$META,quorum_slot_nr=0 $DATA $MNT"

setup() {
	[ -x "$FSX" ] || skip "fsx is not built (make -C tests/fsx)"
	mkfs_and_mount
}

@test "fsx: random operations match the model across remounts" {
	"$FSX" -N "${FSX_OPS:-3000}" --remount-cmd "$REMOUNT" \
		--remount-every 500 "$MNT"
	umount_and_fsck
}

@test "fsx: random operations beyond 4 GiB match the model" {
	"$FSX" -N "${FSX_OPS:-1500}" -B -n 2 --remount-cmd "$REMOUNT" \
		--remount-every 500 "$MNT"
	umount_and_fsck
}
