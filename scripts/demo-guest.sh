# SPDX-License-Identifier: GPL-2.0
# scripts/demo-guest.sh: the demo's steps inside the VM (see scripts/demo):
# make a filesystem, write a file, copy it to an archive, release it
# (blocks freed, size kept), read it (the reader waits and is listed),
# stage it back from the archive, and check the reader got every byte.
set -eu
META=/dev/vda
DATA=/dev/vdb
MNT=/mnt/scoutfs
ARCHIVE=/tmp/archive
export PATH="$SCOUTFS_TOP/build/default/bin:$PATH"
step() { echo; echo "\$ $*"; "$@"; }

echo "kernel $(uname -r); metadata device $META, data device $DATA"
step scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$META" "$DATA"
mkdir -p "$MNT"
step mount -t scoutfs -o metadev_path=$META,quorum_slot_nr=0 "$DATA" "$MNT"

echo; echo "# a 4 MiB file, committed"
head -c $((4 * 1024 * 1024)) /dev/urandom > "$MNT/results.dat"
sync
step scoutfs walk-inodes data_seq 0 -1 "$MNT"
VERS=$(scoutfs stat -s data_version "$MNT/results.dat")
SUM=$(sha256sum < "$MNT/results.dat" | cut -d' ' -f1)
echo "data_version $VERS, sha256 $SUM"

echo; echo "# archive a copy, then release the file: its blocks are freed, its size kept"
mkdir -p "$ARCHIVE"
step cp "$MNT/results.dat" "$ARCHIVE/results.dat"
step scoutfs release -V "$VERS" "$MNT/results.dat"
step stat -c '%n: %s bytes, %b blocks allocated' "$MNT/results.dat"
step scoutfs stat "$MNT/results.dat"

echo; echo "# a reader of the released file waits for the data"
sha256sum < "$MNT/results.dat" | cut -d' ' -f1 > /tmp/reader.sum &
reader=$!
for _ in $(seq 1 100); do
	[ -n "$(scoutfs data-waiting -p "$MNT")" ] && break
	sleep 0.1
done
step scoutfs data-waiting -p "$MNT"

echo; echo "# stage it back from the archive; the reader wakes"
step scoutfs stage -V "$VERS" "$ARCHIVE/results.dat" "$MNT/results.dat"
wait "$reader"
echo "reader's sha256: $(cat /tmp/reader.sum)"
[ "$(cat /tmp/reader.sum)" = "$SUM" ] || { echo "MISMATCH"; exit 1; }
echo "identical to the original"

step umount "$MNT"
step scoutfs fsck "$META" "$DATA"
echo; echo "fsck clean: the archive -> release -> stage round trip is complete"
