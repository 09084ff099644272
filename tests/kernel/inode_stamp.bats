#!/usr/bin/env bats
# The in-memory inode is copied into its item by callers holding
# different locks (writes: i_rwsem; stage and release: extent_sem; the
# VFS's dirty_inode: none).  The last attribute change must be what is
# on disk, whatever raced it (kmod/src/inode.c, update_mutex).
load helpers

setup() {
	kmsg_mark
	mkfs_and_mount
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/f"
	sync
}

# Release and stage the file over and over until /tmp/stop-racers exists;
# a write that lands in between makes the release refuse (ESTALE), fine.
# On a loaded host the writer can win every time, so after three refusals
# in a row the next try holds the writer off (/tmp/hold-writes) from the
# data_version read to the release: a stage still races the attribute
# changes, which is what this test is about.
release_stage_loop() {
	local dv n=0 refused=0
	while [ ! -e /tmp/stop-racers ]; do
		if [ "$refused" -ge 3 ]; then
			while [ -e /tmp/writes-held ]; do sleep 0.01; done
			touch /tmp/hold-writes
			while [ ! -e /tmp/writes-held ] && [ ! -e /tmp/writes-done ]; do
				sleep 0.01
			done
		fi
		dv=$(scoutfs stat -s data_version "$MNT/f")
		cp "$MNT/f" /tmp/stamp-archive
		if scoutfs release -V "$dv" "$MNT/f" 2> /tmp/release-out; then
			rm -f /tmp/hold-writes
			scoutfs stage -V "$dv" /tmp/stamp-archive "$MNT/f" || return 1
			n=$((n + 1))
			echo "$n" > /tmp/stages-so-far
			refused=0
		else
			cp /tmp/release-out /tmp/release-err
			refused=$((refused + 1))
		fi
		rm -f /tmp/hold-writes
	done
	echo "$n" > /tmp/stages-done
}

# pwrite and mmap stores into the file until /tmp/stop-racers exists
write_loop() {
	python3 - "$MNT/f" <<-'PY'
	import mmap, os, sys, time
	fd = os.open(sys.argv[1], os.O_RDWR)
	n = 0
	while not os.path.exists("/tmp/stop-racers"):
	    if os.path.exists("/tmp/hold-writes"):
	        open("/tmp/writes-held", "w").close()
	        while os.path.exists("/tmp/hold-writes"):
	            time.sleep(0.001)
	        os.unlink("/tmp/writes-held")
	    off = (n * 7919 * 4096) % (1 << 20)
	    os.pwrite(fd, b"w%08d" % n, off)
	    m = mmap.mmap(fd, 1 << 20)
	    m[off + 100:off + 109] = b"m%08d" % n
	    m.close()
	    n += 1
	open("/tmp/writes-done", "w").write(str(n))
	PY
}

attrs() {
	stat -c '%a %u %g %X' "$MNT/f"
}

@test "chmod, chown and utimes racing stage, writes and mmap writes: the last call wins, also after a remount" {
	rm -f /tmp/stop-racers /tmp/stages-done /tmp/writes-done /tmp/hold-writes /tmp/writes-held \
		/tmp/stages-so-far /tmp/attr-last /tmp/release-err
	release_stage_loop &
	stager=$!
	write_loop &
	writer=$!
	# the attribute changes, at least 1500 and on until three stages
	# raced them (a bounded while: a stager that never stages fails
	# below); the last iteration's values are the answer
	python3 - "$MNT/f" <<-'PY'
	import os, sys
	p = sys.argv[1]
	def stages():
	    try:
	        return int(open("/tmp/stages-so-far").read())
	    except (OSError, ValueError):
	        return 0
	i = 0
	while True:
	    os.chmod(p, 0o600 | (i % 0o100))
	    os.chown(p, 1000 + i, 2000 + i)
	    # atime far in the future: relatime never moves it on a read
	    os.utime(p, (4000000000 + i, os.stat(p).st_mtime))
	    if i >= 1499 and (stages() >= 3 or i >= 200000):
	        break
	    i += 1
	open("/tmp/attr-last", "w").write(str(i))
	PY
	touch /tmp/stop-racers
	wait "$stager"
	wait "$writer"
	echo "stages $(cat /tmp/stages-done), write rounds $(cat /tmp/writes-done), attribute rounds $(cat /tmp/attr-last)"
	echo "the last refused release said: $(cat /tmp/release-err 2> /dev/null)"
	[ "$(cat /tmp/stages-done)" -gt 0 ]
	[ "$(cat /tmp/writes-done)" -gt 0 ]
	i=$(cat /tmp/attr-last)
	want="$(printf '%o' $((0600 | (i % 0100)))) $((1000 + i)) $((2000 + i)) $((4000000000 + i))"
	[ "$(attrs)" = "$want" ]
	sum=$(sha256sum < "$MNT/f")
	dv=$(scoutfs stat -s data_version "$MNT/f")
	remount_scoutfs
	[ "$(attrs)" = "$want" ]
	[ "$(sha256sum < "$MNT/f")" = "$sum" ]
	[ "$(scoutfs stat -s data_version "$MNT/f")" -eq "$dv" ]
	umount_and_fsck
}

@test "a writer and an mmap writer: data_version counts every change, none is lost" {
	# write(2) stamps under i_rwsem, page_mkwrite without it: each
	# change moves data_version by one, and no two concurrent stamps
	# hand out the same version
	dv0=$(scoutfs stat -s data_version "$MNT/f")
	python3 - "$MNT/f" <<-'PY' &
	import os, sys
	fd = os.open(sys.argv[1], os.O_RDWR)
	for i in range(400):
	    os.pwrite(fd, b"a" * 100, (i % 64) * 4096)
	PY
	a=$!
	python3 - "$MNT/f" <<-'PY' &
	import mmap, os, sys
	fd = os.open(sys.argv[1], os.O_RDWR)
	m = mmap.mmap(fd, 1 << 20)
	for i in range(400):
	    off = (128 + i % 64) * 4096
	    m[off:off + 100] = b"b" * 100
	    # writeback cleans the page: the next store faults and stamps
	    m.flush(off, 4096)
	PY
	b=$!
	wait "$a"
	wait "$b"
	dv1=$(scoutfs stat -s data_version "$MNT/f")
	echo "data_version $dv0 -> $dv1"
	[ $((dv1 - dv0)) -ge 800 ]
	remount_scoutfs
	[ "$(scoutfs stat -s data_version "$MNT/f")" -eq "$dv1" ]
	umount_and_fsck
}
