// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_index.c: `scoutfs-hsm index [--once] [--interval S] [--batch N]
 * --catalog PATH MOUNT` and `scoutfs-hsm index --dump --catalog PATH
 * MOUNT`: the indexer (indexers/walker.h) on its own, for sites without
 * an agent.
 *
 * Each pass walks the mount's meta_seq index from the seq the catalog
 * stored to the last committed one and prints one progress line per
 * committed batch that took over a second and one summary line per pass.
 * --once runs one pass and exits; otherwise passes repeat every S
 * seconds (default 10) until SIGINT or SIGTERM, which end the loop
 * between passes (a pass interrupted by a kill loses only its
 * uncommitted batch: the next run resumes).  --dump prints the catalog's
 * rows of the mount's filesystem, one a line: kind (f/d), path, ino,
 * size, data_version, state, mtime seconds, tab-separated, in inode
 * order.  Exit status: 0 done, 1 failure (the reason on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hsm_commands.h"
#include "parse.h"
#include "store.h"
#include "walker.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int index_usage(void)
{
	fprintf(stderr,
		"usage: scoutfs-hsm index [--once] [--interval SECONDS] [--batch N] --catalog PATH MOUNT\n"
		"       scoutfs-hsm index --dump --catalog PATH MOUNT\n");
	return CMD_EXIT_USAGE;
}

struct progress {
	double last;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_progress(void *arg, const struct idx_pass_stats *st,
			uint64_t at_seq)
{
	struct progress *p = arg;
	double now = mono_now();

	if (now - p->last < 1.0)
		return;
	p->last = now;
	printf("index: at seq %llu of %llu: %llu walked, %llu rows written, %llu removed\n",
	       (unsigned long long)at_seq, (unsigned long long)st->last_seq,
	       (unsigned long long)st->walked,
	       (unsigned long long)st->upserts,
	       (unsigned long long)st->deletes);
	fflush(stdout);
}

static int dump_row(void *arg, const struct idx_row *row)
{
	(void)arg;
	printf("%c\t%s\t%llu\t%llu\t%llu\t%s\t%lld\n",
	       row->kind == IDX_KIND_DIR ? 'd' : 'f', row->path,
	       (unsigned long long)row->ino, (unsigned long long)row->size,
	       (unsigned long long)row->data_version,
	       idx_state_name(row->state), (long long)row->mtime_sec);
	return 0;
}

static void print_pass(const struct idx_pass_stats *st, uint64_t rows)
{
	double rate = st->seconds > 0 ? st->looked_up / st->seconds : 0;

	printf("index: pass seq %llu..%llu: %llu walked, %llu looked up, %llu rows written, %llu removed, %llu cancelled, %llu merged, %llu dir checks, %llu batches, %llu rows, %.3f s, %.0f inodes/s\n",
	       (unsigned long long)st->first_seq,
	       (unsigned long long)st->last_seq,
	       (unsigned long long)st->walked,
	       (unsigned long long)st->looked_up,
	       (unsigned long long)st->upserts,
	       (unsigned long long)st->deletes,
	       (unsigned long long)st->cancelled,
	       (unsigned long long)st->merged,
	       (unsigned long long)st->dirs_checked,
	       (unsigned long long)st->batches,
	       (unsigned long long)rows, st->seconds, rate);
	fflush(stdout);
}

int cmd_hsm_index(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "batch", required_argument, NULL, 'b' },
		{ "catalog", required_argument, NULL, 'c' },
		{ "dump", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct idx_walker_opts wopts = { 0 };
	struct idx_walker *w = NULL;
	struct idx_store *store = NULL;
	struct idx_pass_stats st;
	struct progress prog = { 0 };
	char err[IDX_ERROR_MAX];
	const char *catalog = NULL;
	const char *mount;
	bool once = false;
	bool dump = false;
	uint64_t interval = 10;
	uint64_t batch = 0;
	uint64_t rows = 0;
	int status = CMD_EXIT_FAILURE;
	int ret;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "oi:b:c:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		case 'i':
			if (scoutfs_parse_u64(optarg, &interval) ||
			    interval > 86400) {
				fprintf(stderr, "scoutfs-hsm index: bad interval '%s' (seconds, at most 86400)\n",
					optarg);
				return CMD_EXIT_USAGE;
			}
			break;
		case 'b':
			if (scoutfs_parse_u64(optarg, &batch) || batch == 0 ||
			    batch > 4096) {
				fprintf(stderr, "scoutfs-hsm index: bad batch '%s' (1 to 4096)\n",
					optarg);
				return CMD_EXIT_USAGE;
			}
			break;
		case 'c':
			catalog = optarg;
			break;
		case 'd':
			dump = true;
			break;
		case 'h':
			index_usage();
			return CMD_EXIT_OK;
		default:
			return index_usage();
		}
	}
	if (!catalog || optind != argc - 1)
		return index_usage();
	mount = argv[optind];

	ret = idx_store_open(catalog, !dump, &store, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "scoutfs-hsm index: catalog %s: %s\n", catalog,
			err);
		return CMD_EXIT_FAILURE;
	}
	wopts.batch = batch;
	wopts.progress = on_progress;
	wopts.progress_arg = &prog;
	ret = idx_walker_open(mount, store, &wopts, &w, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "scoutfs-hsm index: %s\n", err);
		goto out;
	}

	if (dump) {
		ret = idx_store_foreach(store, idx_walker_fsid(w), dump_row,
					NULL);
		if (ret == -ENOENT) {
			ret = 0;	/* never indexed: no rows */
		} else if (ret) {
			fprintf(stderr, "scoutfs-hsm index: dump: %s\n",
				idx_store_error(store));
			goto out;
		}
		status = CMD_EXIT_OK;
		goto out;
	}

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	printf("index: %s (fsid %s) into %s\n", mount, idx_walker_fsid(w),
	       catalog);
	fflush(stdout);
	for (;;) {
		prog.last = mono_now();
		ret = idx_walker_pass(w, &st);
		if (ret) {
			fprintf(stderr, "scoutfs-hsm index: %s\n",
				idx_walker_error(w));
			goto out;
		}
		if (idx_store_count(store, idx_walker_fsid(w), &rows))
			rows = 0;
		print_pass(&st, rows);
		if (once || stop_requested)
			break;
		for (uint64_t s = 0; s < interval && !stop_requested; s++)
			sleep(1);
		if (stop_requested)
			break;
	}
	status = CMD_EXIT_OK;
out:
	idx_walker_close(w);
	idx_store_close(store);
	return status;
}
