#!/usr/bin/env bats
# The meta_seq/data_seq indexes and the inode ioctls: walk-inodes, ino-path,
# stat, statfs; the seed's Quick Start as written.
load helpers

# inode numbers in the order walk-inodes lists them
walk_inos() {
	scoutfs walk-inodes "$1" 0 -1 "$MNT" | awk -F. '{print $3}' | tr '\n' ' '
}

@test "the seed's Quick Start: walk-inodes lists the root and each touched file in order" {
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 -Q 1,127.0.0.1,12346 -Q 2,127.0.0.1,12347 "$META" "$DATA"
	mkdir -p /mnt/scoutfs
	mount -t scoutfs -o quorum_slot_nr=0,metadev_path="$META" "$DATA" /mnt/scoutfs
	[ "$(walk_inos meta_seq)" = "1 " ]
	touch /mnt/scoutfs/one; sync
	one=$(stat -c %i /mnt/scoutfs/one)
	[ "$(walk_inos meta_seq)" = "1 $one " ]
	# creating two changes the root directory too: both move past one
	touch /mnt/scoutfs/two; sync
	two=$(stat -c %i /mnt/scoutfs/two)
	[ "$(walk_inos meta_seq)" = "$one 1 $two " ]
	# touching one again changes only one, which moves to the end
	touch /mnt/scoutfs/one; sync
	[ "$(walk_inos meta_seq)" = "1 $two $one " ]
	umount_and_fsck
}

@test "walk-inodes shows nothing of the open transaction until it commits" {
	mkfs_and_mount
	sync
	# the periodic commit (every 5 s) may land between the touch and the
	# walk on a slow guest (the debug kernel): then the check says
	# nothing, so it is tried again with a new file
	for try in 1 2 3 4 5; do
		c0=$(scoutfs statfs -s committed_seq -p "$MNT")
		touch "$MNT/new$try"
		new=$(stat -c %i "$MNT/new$try")
		seen=0
		walk_inos meta_seq | grep -qw "$new" && seen=1
		c1=$(scoutfs statfs -s committed_seq -p "$MNT")
		[ "$c0" = "$c1" ] && break
		echo "# try $try: a commit landed in the window ($c0 -> $c1)"
	done
	[ "$c0" = "$c1" ]
	[ "$seen" -eq 0 ]
	sync
	walk_inos meta_seq | grep -qw "$new"
	umount_and_fsck
}

@test "a walker resuming after its last seq sees every later change at a higher seq" {
	mkfs_and_mount
	touch "$MNT/a" "$MNT/b"; sync
	last=$(scoutfs walk-inodes meta_seq 0 -1 "$MNT" | tail -n 1 | cut -d. -f1)
	chmod 600 "$MNT/a"; sync
	a=$(stat -c %i "$MNT/a")
	run scoutfs walk-inodes meta_seq $((last + 1)) -1 "$MNT"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | awk -F. '{print $3}')" = "$a" ]
	[ "$(echo "$output" | cut -d. -f1)" -gt "$last" ]
	umount_and_fsck
}

@test "metadata changes move meta_seq but not data_seq" {
	mkfs_and_mount
	touch "$MNT/f"; sync
	ds=$(scoutfs stat -s data_seq "$MNT/f")
	ms=$(scoutfs stat -s meta_seq "$MNT/f")
	dv=$(scoutfs stat -s data_version "$MNT/f")
	chmod 640 "$MNT/f"; chown 7:7 "$MNT/f"; touch -m -d @1000 "$MNT/f"; sync
	[ "$(scoutfs stat -s meta_seq "$MNT/f")" -gt "$ms" ]
	[ "$(scoutfs stat -s data_seq "$MNT/f")" -eq "$ds" ]
	[ "$(scoutfs stat -s data_version "$MNT/f")" -eq "$dv" ]
	umount_and_fsck
}

@test "ino-path prints every hard link of an inode" {
	mkfs_and_mount
	mkdir -p "$MNT/a/b" "$MNT/c"
	touch "$MNT/a/b/f"
	ln "$MNT/a/b/f" "$MNT/c/g"
	run scoutfs ino-path "$(stat -c %i "$MNT/a/b/f")" "$MNT"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "a/b/f c/g " ]
	run scoutfs ino-path 999999 "$MNT"
	[ "$status" -eq 1 ]
	umount_and_fsck
}

@test "stat --json and statfs report the inode and the filesystem" {
	mkfs_and_mount
	touch "$MNT/f"; sync
	run scoutfs stat --json "$MNT/f"
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["meta_seq"] > 0 and d["offline_blocks"] == 0'
	run scoutfs statfs --json "$MNT"
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["committed_seq"] > 1 and d["total_data_blocks"] == 8*1024*1024*1024//4096'
	umount_and_fsck
}

@test "commands refuse a path that is not on scoutfs" {
	run scoutfs stat /proc/self/status
	[ "$status" -eq 1 ]
	[[ "$output" == *"not on a scoutfs filesystem"* ]]
}

@test "unprivileged callers get EPERM from the index walk and ino-path" {
	mkfs_and_mount
	chmod 755 "$MNT"
	run setpriv --reuid=1000 --regid=1000 --clear-groups scoutfs walk-inodes meta_seq 0 -1 "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
	run setpriv --reuid=1000 --regid=1000 --clear-groups scoutfs ino-path 1 "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
	umount_and_fsck
}
