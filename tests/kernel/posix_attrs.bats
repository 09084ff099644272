#!/usr/bin/env bats
# POSIX attributes and what the VFS decides with them: statfs totals and
# free space of both devices, mode, owner and nanosecond times surviving
# remount, permission checks for an unprivileged user, setgid directories
# and the sticky bit.  Every test ends with a clean fsck.
load helpers

setup() {
	mkfs_and_mount
	umask 022
}

# statfs(2) reports this many inodes per free metadata block
# (SCOUTFS_STATFS_INODES_PER_META_BLOCK), so f_ffree / 64 is the number of
# free 64 KiB metadata blocks.
INODES_PER_META_BLOCK=64

# A field of `scoutfs statfs`.
statfs_more() {
	scoutfs statfs "$MNT" | awk -v f="$1" '$1 == f { print $2 }'
}

free_meta_blocks() {
	local ffree
	ffree=$(stat -f -c %d "$MNT")
	[ $((ffree % INODES_PER_META_BLOCK)) -eq 0 ] || {
		echo "f_ffree $ffree is not a multiple of $INODES_PER_META_BLOCK" >&2
		return 1
	}
	echo $((ffree / INODES_PER_META_BLOCK))
}

# statfs of the mounted filesystem matches META_BLOCKS of 64 KiB and
# DATA_BLOCKS of 4 KiB, with at most a small fixed overhead in use.
check_statfs_totals() {
	local meta_blocks=$1 data_blocks=$2 total free avail used

	[ "$(stat -f -c %S "$MNT")" -eq 4096 ]
	total=$(stat -f -c %b "$MNT")
	free=$(stat -f -c %f "$MNT")
	avail=$(stat -f -c %a "$MNT")
	[ "$total" -eq "$data_blocks" ]
	[ "$free" -le "$total" ]
	[ $((total - free)) -le 64 ]
	[ "$avail" -eq "$free" ]
	[ "$(statfs_more total_data_blocks)" -eq "$data_blocks" ]
	[ "$(statfs_more total_meta_blocks)" -eq "$meta_blocks" ]
	# df shows the same numbers
	read -r total_df used avail_df < <(df -B4096 --output=size,used,avail "$MNT" | tail -n 1)
	[ "$total_df" -eq "$data_blocks" ]
	[ "$used" -eq $((total - free)) ]
	[ "$avail_df" -eq "$avail" ]
	# only the root inode, and a fresh filesystem's few metadata blocks
	[ "$(used_inodes)" -eq 1 ]
	used=$((meta_blocks - $(free_meta_blocks)))
	[ "$used" -gt 0 ]
	[ "$used" -le 128 ]
	# and the free counts are the committed super's
	expect="meta blocks $meta_blocks free $(free_meta_blocks), data blocks $data_blocks free $free"
	umount "$MNT"
	[ "$(super_totals)" = "$expect" ]
	mount_scoutfs
}

# "meta blocks N free N, data blocks N free N" of the current super of the
# unmounted metadata device
super_totals() {
	scoutfs print "$META" | sed -n 's/^ *\(meta blocks .*\), saved reserve.*/\1/p' | head -n 1
}

@test "statfs totals are the device sizes, or the sizes given to mkfs" {
	meta_bytes=$(blockdev --getsize64 "$META")
	data_bytes=$(blockdev --getsize64 "$DATA")
	check_statfs_totals $((meta_bytes / 65536)) $((data_bytes / 4096))
	umount_and_fsck

	scoutfs mkfs -f -Q 0,127.0.0.1,12345 -m 1G -d 3G "$META" "$DATA" > /dev/null
	mount_scoutfs
	check_statfs_totals 16384 786432
	umount_and_fsck
}

@test "free data blocks drop by the blocks of a 64 MiB file and come back after unlink and sync" {
	free0=$(free_data_blocks)
	dd if=/dev/urandom of="$MNT/f" bs=1M count=64 status=none
	sync
	free1=$(free_data_blocks)
	[ "$free1" -eq $((free0 - 16384)) ]
	[ "$(df -B4096 --output=avail "$MNT" | tail -n 1)" -eq "$free1" ]
	remount_scoutfs
	[ "$(free_data_blocks)" -eq "$free1" ]

	rm "$MNT/f"
	sync
	[ "$(free_data_blocks)" -eq "$free0" ]
	remount_scoutfs
	[ "$(free_data_blocks)" -eq "$free0" ]
	umount_and_fsck
}

@test "the inode count and free metadata follow 500 files created and removed" {
	meta0=$(free_meta_blocks)
	mkdir "$MNT/d"
	(cd "$MNT/d" && touch $(seq -f 'file-%g' 1 500))
	sync
	[ "$(used_inodes)" -eq 502 ]
	meta1=$(free_meta_blocks)
	[ "$meta1" -lt "$meta0" ]
	remount_scoutfs
	[ "$(used_inodes)" -eq 502 ]

	rm -r "$MNT/d"
	sync
	[ "$(used_inodes)" -eq 1 ]
	meta2=$(free_meta_blocks)
	[ "$meta2" -gt "$meta1" ]
	umount_and_fsck
}

# mode owner group atime mtime ctime, times with nanoseconds (and the
# seconds since the epoch, which go negative before 1970)
attrs_of() {
	TZ=UTC stat -c '%a %u %g %x %X %y %Y %z' "$1"
}

@test "chmod, chown and nanosecond times from utimensat persist across remount" {
	export TZ=UTC
	touch "$MNT/f"
	mkdir "$MNT/d"
	ln -s f "$MNT/l"
	chown 1234:5678 "$MNT/f"
	# chown clears set-id bits, so the mode comes after it
	chmod 6751 "$MNT/f"
	touch -a -d '2001-02-03 04:05:06.123456789' "$MNT/f"
	touch -m -d '1969-07-20 20:17:40.000000001' "$MNT/f"
	chown 4000000000:7 "$MNT/d"
	chmod 1701 "$MNT/d"
	touch -d '2400-01-01 00:00:00.999999999' "$MNT/d"
	chown -h 42:43 "$MNT/l"
	touch -h -d '2020-02-29 12:00:00.5' "$MNT/l"

	f=$(attrs_of "$MNT/f")
	d=$(attrs_of "$MNT/d")
	l=$(attrs_of "$MNT/l")
	[[ "$f" == "6751 1234 5678 2001-02-03 04:05:06.123456789 +0000 981173106 1969-07-20 20:17:40.000000001 +0000 -14182940 "* ]]
	[[ "$d" == "1701 4000000000 7 2400-01-01 00:00:00.999999999 +0000 13569465600 2400-01-01 00:00:00.999999999 +0000 13569465600 "* ]]
	[[ "$l" == "777 42 43 2020-02-29 12:00:00.500000000 +0000 1582977600 2020-02-29 12:00:00.500000000 +0000 1582977600 "* ]]
	# ctime was set by the kernel, to the nanosecond on this filesystem
	[ "$(stat -c %Z "$MNT/f")" -gt 1600000000 ]

	remount_scoutfs
	[ "$(attrs_of "$MNT/f")" = "$f" ]
	[ "$(attrs_of "$MNT/d")" = "$d" ]
	[ "$(attrs_of "$MNT/l")" = "$l" ]
	[ "$(readlink "$MNT/l")" = f ]
	umount_and_fsck
}

@test "atime updated by reading a file and listing a directory persists across remount" {
	echo data > "$MNT/f"
	mkdir "$MNT/d"
	touch "$MNT/d/x"
	# older than mtime, so relatime (the default) updates it on access
	touch -a -d '2000-01-01 00:00:00 UTC' "$MNT/f" "$MNT/d"
	[ "$(stat -c %X "$MNT/f")" -eq 946684800 ]
	[ "$(stat -c %X "$MNT/d")" -eq 946684800 ]
	grep -q "^[^ ]* $MNT scoutfs [^ ]*relatime" /proc/mounts

	[ "$(cat "$MNT/f")" = data ]
	[ "$(ls "$MNT/d")" = x ]
	f=$(stat -c %x "$MNT/f")
	d=$(stat -c %x "$MNT/d")
	[ "$(stat -c %X "$MNT/f")" -gt 1600000000 ]
	[ "$(stat -c %X "$MNT/d")" -gt 1600000000 ]

	remount_scoutfs
	[ "$(stat -c %x "$MNT/f")" = "$f" ]
	[ "$(stat -c %x "$MNT/d")" = "$d" ]
	umount_and_fsck
}

@test "an unprivileged user cannot list, enter or look into a 0700 root directory" {
	mkdir "$MNT/priv"
	echo secret > "$MNT/priv/file"
	chmod 0700 "$MNT/priv"
	for try in 1 2; do
		run run_as 1000 ls "$MNT/priv"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Permission denied"* ]]
		run run_as 1000 bash -c "cd '$MNT/priv'"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Permission denied"* ]]
		run run_as 1000 cat "$MNT/priv/file"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Permission denied"* ]]
		run run_as 1000 stat "$MNT/priv/file"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Permission denied"* ]]
		# the same after remount: the mode is on disk
		remount_scoutfs
	done
	# and it is the mode that refuses: 0755 lets the user in
	chmod 0755 "$MNT/priv"
	[ "$(run_as 1000 ls "$MNT/priv")" = file ]
	[ "$(run_as 1000 cat "$MNT/priv/file")" = secret ]
	umount_and_fsck
}

@test "an unprivileged user cannot write a 0644 root file and can write a 0666 one" {
	echo orig > "$MNT/ro"
	echo orig > "$MNT/rw"
	chmod 0644 "$MNT/ro"
	chmod 0666 "$MNT/rw"

	run run_as 1000 sh -c "echo user >> '$MNT/ro'"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	run run_as 1000 truncate -s 0 "$MNT/ro"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	run run_as 1000 chmod 0666 "$MNT/ro"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	[ "$(cat "$MNT/ro")" = orig ]
	[ "$(stat -c %a "$MNT/ro")" = 644 ]
	[ "$(run_as 1000 cat "$MNT/ro")" = orig ]

	run_as 1000 sh -c "echo user >> '$MNT/rw'"
	[ "$(printf 'orig\nuser')" = "$(cat "$MNT/rw")" ]

	# nor create in root's 0755 directory, but in a 0777 one, as itself
	run run_as 1000 touch "$MNT/new"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[ ! -e "$MNT/new" ]
	mkdir -m 0777 "$MNT/open"
	run_as 1000 touch "$MNT/open/new"
	[ "$(stat -c %u:%g "$MNT/open/new")" = 1000:1000 ]

	remount_scoutfs
	[ "$(printf 'orig\nuser')" = "$(cat "$MNT/rw")" ]
	[ "$(cat "$MNT/ro")" = orig ]
	umount_and_fsck
}

@test "files in a setgid directory get its group and subdirectories inherit the setgid bit" {
	mkdir "$MNT/sg" "$MNT/plain"
	chown 0:4321 "$MNT/sg"
	chmod 2777 "$MNT/sg"
	chmod 0777 "$MNT/plain"
	touch "$MNT/sg/by-root"
	run_as 1000 touch "$MNT/sg/by-user" "$MNT/plain/by-user"
	run_as 1000 mkdir "$MNT/sg/sub"
	run_as 1000 mkdir "$MNT/sg/sub/deeper"
	run_as 1000 mkdir "$MNT/plain/sub"

	# the user is not in group 4321, so chmod g+s of its file drops the bit
	run_as 1000 chmod 2644 "$MNT/sg/by-user"

	check() {
		[ "$(stat -c '%a %u:%g' "$MNT/sg/by-root")" = "644 0:4321" ]
		[ "$(stat -c '%a %u:%g' "$MNT/sg/by-user")" = "644 1000:4321" ]
		[ "$(stat -c '%a %u:%g' "$MNT/sg/sub")" = "2755 1000:4321" ]
		[ "$(stat -c '%a %u:%g' "$MNT/sg/sub/deeper")" = "2755 1000:4321" ]
		[ "$(stat -c '%a %u:%g' "$MNT/plain/by-user")" = "644 1000:1000" ]
		[ "$(stat -c '%a %u:%g' "$MNT/plain/sub")" = "755 1000:1000" ]
	}
	check
	remount_scoutfs
	check
	umount_and_fsck
}

@test "in a sticky directory a user cannot unlink or rename another user's file, its owner can" {
	mkdir -m 1777 "$MNT/st"
	mkdir -m 0777 "$MNT/nost"
	run_as 1000 sh -c "echo a > '$MNT/st/a'; echo a > '$MNT/nost/a'"
	run_as 1001 sh -c "echo b > '$MNT/st/b'"
	ino_a=$(stat -c %i "$MNT/st/a")
	ino_b=$(stat -c %i "$MNT/st/b")

	run run_as 1001 rm -f "$MNT/st/a"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	run run_as 1001 mv "$MNT/st/a" "$MNT/st/c"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	# nor replace it by renaming its own file over it
	run run_as 1001 mv -f "$MNT/st/b" "$MNT/st/a"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	[ "$(stat -c %i "$MNT/st/a")" -eq "$ino_a" ]
	[ "$(stat -c %i "$MNT/st/b")" -eq "$ino_b" ]
	[ ! -e "$MNT/st/c" ]
	[ "$(cat "$MNT/st/a")" = a ]
	[ "$(ls "$MNT/st" | tr '\n' ' ')" = "a b " ]

	# without the sticky bit the same unlink is allowed
	run_as 1001 rm -f "$MNT/nost/a"
	[ ! -e "$MNT/nost/a" ]

	# the owner renames and unlinks its own file
	run_as 1000 mv "$MNT/st/a" "$MNT/st/a2"
	[ "$(stat -c %i "$MNT/st/a2")" -eq "$ino_a" ]
	run_as 1000 rm "$MNT/st/a2"
	[ ! -e "$MNT/st/a2" ]
	# and so does the directory's owner
	chown 1002 "$MNT/st"
	run_as 1002 rm -f "$MNT/st/b"
	[ -z "$(ls -A "$MNT/st")" ]
	umount_and_fsck
}
