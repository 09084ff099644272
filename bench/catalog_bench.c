// SPDX-License-Identifier: GPL-2.0
/*
 * catalog_bench.c: the catalog's size and state-change rate at scale.
 *
 *   catalog_bench CATALOG-PATH NR-FILES BATCH
 *
 * Records NR-FILES file versions, each with two copies written and
 * verified (the state changes an archive makes: record, begin, written,
 * verified per copy), BATCH calls per transaction, then prints the state
 * changes per second and the catalog's bytes per file (pages in use after
 * a checkpoint, indexes included) as bench/README's ratio lines against
 * the targets (>= 50,000 changes/s, <= 200 bytes/file).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"

#define BENCH_FSID "0123456789abcdef0123456789abcdef"
#define BENCH_COPIES 2
#define TARGET_CHANGES_PER_SEC 50000.0
#define TARGET_BYTES_PER_FILE 200.0

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(struct hsm_catalog *cat, const char *what, int ret)
{
	fprintf(stderr, "catalog_bench: %s: %d %s\n", what, ret,
		cat ? hsm_catalog_error(cat) : "");
	exit(1);
}

/* one archived file: its version and BENCH_COPIES verified copies */
static unsigned int archive_one(struct hsm_catalog *cat, uint64_t ino)
{
	struct hsm_catalog_file file = { 0 };
	struct hsm_checksum sum;
	char loc[HSM_LOCATION_MAX];
	unsigned int c;
	int64_t id;
	int ret;

	strcpy(file.fsid, BENCH_FSID);
	file.ino = ino;
	file.data_version = 1;
	file.size = 4096 + ino;
	file.mtime_sec = 1700000000 + (int64_t)ino;
	snprintf(file.path, sizeof(file.path), "d%04" PRIu64 "/file-%08" PRIu64,
		 ino / 1000, ino);
	ret = hsm_catalog_file_record(cat, &file);
	if (ret)
		die(cat, "record", ret);
	hsm_checksum_buf(&ino, sizeof(ino), &sum);
	for (c = 1; c <= BENCH_COPIES; c++) {
		/* what the directory backend's locations look like */
		snprintf(loc, sizeof(loc), "%02x/%02x/%s-%016" PRIx64 "-%016x",
			 sum.bytes[0], sum.bytes[1], BENCH_FSID, ino, 1);
		ret = hsm_catalog_copy_begin(cat, file.id, c, c == 1 ?
					     "directory" : "s3", &id);
		if (!ret)
			ret = hsm_catalog_copy_written(cat, id, loc, &sum);
		if (!ret)
			ret = hsm_catalog_copy_verified(cat, id);
		if (ret)
			die(cat, "copy", ret);
	}
	return 1 + 3 * BENCH_COPIES;
}

int main(int argc, char **argv)
{
	struct hsm_catalog *cat;
	char err[HSM_ERROR_MAX];
	uint64_t changes = 0;
	uint64_t nr;
	uint64_t ino;
	unsigned int batch;
	double t0;
	double c0;
	double cpu;
	double secs;
	double bytes;
	struct stat st;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: catalog_bench CATALOG NR-FILES BATCH\n");
		return 2;
	}
	nr = strtoull(argv[2], NULL, 0);
	batch = (unsigned int)strtoul(argv[3], NULL, 0);
	unlink(argv[1]);
	ret = hsm_catalog_open(argv[1], HSM_CATALOG_CREATE, &cat, err,
			       sizeof(err));
	if (ret) {
		fprintf(stderr, "catalog_bench: %s\n", err);
		return 1;
	}
	ret = hsm_catalog_fs_upsert(cat, BENCH_FSID, "/mnt/bench");
	if (ret)
		die(cat, "fs", ret);

	t0 = now_sec();
	c0 = cpu_sec();
	for (ino = 1; ino <= nr;) {
		uint64_t end = ino + (batch ? batch : 1);

		if (batch && (ret = hsm_catalog_batch_begin(cat)))
			die(cat, "batch begin", ret);
		for (; ino < end && ino <= nr; ino++)
			changes += archive_one(cat, ino);
		if (batch && (ret = hsm_catalog_batch_end(cat, true)))
			die(cat, "batch end", ret);
	}
	secs = now_sec() - t0;
	cpu = cpu_sec() - c0;
	hsm_catalog_close(cat);

	/* the WAL folded in at close: the file is the whole catalog */
	if (stat(argv[1], &st))
		die(NULL, "stat", -errno);
	bytes = (double)st.st_size / (double)nr;
	printf("catalog: %" PRIu64 " files, %u copies each, %" PRIu64
	       " state changes in %.2f s (%.2f s CPU): %.0f changes/s"
	       " (%.0f per CPU second), %.1f bytes/file\n",
	       nr, BENCH_COPIES, changes, secs, cpu, (double)changes / secs,
	       (double)changes / cpu, bytes);
	printf("ratio catalog_state_changes_per_sec_vs_target = %.2f (target >= 1.00)\n",
	       (double)changes / secs / TARGET_CHANGES_PER_SEC);
	printf("ratio catalog_bytes_per_file_vs_target = %.2f (target >= 1.00)\n",
	       TARGET_BYTES_PER_FILE / bytes);
	return 0;
}
