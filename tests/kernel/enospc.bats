#!/usr/bin/env bats
# Full devices: filling the data device or the metadata device returns
# ENOSPC to the writer, never wedges or makes the mount read-only,
# unlink and rmdir keep working on a full filesystem, and deleting gives
# the space back (statfs shows it, fsck finds no leak).
load helpers

PY=/usr/bin/python3

setup() {
	kmsg_mark
}

mkfs_small_and_mount() {
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$@" "$META" "$DATA" > /dev/null
	mount_scoutfs
}

free_data_blocks() { stat -f -c %f "$MNT"; }
# statfs reports SCOUTFS_STATFS_INODES_PER_META_BLOCK free inodes per
# free metadata block, so this follows the free metadata blocks
free_meta_inodes() { stat -f -c %d "$MNT"; }

mount_is_rw() {
	grep " $MNT scoutfs " /proc/mounts | grep -q ' rw,'
}

no_read_only_in_log() {
	! kmsg_since_mark | grep -qi "read-only"
}

@test "filling the data device returns ENOSPC to every writer and deleting gives it all back" {
	mkfs_small_and_mount -d 96M
	before=$(free_data_blocks)
	for i in 1 2 3; do
		dd if=/dev/zero of="$MNT/big$i" bs=1M count=64 status=none \
			2> "$BATS_TEST_TMPDIR/dd$i" &
	done
	wait || true
	# at least one writer ran out; each error is ENOSPC
	grep -l "No space left" "$BATS_TEST_TMPDIR"/dd* > /dev/null
	! grep -hv "No space left" "$BATS_TEST_TMPDIR"/dd* | grep . || false
	sync
	[ "$(free_data_blocks)" -lt $((before / 20)) ]
	# still usable: metadata changes and small files that fit
	mkdir "$MNT/d"
	mv "$MNT/big1" "$MNT/d/big1"
	mount_is_rw
	rm -f "$MNT"/big* "$MNT/d/big1"
	rmdir "$MNT/d"
	sync
	[ "$(free_data_blocks)" -eq "$before" ]
	echo again > "$MNT/after"
	[ "$(cat "$MNT/after")" = again ]
	no_read_only_in_log
	umount_and_fsck
}

@test "filling the metadata device returns ENOSPC and unlink and rmdir still work" {
	mkfs_small_and_mount -m 128M
	meta_before=$(free_meta_inodes)
	# each file carries a 60 KiB xattr: about one metadata block apiece
	run $PY - "$MNT" <<'EOF'
import errno, os, sys
mnt = sys.argv[1]
val = b"x" * 61440
n = 0
try:
    while n < 100000:
        d = os.path.join(mnt, "d%d" % (n // 500))
        if n % 500 == 0:
            os.mkdir(d)
        p = os.path.join(d, "f%d" % n)
        open(p, "w").close()
        os.setxattr(p, "user.fill", val)
        n += 1
except OSError as e:
    print("stopped after %d files: %s" % (n, errno.errorcode[e.errno]))
    sys.exit(0 if e.errno == errno.ENOSPC else 1)
print("never filled after %d files" % n)
sys.exit(1)
EOF
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ENOSPC"* ]]
	nfiles=$(echo "$output" | sed -n 's/stopped after \([0-9]*\) files.*/\1/p')
	[ "$nfiles" -gt 500 ]
	mount_is_rw
	# more changes that need space are refused, sync still works
	run touch "$MNT/one-more"
	[ "$status" -ne 0 ]
	[[ "$output" == *"No space left"* ]]
	sync
	# deletions always work on a full filesystem
	rm -f "$MNT"/d0/*
	rmdir "$MNT/d0"
	find "$MNT" -type f -delete
	find "$MNT" -mindepth 1 -type d -delete
	sync
	[ -z "$(ls -A "$MNT")" ]
	# the space is back: within a few blocks' worth of what mkfs left
	meta_after=$(free_meta_inodes)
	[ "$meta_after" -ge $((meta_before - 64 * 8)) ]
	touch "$MNT/now-it-fits"
	setfattr -n user.fill -v "$(head -c 30000 /dev/zero | tr '\0' y)" "$MNT/now-it-fits"
	mount_is_rw
	no_read_only_in_log
	umount_and_fsck
}

@test "a full metadata device survives remount and fsck with its files intact" {
	mkfs_small_and_mount -m 64M
	run $PY - "$MNT" <<'EOF'
import errno, os, sys
mnt = sys.argv[1]
n = 0
try:
    while True:
        p = os.path.join(mnt, "f%d" % n)
        with open(p, "w") as f:
            f.write("file %d\n" % n)
        os.setxattr(p, "user.v", b"%d" % n * 4000)
        n += 1
except OSError as e:
    print("%d %s" % (n, errno.errorcode[e.errno]))
EOF
	[[ "$output" == *ENOSPC* ]]
	n=${output%% *}
	[ "$n" -gt 100 ]
	sync
	umount "$MNT"
	scoutfs fsck "$META" "$DATA"
	mount_scoutfs
	# every file that was created completely is there with its contents
	for i in 0 $((n / 2)) $((n - 1)); do
		[ "$(cat "$MNT/f$i")" = "file $i" ]
		[ "$(getfattr --only-values -n user.v "$MNT/f$i" | head -c 20)" = \
		  "$(printf '%s' "$(yes "$i" | head -n 4000 | tr -d '\n')" | head -c 20)" ]
	done
	umount_and_fsck
}
