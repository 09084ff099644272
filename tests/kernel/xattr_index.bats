#!/usr/bin/env bats
# Hidden and indexed xattrs through their ioctls: listxattr-hidden and
# search-xattrs.
load helpers

setup() {
	mkfs_and_mount
}

@test "listxattr-hidden lists the scoutfs.hide. names that listxattr leaves out" {
	touch "$MNT/f"
	setfattr -n scoutfs.hide.archive.copy -v s3:obj1 "$MNT/f"
	setfattr -n scoutfs.hide.archive.version -v 3 "$MNT/f"
	setfattr -n user.visible -v 1 "$MNT/f"
	[ "$(getfattr --absolute-names -d -m - "$MNT/f" | grep -c scoutfs.hide)" -eq 0 ]
	run scoutfs listxattr-hidden "$MNT/f"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "scoutfs.hide.archive.copy scoutfs.hide.archive.version " ]
	[ "$(getfattr --only-values -n scoutfs.hide.archive.copy "$MNT/f")" = "s3:obj1" ]
	umount_and_fsck
}

@test "search-xattrs finds every inode with an indexed name, and stops finding removed ones" {
	for i in 1 2 3 4 5; do touch "$MNT/f$i"; done
	for i in 2 4 5; do setfattr -n user.hsm.srch.tier -v cold "$MNT/f$i"; done
	setfattr -n user.hsm.srch.other -v x "$MNT/f1"
	expect=$(for i in 2 4 5; do stat -c %i "$MNT/f$i"; done | sort -n | tr '\n' ' ')
	run scoutfs search-xattrs -p "$MNT" user.hsm.srch.tier
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tr '\n' ' ')" = "$expect" ]
	setfattr -x user.hsm.srch.tier "$MNT/f4"
	rm "$MNT/f5"
	run scoutfs search-xattrs -p "$MNT" user.hsm.srch.tier
	[ "$(echo "$output" | tr '\n' ' ')" = "$(stat -c %i "$MNT/f2") " ]
	umount_and_fsck
}

@test "search-xattrs refuses names that are not indexed" {
	run scoutfs search-xattrs -p "$MNT" user.plain
	[ "$status" -eq 2 ]
	[[ "$output" == *"only names containing '.srch.' are indexed"* ]]
	umount_and_fsck
}
