#!/usr/bin/env bats
# Parity with upstream scoutfs (issue 23, first part): truncate's times,
# st_blocks on every data path, FIEMAP and `scoutfs get-fiemap`,
# `get-referring-entries`, `punch-offline`, walk-inodes in upstream's
# -p form beside the seed's, and O_TMPFILE.  Where upstream's own tests
# (tests/golden/* in versity/scoutfs) pin an output, the expected text
# here is that output: get-fiemap's and get-referring-entries' lines,
# punch-offline's errnos, basic-block-counts' st_blocks.  Every test
# ends with a clean fsck.
load helpers

PY=/usr/bin/python3

setup() {
	mkfs_and_mount
	umask 022
}

teardown() {
	mountpoint -q "$MNT" && umount "$MNT"
	for dm in scoutfs-parity-meta scoutfs-parity-data; do
		dmsetup info "$dm" > /dev/null 2>&1 && dmsetup remove --force "$dm"
	done
	rm -f /tmp/parity-go /tmp/parity-ino
	return 0
}

dv() { scoutfs stat -s data_version "$1"; }
blocks_of() { stat -c %b "$1"; }

# ---- truncate(2) and st_blocks -------------------------------------------

@test "truncate(2) by path that changes the size marks mtime and ctime, as ext4 and XFS" {
	echo data > "$MNT/f"
	touch -m -d @1000000000 "$MNT/f"
	ctime=$(stat -c %Z "$MNT/f")
	sleep 1.1
	$PY -c 'import os, sys; os.truncate(sys.argv[1], 123)' "$MNT/f"
	[ "$(stat -c %s "$MNT/f")" -eq 123 ]
	[ "$(stat -c %Y "$MNT/f")" -gt 1000000000 ]
	[ "$(stat -c %Z "$MNT/f")" -gt "$ctime" ]
	# shrinking too
	touch -m -d @1000000000 "$MNT/f"
	$PY -c 'import os, sys; os.truncate(sys.argv[1], 1)' "$MNT/f"
	[ "$(stat -c %Y "$MNT/f")" -gt 1000000000 ]
	# and the times are on disk
	mtime=$(stat -c %.9Y "$MNT/f")
	ctime=$(stat -c %.9Z "$MNT/f")
	remount_scoutfs
	[ "$(stat -c %.9Y "$MNT/f")" = "$mtime" ]
	[ "$(stat -c %.9Z "$MNT/f")" = "$ctime" ]
	umount_and_fsck
}

@test "truncate(2) to the same size leaves the times; ftruncate(2) marks them" {
	echo data > "$MNT/f"
	touch -m -d @1000000000 "$MNT/f"
	ctime=$(stat -c %.9Z "$MNT/f")
	$PY -c 'import os, sys; os.truncate(sys.argv[1], 5)' "$MNT/f"
	[ "$(stat -c %Y "$MNT/f")" -eq 1000000000 ]
	[ "$(stat -c %.9Z "$MNT/f")" = "$ctime" ]
	sleep 1.1
	$PY -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.ftruncate(fd, 4096)
os.close(fd)' "$MNT/f"
	[ "$(stat -c %s "$MNT/f")" -eq 4096 ]
	[ "$(stat -c %Y "$MNT/f")" -gt 1000000000 ]
	[ "$(stat -c %Z "$MNT/f")" -gt "${ctime%.*}" ]
	umount_and_fsck
}

# upstream's tests/golden/basic-block-counts, step by step
@test "st_blocks follows write, append, release, stage and truncate as upstream's basic-block-counts" {
	f="$MNT/f"
	dd if=/dev/urandom of="$f" bs=4096 count=1 status=none
	[ "$(blocks_of "$f")" -eq 8 ]
	dd if=/dev/urandom of="$f" bs=4096 count=1 conv=notrunc status=none
	[ "$(blocks_of "$f")" -eq 8 ]
	dd if=/dev/urandom of="$f" bs=4096 count=1 seek=1 conv=notrunc status=none
	[ "$(blocks_of "$f")" -eq 16 ]
	cp "$f" /tmp/parity-archive
	vers=$(dv "$f")
	scoutfs release -V "$vers" "$f"
	[ "$(scoutfs stat -s online_blocks "$f")" -eq 0 ]
	[ "$(scoutfs stat -s offline_blocks "$f")" -eq 2 ]
	[ "$(blocks_of "$f")" -eq 16 ]
	scoutfs release -V "$vers" "$f"
	[ "$(blocks_of "$f")" -eq 16 ]
	scoutfs stage /tmp/parity-archive "$f" -V "$vers" -o 0 -l 8192
	[ "$(scoutfs stat -s online_blocks "$f")" -eq 2 ]
	[ "$(scoutfs stat -s offline_blocks "$f")" -eq 0 ]
	[ "$(blocks_of "$f")" -eq 16 ]
	cmp /tmp/parity-archive "$f"

	dd if=/dev/urandom of="$MNT/large" bs=1M count=1 status=none
	[ "$(blocks_of "$MNT/large")" -eq 2048 ]
	truncate -s 512K "$MNT/large"
	[ "$(scoutfs stat -s online_blocks "$MNT/large")" -eq 128 ]
	[ "$(blocks_of "$MNT/large")" -eq 1024 ]
	dd if=/dev/urandom of="$MNT/sparse" bs=4096 count=1 seek=100 status=none
	[ "$(blocks_of "$MNT/sparse")" -eq 8 ]
	touch "$MNT/empty"
	[ "$(blocks_of "$MNT/empty")" -eq 0 ]
	mkdir "$MNT/dir"
	[ "$(blocks_of "$MNT/dir")" -eq 0 ]

	# all of it again from disk
	remount_scoutfs
	[ "$(blocks_of "$f")" -eq 16 ]
	[ "$(blocks_of "$MNT/large")" -eq 1024 ]
	[ "$(blocks_of "$MNT/sparse")" -eq 8 ]
	[ "$(blocks_of "$MNT/empty")" -eq 0 ]
	umount_and_fsck
}

@test "st_blocks counts fallocated blocks, inside and beyond i_size, and drops when truncate frees them" {
	fallocate -l 12288 "$MNT/f"
	[ "$(blocks_of "$MNT/f")" -eq 24 ]
	fallocate -n -o 12288 -l 8192 "$MNT/f"
	[ "$(stat -c %s "$MNT/f")" -eq 12288 ]
	[ "$(blocks_of "$MNT/f")" -eq 40 ]
	truncate -s 4096 "$MNT/f"
	[ "$(blocks_of "$MNT/f")" -eq 8 ]
	# a released range keeps its count (online + offline, as upstream's),
	# staging it back too; truncate (which waits for a whole file to be
	# online) then frees them all
	dd if=/dev/urandom of="$MNT/g" bs=4096 count=4 status=none
	cp "$MNT/g" /tmp/parity-g
	vers=$(dv "$MNT/g")
	scoutfs release -V "$vers" -o 4096 -l 8192 "$MNT/g"
	[ "$(blocks_of "$MNT/g")" -eq 32 ]
	scoutfs stage /tmp/parity-g "$MNT/g" -V "$vers" -o 0 -l 16384
	[ "$(blocks_of "$MNT/g")" -eq 32 ]
	truncate -s 0 "$MNT/g"
	[ "$(blocks_of "$MNT/g")" -eq 0 ]
	remount_scoutfs
	[ "$(blocks_of "$MNT/f")" -eq 8 ]
	[ "$(blocks_of "$MNT/g")" -eq 0 ]
	umount_and_fsck
}

# ---- FIEMAP and get-fiemap -----------------------------------------------

@test "get-fiemap prints upstream's lines for written, unwritten and offline extents" {
	f="$MNT/f"
	dd if=/dev/zero of="$f" bs=4096 count=1 status=none
	# written even before writeback: FIEMAP writes dirty pages back first
	run scoutfs get-fiemap -Lb "$f"
	[ "$status" -eq 0 ]
	[ "$output" = "0: offset: 0 length: 4096 flags: ..L
extents: 1" ]
	rm "$f" && touch "$f"
	fallocate -l $((4096 * 3)) "$f"
	run scoutfs get-fiemap -Lb "$f"
	[ "$output" = "0: offset: 0 length: 12288 flags: .UL
extents: 1" ]
	scoutfs release "$f" --data-version "$(dv "$f")"
	run scoutfs get-fiemap -Lb "$f"
	[ "$output" = "0: offset: 0 length: 12288 flags: O.L
extents: 1" ]
	# blocks by default; -L is the logical offset, -P the physical one
	# (0 when offline), both without either
	run scoutfs get-fiemap -L "$f"
	[ "$output" = "0: offset: 0 length: 3 flags: O.L
extents: 1" ]
	run scoutfs get-fiemap "$f"
	[ "$output" = "0: offset: 0 0 length: 3 flags: O.L
extents: 1" ]
	run scoutfs get-fiemap -P --byte "$f"
	[ "$output" = "0: offset: 0 length: 12288 flags: O.L
extents: 1" ]
	# an empty file has no extents
	touch "$MNT/empty"
	run scoutfs get-fiemap "$MNT/empty"
	[ "$status" -eq 0 ]
	[ "$output" = "extents: 0" ]
	umount_and_fsck
}

@test "get-fiemap: physical offsets of written extents, holes left out, -P with -L refused" {
	f="$MNT/f"
	dd if=/dev/urandom of="$f" bs=4096 count=2 status=none
	dd if=/dev/urandom of="$f" bs=4096 count=1 seek=10 conv=notrunc status=none
	sync
	run scoutfs get-fiemap "$f"
	[ "$status" -eq 0 ]
	echo "$output"
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^0:\ offset:\ 0\ [0-9]+\ length:\ 2\ flags:\ \.\.\.$ ]]
	[[ "${lines[1]}" =~ ^1:\ offset:\ 10\ [0-9]+\ length:\ 1\ flags:\ \.\.L$ ]]
	[ "${lines[2]}" = "extents: 2" ]
	# the physical block holds the data: read it from the data device
	phys=$(echo "${lines[1]}" | awk '{ print $4 }')
	[ "$phys" -gt 0 ]
	cmp <(dd if="$DATA" bs=4096 skip="$phys" count=1 status=none) \
	    <(dd if="$f" bs=4096 skip=10 count=1 status=none)
	run scoutfs get-fiemap -P -L "$f"
	[ "$status" -eq 2 ]
	[[ "$output" == *"can't pass both -P and -L options"* ]]
	run scoutfs get-fiemap "$MNT/nothing"
	[ "$status" -eq 1 ]
	[[ "$output" == *"failed to open '$MNT/nothing': No such file or directory (2)"* ]]
	umount_and_fsck
}

@test "FIEMAP flags offline extents FIEMAP_EXTENT_UNKNOWN only, as upstream (filefrag, xfs_io)" {
	f="$MNT/f"
	dd if=/dev/urandom of="$f" bs=4096 count=4 status=none
	scoutfs release -V "$(dv "$f")" -o 4096 -l 8192 "$f"
	run filefrag -v "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	# the middle two blocks: unknown location, not delalloc
	[[ "$output" == *"unknown_loc"* ]]
	[[ "$output" != *"delalloc"* ]]
	[ "$(echo "$output" | grep -c unknown_loc)" -eq 1 ]
	run scoutfs get-fiemap -L "$f"
	[ "$output" = "0: offset: 0 length: 1 flags: ...
1: offset: 1 length: 2 flags: O..
2: offset: 3 length: 1 flags: ..L
extents: 3" ]
	# a FIEMAP range from the middle returns what overlaps it
	run xfs_io -c "fiemap -v 8192 4096" "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[1..2]"* || "$output" == *"[8..23]"* ]]
	umount_and_fsck
}

# punch_every FILE VERS FIRST STEP LAST: one-block punch-offline calls at
# blocks FIRST, FIRST+STEP, ... up to LAST, through the ioctl from one
# process.  Upstream's tests run the command once a hole; a thousand
# command starts take many minutes in a TCG guest, and the command itself
# is tested by the cases that call it.
punch_every() {
	$PY - "$@" <<-'PY'
	import fcntl, os, struct, sys
	fd = os.open(sys.argv[1], os.O_RDWR)
	req = (1 << 30) | (32 << 16) | (0xE8 << 8) | 24
	vers, first, step, last = (int(a) for a in sys.argv[2:])
	for h in range(first, last + 1, step):
	    fcntl.ioctl(fd, req, bytearray(struct.pack("=4Q", h * 4096, 4096, vers, 0)))
	PY
}

@test "get-fiemap lists 300 extents over several FIEMAP calls (256 a call)" {
	f="$MNT/f"
	touch "$f"
	scoutfs setattr -V 1 -s $((4096 * 600)) -o "$f"
	punch_every "$f" 1 1 2 599
	run scoutfs get-fiemap -Lb "$f"
	[ "${lines[0]}" = "0: offset: 0 length: 4096 flags: O.." ]
	[ "${lines[255]}" = "255: offset: $((510 * 4096)) length: 4096 flags: O.." ]
	[ "${lines[256]}" = "256: offset: $((512 * 4096)) length: 4096 flags: O.." ]
	[ "${lines[299]}" = "299: offset: $((598 * 4096)) length: 4096 flags: O.L" ]
	[ "${lines[300]}" = "extents: 300" ]
	umount_and_fsck
}

# ---- get-referring-entries (upstream's tests/golden/get-referring-entries)

names() { cut -d ' ' -f 8- | sort; }

@test "get-referring-entries: root and unused inodes print nothing; entries follow rename, link and unlink" {
	GRE="scoutfs get-referring-entries -p $MNT"
	run $GRE 1
	[ "$status" -eq 0 ] && [ -z "$output" ]
	run $GRE 4611686018427387904
	[ "$status" -eq 0 ] && [ -z "$output" ]
	touch "$MNT/file"
	ino=$(stat -c %i "$MNT/file")
	[ "$($GRE "$ino" | names)" = "file" ]
	# upstream's line: dir DIR pos POS type 8 name NAME
	run $GRE "$ino"
	[[ "$output" =~ ^dir\ 1\ pos\ [0-9]+\ type\ 8\ name\ file$ ]]
	mv "$MNT/file" "$MNT/renamed"
	[ "$($GRE "$ino" | names)" = "renamed" ]
	mv "$MNT/renamed" "$MNT/file"
	ln "$MNT/file" "$MNT/link"
	[ "$($GRE "$ino" | names)" = "file
link" ]
	rm "$MNT/file" "$MNT/link"
	run $GRE "$ino"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	# SCOUTFS_MOUNT_PATH stands in for -p
	touch "$MNT/again"
	SCOUTFS_MOUNT_PATH=$MNT run scoutfs get-referring-entries "$(stat -c %i "$MNT/again")"
	[[ "$output" == *" name again" ]]
	umount_and_fsck
}

@test "get-referring-entries: links in many directories, every file type, every name length" {
	GRE="scoutfs get-referring-entries -p $MNT"
	mkdir "$MNT/d"
	touch "$MNT/d/file"
	ino=$(stat -c %i "$MNT/d/file")
	for i in $(seq 1 10); do
		mkdir "$MNT/d/dir-$i"
		ln "$MNT/d/file" "$MNT/d/dir-$i/file-$i"
	done
	diff -u <(find "$MNT/d" -type f -printf '%f\n' | sort) <($GRE "$ino" | names)
	# each entry names its own directory
	[ "$($GRE "$ino" | awk '{ print $2 }' | sort -u | wc -l)" -eq 11 ]
	rm -rf "$MNT/d"

	mkdir "$MNT/t"
	touch "$MNT/t/file"
	mkdir "$MNT/t/dir"
	ln -s "$MNT/t/file" "$MNT/t/symlink"
	mknod "$MNT/t/char" c 1 3
	mknod "$MNT/t/block" b 42 0
	mkfifo "$MNT/t/fifo"
	out=$(for name in block char dir fifo file symlink; do
		$GRE "$(stat -c %i "$MNT/t/$name")" | cut -d ' ' -f 5-
	done)
	[ "$out" = "type 6 name block
type 2 name char
type 4 name dir
type 1 name fifo
type 8 name file
type 10 name symlink" ]
	rm -rf "$MNT/t"

	mkdir "$MNT/n"
	touch "$MNT/n/file"
	ino=$(stat -c %i "$MNT/n/file")
	# links named a, aa, ... up to 255 a's, made from one process
	$PY - "$MNT/n" <<-'PY' | sort > /tmp/parity-names
	import os, sys
	for i in range(1, 256):
	    os.link(os.path.join(sys.argv[1], "file"), os.path.join(sys.argv[1], "a" * i))
	    print("a" * i)
	PY
	rm "$MNT/n/file"
	diff -u /tmp/parity-names <($GRE "$ino" | names)
	[ "$($GRE "$ino" | wc -l)" -eq 255 ]
	umount_and_fsck
}

@test "get-referring-entries: argument errors, buffer rules and the permission check" {
	run scoutfs get-referring-entries -p "$MNT"
	[ "$status" -eq 2 ]
	[[ "$output" == *"must provide inode number"* ]]
	run scoutfs get-referring-entries -p "$MNT" 1 2
	[ "$status" -eq 2 ]
	run scoutfs get-referring-entries -p "$MNT" xyz
	[ "$status" -eq 2 ]
	touch "$MNT/file-with-a-long-name"
	ino=$(stat -c %i "$MNT/file-with-a-long-name")
	# the ioctl itself: unaligned or too small buffers are EINVAL,
	# and only CAP_DAC_READ_SEARCH may ask
	run $PY - "$MNT" "$ino" <<'EOF'
import ctypes, errno, fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
ino = int(sys.argv[2])
buf = ctypes.create_string_buffer(4096 + 16)
base = (ctypes.addressof(buf) + 15) & ~15
req = (1 << 30) | (40 << 16) | (0xE8 << 8) | 17
def call(ptr, nbytes):
    a = bytearray(struct.pack("=5Q", ino, 0, 0, ptr, nbytes))
    try:
        return fcntl.ioctl(fd, req, a)
    except OSError as e:
        return -e.errno
# a 21-byte name: 29 + 22 bytes, padded to 64
print(call(base + 8, 4096) == -errno.EINVAL)
print(call(base, 16) == -errno.EINVAL)
print(call(base, 48) == -errno.EINVAL)
print(call(base, 64) == 1)
ent = ctypes.string_at(base, 64)
d, p, i, eb, fl, dt, nl = struct.unpack("=3QHBBB", ent[:29])
print(d == 1 and i == ino and eb == 64 and fl == 1 and dt == 8 and nl == 21 and ent[29:51] == b"file-with-a-long-name\0")
EOF
	echo "$output"
	[ "$output" = "True
True
True
True
True" ]
	run run_as 1000 scoutfs get-referring-entries -p "$MNT" "$ino"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
	umount_and_fsck
}

# ---- punch-offline (upstream's tests/golden/punch-offline) ---------------

fm() { scoutfs get-fiemap "$@"; }

@test "punch-offline: missing options are usage errors; a directory cannot be punched" {
	mkdir "$MNT/dir"
	run scoutfs punch-offline "$MNT/dir" -l 4096 -V 0
	[ "$status" -eq 2 ]
	run scoutfs punch-offline "$MNT/dir" -o 0 -V 0
	[ "$status" -eq 2 ]
	run scoutfs punch-offline "$MNT/dir" -o 0 -l 4096
	[ "$status" -eq 2 ]
	run scoutfs punch-offline "$MNT/dir" -o 0 -l 4096 -V 0
	[ "$status" -eq 1 ]
	[[ "$output" == *"Is a directory"* ]]
	umount_and_fsck
}

@test "punch-offline: empty files and ranges past i_size do nothing; online and unwritten extents are EINVAL" {
	f="$MNT/f"
	touch "$f"
	scoutfs punch-offline "$f" -o 0 -l 4096 -V 0
	dd if=/dev/zero of="$f" bs=4096 count=1 status=none
	scoutfs punch-offline "$f" -o 4096 -l 4096 -V 1
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 4096 flags: ..L
extents: 1" ]
	run scoutfs punch-offline "$f" -o 0 -l 4096 -V 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"punch_offline ioctl failed: Invalid argument (22)"* ]]
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 4096 flags: ..L
extents: 1" ]

	rm "$f" && touch "$f"
	fallocate -l $((4096 * 3)) "$f"
	run scoutfs punch-offline "$f" -o 4096 -l 4096 -V "$(dv "$f")"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Invalid argument (22)"* ]]
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 12288 flags: .UL
extents: 1" ]
	umount_and_fsck
}

@test "punch-offline: an offline block becomes a hole; unaligned ranges are EOVERFLOW, wrong versions ESTALE" {
	f="$MNT/f"
	touch "$f"
	fallocate -l $((4096 * 3)) "$f"
	vers=$(dv "$f")
	scoutfs release "$f" --data-version "$vers"
	for args in "-o 4095 -l 4096" "-o 1 -l 4096" "-o 4096 -l 409700" \
		    "-o 4096 -l 4097" "-o 4096 -l 4095" "-o 4096 -l 1" "-o 4096 -l 0"; do
		run scoutfs punch-offline "$f" $args -V "$vers"
		[ "$status" -eq 1 ]
		[[ "$output" == *"Value too large for defined data type (75)"* ]]
	done
	for v in 0 2 9999; do
		run scoutfs punch-offline "$f" -o 4096 -l 4096 -V "$v"
		[ "$status" -eq 1 ]
		[[ "$output" == *"Stale file handle (116)"* ]]
	done
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 12288 flags: O.L
extents: 1" ]
	scoutfs punch-offline "$f" -o 4096 -l 4096 -V "$vers"
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 4096 flags: O..
1: offset: 8192 length: 4096 flags: O.L
extents: 2" ]
	# data_version, size and the offline count follow; the hole reads zeros
	[ "$(dv "$f")" -eq "$vers" ]
	[ "$(stat -c %s "$f")" -eq 12288 ]
	[ "$(scoutfs stat -s offline_blocks "$f")" -eq 2 ]
	[ "$(blocks_of "$f")" -eq 16 ]
	cmp <(dd if="$f" bs=4096 skip=1 count=1 status=none) <(head -c 4096 /dev/zero)
	remount_scoutfs
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 4096 flags: O..
1: offset: 8192 length: 4096 flags: O.L
extents: 2" ]
	umount_and_fsck
}

@test "punch-offline: holes crossing several extents and starting at a hole, as upstream's" {
	f="$MNT/f"
	for start in 2 1; do
		rm -f "$f" && touch "$f"
		fallocate -l $((7 * 4096)) "$f"
		vers=$(dv "$f")
		scoutfs release "$f" --data-version "$vers"
		[ "$(fm -L "$f")" = "0: offset: 0 length: 7 flags: O.L
extents: 1" ]
		for b in 1 3 5; do
			scoutfs punch-offline "$f" -o $((b * 4096)) -l 4096 -V "$vers"
		done
		[ "$(fm -L "$f")" = "0: offset: 0 length: 1 flags: O..
1: offset: 2 length: 1 flags: O..
2: offset: 4 length: 1 flags: O..
3: offset: 6 length: 1 flags: O.L
extents: 4" ]
		# [2, 5) crosses extents; [1, 6) starts and ends in holes
		scoutfs punch-offline "$f" -o $((start * 4096)) \
			-l $(((start == 2 ? 3 : 5) * 4096)) -V "$vers"
		[ "$(fm -L "$f")" = "0: offset: 0 length: 1 flags: O..
1: offset: 6 length: 1 flags: O.L
extents: 2" ]
	done
	umount_and_fsck
}

@test "punch-offline: a large punch and overlapping punches over many extents give upstream's counts" {
	f="$MNT/big"
	touch "$f"
	# upstream fallocates and releases 6 GiB; setattr makes the same
	# single offline extent without writing 6 GiB of unwritten blocks
	scoutfs setattr -V 1 -s $((6 * 1024 * 1024 * 1024)) -o "$f"
	[ "$(fm -L "$f")" = "0: offset: 0 length: 1572864 flags: O.L
extents: 1" ]
	for o in 134123 467273 734623; do
		scoutfs punch-offline "$f" -o $((o * 4096)) -l $((68343 * 4096)) -V 1
	done
	[ "$(fm -L "$f")" = "0: offset: 0 length: 134123 flags: O..
1: offset: 202466 length: 264807 flags: O..
2: offset: 535616 length: 199007 flags: O..
3: offset: 802966 length: 769898 flags: O.L
extents: 4" ]

	f="$MNT/f"
	touch "$f"
	fallocate -l $((4096 * 1024)) "$f"
	vers=$(dv "$f")
	scoutfs release "$f" --data-version 1
	[ "$(fm -Lb "$f")" = "0: offset: 0 length: 4194304 flags: O.L
extents: 1" ]
	punch() { scoutfs punch-offline "$f" -o $(($1 * 4096)) -l $(($2 * 4096)) -V "$vers"; }
	punch_every "$f" "$vers" 1 2 1023
	[ "$(fm -Lb "$f" | tail -n 1)" = "extents: 512" ]
	punch 32 13
	[ "$(fm -Lb "$f" | tail -n 1)" = "extents: 505" ]
	punch_every "$f" "$vers" 6 8 1024
	[ "$(fm -Lb "$f" | tail -n 1)" = "extents: 378" ]
	punch_every "$f" "$vers" 4 8 1024
	[ "$(fm -Lb "$f" | tail -n 1)" = "extents: 252" ]
	punch 127 48
	run fm -Lb "$f"
	[ "${lines[0]}" = "0: offset: 0 length: 4096 flags: O.." ]
	[ "${lines[27]}" = "27: offset: 499712 length: 4096 flags: O.." ]
	[ "${lines[28]}" = "28: offset: 720896 length: 4096 flags: O.." ]
	[ "${lines[239]}" = "239: offset: 4169728 length: 4096 flags: O.L" ]
	[ "${lines[240]}" = "extents: 240" ]
	punch_every "$f" "$vers" 2 8 1024
	run fm -L "$f"
	[ "${lines[53]}" = "53: offset: 488 length: 1 flags: O.." ]
	[ "${lines[119]}" = "119: offset: 1016 length: 1 flags: O.L" ]
	[ "${lines[120]}" = "extents: 120" ]
	punch_every "$f" "$vers" 0 8 1024
	[ "$(fm -Lb "$f")" = "extents: 0" ]
	[ "$(scoutfs stat -s offline_blocks "$f")" -eq 0 ]
	[ "$(blocks_of "$f")" -eq 0 ]
	[ "$(stat -c %s "$f")" -eq $((4096 * 1024)) ]
	cmp "$f" <(head -c $((4096 * 1024)) /dev/zero)
	umount_and_fsck
}

@test "PUNCH_OFFLINE in upstream's layout: offset 0, len 8, data_version 16, flags 24 (unknown flags EINVAL)" {
	f="$MNT/f"
	touch "$f"
	scoutfs setattr -V 7 -s 16384 -o "$f"
	run $PY - "$f" <<'EOF2'
import errno, fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
req = (1 << 30) | (32 << 16) | (0xE8 << 8) | 24
def punch(off, ln, vers, flags):
    try:
        return fcntl.ioctl(fd, req, bytearray(struct.pack("=4Q", off, ln, vers, flags)))
    except OSError as e:
        return errno.errorcode[e.errno]
print(punch(4096, 4096, 7, 1), punch(4096, 4096, 6, 0), punch(4096, 4096, 7, 0))
rd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.ioctl(rd, req, bytearray(struct.pack("=4Q", 0, 4096, 7, 0)))
except OSError as e:
    print(errno.errorcode[e.errno])
EOF2
	echo "$output"
	[ "$output" = "EINVAL ESTALE 0
EBADF" ]
	[ "$(scoutfs get-fiemap -L "$f")" = "0: offset: 0 length: 1 flags: O..
1: offset: 2 length: 2 flags: O.L
extents: 2" ]
	umount_and_fsck
}

@test "punch-offline wakes a reader waiting on the range, which reads zeros" {
	f="$MNT/f"
	head -c 8192 /dev/urandom > "$f"
	vers=$(dv "$f")
	scoutfs release -V "$vers" "$f"
	dd if="$f" bs=4096 count=1 status=none > /tmp/parity-read &
	reader=$!
	for _ in $(seq 1 600); do
		[ "$(scoutfs data-waiting -p "$MNT" | wc -l)" -ge 1 ] && break
		sleep 0.1
	done
	[ "$(scoutfs data-waiting -p "$MNT" | wc -l)" -ge 1 ]
	scoutfs punch-offline "$f" -o 0 -l 4096 -V "$vers"
	wait "$reader"
	cmp /tmp/parity-read <(head -c 4096 /dev/zero)
	umount_and_fsck
}

# ---- walk-inodes: upstream's current form beside the seed's ---------------

@test "walk-inodes: the seed's form and upstream's -p forms list the same inodes" {
	touch "$MNT/a"
	echo data > "$MNT/b"
	sync
	seed=$(scoutfs walk-inodes meta_seq 0 -1 "$MNT")
	[ -n "$seed" ]
	[[ "$seed" == *".$(stat -c %i "$MNT/a")"* ]]
	[[ "$seed" == *".$(stat -c %i "$MNT/b")"* ]]
	for args in "-p $MNT meta_seq 0 -1" "meta_seq 0 -1 -p $MNT" "-p$MNT meta_seq 0 -1" \
		    "--path $MNT meta_seq 0 -1" "--path=$MNT meta_seq 0 -1" "-- meta_seq 0 -1 $MNT"; do
		[ "$(scoutfs walk-inodes $args)" = "$seed" ] || {
			echo "walk-inodes $args differs"; return 1; }
	done
	[ "$(SCOUTFS_MOUNT_PATH=$MNT scoutfs walk-inodes meta_seq 0 -1)" = "$seed" ]
	[ "$(cd "$MNT" && env -u SCOUTFS_MOUNT_PATH scoutfs walk-inodes meta_seq 0 -1)" = "$seed" ]
	[ "$(scoutfs walk-inodes data_seq 0 -1 "$MNT")" = "$(scoutfs walk-inodes -p "$MNT" data_seq 0 -1)" ]
	umount_and_fsck
}

@test "walk-inodes: positions as major, major.minor or major.minor.ino, the rest 0 as upstream's" {
	echo data > "$MNT/f"
	sync
	ino=$(stat -c %i "$MNT/f")
	seq=$(scoutfs stat -s meta_seq "$MNT/f")
	# from (seq, 0, 0): the file is in
	[[ "$(scoutfs walk-inodes -p "$MNT" meta_seq "$seq" -1)" == *"$seq.0.$ino"* ]]
	[[ "$(scoutfs walk-inodes -p "$MNT" meta_seq "$seq.0" -1)" == *"$seq.0.$ino"* ]]
	# up to (seq, 0, 0): it is not; up to (seq, 0, ino): it is the last
	[[ "$(scoutfs walk-inodes -p "$MNT" meta_seq 0 "$seq.0")" != *"$seq.0.$ino"* ]]
	[ "$(scoutfs walk-inodes -p "$MNT" meta_seq 0 "$seq.0.$ino" | tail -n 1)" = "$seq.0.$ino" ]
	umount_and_fsck
}

# ---- O_TMPFILE --------------------------------------------------------------
# (python's os.link() calls link(2), which does not follow the /proc
# symlink, so the scripts call linkat(2) with AT_SYMLINK_FOLLOW, the
# open(2) man page's way of naming an O_TMPFILE file)

@test "O_TMPFILE opens an unnamed file; linkat gives it a name with its mode and data, after remount too" {
	umask 027
	run $PY - "$MNT" "$MNT/named" <<'EOF2'
import os, sys
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
def linkat(fd, dst):
    # linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, dst, AT_SYMLINK_FOLLOW)
    if _libc.linkat(-100, b"/proc/self/fd/%d" % fd, -100, dst.encode(), 0x400):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
d, dst = sys.argv[1], sys.argv[2]
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o666)
st = os.fstat(fd)
print(st.st_nlink, oct(st.st_mode), len(os.listdir(d)))
os.write(fd, b"x" * 10000)
linkat(fd, dst)
print(os.fstat(fd).st_nlink, os.stat(dst).st_ino == st.st_ino)
os.close(fd)
EOF2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "0 0o100640 0
1 True" ]
	[ "$(stat -c '%a %h %s' "$MNT/named")" = "640 1 10000" ]
	cmp "$MNT/named" <(head -c 10000 /dev/zero | tr '\0' x)
	remount_scoutfs
	[ "$(stat -c '%a %h %s' "$MNT/named")" = "640 1 10000" ]
	cmp "$MNT/named" <(head -c 10000 /dev/zero | tr '\0' x)
	[ "$(used_inodes)" -eq 2 ]
	# a linked tmpfile is an ordinary file: unlink frees it
	rm "$MNT/named"
	[ "$(used_inodes)" -eq 1 ]
	umount_and_fsck
}

@test "O_TMPFILE: the umask, or the directory's default ACL, sets the mode as for create; O_EXCL cannot be linked" {
	mkdir "$MNT/acl"
	setfacl -d -m u::rw,g::r,o::- "$MNT/acl"
	run $PY - "$MNT" <<'EOF2'
import errno, os, sys
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
def linkat(fd, dst):
    # linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, dst, AT_SYMLINK_FOLLOW)
    if _libc.linkat(-100, b"/proc/self/fd/%d" % fd, -100, dst.encode(), 0x400):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
d = sys.argv[1]
def mode(where, m, umask):
    os.umask(umask)
    fd = os.open(where, os.O_TMPFILE | os.O_WRONLY, m)
    r = oct(os.fstat(fd).st_mode & 0o7777)
    os.close(fd)
    return r
print(mode(d, 0o666, 0o022), mode(d, 0o777, 0o077), mode(d + "/acl", 0o666, 0))
fd = os.open(d, os.O_TMPFILE | os.O_WRONLY | os.O_EXCL, 0o600)
try:
    linkat(fd, d + "/nope")
    print("linked")
except OSError as e:
    print(errno.errorcode[e.errno])
os.close(fd)
EOF2
	echo "$output"
	[ "$output" = "0o644 0o700 0o640
ENOENT" ]
	[ ! -e "$MNT/nope" ]
	[ "$(used_inodes)" -eq 2 ]
	umount_and_fsck
}

@test "an O_TMPFILE file never linked is freed at its last close" {
	run $PY - "$MNT" <<'EOF2'
import os, sys
d = sys.argv[1]
def counts():
    os.sync()
    s = os.statvfs(d)
    return s.f_files - s.f_ffree, s.f_bfree
u0, f0 = counts()
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, os.urandom(4 << 20))
os.fsync(fd)
u1, f1 = counts()
os.close(fd)
u2, f2 = counts()
print(u1 - u0, f0 - f1, u2 - u0, f0 - f2)
EOF2
	echo "$output"
	[ "$output" = "1 1024 0 0" ]
	umount_and_fsck
}

DM_META=scoutfs-parity-meta
DM_DATA=scoutfs-parity-data

@test "after a crash with an open, never linked O_TMPFILE file the next mount frees it" {
	mountpoint -q "$MNT" && umount "$MNT"
	dm_mkfs_and_mount "$DM_META" "$DM_DATA"
	free0=$(free_data_blocks)
	mkfifo /tmp/parity-go
	$PY - "$MNT" /tmp/parity-ino /tmp/parity-go <<'EOF2' &
import os, sys
d, out, go = sys.argv[1:4]
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, os.urandom(8 << 20))
os.fsync(fd)
with open(out + ".tmp", "w") as f:
    f.write("%d\n" % os.fstat(fd).st_ino)
os.rename(out + ".tmp", out)
open(go).read()
os.close(fd)
EOF2
	holder=$!
	for _ in $(seq 1 600); do [ -e /tmp/parity-ino ] && break; sleep 0.1; done
	ino=$(cat /tmp/parity-ino)
	sync
	[ "$(free_data_blocks)" -eq $((free0 - 2048)) ]

	# the crash: nothing written from here on reaches the devices
	dm_drop_writes "$DM_META"
	dm_drop_writes "$DM_DATA"
	echo go > /tmp/parity-go
	wait "$holder"
	umount "$MNT"
	dmsetup remove "$DM_META"
	dmsetup remove "$DM_DATA"
	rm -f /tmp/parity-go /tmp/parity-ino

	blockdev --flushbufs "$META"
	scoutfs print "$META" | awk '$1 ~ /^orphan\./' | grep -q "$ino"
	scoutfs fsck "$META" "$DATA"
	kmsg_mark
	mount_scoutfs
	kmsg_since_mark | grep -q "freed 1 orphaned inodes"
	[ "$(free_data_blocks)" -eq "$free0" ]
	[ "$(used_inodes)" -eq 1 ]
	umount_and_fsck
}
