#!/usr/bin/env bats
# Upstream scoutfs compatibility of the module and of the `scoutfs`
# commands, as tools and scripts written for upstream use them (issues 13
# and 24; README "Differences from upstream").  Each test names the
# upstream behaviour it checks.
load helpers

setup() {
	mkfs_and_mount
	head -c $((256 * 1024)) /dev/urandom > /tmp/archive
	cp /tmp/archive "$MNT/f"
	sync
	DV=$(scoutfs stat -s data_version "$MNT/f")
}

# the first 6 hex digits of a 64-bit hex value, upstream's message prefix
prefix6() { printf '%s' "${1:0:6}"; }

@test "every ioctl answers upstream's struct layouts and numbers (tests/upstream-abi)" {
	run upstream-abi "$MNT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not ok"* ]]
	umount_and_fsck
}

@test "release of length 0 succeeds and changes nothing" {
	scoutfs release -V "$DV" -o 0 -l 0 "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 0 ]
	umount_and_fsck
}

@test "stage reads the archive sequentially from its start: from a pipe, and from a per-chunk file written at -o" {
	scoutfs release -V "$DV" "$MNT/f"
	# a pipe, as upstream's own tests stage from <(generator)
	scoutfs stage <(cat /tmp/archive) "$MNT/f" -V "$DV" -o 0 -l 128K
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 32 ]
	# a file holding only the second half, staged at 128K
	tail -c $((128 * 1024)) /tmp/archive > /tmp/chunk
	scoutfs stage /tmp/chunk "$MNT/f" -V "$DV" -o 128K -l 128K
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 0 ]
	cmp /tmp/archive "$MNT/f"
	umount_and_fsck
}

@test "stage without -l stages the archive's size, as upstream's default" {
	scoutfs release -V "$DV" -o 64K -l 64K "$MNT/f"
	dd if=/tmp/archive of=/tmp/chunk bs=64K skip=1 count=1 status=none
	scoutfs stage -V "$DV" -o 64K /tmp/chunk "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 0 ]
	cmp /tmp/archive "$MNT/f"
	umount_and_fsck
}

@test "numbers parse as hex (0x...) and upstream's long options work" {
	scoutfs release --data-version "$(printf '0x%x' "$DV")" --offset 0x10000 \
		--length 0x10000 "$MNT/f"
	[ "$(scoutfs stat --single-field offline_blocks "$MNT/f")" -eq 16 ]
	dd if=/tmp/archive of=/tmp/chunk bs=64K skip=1 count=1 status=none
	scoutfs stage /tmp/chunk "$MNT/f" --version "$DV" --offset=64K --length=0x10000
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 0 ]
	cmp /tmp/archive "$MNT/f"
	umount_and_fsck
}

@test "a new empty file has data_version 0; its first write makes it non-zero" {
	touch "$MNT/new"
	[ "$(scoutfs stat -s data_version "$MNT/new")" -eq 0 ]
	echo x > "$MNT/new"
	[ "$(scoutfs stat -s data_version "$MNT/new")" -gt 0 ]
	umount_and_fsck
}

@test "setattr refuses a size with data_version 0 and a file whose data_version is not 0" {
	touch "$MNT/r"
	run scoutfs setattr -V 0 -s 4096 -o "$MNT/r"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scoutfs setattr: data version must not be 0" ]
	# written, then emptied: size 0 but it had contents
	echo x > "$MNT/emptied"
	truncate -s 0 "$MNT/emptied"
	run scoutfs setattr --data-version 5 --size 4096 --offline "$MNT/emptied"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "setattr_more ioctl failed on '$MNT/emptied': Invalid argument (22)" ]
	scoutfs setattr --data-version 5 --size 4096 --offline "$MNT/r"
	[ "$(scoutfs stat -s data_version "$MNT/r")" -eq 5 ]
	run scoutfs setattr -V 6 "$MNT/r"
	[ "$status" -eq 1 ]
	umount_and_fsck
}

@test "a released file keeps its st_blocks (online + offline), also after remount" {
	blocks=$(stat -c %b "$MNT/f")
	scoutfs release -V "$DV" "$MNT/f"
	[ "$(stat -c %b "$MNT/f")" -eq "$blocks" ]
	remount_scoutfs
	[ "$(stat -c %b "$MNT/f")" -eq "$blocks" ]
	[ "$(du -k "$MNT/f" | cut -f1)" -eq 256 ]
	umount_and_fsck
}

@test "a directory's st_size is the sum of its entries' name lengths" {
	mkdir "$MNT/d"
	[ "$(stat -c %s "$MNT/d")" -eq 0 ]
	touch "$MNT/d/abcd"
	[ "$(stat -c %s "$MNT/d")" -eq 4 ]
	mkdir "$MNT/d/ef"
	ln -s abcd "$MNT/d/lnk"
	[ "$(stat -c %s "$MNT/d")" -eq 9 ]
	mv "$MNT/d/ef" "$MNT/d/efgh"
	[ "$(stat -c %s "$MNT/d")" -eq 11 ]
	rmdir "$MNT/d/efgh"
	rm "$MNT/d/lnk"
	[ "$(stat -c %s "$MNT/d")" -eq 4 ]
	remount_scoutfs
	[ "$(stat -c %s "$MNT/d")" -eq 4 ]
	umount_and_fsck
}

@test "stat and statfs print upstream's format; statfs -s, -p and SCOUTFS_MOUNT_PATH" {
	run scoutfs stat "$MNT/f"
	[ "${lines[0]}" = "$(printf '%-17s %s' meta_seq "$(scoutfs stat -s meta_seq "$MNT/f")")" ]
	[ "${lines[2]}" = "$(printf '%-17s %s' data_version "$DV")" ]
	fsid=$(scoutfs statfs -s fsid -p "$MNT")
	[[ "$fsid" =~ ^[0-9a-f]{16}$ ]]
	run scoutfs statfs -p "$MNT"
	[ "${lines[0]}" = "$(printf '%-17s %s' fsid "$fsid")" ]
	[ "$(SCOUTFS_MOUNT_PATH=$MNT scoutfs statfs -s fsid)" = "$fsid" ]
	[ "$(cd "$MNT" && scoutfs statfs --single-field fsid)" = "$fsid" ]
	umount_and_fsck
}

@test "df prints upstream's table of metadata and data blocks" {
	run scoutfs df -p "$MNT"
	echo "$output"
	[ "$status" -eq 0 ]
	read -r -a head <<< "${lines[0]}"
	[ "${head[*]}" = "Type Size Total Used Free Use%" ]
	read -r -a meta <<< "${lines[1]}"
	read -r -a data <<< "${lines[2]}"
	[ "${meta[0]} ${meta[1]}" = "MetaData 64KB" ]
	[ "${data[0]} ${data[1]}" = "Data 4KB" ]
	[ "${meta[2]}" -eq "$(scoutfs statfs -s total_meta_blocks -p "$MNT")" ]
	[ "${data[2]}" -eq "$(scoutfs statfs -s total_data_blocks -p "$MNT")" ]
	[ "${data[4]}" -eq "$(stat -f -c %f "$MNT")" ]
	[ $((data[3] + data[4])) -eq "${data[2]}" ]
	# the 64 data blocks of f are in use
	[ "${data[3]}" -ge 64 ]
	run scoutfs df -h -p "$MNT"
	[ "$status" -eq 0 ]
	umount_and_fsck
}

@test "walk-inodes takes upstream's -p PATH" {
	run scoutfs walk-inodes meta_seq 0 -1 -p "$MNT"
	[ "$status" -eq 0 ]
	[[ "$output" == *".$(stat -c %i "$MNT/f")"* ]]
	umount_and_fsck
}

@test "the mount message carries upstream's f.FSID.r.RID prefix" {
	umount "$MNT"
	kmsg_mark
	mount_scoutfs
	fsid=$(scoutfs statfs -s fsid -p "$MNT")
	rid=$(scoutfs statfs -s rid -p "$MNT")
	kmsg_since_mark | grep -q "scoutfs f\.$(prefix6 "$fsid")\.r\.$(prefix6 "$rid"): mounted"
	umount_and_fsck
}

@test "ino-path, data-waiting, data-wait-err and search-xattrs take upstream's long options and -p" {
	[ "$(scoutfs ino-path "$(stat -c %i "$MNT/f")" -p "$MNT")" = "f" ]
	[ "$(scoutfs ino-path "$(stat -c %i "$MNT/f")" --path="$MNT")" = "f" ]
	[ -z "$(scoutfs data-waiting --inode 0 --block 0 --path "$MNT")" ]
	scoutfs data-wait-err --path "$MNT" --inode "$(stat -c %i "$MNT/f")" \
		--version "$DV" --offset 0 --count 4096 --op read --err -5
	setfattr -n user.t.srch.x -v 1 "$MNT/f"
	sync
	[ "$(cd "$MNT" && scoutfs search-xattrs user.t.srch.x)" = "$(stat -c %i "$MNT/f")" ]
	umount_and_fsck
}
