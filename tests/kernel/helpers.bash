# tests/kernel/helpers.bash: setup shared by the kernel tests, which run
# inside the VM (tests/vm/run, with two disks: /dev/vda metadata and
# /dev/vdb data).  `load helpers` in a .bats file.
META=/dev/vda
DATA=/dev/vdb
MNT=/mnt/scoutfs
export PATH="$SCOUTFS_TOP/build/default/bin:$PATH"

# A fresh filesystem, mounted at $MNT.
mkfs_and_mount() {
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$META" "$DATA" > /dev/null
	mount_scoutfs
}

mount_scoutfs() {
	mkdir -p "$MNT"
	mount -t scoutfs -o "metadev_path=$META,quorum_slot_nr=0" "$DATA" "$MNT"
}

# Unmount and require a clean fsck; every test that mounts ends here.
umount_and_fsck() {
	umount "$MNT"
	scoutfs fsck "$META" "$DATA"
}

# The kernel log lines since a mark, to check a failure's one-line reason.
kmsg_mark() {
	echo "scoutfs-test-mark $$ $BATS_TEST_NUMBER" > /dev/kmsg
}

kmsg_since_mark() {
	dmesg | sed -n "/scoutfs-test-mark $$ $BATS_TEST_NUMBER/,\$p"
}

teardown() {
	mountpoint -q "$MNT" && umount "$MNT"
	return 0
}

# Run a command as user and group UID, with no supplementary groups and no
# capabilities (setuid from root to a non-zero uid drops them).
run_as() {
	setpriv --reuid="$1" --regid="$1" --clear-groups -- "${@:2}"
}

remount_scoutfs() {
	umount "$MNT"
	mount_scoutfs
}

# Free and total 4 KiB data blocks as statfs(2) reports them.
free_data_blocks() {
	stat -f -c %f "$MNT"
}

# The inodes in use as statfs(2) reports them (f_files - f_ffree).
used_inodes() {
	echo $(($(stat -f -c '%c - %d' "$MNT")))
}
