// SPDX-License-Identifier: GPL-2.0
/*
 * tape_recall.c: what position-ordered recall gains on tape, timed on
 * file-backed volumes whose drive timing is simulated (tape_volume.c):
 * loading a volume, locating in proportion to the distance, reading at a
 * rate.  The simulated time is slept, so the wall clock shows it.
 *
 *   tape_recall DIR FILES VOLUMES
 *
 * writes FILES files of 16 to 128 KiB (deterministic pseudo-random bytes)
 * to VOLUMES volumes under DIR with no simulation, then recalls all of
 * them twice, each time with a fresh backend whose drive is empty:
 *   request order: a shuffled order, as stage requests arrive, one get()
 *     each (what a stager does without help);
 *   position order: the same requests ordered by hsm_tape_order() first.
 * Every get reads the whole copy and checks its checksum.  It prints both
 * times, the drive counters, and the ratio line for bench/tape_recall.sh.
 * The simulated times are small (BENCH_TAPE_LOAD_MS etc. change them) so
 * the run takes about a minute; their proportions are an LTO drive's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_tape.h"

#define BENCH_FSID "0123456789abcdef0123456789abcdef"
#define BENCH_MIN_BYTES (16 * 1024)
#define BENCH_MAX_BYTES (128 * 1024)
#define BENCH_SEGMENT_BYTES (4 * 1024 * 1024)

struct bench_source {
	uint64_t state;
	uint64_t left;
};

static uint64_t bench_next(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 11;
}

static ssize_t bench_read(void *arg, void *buf, size_t len)
{
	struct bench_source *src = arg;
	unsigned char *p = buf;
	size_t i;

	if (len > src->left)
		len = (size_t)src->left;
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)bench_next(&src->state);
	src->left -= len;
	return (ssize_t)len;
}

static int bench_discard(void *arg, const void *buf, size_t len)
{
	(void)buf;
	*(uint64_t *)arg += len;
	return 0;
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned int bench_env(const char *name, unsigned int def)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 10) : def;
}

static int bench_open(struct hsm_tape_config *cfg, struct hsm_backend **be)
{
	char err[HSM_ERROR_MAX] = "";

	if (hsm_tape_create(cfg, be, err, sizeof(err))) {
		fprintf(stderr, "tape_recall: %s\n", err);
		return -1;
	}
	return 0;
}

/* Recall every location in order; seconds, or < 0 on a failure. */
static double bench_recall(struct hsm_tape_config *cfg, char **locs,
			   const size_t *order, size_t nr,
			   struct hsm_tape_stats *st)
{
	struct hsm_backend *be;
	uint64_t bytes = 0;
	double t0;
	size_t i;
	int ret;

	if (bench_open(cfg, &be))
		return -1;
	t0 = bench_now();
	for (i = 0; i < nr; i++) {
		ret = be->ops->get(be, locs[order[i]], 0, UINT64_MAX,
				   bench_discard, &bytes);
		if (ret) {
			fprintf(stderr, "tape_recall: get %s: %s\n",
				locs[order[i]], hsm_backend_error(be));
			hsm_backend_destroy(be);
			return -1;
		}
	}
	t0 = bench_now() - t0;
	hsm_tape_get_stats(be, st);
	hsm_backend_destroy(be);
	return t0;
}

static double bench_ordered(struct hsm_tape_config *cfg, char **locs,
			    const size_t *request, size_t nr,
			    struct hsm_tape_stats *st)
{
	const char **asked = calloc(nr, sizeof(*asked));
	size_t *order = calloc(nr, sizeof(*order));
	struct hsm_backend *be;
	double secs = -1;
	size_t i;

	if (!asked || !order || bench_open(cfg, &be))
		goto out;
	for (i = 0; i < nr; i++)
		asked[i] = locs[request[i]];
	/* the ordering is part of the time: the stager pays for it */
	secs = bench_now();
	if (hsm_tape_order(be, asked, nr, order)) {
		hsm_backend_destroy(be);
		secs = -1;
		goto out;
	}
	secs = bench_now() - secs;
	hsm_backend_destroy(be);
	for (i = 0; i < nr; i++)
		order[i] = request[order[i]];
	{
		double t = bench_recall(cfg, locs, order, nr, st);

		secs = t < 0 ? -1 : secs + t;
	}
out:
	free(asked);
	free(order);
	return secs;
}

static void bench_print(const char *name, double secs,
			const struct hsm_tape_stats *st)
{
	printf("%-15s %7.2f s  loads %" PRIu64 ", locates %" PRIu64
	       ", spaces %" PRIu64 ", read %.1f MiB, simulated %.2f s\n",
	       name, secs, st->loads, st->locates, st->spaces,
	       (double)st->bytes_read / (1024.0 * 1024.0),
	       (double)st->sim_us / 1e6);
}

int main(int argc, char **argv)
{
	struct hsm_tape_volume_config vols[26];
	char labels[26][8];
	struct hsm_tape_config cfg = { 0 };
	struct hsm_tape_stats st_req;
	struct hsm_tape_stats st_ord;
	struct hsm_backend *be = NULL;
	struct bench_source src;
	uint64_t seed = 12345;
	uint64_t total = 0;
	size_t *request;
	char **locs;
	size_t nr;
	size_t nr_vols;
	size_t i;
	double t_req;
	double t_ord;

	if (argc != 4) {
		fprintf(stderr, "usage: tape_recall DIR FILES VOLUMES\n");
		return 2;
	}
	nr = strtoul(argv[2], NULL, 10);
	nr_vols = strtoul(argv[3], NULL, 10);
	if (!nr || !nr_vols || nr_vols > 26)
		return 2;
	locs = calloc(nr, sizeof(*locs));
	request = calloc(nr, sizeof(*request));
	if (!locs || !request)
		return 1;

	/* sizes first: the volumes split the total evenly */
	for (i = 0; i < nr; i++)
		total += BENCH_MIN_BYTES + bench_next(&seed) %
			 (BENCH_MAX_BYTES - BENCH_MIN_BYTES);
	for (i = 0; i < nr_vols; i++) {
		snprintf(labels[i], sizeof(labels[i]), "VOL%c01", 'A' + (int)i);
		vols[i].label = labels[i];
		/* headers, segment ends and label: a few percent more */
		vols[i].capacity = total / nr_vols + total / nr_vols / 16 +
				   1024 * 1024;
		vols[i].slot = 0;
	}
	cfg.volume_dir = argv[1];
	cfg.volumes = vols;
	cfg.nr_volumes = nr_vols;
	cfg.segment_bytes = BENCH_SEGMENT_BYTES;
	if (bench_open(&cfg, &be))
		return 1;
	seed = 12345;
	for (i = 0; i < nr; i++) {
		struct hsm_object_info info = { .fsid = BENCH_FSID,
						.ino = i + 1,
						.data_version = 1,
						.copy_num = 1 };
		struct hsm_put_result res;

		info.size = BENCH_MIN_BYTES + bench_next(&seed) %
			    (BENCH_MAX_BYTES - BENCH_MIN_BYTES);
		src.state = i + 1;
		src.left = info.size;
		if (be->ops->put(be, &info, bench_read, &src, &res)) {
			fprintf(stderr, "tape_recall: put: %s\n",
				hsm_backend_error(be));
			return 1;
		}
		locs[i] = strdup(res.location);
		if (!locs[i])
			return 1;
	}
	if (hsm_tape_flush(be)) {
		fprintf(stderr, "tape_recall: flush: %s\n", hsm_backend_error(be));
		return 1;
	}
	hsm_backend_destroy(be);

	/* requests arrive in no particular order */
	for (i = 0; i < nr; i++)
		request[i] = i;
	seed = 777;
	for (i = nr - 1; i > 0; i--) {
		size_t j = (size_t)(bench_next(&seed) % (i + 1));
		size_t t = request[i];

		request[i] = request[j];
		request[j] = t;
	}

	cfg.sim.load_us = bench_env("BENCH_TAPE_LOAD_MS", 30) * 1000;
	cfg.sim.locate_us = bench_env("BENCH_TAPE_LOCATE_MS", 2) * 1000;
	cfg.sim.locate_us_per_mib = bench_env("BENCH_TAPE_LOCATE_US_PER_MIB",
					      1000);
	cfg.sim.read_mib_per_s = bench_env("BENCH_TAPE_READ_MIB_S", 300);
	printf("%zu files, %.1f MiB on %zu volumes; drive: load %u ms, locate %u ms + %u us/MiB, read %u MiB/s\n",
	       nr, (double)total / (1024.0 * 1024.0), nr_vols,
	       cfg.sim.load_us / 1000, cfg.sim.locate_us / 1000,
	       cfg.sim.locate_us_per_mib, cfg.sim.read_mib_per_s);

	t_req = bench_recall(&cfg, locs, request, nr, &st_req);
	if (t_req < 0)
		return 1;
	bench_print("request order", t_req, &st_req);
	t_ord = bench_ordered(&cfg, locs, request, nr, &st_ord);
	if (t_ord < 0)
		return 1;
	bench_print("position order", t_ord, &st_ord);
	printf("ratio tape_ordered_recall = %.2f (target >= 5)\n",
	       t_req / t_ord);

	for (i = 0; i < nr; i++)
		free(locs[i]);
	free(locs);
	free(request);
	return 0;
}
