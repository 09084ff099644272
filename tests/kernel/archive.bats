#!/usr/bin/env bats
# Release, stage and data waiting: the kernel half of the HSM.
load helpers

setup() {
	mkfs_and_mount
	# 1 MiB + 1000 bytes of random data, its archive copy in /tmp
	head -c $((1024 * 1024 + 1000)) /dev/urandom > /tmp/archive
	cp /tmp/archive "$MNT/f"
	sync
	SUM=$(sha256sum < /tmp/archive)
	DV=$(scoutfs stat -s data_version "$MNT/f")
	SIZE=$(stat -c %s "$MNT/f")
}

# wait (up to 60 s) until data-waiting lists N waiters
wait_for_waiters() {
	for _ in $(seq 1 600); do
		[ "$(scoutfs data-waiting -p "$MNT" | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
	scoutfs data-waiting -p "$MNT"
	return 1
}

@test "release keeps size, mtime and data_version and makes the blocks offline" {
	mtime=$(stat -c %Y "$MNT/f")
	scoutfs release -V "$DV" "$MNT/f"
	[ "$(stat -c %s "$MNT/f")" -eq "$SIZE" ]
	[ "$(stat -c %Y "$MNT/f")" -eq "$mtime" ]
	[ "$(scoutfs stat -s data_version "$MNT/f")" -eq "$DV" ]
	[ "$(scoutfs stat -s online_blocks "$MNT/f")" -eq 0 ]
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 257 ]
	# st_blocks counts offline blocks too, as upstream's: 257 4K blocks
	[ "$(stat -c %b "$MNT/f")" -eq $((257 * 8)) ]
	umount_and_fsck
}

@test "a read of a released file waits, is listed, and completes with the staged bytes" {
	scoutfs release -V "$DV" "$MNT/f"
	sha256sum < "$MNT/f" > /tmp/read-sum &
	reader=$!
	wait_for_waiters 1
	run scoutfs data-waiting -p "$MNT"
	[[ "$output" == "ino $(stat -c %i "$MNT/f") iblock 0 ops read" ]]
	kill -0 "$reader"
	scoutfs stage -V "$DV" /tmp/archive "$MNT/f"
	timeout 60 tail --pid="$reader" -f /dev/null
	wait "$reader"
	[ "$(cat /tmp/read-sum)" = "$SUM" ]
	[ -z "$(scoutfs data-waiting -p "$MNT")" ]
	[ "$(scoutfs stat -s data_version "$MNT/f")" -eq "$DV" ]
	umount_and_fsck
}

@test "partial release: online ranges read at once, the offline middle waits for its stage" {
	scoutfs release -V "$DV" -o 64K -l 128K "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 32 ]
	# the first 64K is online
	[ "$(head -c 65536 "$MNT/f" | sha256sum)" = "$(head -c 65536 /tmp/archive | sha256sum)" ]
	dd if="$MNT/f" bs=4K skip=20 count=1 status=none > /tmp/mid &
	reader=$!
	wait_for_waiters 1
	scoutfs data-waiting -p "$MNT" | grep -q "iblock 20 ops read"
	# the archive is read from its start, as upstream's: give it the range
	dd if=/tmp/archive of=/tmp/part bs=64K skip=1 count=2 status=none
	scoutfs stage -V "$DV" -o 64K -l 128K /tmp/part "$MNT/f"
	wait "$reader"
	[ "$(sha256sum < /tmp/mid)" = "$(dd if=/tmp/archive bs=4K skip=20 count=1 status=none | sha256sum)" ]
	[ "$(sha256sum < "$MNT/f")" = "$SUM" ]
	umount_and_fsck
}

@test "an mmap fault on an offline block waits for the stage" {
	scoutfs release -V "$DV" "$MNT/f"
	python3 -c 'import mmap,sys,hashlib; f=open(sys.argv[1],"rb"); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ); print(hashlib.sha256(m[:]).hexdigest())' "$MNT/f" > /tmp/mmap-sum &
	reader=$!
	wait_for_waiters 1
	scoutfs stage -V "$DV" /tmp/archive "$MNT/f"
	wait "$reader"
	[ "$(cat /tmp/mmap-sum)  -" = "$SUM" ]
	umount_and_fsck
}

@test "data-wait-err hands the waiting reader EIO" {
	scoutfs release -V "$DV" "$MNT/f"
	ino=$(stat -c %i "$MNT/f")
	( rc=0; cat "$MNT/f" > /dev/null 2> /tmp/cat-err || rc=$?; echo $rc > /tmp/cat-rc ) &
	reader=$!
	wait_for_waiters 1
	run scoutfs data-wait-err -p "$MNT" -I "$ino" -V "$DV" -F 0 -C "$SIZE" -O read -E -5
	[ "$status" -eq 0 ]
	[[ "$output" == "data_wait_err found 1 waiters." ]]
	wait "$reader"
	[ "$(cat /tmp/cat-rc)" -ne 0 ]
	grep -q "Input/output error" /tmp/cat-err
	umount_and_fsck
}

@test "a killed reader exits and leaves no waiter behind" {
	scoutfs release -V "$DV" "$MNT/f"
	cat "$MNT/f" > /dev/null &
	reader=$!
	wait_for_waiters 1
	kill -9 "$reader"
	wait "$reader" || true
	[ -z "$(scoutfs data-waiting -p "$MNT")" ]
	umount_and_fsck
}

@test "stage with a stale data_version fails with ESTALE and changes nothing" {
	scoutfs release -V "$DV" "$MNT/f"
	run scoutfs stage -V $((DV + 1)) /tmp/archive "$MNT/f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ESTALE"* ]]
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 257 ]
	umount_and_fsck
}

@test "release after a write fails with ESTALE and the file keeps its data" {
	echo more >> "$MNT/f"
	run scoutfs release -V "$DV" "$MNT/f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ESTALE"* ]]
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 0 ]
	[ "$(head -c "$SIZE" "$MNT/f" | sha256sum)" = "$SUM" ]
	umount_and_fsck
}

@test "releasing an offline range again is a no-op; stage over online ranges leaves them alone; stage past EOF fails" {
	scoutfs release -V "$DV" -o 0 -l 64K "$MNT/f"
	ms=$(scoutfs stat -s meta_seq "$MNT/f"); sync
	scoutfs release -V "$DV" -o 0 -l 64K "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 16 ]
	# upstream's stage succeeds over online blocks and does not rewrite them
	head -c 4096 /dev/zero > /tmp/zeros
	scoutfs stage -V "$DV" -o 64K -l 4K /tmp/zeros "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 16 ]
	run scoutfs stage -V "$DV" -o 0 -l 2M /tmp/archive "$MNT/f"
	[ "$status" -eq 1 ]
	run scoutfs release -V "$DV" -o 1000 -l 4K "$MNT/f"
	[ "$status" -eq 2 ]
	[[ "$output" == *"multiples of 4096"* ]]
	scoutfs stage -V "$DV" -o 0 -l 64K /tmp/archive "$MNT/f"
	[ "$(sha256sum < "$MNT/f")" = "$SUM" ]
	umount_and_fsck
}

@test "no deadlock: touch, chmod, truncate and an append run while a reader waits, then stage" {
	scoutfs release -V "$DV" "$MNT/f"
	cat "$MNT/f" > /tmp/cat-out &
	reader=$!
	wait_for_waiters 1
	# metadata changes do not wait for data
	timeout 30 touch "$MNT/f"
	timeout 30 chmod 600 "$MNT/f"
	# size and content changes wait until the file is online
	truncate -s $((SIZE + 4096)) "$MNT/f" &
	trunc=$!
	echo appended >> "$MNT/f" &
	append=$!
	wait_for_waiters 1
	scoutfs data-waiting -p "$MNT" | grep -q "write\|change_size"
	# stage with the version the reader saw (touch/chmod don't change it)
	scoutfs stage -V "$DV" /tmp/archive "$MNT/f"
	wait "$reader"
	wait "$trunc"
	wait "$append"
	# the reader may also see what the truncate and append added after it
	[ "$(head -c "$SIZE" /tmp/cat-out | sha256sum)" = "$SUM" ]
	# the truncate and the append wake together and may run in either
	# order; each order has one right result
	size=$(stat -c %s "$MNT/f")
	if [ "$size" -eq $((SIZE + 4096 + 9)) ]; then
		[ "$(tail -c 9 "$MNT/f")" = "appended" ]
		[ "$(head -c $((SIZE + 4096)) "$MNT/f" | tail -c 4096 | tr -d '\0' | wc -c)" -eq 0 ]
	else
		[ "$size" -eq $((SIZE + 4096)) ]
		[ "$(tail -c +$((SIZE + 1)) "$MNT/f" | head -c 9)" = "appended" ]
		[ "$(tail -c +$((SIZE + 10)) "$MNT/f" | tr -d '\0' | wc -c)" -eq 0 ]
	fi
	[ "$(stat -c %a "$MNT/f")" = "600" ]
	[ "$(head -c "$SIZE" "$MNT/f" | sha256sum)" = "$SUM" ]
	umount_and_fsck
}

@test "setattr -o restores an empty file as offline; reads wait for the stage" {
	touch "$MNT/restored"
	scoutfs setattr -V 7 -s "$SIZE" -o -t 1000.5 "$MNT/restored"
	[ "$(stat -c %s "$MNT/restored")" -eq "$SIZE" ]
	[ "$(scoutfs stat -s data_version "$MNT/restored")" -eq 7 ]
	[ "$(scoutfs stat -s offline_blocks "$MNT/restored")" -eq 257 ]
	run scoutfs setattr -V 7 -s 10 -o "$MNT/f"
	[ "$status" -eq 1 ]
	sha256sum < "$MNT/restored" > /tmp/r-sum &
	reader=$!
	wait_for_waiters 1
	scoutfs stage -V 7 /tmp/archive "$MNT/restored"
	wait "$reader"
	[ "$(cat /tmp/r-sum)" = "$SUM" ]
	umount_and_fsck
}

@test "offline state survives unmount and remount" {
	scoutfs release -V "$DV" "$MNT/f"
	umount "$MNT"
	scoutfs fsck "$META" "$DATA"
	mount_scoutfs
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 257 ]
	scoutfs stage -V "$DV" /tmp/archive "$MNT/f"
	[ "$(sha256sum < "$MNT/f")" = "$SUM" ]
	umount_and_fsck
}

@test "unprivileged callers get EPERM from release, stage, data-wait-err and setattr" {
	chmod 777 "$MNT" "$MNT/f"
	as_user() { setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
	run as_user scoutfs release -V "$DV" "$MNT/f"
	[[ "$output" == *"Operation not permitted"* ]]
	run as_user scoutfs stage -V "$DV" /tmp/archive "$MNT/f"
	[[ "$output" == *"Operation not permitted"* ]]
	run as_user scoutfs data-wait-err -p "$MNT" -I 1 -V 1 -F 0 -C 4096 -O read -E -5
	[[ "$output" == *"Operation not permitted"* ]]
	as_user touch "$MNT/mine"
	run as_user scoutfs setattr -V 1 -s 10 -o "$MNT/mine"
	[[ "$output" == *"Operation not permitted"* ]]
	umount_and_fsck
}
