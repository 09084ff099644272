#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/indexer.sh: changed-file discovery on one scoutfs mount, in a VM
# guest (tests/vm/run): the indexer's incremental pass
# (`scoutfs-hsm index --once`, which walks the meta_seq index) against
# `find MOUNT -newer REF -type f`, the namespace scan a site would
# otherwise run, over BENCH_INDEXER_FILES files (default 20,000, about
# 8 minutes under TCG on a busy 2-core host; the issue's size is
# 1,000,000) in directories of 1,000, of which 1% were
# changed (one byte appended) since the last pass.  Both must report
# the same changed files.  Prints
#
#   ratio indexer_vs_find = X.XX (target >= 100)
#   ratio indexer_vs_find_cold = X.XX (target >= 100)
#   ratio indexer_pass_vs_find[_cold] = X.XX (target >= 100)
#
# X = find's seconds over the indexer's (wall clock around each command,
# the indexer's process start and catalog open included; the _pass_
# lines: the pass alone, as the indexer times it), warm (the
# steady state: the indexer runs every few seconds, so what changed is
# still cached; find's tree is cached by the round before) and cold
# (caches dropped before each), and as "#" lines the first full
# pass (the ingest: rows, seconds, files per second into the catalog) and
# the catalog's bytes per file (its file size over its rows, every table
# and index included).
#
# Inside the guest the same file runs with --guest.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILES=${BENCH_INDEXER_FILES:-20000}
PER_DIR=${BENCH_INDEXER_PER_DIR:-1000}
case "$FILES$PER_DIR" in *[!0-9]*) echo "bench: BENCH_INDEXER_FILES and _PER_DIR are numbers" >&2; exit 2;; esac

# One round: 1% of the files changed after a reference time (sample
# SEED), then the indexer's pass and find -newer, each timed by the wall
# clock around the command.  cold: caches dropped before each (the
# programs themselves loaded again first, so neither pays for reading
# itself from the guest's 9p root); warm: the steady state of an indexer
# that runs every few seconds, with the changed inodes still cached and
# find's tree cached by the round before.
discovery() {
	local seed=$1 mode=$2 t0 t1 idx_s find_s n_idx n_find pass_s changed
	touch /tmp/bench-ref
	sleep 1.1
	python3 - "$mnt" "$FILES" "$PER_DIR" "$seed" <<-'EOF'
	import os, random, sys
	mnt, n, per, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	for i in random.Random(seed).sample(range(n), max(1, n // 100)):
	    p = os.path.join(mnt, "d%05d" % (i // per), "f%07d" % i)
	    with open(p, "ab") as f:
	        f.write(b"+")
	EOF
	sync
	changed=$((FILES / 100)); [ "$changed" -ge 1 ] || changed=1

	[ "$mode" = cold ] && echo 3 > /proc/sys/vm/drop_caches
	scoutfs-hsm index --help > /dev/null 2>&1 || true
	find /proc/self/fd -newer /tmp/bench-ref > /dev/null 2>&1 || true
	t0=$(date +%s.%N)
	scoutfs-hsm index --once --catalog "$cat" "$mnt" > /tmp/bench-incr.log
	t1=$(date +%s.%N)
	idx_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	n_idx=$(sed -n 's/.*: [0-9]* walked, \([0-9]*\) looked up, \([0-9]*\) rows written.*/\2/p' /tmp/bench-incr.log)
	pass_s=$(sed -n 's/.* \([0-9.]*\) s, [0-9]* inodes\/s$/\1/p' /tmp/bench-incr.log)

	[ "$mode" = cold ] && echo 3 > /proc/sys/vm/drop_caches
	scoutfs-hsm index --help > /dev/null 2>&1 || true
	find /proc/self/fd -newer /tmp/bench-ref > /dev/null 2>&1 || true
	t0=$(date +%s.%N)
	n_find=$(find "$mnt" -newer /tmp/bench-ref -type f | wc -l)
	t1=$(date +%s.%N)
	find_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')

	echo "# $mode: files $FILES, changed $changed: indexer found $n_idx in ${idx_s} s (its pass alone ${pass_s} s), find -newer found $n_find in ${find_s} s"
	if [ "$n_idx" != "$changed" ] || [ "$n_find" != "$changed" ]; then
		echo "# bench indexer: the two disagree on what changed"
		cat /tmp/bench-incr.log
		exit 1
	fi
	awk -v f="$find_s" -v i="$idx_s" -v m="$mode" 'BEGIN {
		printf "ratio indexer_vs_find%s = %.2f (target >= 100)\n", m == "cold" ? "_cold" : "", f / i }'
	# the pass alone, as the agent's indexer (one process) runs it every
	# interval: no process start, no catalog open
	awk -v f="$find_s" -v i="$pass_s" -v m="$mode" -v c="$changed" -v n="$FILES" 'BEGIN {
		printf "# %s: per changed file the pass took %.0f us, find per entry %.0f us\n", m, i * 1e6 / c, f * 1e6 / n
		printf "ratio indexer_pass_vs_find%s = %.2f (target >= 100)\n", m == "cold" ? "_cold" : "", f / i }'
}

guest() {
	meta=/dev/vda data=/dev/vdb mnt=/mnt/scoutfs cat=/tmp/bench-indexer.db
	local t0 t1 rows bytes
	export PATH="$TOP/build/default/bin:$PATH"
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$meta" "$data" > /dev/null
	mkdir -p "$mnt"
	# noatime: find's readdirs would otherwise change every directory,
	# which the next pass would then rightly walk
	mount -t scoutfs -o "noatime,metadev_path=$meta,quorum_slot_nr=0" "$data" "$mnt"

	# the tree: FILES files of 16 bytes in directories of PER_DIR
	t0=$(date +%s.%N)
	python3 - "$mnt" "$FILES" "$PER_DIR" <<-'EOF'
	import os, sys
	mnt, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	for i in range(n):
	    d = os.path.join(mnt, "d%05d" % (i // per))
	    if i % per == 0:
	        os.mkdir(d)
	    fd = os.open(os.path.join(d, "f%07d" % i), os.O_WRONLY | os.O_CREAT, 0o644)
	    os.write(fd, b"0123456789abcdef")
	    os.close(fd)
	EOF
	sync
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v n="$FILES" 'BEGIN {
		printf "# tree: %d files created and synced in %.1f s\n", n, b - a }'

	# the first full pass: the ingest
	echo 3 > /proc/sys/vm/drop_caches
	t0=$(date +%s.%N)
	scoutfs-hsm index --once --catalog "$cat" "$mnt" > /tmp/bench-first.log
	t1=$(date +%s.%N)
	rows=$(sed -n 's/.*, \([0-9]*\) rows,.*/\1/p' /tmp/bench-first.log)
	awk -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN {
		printf "# ingest: first pass %d rows in %.2f s = %.0f files/s\n", r, b - a, r / (b - a) }'
	bytes=$(cat "$cat" "$cat"-wal 2> /dev/null | wc -c)
	awk -v r="$rows" -v b="$bytes" 'BEGIN {
		printf "# catalog: %d bytes for %d rows = %.1f bytes/file\n", b, r, b / r }'

	discovery 1 cold
	discovery 2 warm
	umount "$mnt"
}

if [ "${1:-}" = --guest ]; then
	guest
	exit 0
fi

[ -r "$TOP/kmod/src/scoutfs.ko" ] || { echo "bench: no kmod/src/scoutfs.ko; run make" >&2; exit 1; }
[ -x "$TOP/build/default/bin/scoutfs-hsm" ] || { echo "bench: no scoutfs-hsm; run make" >&2; exit 1; }
mkdir -p "$TOP/build"
WORK=$(mktemp -d "$TOP/build/bench-indexer.XXXXXX")
cleanup() {
	rm -f "$WORK"/vm/disk.*
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
{
	echo '#!/bin/bash'
	echo "export BENCH_INDEXER_FILES=$FILES BENCH_INDEXER_PER_DIR=$PER_DIR"
	echo "exec bash '$TOP/bench/indexer.sh' --guest"
} > "$WORK/indexer.guest.sh"
chmod +x "$WORK/indexer.guest.sh"

rc=0
"$TOP/tests/vm/run" -q --out "$WORK/vm" --timeout "${BENCH_VM_TIMEOUT:-14400}" \
	--disk 4G --disk 8G "$WORK/indexer.guest.sh" > "$WORK/vm.tap" 2>&1 || rc=$?
log=$WORK/vm/results/0.log
[ -f "$log" ] && grep -E '^(ratio |# )' "$log" || true
if [ "$rc" -ne 0 ]; then
	BENCH_KEEP=1
	echo "bench: the guest run failed; its output and console are in $WORK" >&2
	cat "$WORK/vm.tap" >&2
	[ -f "$log" ] && tail -n 20 "$log" >&2
	exit 1
fi
exit 0
