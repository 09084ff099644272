// SPDX-License-Identifier: GPL-2.0
/*
 * test_transfers.c: the agent's transfer pools and per-backend limits
 * (hsm-agent/src/transfers.c): jobs of one batch really run at once, no
 * backend has more transfers at once than its archive_workers, one
 * bandwidth cap holds over all of a backend's transfers together, and
 * against moto_server (tests/s3/moto-start; skipped when moto is not
 * installed) S3 puts run archive_workers at once, each pool thread on
 * its own backend instance.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "hsm_test_s3.h"
#include "hsm_test_util.h"
#include "transfers.h"

static struct hsm_test_s3_server moto = { .script = "moto-start" };

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A configuration from text, in a file of its own; the test fails if bad. */
static struct agent_config *load_config(const char *text)
{
	char dir[] = "/tmp/agent-transfers-XXXXXX", path[PATH_MAX];
	struct agent_config_errors errs = { 0 };
	struct agent_config *cfg = NULL;
	size_t i;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (agent_config_load(path, &cfg, &errs)) {
		for (i = 0; i < errs.nr; i++)
			print_message("# %s\n", errs.msgs[i]);
		fail_msg("configuration refused");
	}
	agent_config_errors_free(&errs);
	unlink(path);
	rmdir(dir);
	return cfg;
}

/* ---- pools ---- */

struct overlap {
	atomic_uint running;
	atomic_uint peak;
	atomic_uint seen[WK_POOL_MAX];
};

static void overlap_enter(struct overlap *o)
{
	unsigned int n = atomic_fetch_add(&o->running, 1) + 1;
	unsigned int p = atomic_load(&o->peak);

	while (n > p && !atomic_compare_exchange_weak(&o->peak, &p, n))
		;
}

static void overlap_leave(struct overlap *o)
{
	atomic_fetch_sub(&o->running, 1);
}

static void sleepy_job(struct wk_thread *t, void *arg)
{
	struct overlap *o = arg;

	atomic_fetch_add(&o->seen[t->index], 1);
	overlap_enter(o);
	sleep_ms(150);
	overlap_leave(o);
}

static void pool_runs_a_batch_at_once(void **state)
{
	struct overlap o = { 0 };
	struct wk_pool *pool;
	void *args[8];
	uint64_t start, took;
	unsigned int i, used = 0;

	(void)state;
	assert_int_equal(wk_pool_start(4, &pool), 0);
	assert_int_equal(wk_pool_size(pool), 4);
	for (i = 0; i < 8; i++)
		args[i] = &o;
	start = ms_now();
	wk_pool_run(pool, sleepy_job, args, 8);
	took = ms_now() - start;
	/* eight 150 ms jobs, four at a time: two rounds, not eight */
	assert_int_equal(atomic_load(&o.peak), 4);
	assert_true(took >= 290);
	assert_true(took < 2000);
	for (i = 0; i < 4; i++)
		used += atomic_load(&o.seen[i]) ? 1 : 0;
	assert_true(used >= 2);
	wk_pool_stop(pool);
	assert_int_equal(wk_pool_start(0, &pool), -EINVAL);
	assert_int_equal(wk_pool_start(WK_POOL_MAX + 1, &pool), -EINVAL);
}

/* ---- per-backend slots ---- */

struct slot_job {
	const struct agent_config *cfg;
	const char *backend;
	struct overlap *o;
};

static void slot_job_run(struct wk_thread *t, void *arg)
{
	struct slot_job *j = arg;

	(void)t;
	wk_transfer_begin(j->cfg, j->backend, WK_ARCHIVE);
	overlap_enter(j->o);
	sleep_ms(60);
	overlap_leave(j->o);
	wk_transfer_end(j->backend, WK_ARCHIVE);
}

static void transfers_are_bounded_per_backend(void **state)
{
	struct agent_config *cfg = load_config(
		"catalog = \"/tmp/none.db\";\n"
		"backends = (\n"
		" { name = \"slots-a\"; type = \"dir\"; root = \"/tmp\";"
		"   archive_workers = 2; },\n"
		" { name = \"slots-b\"; type = \"dir\"; root = \"/tmp\";"
		"   archive_workers = 3; stage_workers = 5; }\n"
		");\n");
	struct overlap oa = { 0 }, ob = { 0 };
	struct slot_job jobs[12];
	struct wk_pool *pool;
	void *args[12];
	unsigned int i;

	(void)state;
	assert_int_equal(wk_pool_threads(cfg, WK_ARCHIVE), 3);
	assert_int_equal(wk_pool_threads(cfg, WK_STAGE), 5);
	assert_int_equal(wk_pool_start(6, &pool), 0);
	for (i = 0; i < 12; i++) {
		jobs[i].cfg = cfg;
		jobs[i].backend = i % 2 ? "slots-a" : "slots-b";
		jobs[i].o = i % 2 ? &oa : &ob;
		args[i] = &jobs[i];
	}
	wk_pool_run(pool, slot_job_run, args, 12);
	/* six threads, but never more than each backend allows */
	assert_int_equal(atomic_load(&oa.peak), 2);
	assert_int_equal(atomic_load(&ob.peak), 3);
	assert_int_equal(wk_transfer_peak("slots-a", WK_ARCHIVE), 2);
	assert_int_equal(wk_transfer_peak("slots-b", WK_ARCHIVE), 3);
	assert_int_equal(wk_transfer_peak("slots-b", WK_STAGE), 0);
	wk_pool_stop(pool);
	agent_config_free(cfg);
}

/* ---- bandwidth ---- */

struct pace_job {
	const struct agent_config *cfg;
	uint64_t bytes;
};

static void pace_job_run(struct wk_thread *t, void *arg)
{
	struct pace_job *j = arg;
	uint64_t done;

	(void)t;
	for (done = 0; done < j->bytes; done += 64 * 1024)
		wk_pace(j->cfg, "capped", 64 * 1024);
}

static void bandwidth_cap_holds_over_all_transfers(void **state)
{
	struct agent_config *cfg = load_config(
		"catalog = \"/tmp/none.db\";\n"
		"backends = ( { name = \"capped\"; type = \"dir\";"
		" root = \"/tmp\"; archive_workers = 4; bandwidth = \"2M\"; } );\n");
	struct pace_job jobs[4];
	struct wk_pool *pool;
	void *args[4];
	uint64_t start, took;
	unsigned int i;

	(void)state;
	assert_int_equal(wk_pool_start(4, &pool), 0);
	for (i = 0; i < 4; i++) {
		jobs[i].cfg = cfg;
		jobs[i].bytes = 512 * 1024;
		args[i] = &jobs[i];
	}
	start = ms_now();
	wk_pool_run(pool, pace_job_run, args, 4);
	took = ms_now() - start;
	/*
	 * 2 MiB at 2 MiB/s over four transfers: about a second (the first
	 * chunk goes at once), where a cap per transfer would take 0.25 s.
	 */
	print_message("# 4 x 512 KiB at a 2 MiB/s cap: %llu ms\n",
		      (unsigned long long)took);
	assert_true(took >= 900);
	assert_true(took < 3000);
	wk_pool_stop(pool);
	agent_config_free(cfg);
}

/* ---- S3 puts at once, against moto ---- */

#define S3_JOBS 6
#define S3_WORKERS 3
#define S3_SIZE (3 * HSM_TEST_MiB)

struct s3_job {
	const struct agent_config *cfg;
	struct overlap *o;
	unsigned int nr;
	struct hsm_backend *be;		/* the instance the thread used */
	unsigned int thread;
	int ret;
	char error[HSM_ERROR_MAX + 128];
};

struct counting_reader {
	struct hsm_test_reader rd;
	struct overlap *o;
	bool in;
};

/* In flight from the first byte read until the stream ends. */
static ssize_t counting_read(void *arg, void *buf, size_t len)
{
	struct counting_reader *cr = arg;
	ssize_t n;

	if (!cr->in) {
		cr->in = true;
		overlap_enter(cr->o);
	}
	n = hsm_test_read(&cr->rd, buf, len);
	if (n == 0 && cr->in) {
		/* hold the slot a little so overlaps are visible */
		sleep_ms(100);
	}
	return n;
}

static void s3_job_run(struct wk_thread *t, void *arg)
{
	struct s3_job *j = arg;
	struct counting_reader cr = { .o = j->o };
	struct hsm_test_writer wr;
	struct hsm_object_info info;
	struct hsm_put_result res;
	char err[HSM_ERROR_MAX + 128];

	j->thread = t->index;
	j->be = wk_backend(&t->be, j->cfg, "moto", err, sizeof(err));
	if (!j->be) {
		j->ret = -EIO;
		snprintf(j->error, sizeof(j->error), "%s", err);
		return;
	}
	hsm_test_s3_info(&info, 900 + j->nr, S3_SIZE);
	hsm_test_reader_init(&cr.rd, 70 + j->nr, HSM_TEST_PATTERN_RANDOM,
			     S3_SIZE);
	wk_transfer_begin(j->cfg, "moto", WK_ARCHIVE);
	j->ret = j->be->ops->put(j->be, &info, counting_read, &cr, &res);
	if (cr.in)
		overlap_leave(j->o);
	wk_transfer_end("moto", WK_ARCHIVE);
	if (j->ret) {
		snprintf(j->error, sizeof(j->error), "%s",
			 hsm_backend_error(j->be));
		return;
	}
	/* and it is there, byte for byte */
	hsm_test_writer_init(&wr, 70 + j->nr, HSM_TEST_PATTERN_RANDOM, 0);
	j->ret = j->be->ops->get(j->be, res.location, 0, UINT64_MAX,
				 hsm_test_write, &wr);
	if (!j->ret && (wr.bytes != S3_SIZE || wr.mismatches))
		j->ret = -EBADMSG;
	hsm_test_writer_release(&wr);
	j->be->ops->del(j->be, res.location);
}

static void s3_puts_run_archive_workers_at_once(void **state)
{
	struct s3_job jobs[S3_JOBS];
	struct overlap o = { 0 };
	struct agent_config *cfg;
	struct wk_pool *pool;
	void *args[S3_JOBS];
	char text[2048];
	unsigned int i, k;

	(void)state;
	if (!moto.is_available)
		skip();
	snprintf(text, sizeof(text),
		 "catalog = \"/tmp/none.db\";\n"
		 "backends = ( { name = \"moto\"; type = \"s3\";"
		 " endpoint = \"%s\"; bucket = \"%s\"; access_key = \"%s\";"
		 " secret_key = \"%s\"; key_prefix = \"t/\"; retries = 2;"
		 " multipart_threshold = \"64M\";"
		 " archive_workers = %d; } );\n",
		 moto.endpoint, HSM_TEST_S3_BUCKET, moto.access_key,
		 moto.secret_key, S3_WORKERS);
	cfg = load_config(text);
	assert_int_equal(wk_pool_threads(cfg, WK_ARCHIVE), S3_WORKERS);
	assert_int_equal(wk_pool_start(wk_pool_threads(cfg, WK_ARCHIVE),
				       &pool), 0);
	for (i = 0; i < S3_JOBS; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].cfg = cfg;
		jobs[i].o = &o;
		jobs[i].nr = i;
		args[i] = &jobs[i];
	}
	wk_pool_run(pool, s3_job_run, args, S3_JOBS);
	for (i = 0; i < S3_JOBS; i++)
		if (jobs[i].ret)
			fail_msg("put %u: %s", i, jobs[i].error);
	assert_int_equal(atomic_load(&o.peak), S3_WORKERS);
	assert_int_equal(wk_transfer_peak("moto", WK_ARCHIVE), S3_WORKERS);
	/* one backend instance per thread, never shared between threads */
	for (i = 0; i < S3_JOBS; i++)
		for (k = 0; k < S3_JOBS; k++)
			assert_int_equal(jobs[k].be == jobs[i].be,
					 jobs[k].thread == jobs[i].thread);
	wk_pool_stop(pool);
	agent_config_free(cfg);
}

static int group_setup(void **state)
{
	(void)state;
	return hsm_test_s3_group_start(&moto, "the S3 test");
}

static int group_teardown(void **state)
{
	(void)state;
	hsm_test_s3_stop(&moto, "");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_runs_a_batch_at_once),
		cmocka_unit_test(transfers_are_bounded_per_backend),
		cmocka_unit_test(bandwidth_cap_holds_over_all_transfers),
		cmocka_unit_test(s3_puts_run_archive_workers_at_once),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
