#!/usr/bin/env bats
# Nobody reads bytes that are not theirs.  Each test first fills the
# data device's free space with a marker pattern written only to files
# that are then deleted (and the deletes committed, so the allocator hands
# those blocks out again), then does something that allocates blocks and
# does not finish writing them: a write from a buffer that faults, a
# killed writer, a writer that runs out of space, an mmap store into a
# hole followed by truncates, a fallocate.  No byte of the marker may
# ever be read back, before or after a remount, and fsck stays clean.
load helpers

MARK="STALE-DELETED-BYTES!"

setup() {
	kmsg_mark
}

# Fill $1 MiB with marker files, delete them, commit.
plant_deleted_marker() {
	local mib=$1 i
	python3 -c 'import sys
m = sys.argv[1].encode()
blk = (m * (4096 // len(m) + 1))[:4096]
open(sys.argv[2], "wb").write(blk * (int(sys.argv[3]) * 256))' \
		"$MARK" "$MNT/marker" "$mib"
	sync
	rm "$MNT/marker"
	sync
}

# Fails (printing where) if any file under $MNT holds a marker byte run.
no_marker_anywhere() {
	python3 - "$MARK" "$MNT" <<-'PY'
	import os, sys
	mark = sys.argv[1].encode()
	bad = 0
	for top, dirs, files in os.walk(sys.argv[2]):
	    for name in files:
	        path = os.path.join(top, name)
	        with open(path, "rb") as f:
	            off, tail = 0, b""
	            while True:
	                chunk = f.read(1 << 20)
	                if not chunk:
	                    break
	                i = (tail + chunk).find(mark)
	                if i >= 0:
	                    print("%s: a deleted file's bytes at offset %d" %
	                          (path, off - len(tail) + i))
	                    bad += 1
	                    break
	                off += len(chunk)
	                tail = chunk[-len(mark):]
	sys.exit(1 if bad else 0)
	PY
}

@test "a write whose user buffer faults after 4 KiB leaves no stale blocks (the reported case)" {
	mkfs_and_mount
	plant_deleted_marker 64
	truncate -s 64M "$MNT/f"
	chmod 666 "$MNT/f"
	# as an unprivileged user, as in the report
	run run_as 1000 python3 - "$MNT/f" <<-'PY'
	import ctypes, os, sys
	libc = ctypes.CDLL(None, use_errno=True)
	libc.mmap.restype = ctypes.c_void_p
	libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
	                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
	libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
	N = 8 << 20
	addr = libc.mmap(None, N, 3, 0x22, -1, 0)
	ctypes.memset(addr, ord("A"), 4096)
	libc.munmap(addr + 4096, N - 4096)
	buf = (ctypes.c_char * N).from_address(addr)
	fd = os.open(sys.argv[1], os.O_RDWR)
	print(os.pwrite(fd, buf, 8 << 20))
	PY
	[ "$status" -eq 0 ]
	[ "$output" = 4096 ]
	check() {
		python3 - "$MNT/f" <<-'PY'
		import sys
		d = open(sys.argv[1], "rb").read()
		assert len(d) == 64 << 20, len(d)
		a = 8 << 20
		assert d[a:a + 4096] == b"A" * 4096, "written bytes"
		assert d[:a].count(0) == a, "before the write"
		assert d[a + 4096:].count(0) == len(d) - a - 4096, "after the write"
		PY
	}
	check
	no_marker_anywhere
	# the unused blocks were given back, not left allocated
	[ "$(stat -c %b "$MNT/f")" -le 8 ]
	remount_scoutfs
	check
	no_marker_anywhere
	umount_and_fsck
}

@test "a writer killed in the middle of a large write leaves no stale blocks" {
	mkfs_and_mount
	plant_deleted_marker 256
	truncate -s 1G "$MNT/f"
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
buf = b"W" * (256 << 20)
open("/tmp/sw-ready", "w").close()
os.pwrite(fd, buf, 0)' "$MNT/f" &
	w=$!
	while [ ! -e /tmp/sw-ready ]; do sleep 0.05; done
	sleep 0.3
	kill -9 "$w"
	wait "$w" || true
	rm -f /tmp/sw-ready
	no_marker_anywhere
	# what is there is the writer's bytes, then zeros
	python3 - "$MNT/f" <<-'PY'
	import sys
	f = open(sys.argv[1], "rb")
	zeros = False
	while True:
	    b = f.read(1 << 20)
	    if not b:
	        break
	    for c in set(b):
	        assert c in (0, ord("W")), c
	PY
	remount_scoutfs
	no_marker_anywhere
	umount_and_fsck
}

@test "a write that runs out of space part way leaves no stale blocks" {
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 -d 64M "$META" "$DATA" > /dev/null
	mount_scoutfs
	plant_deleted_marker 40
	truncate -s 1G "$MNT/f"
	run python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
done = 0
buf = b"E" * (8 << 20)
try:
    while done < (128 << 20):
        done += os.pwrite(fd, buf, done)
except OSError as e:
    print("error", e.errno)
print("wrote", done)' "$MNT/f"
	echo "$output"
	[[ "$output" == *"error 28"* ]]
	no_marker_anywhere
	remount_scoutfs
	no_marker_anywhere
	umount_and_fsck
}

@test "an mmap store into a hole, then truncates down and up, shows no stale bytes" {
	mkfs_and_mount
	plant_deleted_marker 16
	truncate -s 1M "$MNT/f"
	python3 -c 'import mmap, os, sys
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0)
m[512 * 1024:512 * 1024 + 5] = b"hello"
m[900 * 1024] = 1
m.close()' "$MNT/f"
	truncate -s $((512 * 1024 + 3)) "$MNT/f"
	truncate -s 2M "$MNT/f"
	no_marker_anywhere
	python3 - "$MNT/f" <<-'PY'
	import sys
	d = open(sys.argv[1], "rb").read()
	o = 512 * 1024
	assert d[o:o + 3] == b"hel", d[o:o + 8]
	assert d[:o].count(0) == o
	assert d[o + 3:].count(0) == len(d) - o - 3
	PY
	remount_scoutfs
	no_marker_anywhere
	umount_and_fsck
}

@test "fallocated and partially written blocks read as zeros, also after remount" {
	mkfs_and_mount
	plant_deleted_marker 32
	fallocate -l 16M "$MNT/f"
	printf 'x' | dd of="$MNT/f" bs=1 seek=$((5 * 1024 * 1024 + 7)) conv=notrunc status=none
	no_marker_anywhere
	remount_scoutfs
	no_marker_anywhere
	[ "$(stat -c %s "$MNT/f")" -eq $((16 << 20)) ]
	umount_and_fsck
}
