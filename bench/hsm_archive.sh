#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/hsm_archive.sh: archive throughput of the HSM backends against the
# tools a site would otherwise use, side by side on the same data and disk.
#
#   dir_vs_cp        large files archived to the directory backend vs cp
#   s3_vs_rclone     the same files to s3rver vs `rclone copy` to the same s3rver
#   tape_aggregate   small files aggregated into pax segments on file-backed
#                    tape volumes vs one S3 object per file
#
# Each prints "ratio NAME = X.XX (target >= Y)", X = our speed over theirs.
# Sizes default to the targets' definition (2 GiB of large files, 100,000
# 4 KiB files); BENCH_LARGE_MB and BENCH_SMALL_FILES shrink them for a
# quick look.  s3rver is the loopback S3 server the tests use.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LARGE_MB=${BENCH_LARGE_MB:-2048}
SMALL_FILES=${BENCH_SMALL_FILES:-100000}
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

echo "# bench: ${LARGE_FILES} files totalling ${LARGE_MB} MiB, ${SMALL_FILES} x 4 KiB files, in $WORK"
mkdir -p "$WORK/large" "$WORK/small" "$WORK/archive-dir" "$WORK/volumes"
for i in $(seq 1 $LARGE_FILES); do
	head -c $((LARGE_MB * 1024 * 1024 / LARGE_FILES)) /dev/urandom > "$WORK/large/f$i"
done
ls "$WORK"/large/* > "$WORK/large.list"
(cd "$WORK/small" && seq 1 "$SMALL_FILES" | xargs -n 1000 sh -c 'for n; do head -c 4096 /dev/urandom > $n; done' sh)
find "$WORK/small" -type f > "$WORK/small.list"
sync

# directory backend vs cp, same disk
ours=$(timed "$PUT" dir "$WORK/archive-dir" < "$WORK/large.list")
theirs=$(timed sh -c "mkdir -p '$WORK/cp' && cp '$WORK'/large/* '$WORK/cp/' && sync")
ratio dir_vs_cp "$ours" "$theirs" 0.9

# S3 vs rclone, same s3rver
eval "$("$TOP/tests/s3/s3rver-start" -b bench)"
S3PID=$S3RVER_PID S3DIR=$S3RVER_DIR
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
ENDPOINT=http://127.0.0.1:$S3RVER_PORT
ours=$(timed "$PUT" s3 "$ENDPOINT" bench < "$WORK/large.list")
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
	RCLONE_CONFIG_BENCH_ENDPOINT=$ENDPOINT RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER \
	RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
# plain http on loopback: no CA bundle from the environment applies
theirs=$(AWS_CA_BUNDLE= timed rclone copy "$WORK/large" bench:bench/rclone)
ratio s3_vs_rclone "$ours" "$theirs" 1.0

# aggregation on tape volumes vs one S3 object per file
ours=$(timed "$PUT" tape "$WORK/volumes" < "$WORK/small.list")
theirs=$(timed "$PUT" s3 "$ENDPOINT" bench < "$WORK/small.list")
ratio tape_aggregate_vs_s3_per_object "$ours" "$theirs" 10
