#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/catalog.sh: the catalog at scale (bench/catalog_bench.c): state
# changes per second with batched transactions (target >= 50,000) and
# bytes per archived file with two copies, indexes included (target
# <= 200), at 1,000,000 files.  BENCH_CATALOG_FILES shrinks it for a
# quick look; BENCH_CATALOG_BATCH sets the calls per transaction.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILES=${BENCH_CATALOG_FILES:-1000000}
BATCH=${BENCH_CATALOG_BATCH:-1000}

make -s -C "$TOP/bench"
WORK=$(mktemp -d "$TOP/build/bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$TOP/build/default/bench/catalog_bench" "$WORK/catalog.db" "$FILES" "$BATCH"
