#!/usr/bin/env bats
# Parity with upstream scoutfs (issue 23, third part): the mount options
# data_prealloc_blocks, data_prealloc_contig_only and orphan_scan_delay_ms
# (options.c), their files under /sys/fs/scoutfs/<mount>/mount_options/
# (sysfs.c), the preallocation they ask for (data.c, PREALLOCATION) and
# the periodic orphan scan (inode.c).  Every test that mounts ends with a
# clean fsck.
load helpers

PY=/usr/bin/python3

setup() {
	mkfs_and_mount
}

# the mount's sysfs directory (there is one mount)
sysdir() {
	local d
	for d in /sys/fs/scoutfs/f.*; do
		echo "$d"
	done
}

opt() { cat "$(sysdir)/mount_options/$1"; }
setopt() { echo "$2" > "$(sysdir)/mount_options/$1"; }

# mount(2) of the test filesystem with OPTS appended; prints the errno's
# name or "ok"
mount_errno() {
	$PY - "$DATA" "$MNT" "metadev_path=$META,$1" <<'PYEOF'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(sys.argv[1].encode(), sys.argv[2].encode(), b"scoutfs", 0,
               sys.argv[3].encode())
print("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])
PYEOF
}

# "extents: N" of get-fiemap, as N
nr_extents() {
	scoutfs get-fiemap -L "$1" | awk '/^extents:/ { print $2 }'
}

# the extent lengths of a file in blocks, one a line
extent_lens() {
	scoutfs get-fiemap -L "$1" | awk '$2 == "offset:" { print $5 }'
}

online() { scoutfs stat -s online_blocks "$1"; }

# write blocks 0..N-1 (or N-1..0) of two files a block at a time, in
# turn (one pwrite(2) each), so that neither file's allocations can merge
# by luck
write_two() {
	$PY - "$@" <<'PYEOF'
import os, sys
d, prefix, nr = sys.argv[1], sys.argv[2], int(sys.argv[3])
fds = [os.open(prefix + s, os.O_WRONLY | os.O_CREAT, 0o644) for s in ("-1", "-2")]
blks = range(nr) if d == "fwd" else range(nr - 1, -1, -1)
buf = bytes(4096)
for b in blks:
    for fd in fds:
        os.pwrite(fd, buf, b * 4096)
for fd in fds:
    os.fsync(fd)
    os.close(fd)
PYEOF
}

# both files of write_two PREFIX: ONLINE blocks each, a number of extents
# (OP N: -le 7, -gt 16) and, if given, the longest extent's length
both_files() {
	local f
	for f in "$1"-1 "$1"-2; do
		[ "$(online "$f")" -eq "$2" ]
		[ "$(nr_extents "$f")" "$3" "$4" ]
		[ -z "${5:-}" ] || [ "$(extent_lens "$f" | sort -n | tail -n 1)" -eq "$5" ]
	done
}

# one 4 KiB block written at block BLK of FILE
write_block() {
	dd if=/dev/zero of="$1" bs=4096 seek="$2" count=1 conv=notrunc status=none
}

# ---- mount options and sysfs ---------------------------------------------

@test "mount_options/ in sysfs shows every option, /proc/mounts too, and the tunables change" {
	d=$(sysdir)
	fsid=$(cat "$d/fsid")
	rid=$(cat "$d/rid")
	[ "$(basename "$d")" = "f.${fsid:0:6}.r.${rid:0:6}" ]
	[ "$(opt metadev_path)" = "$META" ]
	[ "$(opt quorum_slot_nr)" -eq 0 ]
	[ "$(opt data_prealloc_blocks)" -eq 1 ]
	[ "$(opt data_prealloc_contig_only)" -eq 1 ]
	[ "$(opt orphan_scan_delay_ms)" -eq 10000 ]
	grep " $MNT scoutfs " /proc/mounts | grep -q "data_prealloc_blocks=1,data_prealloc_contig_only=1,orphan_scan_delay_ms=10000"

	setopt data_prealloc_blocks 2048
	setopt data_prealloc_contig_only 0
	setopt orphan_scan_delay_ms 100
	[ "$(opt data_prealloc_blocks)" -eq 2048 ]
	[ "$(opt data_prealloc_contig_only)" -eq 0 ]
	[ "$(opt orphan_scan_delay_ms)" -eq 100 ]
	grep " $MNT scoutfs " /proc/mounts | grep -q "data_prealloc_blocks=2048,data_prealloc_contig_only=0,orphan_scan_delay_ms=100"

	# bad values: EINVAL, one log line naming the option, nothing changes
	for bad in "data_prealloc_blocks 0" "data_prealloc_blocks x" \
		   "data_prealloc_contig_only 2" "orphan_scan_delay_ms 99" \
		   "orphan_scan_delay_ms 60001" "orphan_scan_delay_ms -5"; do
		set -- $bad
		kmsg_mark
		run bash -c "echo $2 > $d/mount_options/$1"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Invalid argument"* ]]
		kmsg_since_mark | grep -q "invalid $1 value '$2' written to its sysfs file, must be between"
	done
	[ "$(opt data_prealloc_blocks)" -eq 2048 ]
	[ "$(opt data_prealloc_contig_only)" -eq 0 ]
	[ "$(opt orphan_scan_delay_ms)" -eq 100 ]

	# the fixed ones are read-only
	run bash -c "echo 1 > $d/mount_options/quorum_slot_nr"
	[ "$status" -ne 0 ]
	[ "$(opt quorum_slot_nr)" -eq 0 ]

	# options given at mount land in sysfs; the directory goes with the mount
	umount "$MNT"
	[ -z "$(ls /sys/fs/scoutfs/)" ]
	mount -t scoutfs -o "metadev_path=$META,data_prealloc_blocks=64,data_prealloc_contig_only=0,orphan_scan_delay_ms=60000" "$DATA" "$MNT"
	[ "$(opt data_prealloc_blocks)" -eq 64 ]
	[ "$(opt data_prealloc_contig_only)" -eq 0 ]
	[ "$(opt orphan_scan_delay_ms)" -eq 60000 ]
	[ "$(opt quorum_slot_nr)" -eq -1 ]
	umount_and_fsck
}

@test "invalid mount option values fail the mount with EINVAL and a log line naming the option" {
	umount "$MNT"
	while read -r opts want; do
		echo "mount -o $opts: wants '$want'"
		kmsg_mark
		[ "$(mount_errno "$opts")" = EINVAL ]
		kmsg_since_mark | grep -q "$want"
		! mountpoint -q "$MNT"
	done <<'EOF'
data_prealloc_blocks=0 invalid data_prealloc_blocks value '0' in the mount options, must be between 1 and
data_prealloc_blocks=12ab invalid data_prealloc_blocks value '12ab' in the mount options
data_prealloc_blocks= unknown mount option 'data_prealloc_blocks='
data_prealloc_contig_only=2 invalid data_prealloc_contig_only value '2' in the mount options, must be between 0 and 1
data_prealloc_contig_only=yes invalid data_prealloc_contig_only value 'yes'
orphan_scan_delay_ms=99 invalid orphan_scan_delay_ms value '99' in the mount options, must be between 100 and 60000
orphan_scan_delay_ms=60001 invalid orphan_scan_delay_ms value '60001'
quorum_slot_nr=300 invalid quorum_slot_nr value '300' in the mount options, must be between 0 and
data_prealloc_blocks=8,data_prealloc_blocks=9 mount option data_prealloc_blocks given more than once
orphan_scan_delay_ms=100,orphan_scan_delay_ms=100 mount option orphan_scan_delay_ms given more than once
no_such_option=1 unknown mount option 'no_such_option=1'
EOF
	# the edges of the ranges mount
	[ "$(mount_errno "data_prealloc_blocks=1,data_prealloc_contig_only=0,orphan_scan_delay_ms=100")" = ok ]
	umount "$MNT"
	[ "$(mount_errno "orphan_scan_delay_ms=60000,data_prealloc_contig_only=1")" = ok ]
	umount_and_fsck
}

# ---- preallocation -------------------------------------------------------

@test "data_prealloc_blocks=1 (the default) preallocates nothing: block writes take one block each" {
	write_two fwd "$MNT/f" 32
	[ "$(online "$MNT/f-1")" -eq 32 ]
	[ "$(online "$MNT/f-2")" -eq 32 ]
	# interleaved single blocks of two files cannot merge
	[ "$(nr_extents "$MNT/f-1")" -gt 16 ]
	umount_and_fsck
}

@test "contig_only: sequential small writes grow extents up to data_prealloc_blocks; others allocate what they write" {
	setopt data_prealloc_blocks 32
	setopt data_prealloc_contig_only 1

	# 64 blocks: 1, 1, 2, 4, 8, 16, 32 (the last ones doubling)
	write_two fwd "$MNT/a" 64
	both_files "$MNT/a" 64 -le 7 32
	# 128 blocks: never more than 32 at a time
	write_two fwd "$MNT/b" 128
	both_files "$MNT/b" 128 -le 9 32
	# writes that do not extend the file preallocate nothing
	write_two back "$MNT/c" 32
	both_files "$MNT/c" 32 -gt 16

	# odd sizes: the preallocation past EOF is allocated and unwritten
	setopt data_prealloc_blocks 7
	write_two fwd "$MNT/d" 14
	# 1, 1, 2, 4, then 7 from block 8: 15 blocks for 14
	[ "$(online "$MNT/d-1")" -eq 15 ]
	[ "$(stat -c %b "$MNT/d-1")" -eq 120 ]
	[ "$(stat -c %s "$MNT/d-1")" -eq $((14 * 4096)) ]
	cmp "$MNT/d-1" <(head -c $((14 * 4096)) /dev/zero)
	scoutfs get-fiemap -L "$MNT/d-1" | grep -q "^[0-9]*: offset: 14 length: 1 flags: .U"
	# truncate frees it
	truncate -s $((14 * 4096)) "$MNT/d-1"
	truncate -s $((10 * 4096)) "$MNT/d-1"
	[ "$(online "$MNT/d-1")" -eq 10 ]
	umount_and_fsck
}

@test "contig_only=0: a write allocates the whole aligned region of hole around it" {
	setopt data_prealloc_blocks 16
	setopt data_prealloc_contig_only 0

	write_two fwd "$MNT/a" 64
	write_two back "$MNT/b" 64
	both_files "$MNT/a" 64 -le 4
	both_files "$MNT/b" 64 -le 4

	# 13 block regions for 53 blocks: 5 regions, 65 blocks
	setopt data_prealloc_blocks 13
	write_two fwd "$MNT/c" 53
	[ "$(online "$MNT/c-1")" -eq 65 ]
	# (FIEMAP shows the unwritten tail past EOF as an extent of its own)
	[ "$(nr_extents "$MNT/c-1")" -le 6 ]

	# a region with an extent at its start: the write fills the rest
	setopt data_prealloc_blocks 8
	touch "$MNT/r"
	write_block "$MNT/r" 0
	[ "$(online "$MNT/r")" -eq 8 ]
	# a new file, not a truncate: blocks freed here would come back to
	# the allocator at whichever commit, and preallocation takes what
	# one free extent gives, so the counts below would depend on when
	# the periodic commit ran (seen once: 13 instead of 16)
	touch "$MNT/s"
	setopt data_prealloc_contig_only 1
	write_block "$MNT/s" 16
	[ "$(online "$MNT/s")" -eq 1 ]
	setopt data_prealloc_contig_only 0
	write_block "$MNT/s" 20
	# [16,17) was there: 17..23 is the rest of the region
	[ "$(online "$MNT/s")" -eq 8 ]
	# the region before the existing extents is hole: all 8 of it
	write_block "$MNT/s" 8
	[ "$(online "$MNT/s")" -eq 16 ]
	sync
	cmp "$MNT/s" <(head -c $((21 * 4096)) /dev/zero)
	umount_and_fsck
}

@test "preallocated blocks read as zeros, survive a remount, and a big write is not cut to the preallocation" {
	setopt data_prealloc_blocks 64
	setopt data_prealloc_contig_only 1
	head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom > /tmp/p3-src
	dd if=/tmp/p3-src of="$MNT/f" bs=8k status=none
	cmp /tmp/p3-src "$MNT/f"
	sz_blocks=$(( (3 * 1024 * 1024 + 12345 + 4095) / 4096 ))
	[ "$(online "$MNT/f")" -ge "$sz_blocks" ]
	[ "$(online "$MNT/f")" -le $((sz_blocks + 64)) ]
	setopt data_prealloc_blocks 16
	dd if=/dev/urandom of="$MNT/g" bs=1M count=2 status=none
	[ "$(online "$MNT/g")" -eq 512 ]
	remount_scoutfs
	cmp /tmp/p3-src "$MNT/f"
	[ "$(online "$MNT/f")" -ge "$sz_blocks" ]
	umount_and_fsck
}

# ---- the periodic orphan scan --------------------------------------------

@test "orphan_scan_delay_ms: scans run at the set interval and leave open unlinked files alone" {
	counter() { cat "$(sysdir)/counters/$1"; }
	head -c $((1024 * 1024)) /dev/urandom > /tmp/p3-orphan
	cp /tmp/p3-orphan "$MNT/o"
	sync
	free0=$(free_data_blocks)
	exec 7< "$MNT/o"
	rm "$MNT/o"
	scans0=$(counter orphan_scan)
	setopt orphan_scan_delay_ms 100
	# bounded wait for three more scans (about 0.3 s; far more allowed)
	for i in $(seq 600); do
		[ "$(counter orphan_scan)" -ge $((scans0 + 3)) ] && break
		sleep 0.1
	done
	[ "$(counter orphan_scan)" -ge $((scans0 + 3)) ]
	[ "$(counter orphan_scan_cached)" -ge 1 ]
	# still open, still all there
	cmp /tmp/p3-orphan /dev/fd/7
	[ "$(free_data_blocks)" -eq "$free0" ]
	exec 7<&-
	sync
	for i in $(seq 600); do
		sync
		[ "$(free_data_blocks)" -eq $((free0 + 256)) ] && break
		sleep 0.1
	done
	[ "$(free_data_blocks)" -eq $((free0 + 256)) ]
	# back to a long delay: the scans stop coming
	setopt orphan_scan_delay_ms 60000
	umount_and_fsck
}

# ---- retention (GET_ATTR_X / SET_ATTR_X, upstream's retention-basic) ------

# "EPERM" when a python snippet's call fails with EPERM, else what happened
py_errno() {
	$PY - "$@" <<'PYEOF'
import errno, mmap, os, sys
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "mmapwrite":
        fd = os.open(path, os.O_RDWR)
        m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        m[0:1] = b"x"
        m.close()
    elif op == "fallocate":
        fd = os.open(path, os.O_RDWR)
        os.posix_fallocate(fd, 0, 1 << 20)
    elif op == "link":
        os.link(path, path + ".link")
    elif op == "chmod":
        os.chmod(path, 0o600)
    elif op == "otrunc":
        os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PYEOF
}

@test "retention: set-attr-x -t 1 freezes a file as upstream's retention-basic; -t 0 thaws it" {
	f="$MNT/file-1"
	head -c 65536 /dev/urandom > /tmp/p3-ret
	cp /tmp/p3-ret "$f"
	vers=$(scoutfs stat -s data_version "$f")

	run scoutfs set-attr-x -t 1 "$MNT"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "attr_x ioctl failed on '$MNT': Invalid argument (22)" ]
	[ "${lines[1]}" = "scoutfs: set-attr-x failed: Invalid argument (22)" ]

	[ "$(scoutfs get-attr-x -t "$f")" = 0 ]
	scoutfs set-attr-x -t 1 "$f"
	[ "$(scoutfs get-attr-x -t "$f")" = 1 ]
	run scoutfs get-attr-x "$f"
	[ "$status" -eq 0 ]
	[[ "$output" == *"data_version: $vers"* ]]
	[[ "$output" == *"size: 65536"* ]]
	[[ "$output" == *"retention: 1"* ]]

	run run_as 12345 scoutfs set-attr-x -t 0 "$f"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "attr_x ioctl failed on '$f': Operation not permitted (1)" ]
	[ "$(scoutfs get-attr-x -t "$f")" = 1 ]

	# hidden scoutfs. xattrs may change, user. ones not
	setfattr -n scoutfs.hide.srch.retention_test -v val "$f"
	run setfattr -n user.retention_test -v val "$f"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	run rm -f "$f"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot remove"*"Operation not permitted"* ]]
	run mv "$f" "$MNT/file-2"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	touch "$MNT/other"
	run mv "$MNT/other" "$f"
	[ "$status" -ne 0 ]
	run bash -c "date >> '$f'"
	[ "$status" -ne 0 ]
	[[ "$output" == *"write error: Operation not permitted"* ]]
	run truncate -s 0 "$f"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	run touch "$f"
	[ "$status" -ne 0 ]
	[[ "$output" == *"setting times"*"Operation not permitted"* ]]
	for op in mmapwrite fallocate link chmod otrunc; do
		[ "$(py_errno $op "$f")" = EPERM ]
	done
	[ ! -e "$f.link" ]
	run scoutfs set-attr-x -s 10 "$f"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == *"Operation not supported (95)" ]]

	# archiving keeps the contents: release and stage work, punching not
	scoutfs release -V "$vers" -o 0 -l 65536 "$f"
	[ "$(scoutfs stat -s offline_blocks "$f")" -eq 16 ]
	run scoutfs punch-offline -V "$vers" -o 0 -l 4096 "$f"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	scoutfs stage /tmp/p3-ret "$f" -V "$vers" -o 0 -l 65536
	cmp /tmp/p3-ret "$f"
	[ "$(scoutfs stat -s data_version "$f")" -eq "$vers" ]

	# the mark is on disk
	remount_scoutfs
	[ "$(scoutfs get-attr-x -t "$f")" = 1 ]
	run rm -f "$f"
	[ "$status" -ne 0 ]
	cmp /tmp/p3-ret "$f"

	scoutfs set-attr-x -t 0 "$f"
	[ "$(scoutfs get-attr-x -t "$f")" = 0 ]
	date >> "$f"
	mv "$f" "$MNT/file-2"
	mv "$MNT/file-2" "$f"
	touch "$f"
	setfattr -x scoutfs.hide.srch.retention_test "$f"
	setfattr -n user.retention_test -v val "$f"
	rm -f "$f"
	[ ! -e "$f" ]
	umount_and_fsck
}

# ---- setattr and data-wait-err as upstream's setattr_more golden ----------

@test "setattr prints upstream's lines for a directory, a device, and files that had contents" {
	mkdir "$MNT/dir"
	run scoutfs setattr -V 1 -s 1 "$MNT/dir"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "failed to open '$MNT/dir': Is a directory (21)" ]
	[ "${lines[1]}" = "scoutfs: setattr failed: Is a directory (21)" ]
	mknod "$MNT/char" c 1 3
	run scoutfs setattr -V 1 -s 1 "$MNT/char"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "setattr_more ioctl failed on '$MNT/char': Inappropriate ioctl for device (25)" ]
	[ "${lines[1]}" = "scoutfs: setattr failed: Inappropriate ioctl for device (25)" ]
	echo contents > "$MNT/file"
	run scoutfs setattr -V 1 -s 1 "$MNT/file"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "setattr_more ioctl failed on '$MNT/file': Invalid argument (22)" ]
	[ "${lines[1]}" = "scoutfs: setattr failed: Invalid argument (22)" ]
	touch "$MNT/v"
	truncate -s 1M "$MNT/v"
	truncate -s 0 "$MNT/v"
	run scoutfs setattr -V 1 -o -s 1 "$MNT/v"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "setattr_more ioctl failed on '$MNT/v': Invalid argument (22)" ]
	# and what works: a large ctime, no data version with a zero size
	touch "$MNT/t"
	scoutfs setattr -t 67305985.999999999 -V 1 -s 1 "$MNT/t"
	[ "$(TZ=GMT stat -c %z "$MNT/t")" = "1972-02-19 00:06:25.999999999 +0000" ]
	touch "$MNT/z"
	scoutfs setattr -s 0 -t 1725670311.0 -r 1725670311.0 "$MNT/z"
	umount_and_fsck
}

@test "data-wait-err prints upstream's count line, and its ioctl failure line" {
	head -c 16384 /dev/urandom > "$MNT/w"
	vers=$(scoutfs stat -s data_version "$MNT/w")
	ino=$(stat -c %i "$MNT/w")
	scoutfs release -V "$vers" "$MNT/w"
	run scoutfs data-wait-err -p "$MNT" -I "$ino" -V "$vers" -F 0 -C 4096 -O read -E -5
	[ "$status" -eq 0 ]
	[ "$output" = "data_wait_err found 0 waiters." ]
	run setpriv --reuid=1000 --regid=1000 --clear-groups scoutfs data-wait-err -p "$MNT" -I "$ino" -V "$vers" -F 0 -C 4096 -O read -E -5
	[ "$status" -eq 1 ]
	[ "$output" = "data_wait_err returned -1: error Operation not permitted (1)" ]
	umount_and_fsck
}
