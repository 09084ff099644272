#!/usr/bin/env bats
# A task waiting for offline data holds no lock anyone else needs
# (data_wait.c: "THE RULE").  For every place that can wait for data
# (read, mmap read fault, write, fallocate, truncate, ftruncate,
# open(O_TRUNC), page_mkwrite, copy_file_range/splice on either side) a
# waiter is started on a 64 KiB file whose second half is released, then
# every operation an administrator or a user runs on the same file (and
# one other) must finish while it waits: touch, chmod, chown, setfattr,
# stat, ls -l, mv, ln, a release of the other half, SETATTR_MORE of another
# file, data-waiting.  Each is bounded by a timeout, so a regression fails
# here instead of hanging the suite.  Then the stage that satisfies the
# waiter runs, and the waiter must finish with the right result.  Last,
# each kind of waiter can be killed.
load helpers

# Bound on each operation that must not wait behind the waiter.
OP_TIMEOUT=30

setup() {
	mkfs_and_mount
	head -c 65536 /dev/urandom > /tmp/wl-archive
	cp /tmp/wl-archive "$MNT/f"
	sync
	DV=$(scoutfs stat -s data_version "$MNT/f")
	SUM=$(sha256sum < /tmp/wl-archive)
	scoutfs release -V "$DV" -o 32K -l 32K "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 8 ]
	touch "$MNT/other"
}

# wait (up to 60 s) until data-waiting lists an entry matching $1
wait_for_waiter() {
	for _ in $(seq 1 600); do
		scoutfs data-waiting -p "$MNT" | grep -q "$1" && return 0
		sleep 0.1
	done
	scoutfs data-waiting -p "$MNT"
	return 1
}

# Everything that must complete while the waiter ($1, a pid) sleeps; it
# must still be asleep afterwards (nothing here stages data).
concurrent_ops() {
	local w=$1
	timeout $OP_TIMEOUT touch "$MNT/f"
	timeout $OP_TIMEOUT chmod 640 "$MNT/f"
	timeout $OP_TIMEOUT chown 1000:1000 "$MNT/f"
	timeout $OP_TIMEOUT setfattr -n user.wl -v 1 "$MNT/f"
	[ "$(timeout $OP_TIMEOUT getfattr --only-values -n user.wl "$MNT/f")" = 1 ]
	timeout $OP_TIMEOUT stat "$MNT/f" > /dev/null
	timeout $OP_TIMEOUT ls -l "$MNT" > /dev/null
	timeout $OP_TIMEOUT mv "$MNT/f" "$MNT/g"
	timeout $OP_TIMEOUT mv "$MNT/g" "$MNT/f"
	timeout $OP_TIMEOUT ln "$MNT/f" "$MNT/f-link"
	timeout $OP_TIMEOUT rm "$MNT/f-link"
	# the online first half goes offline too; the stage below brings both
	timeout $OP_TIMEOUT scoutfs release -V "$DV" -o 0 -l 32K "$MNT/f"
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 16 ]
	timeout $OP_TIMEOUT scoutfs setattr -V 9 -s 8192 -o "$MNT/other"
	[ "$(stat -c %s "$MNT/other")" -eq 8192 ]
	timeout $OP_TIMEOUT scoutfs data-waiting -p "$MNT" > /dev/null
	kill -0 "$w"
}

# Stage the whole file; the waiter must then finish, successfully.
stage_and_reap() {
	local w=$1
	timeout $OP_TIMEOUT scoutfs stage -V "$DV" /tmp/wl-archive "$MNT/f"
	timeout 60 tail --pid="$w" -f /dev/null
	wait "$w"
	[ -z "$(scoutfs data-waiting -p "$MNT")" ]
}

@test "read: a reader waiting for data blocks nobody" {
	cat "$MNT/f" > /tmp/wl-out &
	w=$!
	wait_for_waiter "ops read"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(sha256sum < /tmp/wl-out)" = "$SUM" ]
	umount_and_fsck
}

@test "mmap read fault: a faulting reader blocks nobody" {
	python3 -c 'import mmap,sys,hashlib
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
open(sys.argv[2], "w").write(hashlib.sha256(m[:]).hexdigest() + "  -\n")' \
		"$MNT/f" /tmp/wl-out &
	w=$!
	wait_for_waiter "ops read"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(cat /tmp/wl-out)" = "$SUM" ]
	umount_and_fsck
}

@test "write: an append waiting for the file to come online blocks nobody" {
	echo appended >> "$MNT/f" &
	w=$!
	wait_for_waiter "ops write"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(stat -c %s "$MNT/f")" -eq $((65536 + 9)) ]
	[ "$(head -c 65536 "$MNT/f" | sha256sum)" = "$SUM" ]
	[ "$(tail -c 9 "$MNT/f")" = "appended" ]
	umount_and_fsck
}

@test "fallocate: a waiting fallocate blocks nobody" {
	fallocate -l 1M "$MNT/f" &
	w=$!
	wait_for_waiter "ops change_size"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(stat -c %s "$MNT/f")" -eq 1048576 ]
	[ "$(head -c 65536 "$MNT/f" | sha256sum)" = "$SUM" ]
	umount_and_fsck
}

@test "truncate: truncate(2) waiting for data blocks nobody (the seed's bug class)" {
	truncate -s 100 "$MNT/f" &
	w=$!
	wait_for_waiter "ops change_size"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(stat -c %s "$MNT/f")" -eq 100 ]
	[ "$(sha256sum < "$MNT/f")" = "$(head -c 100 /tmp/wl-archive | sha256sum)" ]
	umount_and_fsck
}

@test "ftruncate: a waiting ftruncate blocks nobody" {
	python3 -c 'import os,sys; fd = os.open(sys.argv[1], os.O_RDWR); os.ftruncate(fd, 40000)' "$MNT/f" &
	w=$!
	wait_for_waiter "ops change_size"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(stat -c %s "$MNT/f")" -eq 40000 ]
	[ "$(sha256sum < "$MNT/f")" = "$(head -c 40000 /tmp/wl-archive | sha256sum)" ]
	umount_and_fsck
}

@test "open(O_TRUNC): a waiting truncating open blocks nobody" {
	( : > "$MNT/f" ) &
	w=$!
	wait_for_waiter "ops change_size"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(stat -c %s "$MNT/f")" -eq 0 ]
	umount_and_fsck
}

@test "page_mkwrite: a write fault on an online page waits without blocking anyone" {
	# the page at 0 is online: its read fault is immediate, and the first
	# write to it waits in page_mkwrite until the whole file is online
	python3 -c 'import mmap,sys
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0)
m[0:4] = b"MKWR"
m.flush()' "$MNT/f" &
	w=$!
	wait_for_waiter "ops write"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(head -c 4 "$MNT/f")" = "MKWR" ]
	[ "$(tail -c +5 "$MNT/f" | sha256sum)" = "$(tail -c +5 /tmp/wl-archive | sha256sum)" ]
	umount_and_fsck
}

@test "copy_file_range from an offline file: the splice read blocks nobody" {
	python3 -c 'import os,sys
s = os.open(sys.argv[1], os.O_RDONLY)
d = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
n = 0
while n < 65536:
    c = os.copy_file_range(s, d, 65536 - n)
    if c == 0:
        break
    n += c' "$MNT/f" "$MNT/copy" &
	w=$!
	wait_for_waiter "ops read"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(sha256sum < "$MNT/copy")" = "$SUM" ]
	umount_and_fsck
}

@test "copy_file_range into an offline file: the splice write blocks nobody" {
	head -c 4096 /dev/urandom > "$MNT/src"
	python3 -c 'import os,sys
s = os.open(sys.argv[1], os.O_RDONLY)
d = os.open(sys.argv[2], os.O_WRONLY)
os.copy_file_range(s, d, 4096, 0, 0)' "$MNT/src" "$MNT/f" &
	w=$!
	wait_for_waiter "ops write"
	concurrent_ops "$w"
	stage_and_reap "$w"
	[ "$(head -c 4096 "$MNT/f" | sha256sum)" = "$(sha256sum < "$MNT/src")" ]
	[ "$(tail -c +4097 "$MNT/f" | sha256sum)" = "$(tail -c +4097 /tmp/wl-archive | sha256sum)" ]
	umount_and_fsck
}

# Every kind of waiter dies promptly on SIGKILL and leaves no waiter.
@test "every kind of waiter can be killed" {
	local cmds=(
		"cat $MNT/f"
		"truncate -s 100 $MNT/f"
		"fallocate -l 1M $MNT/f"
		"dd if=/dev/zero of=$MNT/f bs=1 count=1 seek=70000 conv=notrunc status=none"
		"python3 -c 'import mmap; f=open(\"$MNT/f\",\"rb\"); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ); m[40000]'"
	)
	local c w
	for c in "${cmds[@]}"; do
		bash -c "exec $c" > /dev/null 2>&1 &
		w=$!
		wait_for_waiter "ops"
		kill -9 "$w"
		timeout 30 tail --pid="$w" -f /dev/null
		wait "$w" || true
		for _ in $(seq 1 100); do
			[ -z "$(scoutfs data-waiting -p "$MNT")" ] && break
			sleep 0.1
		done
		[ -z "$(scoutfs data-waiting -p "$MNT")" ]
	done
	# nothing changed: the file is as the release left it
	[ "$(stat -c %s "$MNT/f")" -eq 65536 ]
	[ "$(scoutfs stat -s offline_blocks "$MNT/f")" -eq 8 ]
	[ "$(scoutfs stat -s data_version "$MNT/f")" -eq "$DV" ]
	umount_and_fsck
}

# A release racing readers: no reader of an offline range ever sees an
# error; each waits and gets the staged bytes.
@test "readers looping while release and stage alternate never see an error" {
	python3 - "$MNT/f" /tmp/wl-archive > /tmp/wl-readers 2>&1 <<-'PY' &
	import mmap, os, sys, time
	want = open(sys.argv[2], "rb").read()
	end = time.time() + 20
	bad = n = 0
	while time.time() < end:
	    with open(sys.argv[1], "rb") as f:
	        if f.read() != want:
	            bad += 1
	        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
	        if m[:] != want:
	            bad += 1
	        m.close()
	    n += 1
	print(n, bad)
	sys.exit(1 if bad else 0)
	PY
	r=$!
	end=$((SECONDS + 20))
	cycles=0
	while [ $SECONDS -lt $end ]; do
		scoutfs stage -V "$DV" /tmp/wl-archive "$MNT/f" 2> /dev/null || true
		scoutfs release -V "$DV" "$MNT/f"
		cycles=$((cycles + 1))
	done
	scoutfs stage -V "$DV" /tmp/wl-archive "$MNT/f" 2> /dev/null || true
	timeout 60 tail --pid="$r" -f /dev/null
	rc=0
	wait "$r" || rc=$?
	cat /tmp/wl-readers
	[ "$rc" -eq 0 ]
	[ "$cycles" -gt 2 ]
	umount_and_fsck
}
