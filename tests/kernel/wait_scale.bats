#!/usr/bin/env bats
# Data waiting at scale (kmod/src/data_wait.c, THE INDEX): thousands of
# readers sleeping on thousands of offline files; a stage of one file
# ends only its readers' wait, DATA_WAITING lists every position once, in
# order, and killing the readers leaves no waiter behind.
#
# WAIT_SCALE_N readers (default 2,000, about two minutes under TCG; the
# issue's size is WAIT_SCALE_N=10000).  The time a listing of all of them
# takes is printed, not asserted (bench/ is where times are judged).
load helpers

N=${WAIT_SCALE_N:-2000}

setup() {
	kmsg_mark
	mkfs_and_mount
	head -c 4096 /dev/urandom > /tmp/4k
}

wait_for_count() {
	local want=$1 n
	for _ in $(seq 1 300); do
		n=$(scoutfs data-waiting -p "$MNT" | wc -l)
		[ "$n" -eq "$want" ] && return 0
		# the readers died: no point waiting
		kill -0 "$readers" 2> /dev/null || [ "$want" -eq 0 ] || break
		sleep 0.5
	done
	echo "data-waiting lists $n, want $want"
	return 1
}

@test "$N readers on $N offline files: one stage ends only its reader's wait, the listing shows each once" {
	mkdir "$MNT/d"
	# N empty files restored as offline 4 KiB files (SETATTR_MORE)
	python3 - "$MNT/d" "$N" <<-'PY'
	import fcntl, os, struct, sys
	d, n = sys.argv[1], int(sys.argv[2])
	size = 48
	SETATTR_MORE = (1 << 30) | (size << 16) | (0xE8 << 8) | 7
	for i in range(n):
	    fd = os.open("%s/f%d" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644)
	    arg = struct.pack("=QQQQIIQ", 7, 4096, 1, 0, 0, 0, 0)
	    fcntl.ioctl(fd, SETATTR_MORE, arg)
	    os.close(fd)
	PY
	# one reader thread per file, each printing its file when its read ends
	python3 - "$MNT/d" "$N" > /tmp/readers.out <<-'PY' &
	import os, resource, sys, threading
	d, n = sys.argv[1], int(sys.argv[2])
	resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
	threading.stack_size(256 << 10)
	lock = threading.Lock()
	def reader(i):
	    fd = os.open("%s/f%d" % (d, i), os.O_RDONLY)
	    data = os.read(fd, 4096)
	    with lock:
	        print("done %d %d" % (i, len(data)), flush=True)
	ts = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(n)]
	for t in ts:
	    t.start()
	for t in ts:
	    t.join()
	PY
	readers=$!
	wait_for_count "$N"
	# every position once, in (ino, iblock) order
	scoutfs data-waiting -p "$MNT" > /tmp/waiting
	[ "$(sort -u /tmp/waiting | wc -l)" -eq "$N" ]
	start=$(date +%s%N)
	scoutfs data-waiting -p "$MNT" > /dev/null
	echo "# listing $N waiters took $((($(date +%s%N) - start) / 1000000)) ms (with the command's start)"
	# one stage: its reader completes with the staged bytes, no other does
	scoutfs stage -V 7 /tmp/4k "$MNT/d/f$((N / 2))"
	for _ in $(seq 1 300); do
		grep -q "^done $((N / 2)) " /tmp/readers.out && break
		sleep 0.1
	done
	[ "$(cat /tmp/readers.out)" = "done $((N / 2)) 4096" ]
	cmp /tmp/4k "$MNT/d/f$((N / 2))"
	wait_for_count $((N - 1))
	! scoutfs data-waiting -p "$MNT" | grep -q "^ino $(stat -c %i "$MNT/d/f$((N / 2))") " || false
	# killed readers leave nothing behind
	kill -9 "$readers"
	wait "$readers" || true
	wait_for_count 0
	umount_and_fsck
}
