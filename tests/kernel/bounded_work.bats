#!/usr/bin/env bats
# Bounded work: deleting, truncating and releasing a file of very many
# extents goes in batches across commits, and a power cut in the middle
# of a deletion leaves a filesystem whose next mount finishes the job
# (kmod/src/inode.c, delete_inode_items()).
#
# A transaction's freed list holds 65,536 extents; to see deletes span
# many commits without hundreds of thousands of fallocates under TCG,
# these tests run on the test-only module (kmod/src/fault.c) with its
# freed_data_max set to BOUNDED_FREED_MAX (default 1,000) and files of
# BOUNDED_EXTENTS scattered 4 KiB extents (default 5,000; the power cut
# uses twice as many, and sleeps after each batch's commit so its cut lands
# between two).  The issue's size on the real list is
# BOUNDED_FREED_MAX=0 BOUNDED_EXTENTS=1000000 (about half an hour here).
load helpers

N=${BOUNDED_EXTENTS:-5000}
FREED_MAX=${BOUNDED_FREED_MAX:-1000}
DM_META=scoutfs-bounded-meta
DM_DATA=scoutfs-bounded-data

setup_file() {
	load_fault_module
}

teardown_file() {
	unload_fault_module
}

setup() {
	kmsg_mark
	rm -f /tmp/holding /tmp/close-now
	echo "$FREED_MAX" > "$FAULT_PARAMS/freed_data_max"
}

teardown() {
	mountpoint -q "$MNT" && umount "$MNT"
	echo 0 > "$FAULT_PARAMS/freed_data_max"
	echo 0 > "$FAULT_PARAMS/batch_pause_ms"
	for dm in "$DM_META" "$DM_DATA"; do
		dmsetup info "$dm" > /dev/null 2>&1 && dmsetup remove --force "$dm"
	done
	return 0
}

# $1: a file of ${2:-N} unwritten 4 KiB extents at every other block of
# the file and of the device: each block of it is allocated between two
# of $1.fill's, so neither the file's extents nor the freed list's can
# merge (blocks come from the start of the first free extent)
scattered_file() {
	python3 - "$1" "${2:-$N}" <<-'PY'
	import os, sys
	fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
	fill = os.open(sys.argv[1] + ".fill", os.O_CREAT | os.O_RDWR, 0o644)
	for i in range(int(sys.argv[2])):
	    os.posix_fallocate(fd, i * 8192, 4096)
	    os.posix_fallocate(fill, i * 4096, 4096)
	os.close(fd)
	os.close(fill)
	PY
}

batches() {
	cat "$FAULT_PARAMS/delete_batches"
}

extents_of() {
	scoutfs stat -s online_blocks "$1"
}

@test "truncate and release of a file with $N scattered extents" {
	mkfs_and_mount
	free0=$(free_data_blocks)
	scattered_file "$MNT/t"
	truncate -s 0 "$MNT/t"
	sync
	# the filler's blocks stay
	[ "$(free_data_blocks)" -eq $((free0 - N)) ]
	[ "$(extents_of "$MNT/t")" -eq 0 ]
	rm "$MNT/t.fill"
	scattered_file "$MNT/r"
	dv=$(scoutfs stat -s data_version "$MNT/r")
	scoutfs release -V "$dv" "$MNT/r"
	sync
	[ "$(free_data_blocks)" -eq $((free0 - N)) ]
	[ "$(scoutfs stat -s online_blocks "$MNT/r")" -eq 0 ]
	umount_and_fsck
}

@test "a power cut in the middle of deleting $((2 * N)) extents: the next mount finishes it" {
	dm_mkfs_and_mount "$DM_META" "$DM_DATA"
	# each committed batch of the delete sleeps 5 s, so the cut below
	# lands between the first commit and the second however slow the
	# host
	echo 5000 > "$FAULT_PARAMS/batch_pause_ms"
	echo kept > "$MNT/keep"
	scattered_file "$MNT/f" $((2 * N))
	sync
	full=$(free_data_blocks)
	batches0=$(batches)
	dm_load_drop_writes "$DM_META"
	dm_load_drop_writes "$DM_DATA"
	# a holder keeps it open across the unlink, so the orphan item is
	# committed before the deletion starts at the holder's close
	rm -f /tmp/close-now
	python3 - "$MNT/f" <<-'PY' &
	import os, sys, time
	fd = os.open(sys.argv[1], os.O_RDONLY)
	open("/tmp/holding", "w").close()
	while not os.path.exists("/tmp/close-now"):
	    time.sleep(0.05)
	os.close(fd)
	PY
	rmpid=$!
	for _ in $(seq 1 600); do [ -e /tmp/holding ] && break; sleep 0.1; done
	rm "$MNT/f"
	sync
	touch /tmp/close-now
	# cut the power in the pause after the first batch's commit
	for _ in $(seq 1 600); do
		[ "$(batches)" -gt "$batches0" ] && break
		sleep 0.05
	done
	[ "$(batches)" -gt "$batches0" ] || echo "# no batch of the delete committed" >&2
	dm_cut "$DM_META"
	dm_cut "$DM_DATA"
	echo 0 > "$FAULT_PARAMS/batch_pause_ms"
	wait "$rmpid"
	umount "$MNT"
	dmsetup remove "$DM_META"
	dmsetup remove "$DM_DATA"
	# what reached the disk: the first batch's commit, not the last
	cut=$(disk_free_data_blocks "$META")
	echo "# power cut with $((cut - full)) of $((2 * N)) blocks freed on disk"
	[ "$cut" -gt "$full" ]
	[ "$cut" -lt $((full + 2 * N)) ]
	scoutfs fsck "$META" "$DATA"
	mount_scoutfs
	kmsg_since_mark | grep -q "freed 1 orphaned inodes"
	[ "$(free_data_blocks)" -eq $((full + 2 * N)) ]
	[ "$(cat "$MNT/keep")" = kept ]
	[ "$(ls "$MNT" | tr '\n' ' ')" = "f.fill keep " ]
	umount_and_fsck
}
