#!/usr/bin/env bats
# Orphans: a file unlinked while open keeps its data until the last close
# and then gives its blocks back; after a crash with such a file, the next
# mount frees it.  The crash is real as far as the devices can tell: both
# run through device-mapper, which is switched to drop every write while
# the file is open and unlinked, so the devices keep exactly the last
# committed transaction (with its orphan item) and never see the close.
load helpers

DM_META=scoutfs-test-meta
DM_DATA=scoutfs-test-data

setup() {
	TMPD=$BATS_TEST_TMPDIR
}

teardown() {
	exec 6<&- 7>&- 8<&- 9<&-
	mountpoint -q "$MNT" && umount "$MNT"
	for dm in "$DM_META" "$DM_DATA"; do
		dmsetup info "$dm" > /dev/null 2>&1 && dmsetup remove --force "$dm"
	done
	return 0
}

sum() {
	sha256sum | cut -d' ' -f1
}

# The orphan items of an unmounted metadata device, one "orphan INO" a line.
orphans_of() {
	blockdev --flushbufs "$1"
	scoutfs print "$1" | awk '$1 ~ /^orphan\./ { split($2, k, "."); print "orphan", k[1] }'
}

@test "an unlinked file stays readable while open and its blocks are freed at the last close" {
	mkfs_and_mount
	free0=$(free_data_blocks)
	head -c 32M /dev/urandom > "$TMPD/model"
	cp "$TMPD/model" "$MNT/f"
	sync
	free1=$(free_data_blocks)
	[ "$free1" -eq $((free0 - 8192)) ]
	[ "$(used_inodes)" -eq 2 ]

	exec 6< "$MNT/f" 7>> "$MNT/f"
	rm "$MNT/f"
	[ ! -e "$MNT/f" ]
	[ -z "$(ls -A "$MNT")" ]
	[ "$(stat -L -c %h /proc/self/fd/6)" -eq 0 ]
	# still allocated once the unlink is committed, and still writable
	head -c 4M /dev/urandom | tee -a "$TMPD/model" >&7
	sync
	[ "$(free_data_blocks)" -eq $((free1 - 1024)) ]
	[ "$(used_inodes)" -eq 2 ]
	[ "$(stat -L -c %s /proc/self/fd/6)" -eq $((36 * 1024 * 1024)) ]
	[ "$(sum <&6)" = "$(sum < "$TMPD/model")" ]

	# the first close is not the last
	exec 6<&-
	sync
	[ "$(free_data_blocks)" -eq $((free1 - 1024)) ]
	exec 7>&-
	sync
	[ "$(free_data_blocks)" -eq "$free0" ]
	[ "$(used_inodes)" -eq 1 ]
	umount_and_fsck
	[ -z "$(orphans_of "$META")" ]
}

@test "a file held open by another process is freed when that process exits" {
	mkfs_and_mount
	free0=$(free_data_blocks)
	head -c 16M /dev/urandom > "$TMPD/model"
	cp "$TMPD/model" "$MNT/f"
	mkfifo "$TMPD/go"
	(
		exec 3>&- 9< "$MNT/f"
		touch "$TMPD/ready"
		read -r _ < "$TMPD/go"
		sum <&9 > "$TMPD/sum"
	) &
	holder=$!
	while [ ! -e "$TMPD/ready" ]; do sleep 0.1; done
	rm "$MNT/f"
	sync
	[ "$(free_data_blocks)" -eq $((free0 - 4096)) ]
	echo go > "$TMPD/go"
	wait "$holder"
	[ "$(cat "$TMPD/sum")" = "$(sum < "$TMPD/model")" ]
	sync
	[ "$(free_data_blocks)" -eq "$free0" ]
	[ "$(used_inodes)" -eq 1 ]
	umount_and_fsck
}

@test "after a crash with unlinked open files and a directory the next mount frees them" {
	dm_mkfs_and_mount "$DM_META" "$DM_DATA"

	free0=$(free_data_blocks)
	head -c 1M /dev/urandom > "$TMPD/keep"
	cp "$TMPD/keep" "$MNT/keep"
	for i in 1 2 3; do
		head -c 8M /dev/urandom > "$MNT/orphan$i"
	done
	sync
	free_full=$(free_data_blocks)
	[ "$free_full" -eq $((free0 - 256 - 3 * 2048)) ]
	mkdir "$MNT/orphandir"
	exec 6< "$MNT/orphan1" 7< "$MNT/orphan2" 8< "$MNT/orphan3" 9< "$MNT/orphandir"
	inos=$(stat -L -c %i /proc/self/fd/6 /proc/self/fd/7 /proc/self/fd/8 \
		/proc/self/fd/9 | sort -n)
	rm "$MNT"/orphan[123]
	rmdir "$MNT/orphandir"
	[ "$(ls "$MNT")" = keep ]
	sync

	# the crash: nothing written from here on reaches the devices
	dm_drop_writes "$DM_META"
	dm_drop_writes "$DM_DATA"
	exec 6<&- 7<&- 8<&- 9<&-
	umount "$MNT"
	dmsetup remove "$DM_META"
	dmsetup remove "$DM_DATA"

	# the devices hold the committed orphan items and their blocks, and
	# are consistent
	[ "$(orphans_of "$META" | awk '{ print $2 }' | sort -n)" = "$inos" ]
	scoutfs print "$META" | grep -q "data blocks [0-9]* free $free_full,"
	scoutfs fsck "$META" "$DATA"

	kmsg_mark
	mount_scoutfs
	kmsg_since_mark | grep -q "freed 4 orphaned inodes"
	[ "$(free_data_blocks)" -eq $((free0 - 256)) ]
	[ "$(used_inodes)" -eq 2 ]
	[ "$(ls "$MNT")" = keep ]
	cmp "$TMPD/keep" "$MNT/keep"
	umount_and_fsck
	[ -z "$(orphans_of "$META")" ]

	# the next mount has nothing left to free: still only the one line
	# since the mark
	mount_scoutfs
	[ "$(kmsg_since_mark | grep -c "orphaned inodes")" -eq 1 ]
	umount_and_fsck
}
