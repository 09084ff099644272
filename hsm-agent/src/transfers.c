// SPDX-License-Identifier: GPL-2.0
/*
 * transfers.c: thread pools for transfers, and the per-backend limits
 * (how many at once, bandwidth) they all keep (see transfers.h).
 *
 * A pool is a fixed set of threads that sleep on a condition variable;
 * wk_pool_run() publishes an array of jobs, the threads take them in
 * order from a counter under the pool's mutex, and the caller waits for
 * the count of finished jobs to reach the array's size.  A batch at a
 * time keeps a worker's step the unit of work the core knows (stop,
 * reload, the configuration it runs with stay valid for the whole step):
 * a step claims up to the pool's size of requests, runs them at once and
 * returns.
 *
 * The per-backend state is one small table under one mutex: for each
 * backend name, how many transfers run in each direction (and the most
 * seen, which tests and the status read) and the time at which its
 * bandwidth timeline is free next.  Transfers are long against the few
 * microseconds the mutex is held, so one lock for all is no contention.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transfers.h"

/* ---- thread contexts ---- */

struct hsm_catalog *wk_thread_catalog(struct wk_thread *t,
				      const struct agent_config *cfg,
				      char *err, size_t len)
{
	int ret;

	if (t->cat)
		return t->cat;
	err[0] = 0;
	ret = wk_catalog_open(cfg, &t->cat, err, len);
	if (ret) {
		if (!err[0])
			snprintf(err, len, "catalog %s: %s", cfg->catalog,
				 strerror(-ret));
		t->cat = NULL;
	}
	return t->cat;
}

/* ---- pools ---- */

struct wk_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* jobs published, or stop */
	pthread_cond_t done;	/* a job finished */
	unsigned int nr;
	bool stop;
	unsigned int gen;
	wk_job_fn fn;
	void **args;
	size_t nr_args, next, finished;
	pthread_t threads[WK_POOL_MAX];
	struct wk_thread ctx[WK_POOL_MAX];
	bool started[WK_POOL_MAX];
};

static void *pool_thread(void *arg)
{
	struct wk_pool *pool = arg;
	struct wk_thread *t = NULL;
	unsigned int i;

	pthread_mutex_lock(&pool->lock);
	/* our context: the one at our place in threads[] */
	for (i = 0; i < pool->nr; i++) {
		if (pthread_equal(pool->threads[i], pthread_self())) {
			t = &pool->ctx[i];
			break;
		}
	}
	for (;;) {
		size_t job;
		unsigned int gen;

		while (!pool->stop && pool->next >= pool->nr_args)
			pthread_cond_wait(&pool->work, &pool->lock);
		if (pool->stop)
			break;
		job = pool->next++;
		gen = pool->gen;
		pthread_mutex_unlock(&pool->lock);
		if (t->gen != gen) {
			wk_backends_close(&t->be);
			t->gen = gen;
		}
		pool->fn(t, pool->args[job]);
		pthread_mutex_lock(&pool->lock);
		if (++pool->finished == pool->nr_args)
			pthread_cond_broadcast(&pool->done);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int wk_pool_start(unsigned int nr, struct wk_pool **out)
{
	struct wk_pool *pool;
	unsigned int i;
	int ret = 0;

	*out = NULL;
	if (!nr || nr > WK_POOL_MAX)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->work, NULL);
	pthread_cond_init(&pool->done, NULL);
	/* threads look themselves up under the lock, once all are made */
	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < nr; i++) {
		pool->ctx[i].index = i;
		ret = -pthread_create(&pool->threads[i], NULL, pool_thread,
				      pool);
		if (ret)
			break;
		pool->started[i] = true;
		pool->nr++;
	}
	pthread_mutex_unlock(&pool->lock);
	if (ret) {
		wk_pool_stop(pool);
		return ret;
	}
	*out = pool;
	return 0;
}

unsigned int wk_pool_size(const struct wk_pool *pool)
{
	return pool ? pool->nr : 0;
}

void wk_pool_run(struct wk_pool *pool, wk_job_fn fn, void **args, size_t nr)
{
	if (!nr)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->args = args;
	pool->nr_args = nr;
	pool->next = 0;
	pool->finished = 0;
	pthread_cond_broadcast(&pool->work);
	while (pool->finished < pool->nr_args)
		pthread_cond_wait(&pool->done, &pool->lock);
	pool->nr_args = 0;
	pool->next = 0;
	pool->args = NULL;
	pthread_mutex_unlock(&pool->lock);
}

void wk_pool_reset_backends(struct wk_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->gen++;
	pthread_mutex_unlock(&pool->lock);
}

void wk_pool_stop(struct wk_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < WK_POOL_MAX; i++) {
		if (!pool->started[i])
			continue;
		pthread_join(pool->threads[i], NULL);
		wk_backends_close(&pool->ctx[i].be);
		hsm_catalog_close(pool->ctx[i].cat);
	}
	pthread_cond_destroy(&pool->done);
	pthread_cond_destroy(&pool->work);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static unsigned int backend_limit(const struct agent_backend_conf *b,
				  enum wk_direction dir)
{
	unsigned int n = dir == WK_ARCHIVE ? b->archive_workers :
			 b->stage_workers;

	return n ? n : 1;
}

unsigned int wk_pool_threads(const struct agent_config *cfg,
			     enum wk_direction dir)
{
	unsigned int most = 1;
	size_t i;

	for (i = 0; i < cfg->nr_backends; i++)
		if (backend_limit(&cfg->backends[i], dir) > most)
			most = backend_limit(&cfg->backends[i], dir);
	return most > WK_POOL_MAX ? WK_POOL_MAX : most;
}

/* ---- per-backend limits ---- */

#define WK_LINKS_MAX 128

struct wk_link {
	char name[AGENT_NAME_MAX];
	unsigned int running[2];
	unsigned int peak[2];
	uint64_t free_ns;	/* the bandwidth timeline is free from here */
};

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t links_cond = PTHREAD_COND_INITIALIZER;
static struct wk_link links[WK_LINKS_MAX];
static size_t nr_links;

/* Under links_lock; NULL when the table is full (then: no limit). */
static struct wk_link *link_get(const char *name)
{
	size_t i;

	for (i = 0; i < nr_links; i++)
		if (strcmp(links[i].name, name) == 0)
			return &links[i];
	if (nr_links == WK_LINKS_MAX)
		return NULL;
	snprintf(links[nr_links].name, sizeof(links[0].name), "%s", name);
	return &links[nr_links++];
}

static const struct agent_backend_conf *
backend_conf(const struct agent_config *cfg, const char *name)
{
	int i = agent_config_backend_index(cfg, name);

	return i < 0 ? NULL : &cfg->backends[i];
}

unsigned int wk_backend_limit(const struct agent_config *cfg,
			      const char *backend, enum wk_direction dir)
{
	const struct agent_backend_conf *b = backend_conf(cfg, backend);

	return b ? backend_limit(b, dir) : 1;
}

void wk_transfer_begin(const struct agent_config *cfg, const char *backend,
		       enum wk_direction dir)
{
	unsigned int limit = wk_backend_limit(cfg, backend, dir);
	struct wk_link *l;

	pthread_mutex_lock(&links_lock);
	l = link_get(backend);
	if (l) {
		while (l->running[dir] >= limit)
			pthread_cond_wait(&links_cond, &links_lock);
		l->running[dir]++;
		if (l->running[dir] > l->peak[dir])
			l->peak[dir] = l->running[dir];
	}
	pthread_mutex_unlock(&links_lock);
}

void wk_transfer_end(const char *backend, enum wk_direction dir)
{
	struct wk_link *l;

	pthread_mutex_lock(&links_lock);
	l = link_get(backend);
	if (l && l->running[dir])
		l->running[dir]--;
	pthread_cond_broadcast(&links_cond);
	pthread_mutex_unlock(&links_lock);
}

unsigned int wk_transfer_peak(const char *backend, enum wk_direction dir)
{
	struct wk_link *l;
	unsigned int n;

	pthread_mutex_lock(&links_lock);
	l = link_get(backend);
	n = l ? l->peak[dir] : 0;
	pthread_mutex_unlock(&links_lock);
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void wk_pace(const struct agent_config *cfg, const char *backend,
	     uint64_t bytes)
{
	const struct agent_backend_conf *b = backend_conf(cfg, backend);
	uint64_t now, start, cost;
	struct wk_link *l;

	if (!b || !b->bandwidth || !bytes)
		return;
	/* ns the bytes take at the cap (bytes below 2^34: no overflow) */
	cost = bytes >= (1ULL << 34) ? bytes / b->bandwidth * 1000000000ULL :
	       bytes * 1000000000ULL / b->bandwidth;
	pthread_mutex_lock(&links_lock);
	l = link_get(backend);
	now = now_ns();
	start = l && l->free_ns > now ? l->free_ns : now;
	if (l)
		l->free_ns = start + cost;
	pthread_mutex_unlock(&links_lock);
	/* our turn on the timeline: then the bytes may go */
	if (start > now) {
		struct timespec ts = {
			.tv_sec = (time_t)((start - now) / 1000000000ULL),
			.tv_nsec = (long)((start - now) % 1000000000ULL),
		};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}
