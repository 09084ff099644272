# tests/crash/guest-lib.bash: what the two in-guest steps of a crash cycle
# share (tests/crash/run-cycles passes the CRASH_* settings with
# tests/vm/run --env).  /dev/vda is the metadata device, /dev/vdb the data
# device; in the power mode /dev/vdc and /dev/vdd are their write logs and
# the filesystem is used through dm-log-writes targets over them.
set -u
MNT=/mnt/scoutfs
CRASHTEST=$SCOUTFS_TOP/build/default/bin/crashtest
CRASH_MODE=${CRASH_MODE:-kill}

say() { echo "crash-cycle: $*"; }
fail() { say "FAILED: $*"; exit 1; }

# META and DATA: the devices to use, with the write-log targets set up
# once per boot in the power mode.
crash_devices() {
	if [ "$CRASH_MODE" != power ]; then
		META=/dev/vda
		DATA=/dev/vdb
		return
	fi
	META=/dev/mapper/crash-meta
	DATA=/dev/mapper/crash-data
	[ -b "$META" ] && return
	export DM_DISABLE_UDEV=1
	modprobe dm-log-writes || fail "modprobe dm-log-writes"
	dmsetup create crash-meta --table "0 $(blockdev --getsz /dev/vda) log-writes /dev/vda /dev/vdc" ||
		fail "dmsetup create crash-meta"
	dmsetup create crash-data --table "0 $(blockdev --getsz /dev/vdb) log-writes /dev/vdb /dev/vdd" ||
		fail "dmsetup create crash-data"
	dmsetup mknodes > /dev/null 2>&1
	[ -b "$META" ] && [ -b "$DATA" ] || fail "no $META / $DATA after dmsetup"
	say "write logs: $(cat /sys/block/vda/queue/write_cache) cache on vda, $(cat /sys/block/vdb/queue/write_cache) on vdb"
}

crash_mount() {
	mkdir -p "$MNT"
	mount -t scoutfs -o "metadev_path=$META,quorum_slot_nr=0" "$DATA" "$MNT" ||
		fail "mount of $DATA (metadata $META)"
}

crash_fsck() {
	local out rc
	out=$(scoutfs fsck "$META" "$DATA" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /'
	[ "$rc" -eq 0 ] || fail "scoutfs fsck $1 exited $rc: the filesystem is not clean"
}
