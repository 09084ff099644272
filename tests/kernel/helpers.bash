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

# Make dm device $1 a linear map of all of $2; prints its device node.
dm_linear() {
	local size
	size=$(blockdev --getsz "$2")
	dmsetup create "$1" --table "0 $size linear $2 0"
	echo "/dev/dm-$(dmsetup info -c --noheadings -o minor "$1")"
}

# Load into dm device $1's inactive slot a table that drops every write
# (reads still work); dm_cut makes it live.  Loaded ahead, the cut itself
# is one quick ioctl, so it lands where a test wants it.
dm_load_drop_writes() {
	local size dev
	size=$(dmsetup table "$1" | awk '{ print $2 }')
	dev=$(dmsetup table "$1" | awk '{ print $4 }')
	dmsetup load "$1" --table "0 $size flakey $dev 0 0 1 1 drop_writes"
}

# Swap in dm device $1's loaded table (without freezing the filesystem).
dm_cut() {
	dmsetup resume --nolockfs "$1"
}

# From now on every write to dm device $1 is dropped; reads still work.
dm_drop_writes() {
	dm_load_drop_writes "$1"
	dm_cut "$1"
}

# The current super's free data block count, read off metadata device $1.
disk_free_data_blocks() {
	scoutfs print "$1" | sed -n 's/.*data blocks [0-9]* free \([0-9]*\),.*/\1/p'
}

# Device-mapper target $1 (flakey, linear, ...) is there: its module
# loaded, or built in (the debug kernel has no modules to load).
have_dm_target() {
	modprobe "dm-$1" 2> /dev/null
	dmsetup targets 2> /dev/null | grep -q "^$1 "
}

# A fresh filesystem on dm-linear devices $1 (metadata) and $2 (data) over
# $META and $DATA, mounted at $MNT: dm_drop_writes can then cut the power.
dm_mkfs_and_mount() {
	local meta data
	have_dm_target flakey || skip "no dm-flakey in this kernel"
	meta=$(dm_linear "$1" "$META")
	data=$(dm_linear "$2" "$DATA")
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$meta" "$data" > /dev/null
	mkdir -p "$MNT"
	mount -t scoutfs -o "metadev_path=$meta,quorum_slot_nr=0" "$data" "$MNT"
}

# The test-only fault-injection module (kmod/src/fault.c), built into
# build/fault-kmod by make: a test file's setup_file loads it in place of
# the shipped module, its teardown_file unloads it (the harness loads the
# shipped one again for the next file).  The debug-kernel pass points
# SCOUTFS_FAULT_KO at the variant built against its kernel.
FAULT_KO=${SCOUTFS_FAULT_KO:-$SCOUTFS_TOP/build/fault-kmod/scoutfs.ko}
FAULT_PARAMS=/sys/module/scoutfs/parameters

load_fault_module() {
	[ -f "$FAULT_KO" ] || { echo "no $FAULT_KO: run make" >&2; return 1; }
	mountpoint -q "$MNT" && umount "$MNT"
	rmmod scoutfs
	insmod "$FAULT_KO"
	[ -e "$FAULT_PARAMS/fail_nth" ]
}

unload_fault_module() {
	mountpoint -q "$MNT" && umount "$MNT"
	rmmod scoutfs
	return 0
}
