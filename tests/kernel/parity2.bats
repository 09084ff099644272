#!/usr/bin/env bats
# Parity with upstream scoutfs (issue 23, second part): `scoutfs
# move-blocks` and its MOVE_BLOCKS ioctl (13), and NFS export (file
# handles through name_to_handle_at/open_by_handle_at, tests/fhandle).
# The errnos are upstream's (its kmod/src/ioctl.h comment above
# struct scoutfs_ioctl_move_blocks).  Every test ends with a clean fsck.
load helpers

PY=/usr/bin/python3

setup() {
	mkfs_and_mount
	umask 022
}

dv() { scoutfs stat -s data_version "$1"; }
sm() { scoutfs stat -s "$1" "$2"; }

# MOVE_BLOCKS through the ioctl itself: mb TO FROM_FD_PATH FROM_OFF LEN TO_OFF [DV FLAGS]
# prints "ok" or the errno's name
mb() {
	$PY - "$@" <<'PYEOF'
import errno, fcntl, os, struct, sys
to, frm = sys.argv[1], sys.argv[2]
a = [int(x, 0) for x in sys.argv[3:]] + [0, 0]
tfd = os.open(to, os.O_RDONLY if os.path.isdir(to) else os.O_RDWR)
if frm.startswith("fd:"):
    ffd = int(frm[3:])
else:
    ffd = os.open(frm, os.O_RDONLY if os.path.isdir(frm) else os.O_RDWR)
buf = struct.pack("QQQQQQ", ffd, a[0], a[1], a[2], a[3], a[4])
try:
    fcntl.ioctl(tfd, 0x4030E80D, buf)
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PYEOF
}

# ---- move-blocks ----------------------------------------------------------

@test "move-blocks: a range moves into a hole without copying; the source becomes a hole" {
	head -c $((1024 * 1024)) /dev/urandom > /tmp/src
	cp /tmp/src "$MNT/from"
	echo -n > "$MNT/to"
	sync
	free=$(free_data_blocks)
	fdv=$(dv "$MNT/from")
	tdv=$(dv "$MNT/to")
	touch -m -d @1000000000 "$MNT/from" "$MNT/to"
	scoutfs move-blocks "$MNT/from" -f 0 -l 1M "$MNT/to" -t 1M
	[ "$(stat -c %s "$MNT/to")" -eq $((2 * 1024 * 1024)) ]
	[ "$(stat -c %s "$MNT/from")" -eq $((1024 * 1024)) ]
	cmp <(tail -c +$((1024 * 1024 + 1)) "$MNT/to") /tmp/src
	cmp <(head -c $((1024 * 1024)) "$MNT/to") <(head -c $((1024 * 1024)) /dev/zero)
	cmp "$MNT/from" <(head -c $((1024 * 1024)) /dev/zero)
	[ "$(sm online_blocks "$MNT/from")" -eq 0 ]
	[ "$(sm online_blocks "$MNT/to")" -eq 256 ]
	[ "$(stat -c %b "$MNT/to")" -eq 2048 ]
	[ "$(stat -c %b "$MNT/from")" -eq 0 ]
	# nothing was allocated or freed
	sync
	[ "$(free_data_blocks)" -eq "$free" ]
	# both files' contents changed: data_version and mtime
	[ "$(dv "$MNT/from")" -gt "$fdv" ]
	[ "$(dv "$MNT/to")" -gt "$tdv" ]
	[ "$(stat -c %Y "$MNT/from")" -gt 1000000000 ]
	[ "$(stat -c %Y "$MNT/to")" -gt 1000000000 ]
	remount_scoutfs
	cmp <(tail -c +$((1024 * 1024 + 1)) "$MNT/to") /tmp/src
	cmp "$MNT/from" <(head -c $((1024 * 1024)) /dev/zero)
	umount_and_fsck
}

@test "move-blocks: a length ending at the source's size moves its partial last block; the size follows" {
	head -c 10000 /dev/urandom > /tmp/src
	cp /tmp/src "$MNT/from"
	: > "$MNT/to"
	scoutfs move-blocks "$MNT/from" --from-offset 0 --length 10000 "$MNT/to" --to-offset 8K
	[ "$(stat -c %s "$MNT/to")" -eq $((8192 + 10000)) ]
	cmp <(tail -c +8193 "$MNT/to") /tmp/src
	# a range beyond the source's size moves nothing and succeeds
	[ "$(mb "$MNT/to" "$MNT/from" 16384 4096 65536)" = ok ]
	[ "$(stat -c %s "$MNT/to")" -eq $((8192 + 10000)) ]
	# a length of 0 is success
	[ "$(mb "$MNT/to" "$MNT/from" 1 0 1)" = ok ]
	umount_and_fsck
}

@test "move-blocks --stage: into an offline range with the right data_version, ESTALE with a wrong one" {
	head -c $((256 * 1024)) /dev/urandom > /tmp/src
	cp /tmp/src "$MNT/to"
	sync
	vers=$(dv "$MNT/to")
	scoutfs release "$MNT/to" -V "$vers" -o 0 -l 256K
	[ "$(sm offline_blocks "$MNT/to")" -eq 64 ]
	cp /tmp/src "$MNT/from"
	mtime=$(stat -c %.9Y "$MNT/to")
	fdv=$(dv "$MNT/from")

	run scoutfs move-blocks "$MNT/from" -f 0 -l 256K "$MNT/to" -t 0 -s -V $((vers + 1))
	[ "$status" -eq 1 ]
	[ "$output" = "ioctl failed on '$MNT/to': Stale file handle (116)" ]
	[ "$(sm offline_blocks "$MNT/to")" -eq 64 ]
	# without --stage an offline destination is ENODATA, as upstream's
	run scoutfs move-blocks "$MNT/from" -f 0 -l 256K "$MNT/to" -t 0
	[ "$status" -eq 1 ]
	[[ "$output" == *"No data available (61)" ]]

	# a reader waits for the offline data, and wakes when it is moved in
	( cat "$MNT/to" > /tmp/read-out ) &
	reader=$!
	sleep 1
	scoutfs move-blocks "$MNT/from" -f 0 -l 256K "$MNT/to" -t 0 --stage --data-version "$vers"
	wait $reader
	cmp /tmp/read-out /tmp/src
	[ "$(sm offline_blocks "$MNT/to")" -eq 0 ]
	[ "$(sm online_blocks "$MNT/to")" -eq 64 ]
	# staging keeps the destination's data_version and mtime
	[ "$(dv "$MNT/to")" -eq "$vers" ]
	[ "$(stat -c %.9Y "$MNT/to")" = "$mtime" ]
	[ "$(dv "$MNT/from")" -gt "$fdv" ]
	cmp "$MNT/to" /tmp/src
	# a destination that is no longer offline: EINVAL
	cp /tmp/src "$MNT/from2"
	[ "$(mb "$MNT/to" "$MNT/from2" 0 4096 0 "$vers" 1)" = EINVAL ]
	remount_scoutfs
	cmp "$MNT/to" /tmp/src
	umount_and_fsck
}

@test "move-blocks: upstream's errnos for bad arguments, and nothing changes" {
	head -c $((64 * 1024)) /dev/urandom > /tmp/src
	cp /tmp/src "$MNT/from"
	cp /tmp/src "$MNT/full"
	: > "$MNT/to"
	mkdir "$MNT/dir"
	ln -s from "$MNT/link"
	# unaligned offsets or length
	[ "$(mb "$MNT/to" "$MNT/from" 1 4096 0)" = EINVAL ]
	[ "$(mb "$MNT/to" "$MNT/from" 0 4096 512)" = EINVAL ]
	[ "$(mb "$MNT/to" "$MNT/from" 0 4095 0)" = EINVAL ]
	# the same file
	[ "$(mb "$MNT/from" "$MNT/from" 0 4096 65536)" = EINVAL ]
	# a destination that is not a hole
	[ "$(mb "$MNT/full" "$MNT/from" 0 4096 0)" = EINVAL ]
	# unknown flags
	[ "$(mb "$MNT/to" "$MNT/from" 0 4096 0 0 2)" = EINVAL ]
	# ends beyond 64 bits
	[ "$(mb "$MNT/to" "$MNT/from" 0 8192 0xffffffffffffe000)" = EOVERFLOW ]
	[ "$(mb "$MNT/to" "$MNT/from" 0xffffffffffffe000 8192 0)" = EOVERFLOW ]
	# a bad fd, another filesystem, a directory
	[ "$(mb "$MNT/to" fd:999 0 4096 0)" = EBADF ]
	echo x > /tmp/other
	[ "$(mb "$MNT/to" /tmp/other 0 4096 0)" = EXDEV ]
	[ "$(mb "$MNT/to" "$MNT/dir" 0 4096 0)" = EISDIR ]
	[ "$(mb "$MNT/dir" "$MNT/from" 0 4096 0)" = EISDIR ]
	# a source with offline blocks: ENODATA
	cp /tmp/src "$MNT/rel"
	sync
	scoutfs release "$MNT/rel" -V "$(dv "$MNT/rel")" -o 0 -l 4K
	[ "$(mb "$MNT/to" "$MNT/rel" 0 65536 0)" = ENODATA ]
	# a source open read-only: EBADF
	run $PY -c '
import fcntl, os, struct, sys
f = os.open(sys.argv[1], os.O_RDONLY); t = os.open(sys.argv[2], os.O_RDWR)
try:
    fcntl.ioctl(t, 0x4030E80D, struct.pack("QQQQQQ", f, 0, 4096, 0, 0, 0))
except OSError as e:
    print(e.errno)' "$MNT/from" "$MNT/to"
	[ "$output" = 9 ]
	# none of it moved anything
	cmp "$MNT/from" /tmp/src
	cmp "$MNT/full" /tmp/src
	[ "$(stat -c %s "$MNT/to")" -eq 0 ]
	[ "$(sm online_blocks "$MNT/to")" -eq 0 ]
	# the command's own errors: upstream's messages
	run scoutfs move-blocks "$MNT/missing" -f 0 -l 4K "$MNT/to" -t 0
	[ "$status" -eq 1 ]
	[ "$output" = "failed to open '$MNT/missing': No such file or directory (2)" ]
	run scoutfs move-blocks "$MNT/from" -f 1 -l 4K "$MNT/to" -t 0
	[ "$status" -eq 1 ]
	[ "$output" = "ioctl failed on '$MNT/to': Invalid argument (22)" ]
	umount_and_fsck
}

@test "move-blocks: many extents move over many transactions; a huge sparse range is quick" {
	f="$MNT/from"
	# 300 one-block extents, each after a hole: none merge
	$PY - "$f" <<'PYEOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
for i in range(300):
    os.pwrite(fd, os.urandom(4096), i * 8192)
os.close(fd)
PYEOF
	cp --sparse=always "$f" /tmp/src
	: > "$MNT/to"
	sync
	run scoutfs get-fiemap "$f"
	[ "${lines[-1]}" = "extents: 300" ]
	fdv=$(dv "$f")
	scoutfs move-blocks "$f" -f 0 -l $((600 * 4096)) "$MNT/to" -t 0
	cmp "$MNT/to" /tmp/src
	run scoutfs get-fiemap "$MNT/to"
	[ "${lines[-1]}" = "extents: 300" ]
	run scoutfs get-fiemap "$f"
	[ "${lines[-1]}" = "extents: 0" ]
	[ "$(sm online_blocks "$f")" -eq 0 ]
	[ "$(sm online_blocks "$MNT/to")" -eq 300 ]
	# one stamp per transaction, as upstream's: several here
	[ "$(dv "$f")" -gt $((fdv + 1)) ]

	# 1 TiB, two blocks: the holes cost nothing
	$PY - "$MNT/sparse" <<'PYEOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b"a" * 4096, 0)
os.pwrite(fd, b"z" * 4096, (1 << 40) - 4096)
os.close(fd)
PYEOF
	: > "$MNT/to2"
	timeout 60 scoutfs move-blocks "$MNT/sparse" -f 0 -l 1T "$MNT/to2" -t 0
	[ "$(stat -c %s "$MNT/to2")" -eq $((1 << 40)) ]
	[ "$(head -c 4096 "$MNT/to2" | tr -d a | wc -c)" -eq 0 ]
	[ "$(tail -c 4096 "$MNT/to2" | tr -d z | wc -c)" -eq 0 ]
	[ "$(sm online_blocks "$MNT/to2")" -eq 2 ]
	remount_scoutfs
	cmp "$MNT/to" /tmp/src
	umount_and_fsck
}

# ---- NFS export: file handles -------------------------------------------

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

@test "file handles: a file's and a directory's open after drop_caches and a remount" {
	mkdir -p "$MNT/a/b"
	echo hello > "$MNT/a/b/f"
	ino=$(stat -c %i "$MNT/a/b/f")
	dino=$(stat -c %i "$MNT/a/b")
	fhandle save "$MNT/a/b/f" /tmp/fh-f
	fhandle save "$MNT/a/b" /tmp/fh-d
	fhandle save "$MNT" /tmp/fh-root
	run fhandle open "$MNT" /tmp/fh-f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ino $ino path $MNT/a/b/f" ]
	[ "${lines[1]}" = "data hello." ]
	for round in drop_caches remount_scoutfs; do
		$round
		run fhandle open "$MNT" /tmp/fh-f
		[ "$status" -eq 0 ] || { echo "$round: $output"; return 1; }
		[[ "${lines[0]}" == "ino $ino path "* ]]
		[ "${lines[1]}" = "data hello." ]
		# a directory is joined to the tree again: get_parent, get_name
		run fhandle open "$MNT" /tmp/fh-d
		[ "$status" -eq 0 ] || { echo "$round: $output"; return 1; }
		[ "${lines[0]}" = "ino $dino path $MNT/a/b" ]
		run fhandle open "$MNT" /tmp/fh-root
		[ "${lines[0]}" = "ino 1 path $MNT" ]
	done
	umount_and_fsck
}

@test "file handles: a directory moved elsewhere is found at its new path (get_parent reads its backref)" {
	mkdir -p "$MNT/d1/d2/d3" "$MNT/x"
	fhandle save "$MNT/d1/d2/d3" /tmp/fh-d3
	mv "$MNT/d1/d2" "$MNT/x/moved"
	drop_caches
	run fhandle open "$MNT" /tmp/fh-d3
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ino $(stat -c %i "$MNT/x/moved/d3") path $MNT/x/moved/d3" ]
	remount_scoutfs
	run fhandle open "$MNT" /tmp/fh-d3
	[ "${lines[0]}" = "ino $(stat -c %i "$MNT/x/moved/d3") path $MNT/x/moved/d3" ]
	umount_and_fsck
}

@test "file handles: ESTALE once the inode is deleted, and for handles that name no inode" {
	mkdir "$MNT/dir"
	echo data > "$MNT/f"
	echo data > "$MNT/g"
	fhandle save "$MNT/f" /tmp/fh-f
	fhandle save "$MNT/g" /tmp/fh-g
	fhandle save "$MNT/dir" /tmp/fh-dir
	rm "$MNT/f"
	rmdir "$MNT/dir"
	# cached or not, the deleted inodes are stale
	run fhandle open "$MNT" /tmp/fh-f
	[ "$status" -eq 1 ]
	[ "$output" = ESTALE ] || [[ "$output" == *$'\n'ESTALE ]]
	run fhandle open "$MNT" /tmp/fh-dir
	[ "$status" -eq 1 ]
	[[ "$output" == *ESTALE ]]
	drop_caches
	run fhandle open "$MNT" /tmp/fh-f
	[[ "$output" == *ESTALE ]]
	# unlinked while open: no links, so stale too
	exec 7< "$MNT/g"
	rm "$MNT/g"
	run fhandle open "$MNT" /tmp/fh-g
	[ "$status" -eq 1 ]
	[[ "$output" == *ESTALE ]]
	exec 7<&-
	remount_scoutfs
	run fhandle open "$MNT" /tmp/fh-f
	[[ "$output" == *ESTALE ]]
	run fhandle open "$MNT" /tmp/fh-g
	[[ "$output" == *ESTALE ]]
	# made-up handles: an inode number never used, below the root, a
	# foreign type, too short
	echo "129 ffffffffffffff00" > /tmp/fh-bad
	run fhandle open "$MNT" /tmp/fh-bad
	[ "$status" -eq 1 ]
	[[ "$output" == *ESTALE ]]
	echo "129 0000000000000000" > /tmp/fh-bad
	run fhandle open "$MNT" /tmp/fh-bad
	[[ "$output" == *ESTALE ]]
	echo "1 0100000000000000" > /tmp/fh-bad
	run fhandle open "$MNT" /tmp/fh-bad
	[[ "$output" == *ESTALE ]]
	echo "129 01000000" > /tmp/fh-bad
	run fhandle open "$MNT" /tmp/fh-bad
	[ "$status" -eq 1 ]
	umount_and_fsck
}
