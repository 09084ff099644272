#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/tape_recall.sh: recall of files spread over tape volumes in the
# order requests arrive vs in position order (hsm_tape_order(): each
# volume once, the copies on it front to back, located by block address),
# on file-backed volumes whose drive timing is simulated: the simulated
# times are slept, so the ratio is wall clock.  Prints
#
#   ratio tape_ordered_recall = X.XX (target >= 5)
#
# X = request-order time over position-order time.  BENCH_TAPE_FILES
# (default 1000) and BENCH_TAPE_VOLUMES (4) set the size; the drive's
# times: BENCH_TAPE_LOAD_MS (30), BENCH_TAPE_LOCATE_MS (2),
# BENCH_TAPE_LOCATE_US_PER_MIB (1000), BENCH_TAPE_READ_MIB_S (300).
# bench/tape_recall.c explains the run.  About a minute here.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILES=${BENCH_TAPE_FILES:-1000}
VOLUMES=${BENCH_TAPE_VOLUMES:-4}

make -s -C "$TOP/bench"
mkdir -p "$TOP/build"
WORK=$(mktemp -d "$TOP/build/bench-tape.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$TOP/build/default/bench/tape_recall" "$WORK" "$FILES" "$VOLUMES"
