#!/usr/bin/env bats
# Random ioctl arguments never oops or hang the module (the harness fails
# the run on any console splat) and leave the filesystem consistent.
load helpers

@test "random arguments to every ioctl, as root and as a user, leave a clean filesystem" {
	mkfs_and_mount
	head -c 100000 /dev/urandom > "$MNT/file"
	mkdir "$MNT/dir"
	touch "$MNT/dir/a" "$MNT/dir/b"
	chmod 777 "$MNT" "$MNT/file" "$MNT/dir"
	sum=$(sha256sum < "$MNT/file")
	dv=$(scoutfs stat -s data_version "$MNT/file")
	run ioctl-fuzz -n "${SCOUTFS_IOCTL_FUZZ_ITERATIONS:-20000}" "$MNT/file" "$MNT/dir"
	echo "$output"
	[ "$status" -eq 0 ]
	run setpriv --reuid=1000 --regid=1000 --clear-groups ioctl-fuzz -n 5000 "$MNT/file" "$MNT/dir"
	echo "$output"
	[ "$status" -eq 0 ]
	# a random release may have made part of it offline: contents, if
	# online, are unchanged; stat works
	stat "$MNT/file" > /dev/null
	if [ "$(scoutfs stat -s offline_blocks "$MNT/file")" -eq 0 ] &&
	   [ "$(scoutfs stat -s data_version "$MNT/file")" -eq "$dv" ]; then
		[ "$(sha256sum < "$MNT/file")" = "$sum" ]
	fi
	umount_and_fsck
}
