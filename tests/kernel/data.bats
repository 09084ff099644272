#!/usr/bin/env bats
# Regular file data: buffered read/write, holes, big offsets, truncate,
# fallocate, SEEK_DATA/SEEK_HOLE, mmap, O_DIRECT, fsync; every result
# checked before and after unmount/remount, every test ending with a clean
# fsck.
load helpers

PY=/usr/bin/python3

setup() {
	mkfs_and_mount
	TMPD=$(mktemp -d /tmp/data-bats.XXXXXX)
}

teardown() {
	mountpoint -q "$MNT" && umount "$MNT"
	rm -rf "$TMPD"
	return 0
}

sum() {
	sha256sum "$1" | cut -d' ' -f1
}

# The file and the model copy in $TMPD have the same contents.
same_as_model() {
	[ "$(sum "$MNT/$1")" = "$(sum "$TMPD/$1")" ]
}

remount() {
	umount "$MNT"
	mount_scoutfs
}

# 512-byte blocks stat reports, and the size.
blocks_of() { stat -c %b "$1"; }
size_of() { stat -c %s "$1"; }

@test "buffered write and read of random data survive remount" {
	head -c 10M /dev/urandom > "$TMPD/f"
	cp "$TMPD/f" "$MNT/f"
	same_as_model f
	remount
	same_as_model f
	[ "$(size_of "$MNT/f")" -eq $((10 * 1024 * 1024)) ]
	[ "$(blocks_of "$MNT/f")" -eq $((10 * 1024 * 2)) ]
	umount_and_fsck
}

@test "overwrite in the middle keeps the rest" {
	head -c 1M /dev/urandom > "$TMPD/f"
	cp "$TMPD/f" "$MNT/f"
	head -c 10000 /dev/urandom > "$TMPD/patch"
	for d in "$TMPD" "$MNT"; do
		dd if="$TMPD/patch" of="$d/f" bs=1 seek=300001 conv=notrunc status=none
	done
	same_as_model f
	remount
	same_as_model f
	[ "$(size_of "$MNT/f")" -eq 1048576 ]
	umount_and_fsck
}

@test "appends of odd sizes accumulate" {
	for i in $(seq 1 40); do
		head -c $((i * 777)) /dev/urandom > "$TMPD/chunk"
		cat "$TMPD/chunk" >> "$TMPD/f"
		cat "$TMPD/chunk" >> "$MNT/f"
	done
	same_as_model f
	remount
	same_as_model f
	umount_and_fsck
}

@test "a sparse file reads zeros in its holes and uses blocks only for data" {
	head -c 4096 /dev/urandom > "$TMPD/a"
	head -c 4096 /dev/urandom > "$TMPD/b"
	for d in "$TMPD" "$MNT"; do
		dd if="$TMPD/a" of="$d/s" bs=4096 seek=10 conv=notrunc status=none
		dd if="$TMPD/b" of="$d/s" bs=4096 seek=100 conv=notrunc status=none
		truncate -s $((200 * 4096)) "$d/s"
	done
	same_as_model s
	# two 4 KiB blocks are allocated: 16 sectors
	[ "$(blocks_of "$MNT/s")" -eq 16 ]
	cmp -n 40960 "$MNT/s" /dev/zero
	remount
	same_as_model s
	[ "$(blocks_of "$MNT/s")" -eq 16 ]
	[ "$(size_of "$MNT/s")" -eq $((200 * 4096)) ]
	umount_and_fsck
}

@test "SEEK_DATA and SEEK_HOLE find the data and the holes" {
	f="$MNT/s"
	head -c 8192 /dev/urandom | dd of="$f" bs=4096 seek=16 status=none
	head -c 4096 /dev/urandom | dd of="$f" bs=4096 seek=64 conv=notrunc status=none
	truncate -s $((128 * 4096)) "$f"
	check() {
		"$PY" - "$f" <<-'EOF'
		import os, sys
		fd = os.open(sys.argv[1], os.O_RDONLY)
		B = 4096
		assert os.lseek(fd, 0, os.SEEK_DATA) == 16 * B
		assert os.lseek(fd, 0, os.SEEK_HOLE) == 0
		assert os.lseek(fd, 16 * B, os.SEEK_HOLE) == 18 * B
		assert os.lseek(fd, 17 * B + 5, os.SEEK_DATA) == 17 * B + 5
		assert os.lseek(fd, 18 * B, os.SEEK_DATA) == 64 * B
		assert os.lseek(fd, 64 * B, os.SEEK_HOLE) == 65 * B
		try:
		    os.lseek(fd, 65 * B, os.SEEK_DATA)
		    assert False, "SEEK_DATA past the last data should fail"
		except OSError as e:
		    assert e.errno == 6, e  # ENXIO
		assert os.lseek(fd, 100 * B, os.SEEK_HOLE) == 100 * B
		EOF
	}
	check
	remount
	check
	umount_and_fsck
}

@test "a file larger than 4 GiB keeps data beyond 4 GiB" {
	head -c 3M /dev/urandom > "$TMPD/chunk"
	dd if="$TMPD/chunk" of="$MNT/big" bs=1M seek=$((5 * 1024)) status=none
	[ "$(size_of "$MNT/big")" -eq $((5 * 1024 * 1024 * 1024 + 3 * 1024 * 1024)) ]
	cmp "$TMPD/chunk" <(dd if="$MNT/big" bs=1M skip=$((5 * 1024)) status=none)
	remount
	cmp "$TMPD/chunk" <(dd if="$MNT/big" bs=1M skip=$((5 * 1024)) status=none)
	cmp -n 4096 <(dd if="$MNT/big" bs=1M skip=$((4 * 1024)) count=1 status=none) /dev/zero
	[ "$(blocks_of "$MNT/big")" -eq $((3 * 1024 * 2)) ]
	umount_and_fsck
}

@test "truncate down keeps the start and truncate up reads zeros beyond" {
	head -c 1M /dev/urandom > "$TMPD/f"
	cp "$TMPD/f" "$MNT/f"
	for d in "$TMPD" "$MNT"; do
		truncate -s 300001 "$d/f"
	done
	same_as_model f
	[ "$(blocks_of "$MNT/f")" -eq $(( (300001 + 4095) / 4096 * 8 )) ]
	for d in "$TMPD" "$MNT"; do
		truncate -s 700000 "$d/f"
	done
	same_as_model f
	# the bytes after the old end in its last block read zeros too
	cmp -n 4000 <(dd if="$MNT/f" bs=1 skip=300001 count=4000 status=none) /dev/zero
	remount
	same_as_model f
	for d in "$TMPD" "$MNT"; do
		truncate -s 0 "$d/f"
	done
	[ "$(blocks_of "$MNT/f")" -eq 0 ]
	umount_and_fsck
}

@test "truncate down then remount never shows the old tail" {
	head -c 8192 /dev/urandom > "$MNT/f"
	sync
	truncate -s 100 "$MNT/f"
	remount
	truncate -s 8192 "$MNT/f"
	cmp -n 8092 <(dd if="$MNT/f" bs=1 skip=100 status=none) /dev/zero
	umount_and_fsck
}

@test "fallocate mode 0 allocates zeros and grows the size" {
	xfs_io -f -c "falloc 0 1m" "$MNT/f"
	[ "$(size_of "$MNT/f")" -eq 1048576 ]
	[ "$(blocks_of "$MNT/f")" -eq 2048 ]
	cmp "$MNT/f" <(head -c 1M /dev/zero)
	# writes into the preallocated range are kept
	head -c 5000 /dev/urandom > "$TMPD/patch"
	dd if="$TMPD/patch" of="$MNT/f" bs=1 seek=12345 conv=notrunc status=none
	head -c 1M /dev/zero > "$TMPD/f"
	dd if="$TMPD/patch" of="$TMPD/f" bs=1 seek=12345 conv=notrunc status=none
	same_as_model f
	remount
	same_as_model f
	[ "$(blocks_of "$MNT/f")" -eq 2048 ]
	umount_and_fsck
}

@test "fallocate KEEP_SIZE allocates beyond the size without changing it" {
	echo hello > "$MNT/f"
	xfs_io -c "falloc -k 0 2m" "$MNT/f"
	[ "$(size_of "$MNT/f")" -eq 6 ]
	[ "$(blocks_of "$MNT/f")" -eq 4096 ]
	[ "$(cat "$MNT/f")" = hello ]
	remount
	[ "$(size_of "$MNT/f")" -eq 6 ]
	[ "$(blocks_of "$MNT/f")" -eq 4096 ]
	# growing over the preallocated blocks reads zeros
	truncate -s 1M "$MNT/f"
	cmp -n $((1048576 - 6)) <(dd if="$MNT/f" bs=1 skip=6 status=none) /dev/zero
	umount_and_fsck
}

@test "fallocate modes other than 0 and KEEP_SIZE fail with EOPNOTSUPP" {
	head -c 1M /dev/urandom > "$MNT/f"
	run xfs_io -c "fpunch 0 4096" "$MNT/f"
	[[ "$output" == *"not supported"* ]]
	run xfs_io -c "fzero 0 4096" "$MNT/f"
	[[ "$output" == *"not supported"* ]]
	umount_and_fsck
}

@test "mmap reads and writes reach the file and survive remount" {
	head -c 1M /dev/urandom > "$TMPD/f"
	cp "$TMPD/f" "$MNT/f"
	truncate -s $((2 * 1024 * 1024)) "$MNT/f" "$TMPD/f"
	for d in "$TMPD" "$MNT"; do
		"$PY" - "$d/f" <<-'EOF'
		import mmap, os, sys
		fd = os.open(sys.argv[1], os.O_RDWR)
		m = mmap.mmap(fd, 0)
		# read through the mapping matches read(2)
		assert m[4096:8192] == os.pread(fd, 4096, 4096)
		# write over data, over the hole beyond 1 MiB, and at the last byte
		m[100:200] = b"x" * 100
		m[1048576 + 10:1048576 + 5000] = bytes(range(256)) * 19 + b"z" * 126
		m[-1:] = b"e"
		m.flush()
		m.close()
		os.close(fd)
		EOF
	done
	same_as_model f
	remount
	same_as_model f
	umount_and_fsck
}

@test "O_DIRECT writes and reads work" {
	head -c 4M /dev/urandom > "$TMPD/f"
	dd if="$TMPD/f" of="$MNT/f" bs=1M oflag=direct status=none
	dd if="$MNT/f" of="$TMPD/g" bs=1M iflag=direct status=none
	cmp "$TMPD/f" "$TMPD/g"
	remount
	dd if="$MNT/f" of="$TMPD/g" bs=64k iflag=direct status=none
	cmp "$TMPD/f" "$TMPD/g"
	umount_and_fsck
}

@test "fsync makes data durable before unmount" {
	head -c 3M /dev/urandom > "$TMPD/f"
	dd if="$TMPD/f" of="$MNT/f" bs=1M conv=fsync status=none
	"$PY" -c "import os; fd = os.open('$MNT/f', os.O_RDWR); os.fdatasync(fd)"
	remount
	same_as_model f
	umount_and_fsck
}

@test "unlinking written files frees their blocks" {
	before=$(stat -f -c %f "$MNT")
	head -c 20M /dev/urandom > "$MNT/f"
	xfs_io -f -c "falloc 0 4m" "$MNT/g"
	sync
	rm "$MNT/f" "$MNT/g"
	sync
	# freed blocks come back after the commit
	[ "$(stat -f -c %f "$MNT")" -eq "$before" ]
	umount_and_fsck
}

@test "a write that does not fit returns ENOSPC" {
	umount "$MNT"
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 -d 64M "$META" "$DATA" > /dev/null
	mount_scoutfs
	total=$(stat -f -c %f "$MNT")
	run dd if=/dev/zero of="$MNT/f" bs=1M count=$((total / 256 + 10)) status=none
	[ "$status" -ne 0 ]
	[[ "$output" == *"No space left"* ]]
	rm "$MNT/f"
	sync
	echo again > "$MNT/g"
	[ "$(cat "$MNT/g")" = again ]
	umount_and_fsck
}

# "data_seq N data_version M" of an inode item, from scoutfs print.
inode_data_stamps() {
	scoutfs print "$META" | grep "fs.inode $1\.0\.0: inode" |
		grep -o 'data_seq [0-9]* data_version [0-9]*'
}

@test "content changes move data_seq and data_version, chmod does not" {
	echo one > "$MNT/f"
	ino=$(stat -c %i "$MNT/f")
	umount "$MNT"
	s1=$(inode_data_stamps "$ino")
	mount_scoutfs
	chmod 600 "$MNT/f"
	umount "$MNT"
	s2=$(inode_data_stamps "$ino")
	mount_scoutfs
	echo two >> "$MNT/f"
	umount "$MNT"
	s3=$(inode_data_stamps "$ino")
	mount_scoutfs
	truncate -s 2 "$MNT/f"
	umount "$MNT"
	s4=$(inode_data_stamps "$ino")
	[ -n "$s1" ]
	[ "$s1" = "$s2" ]
	[ "$s2" != "$s3" ]
	[ "$s3" != "$s4" ]
	# data_seq is a commit seq: it only grows
	[ "${s4#data_seq }" != "$s4" ]
	[ "$(echo "$s4" | cut -d' ' -f2)" -gt "$(echo "$s1" | cut -d' ' -f2)" ]
	mount_scoutfs
	umount_and_fsck
}
