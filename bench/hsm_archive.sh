#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/hsm_archive.sh: archive throughput of the HSM backends against the
# tools a site would otherwise use, side by side on the same data and disk.
#
#   dir_vs_cp        large files archived to the directory backend vs cp
#   s3_vs_rclone     the same files to s3rver vs `rclone copy` to the same s3rver
#   s3_small_vs_rclone  BENCH_S3_SMALL_FILES (2,000) of the 4 KiB files the
#                    same way: objects in flight at once against rclone's
#                    --transfers (4, its default; ours: parallel_objects 4)
#   tape_aggregate   small files aggregated into pax segments on file-backed
#                    tape volumes vs one S3 object per file
#
# Each prints "ratio NAME = X.XX (target >= Y)", X = our speed over theirs.
# Sizes default to the targets' definition (2 GiB of large files, 100,000
# 4 KiB files); BENCH_LARGE_MB and BENCH_SMALL_FILES shrink them for a
# quick look.  s3rver is the loopback S3 server the tests use.
#
# The S3 comparisons run BENCH_ROUNDS (3) rounds, ours and rclone's
# alternately, each into a fresh prefix, and compare the median times, so
# that load from other users of the machine falls on both sides alike.
# BENCH_ONLY=s3 runs the S3 comparisons alone.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LARGE_MB=${BENCH_LARGE_MB:-2048}
SMALL_FILES=${BENCH_SMALL_FILES:-100000}
S3_SMALL_FILES=${BENCH_S3_SMALL_FILES:-2000}
ROUNDS=${BENCH_ROUNDS:-3}
ONLY=${BENCH_ONLY:-}
LARGE_FILES=8
PUT=$TOP/build/default/bench/hsm_put

make -s -C "$TOP/bench"
WORK=$(mktemp -d "$TOP/build/bench.XXXXXX")
S3PID=""
cleanup() {
	[ -z "$S3PID" ] || "$TOP/tests/s3/s3rver-stop" "$S3PID" "$S3DIR" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
# seconds taken by a command
timed() {
	local t0
	t0=$(now)
	"$@" > /dev/null || { echo "bench: failed: $*" >&2; exit 1; }
	echo "$(now) - $t0" | bc -l
}
ratio() { # NAME OURS_SECS THEIRS_SECS TARGET
	printf 'ratio %s = %.2f (target >= %s)\n' "$1" "$(echo "$3 / $2" | bc -l)" "$4"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

[ "$ONLY" != s3 ] || SMALL_FILES=$S3_SMALL_FILES
[ "$SMALL_FILES" -ge "$S3_SMALL_FILES" ] || SMALL_FILES=$S3_SMALL_FILES
echo "# bench: ${LARGE_FILES} files totalling ${LARGE_MB} MiB, ${SMALL_FILES} x 4 KiB files, in $WORK"
mkdir -p "$WORK/large" "$WORK/small" "$WORK/archive-dir" "$WORK/volumes"
for i in $(seq 1 $LARGE_FILES); do
	head -c $((LARGE_MB * 1024 * 1024 / LARGE_FILES)) /dev/urandom > "$WORK/large/f$i"
done
ls "$WORK"/large/* > "$WORK/large.list"
(cd "$WORK/small" && seq 1 "$SMALL_FILES" | xargs -n 1000 sh -c 'for n; do head -c 4096 /dev/urandom > $n; done' sh)
find "$WORK/small" -type f > "$WORK/small.list"
mkdir -p "$WORK/s3small"
head -n "$S3_SMALL_FILES" "$WORK/small.list" | xargs cp -t "$WORK/s3small"
ls "$WORK"/s3small/* > "$WORK/s3small.list"
sync

if [ "$ONLY" != s3 ]; then
	# directory backend vs cp, same disk
	ours=$(timed "$PUT" dir "$WORK/archive-dir" < "$WORK/large.list")
	theirs=$(timed sh -c "mkdir -p '$WORK/cp' && cp '$WORK'/large/* '$WORK/cp/' && sync")
	ratio dir_vs_cp "$ours" "$theirs" 0.9
fi

# S3 vs rclone, same s3rver
eval "$("$TOP/tests/s3/s3rver-start" -b bench)"
S3PID=$S3RVER_PID S3DIR=$S3RVER_DIR
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
ENDPOINT=http://127.0.0.1:$S3RVER_PORT
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
	RCLONE_CONFIG_BENCH_ENDPOINT=$ENDPOINT RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER \
	RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
# S3 vs rclone: LIST NAME DIR TARGET, rounds alternating ours and theirs
s3_vs_rclone() {
	local round ours theirs
	: > "$WORK/ours.times"
	: > "$WORK/theirs.times"
	for round in $(seq 1 "$ROUNDS"); do
		timed "$PUT" s3 "$ENDPOINT" bench < "$WORK/$1" >> "$WORK/ours.times"
		# plain http on loopback: no CA bundle from the environment applies
		AWS_CA_BUNDLE= timed rclone copy "$WORK/$3" "bench:bench/rclone-$2-$round" \
			>> "$WORK/theirs.times"
	done
	ours=$(median < "$WORK/ours.times")
	theirs=$(median < "$WORK/theirs.times")
	echo "# $2: ours $(tr '\n' ' ' < "$WORK/ours.times")s, rclone $(tr '\n' ' ' < "$WORK/theirs.times")s"
	ratio "$2" "$ours" "$theirs" "$4"
}
s3_vs_rclone large.list s3_vs_rclone large 1.0
s3_vs_rclone s3small.list s3_small_vs_rclone s3small 1.0
[ "$ONLY" != s3 ] || exit 0

# aggregation on tape volumes vs one S3 object per file
ours=$(timed "$PUT" tape "$WORK/volumes" < "$WORK/small.list")
theirs=$(timed "$PUT" s3 "$ENDPOINT" bench < "$WORK/small.list")
ratio tape_aggregate_vs_s3_per_object "$ours" "$theirs" 10
