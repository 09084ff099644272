#!/usr/bin/env bats
# The indexer (`scoutfs-hsm index`, indexers/walker.c) against the real
# module: after every run, however it ended, and one last complete pass,
# the catalog's inode rows equal a full walk of the namespace that the
# test does itself (tests/kernel/indexer_fs.py dump: os.walk, lstat and
# STAT_MORE) line by line: kind, path, ino, size, data_version,
# online/offline state, mtime.  The workload (indexer_fs.py work) creates,
# writes, truncates, renames files and directories, unlinks, removes
# trees, and releases and stages files with the scoutfs CLI; the indexer
# runs before, during and after it and is killed with SIGKILL at random
# moments.
load helpers

FS_PY=$BATS_TEST_DIRNAME/indexer_fs.py
CAT=/tmp/indexer-catalog.db
ARCH=/tmp/indexer-archive

setup() {
	mkfs_and_mount
	rm -rf "$CAT" "$CAT"-* "$ARCH"
	mkdir -p "$ARCH"
}

# the workload, bounded: a hang (a read of a released file) fails fast
work() {
	timeout 180 "$FS_PY" work "$MNT" "$@" "$ARCH"
}

index_once() {
	scoutfs-hsm index --once --catalog "$CAT" "$@" "$MNT"
}

# The catalog after one more complete pass equals the namespace.
catalog_matches() {
	sync
	index_once > /tmp/indexer-last.log || { cat /tmp/indexer-last.log; return 1; }
	scoutfs-hsm index --dump --catalog "$CAT" "$MNT" | sort > /tmp/indexer-cat.txt
	"$FS_PY" dump "$MNT" > /tmp/indexer-fs.txt
	[ -s /tmp/indexer-fs.txt ] || { echo "empty namespace dump"; return 1; }
	diff -u /tmp/indexer-fs.txt /tmp/indexer-cat.txt
}

# A random moment between $1 and $2 tenths of a second from now.
random_sleep() {
	sleep "$(awk -v a="$1" -v b="$2" -v r="$RANDOM" 'BEGIN { printf "%.1f", (a + (b - a) * r / 32767) / 10 }')"
}

@test "a first run walks an existing tree from 0; a pass with nothing new walks nothing" {
	work 1 80
	sync
	run index_once
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "$output" == *"pass seq 0.."* ]]
	first_end=$(echo "$output" | sed -n 's/.*pass seq 0\.\.\([0-9]*\):.*/\1/p')
	[ -n "$first_end" ]
	# nothing changed: the next pass starts where the last one ended
	# (before the namespace dump below, whose readdirs move atimes)
	run index_once
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "$output" == *": 0 walked, 0 looked up, 0 rows written, 0 removed"* ]]
	start=$(echo "$output" | sed -n 's/.*pass seq \([0-9]*\)\.\..*/\1/p')
	[ "$start" -ge "$first_end" ]
	catalog_matches
	# the row count is the namespace's
	grep -q ", $(wc -l < /tmp/indexer-fs.txt) rows," /tmp/indexer-last.log
	umount_and_fsck
}

@test "changes made while no indexer ran (renamed trees, removed trees, release, stage) are reconciled" {
	mkdir -p "$MNT/a/b/c"
	for i in 1 2 3; do echo "$i" > "$MNT/a/b/c/f$i"; echo "$i" > "$MNT/a/g$i"; done
	head -c 20000 /dev/urandom > "$MNT/a/big"
	cp "$MNT/a/big" "$ARCH/big"
	catalog_matches
	# a renamed tree: its files' own seqs do not move, the paths must
	mv "$MNT/a/b" "$MNT/moved"
	mv "$MNT/a" "$MNT/z"
	# a removed tree
	mkdir -p "$MNT/gone/x/y"; touch "$MNT/gone/x/y/f" "$MNT/gone/x/f"
	catalog_matches
	rm -rf "$MNT/gone"
	# release and stage change the state and blocks, not data_version
	sync
	dv=$(scoutfs stat -s data_version "$MNT/z/big")
	scoutfs release -V "$dv" "$MNT/z/big"
	catalog_matches
	grep -q $'^f\tz/big\t.*\toffline\t' /tmp/indexer-cat.txt
	scoutfs stage -V "$dv" "$ARCH/big" "$MNT/z/big"
	catalog_matches
	grep -q $'^f\tz/big\t.*\tonline\t' /tmp/indexer-cat.txt
	for seed in 2 3; do
		work "$seed" 60
		catalog_matches
	done
	umount_and_fsck
}

@test "killed with SIGKILL at random moments during a workload, the restarted indexer catches up exactly" {
	work 10 30
	for round in 1 2 3; do
		work $((10 + round)) 40 3>&- &
		work=$!
		for kill in 1 2; do
			scoutfs-hsm index --interval 0 --batch 5 --catalog "$CAT" "$MNT" \
				> /tmp/indexer-bg.log 2>&1 3>&- &
			idx=$!
			random_sleep 2 25
			kill -KILL "$idx"
			wait "$idx" || true
			! grep -q "scoutfs-hsm index: " /tmp/indexer-bg.log || { cat /tmp/indexer-bg.log; false; }
		done
		wait "$work"
		# and once more in the middle of a pass over what is left
		sync
		timeout -s KILL "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + r / 32767 }')" \
			scoutfs-hsm index --once --batch 3 --catalog "$CAT" "$MNT" > /dev/null 2>&1 || true
		catalog_matches
	done
	umount_and_fsck
}

@test "hard links get one row under one of their names; symlinks and special files get none" {
	echo x > "$MNT/a"
	ln "$MNT/a" "$MNT/b"
	ln -s a "$MNT/sym"
	mkfifo "$MNT/fifo"
	ino=$(stat -c %i "$MNT/a")
	sync
	index_once
	run scoutfs-hsm index --dump --catalog "$CAT" "$MNT"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c .)" -eq 1 ]
	[[ "$output" == f$'\t'[ab]$'\t'"$ino"$'\t'* ]]
	# the name the row has goes away: the row follows to the other
	name=$(echo "$output" | cut -f2)
	other=$([ "$name" = a ] && echo b || echo a)
	rm "$MNT/$name"
	sync
	index_once
	run scoutfs-hsm index --dump --catalog "$CAT" "$MNT"
	[[ "$output" == f$'\t'"$other"$'\t'"$ino"$'\t'* ]]
	# and the last one: the row goes
	rm "$MNT/$other"
	sync
	index_once
	run scoutfs-hsm index --dump --catalog "$CAT" "$MNT"
	[ -z "$output" ]
	umount_and_fsck
}

@test "index: usage errors exit 2, a path that is not a scoutfs mount root exits 1 with the reason" {
	run scoutfs-hsm index "$MNT"
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: scoutfs-hsm index"* ]]
	run scoutfs-hsm index --once --interval x --catalog "$CAT" "$MNT"
	[ "$status" -eq 2 ]
	mkdir "$MNT/sub"
	run scoutfs-hsm index --once --catalog "$CAT" "$MNT/sub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$MNT/sub: not the root of a scoutfs mount"* ]]
	run scoutfs-hsm index --once --catalog "$CAT" /tmp
	[ "$status" -eq 1 ]
	[[ "$output" == *"/tmp: not the root of a scoutfs mount"* ]]
	run scoutfs-hsm index --dump --catalog /tmp/no-such-catalog.db "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"catalog /tmp/no-such-catalog.db"* ]]
	umount_and_fsck
}
