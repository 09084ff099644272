/* SPDX-License-Identifier: GPL-2.0 */
/*
 * transfers.h: running many backend transfers at once (transfers.c).
 *
 * A backend instance (and a catalog connection) is for one thread at a
 * time, so a worker that moves several files at once does it on a pool
 * of threads, each with its own catalog connection and its own instances
 * of the backends (struct wk_thread), opened on first use.
 *
 *  - wk_pool_run() runs one job per argument, as many at once as the pool
 *    has threads, and returns when every job has returned: a worker's
 *    step hands it the requests it claimed and goes on when all are done.
 *  - wk_transfer_begin()/end() bracket one transfer to or from a backend:
 *    at most archive_workers (WK_ARCHIVE) or stage_workers (WK_STAGE) of
 *    them run at once per backend, over every pool and thread; a thread
 *    beyond the limit waits for a slot.
 *  - wk_pace() keeps a backend's bandwidth cap over all of its transfers
 *    together: every chunk a transfer moves reserves the time it takes at
 *    the cap on the backend's one timeline and sleeps until its turn, so
 *    N transfers at once share the cap instead of each getting it.
 *
 * The limits and the timelines are per backend name, for the whole
 * process, so they hold across workers and across a reload (which may
 * change the numbers: a waiting thread sees the new ones).
 */
#ifndef SCOUTFS_HSM_AGENT_TRANSFERS_H
#define SCOUTFS_HSM_AGENT_TRANSFERS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "workers.h"

/* the most threads a pool runs (archive_workers goes to 1024) */
#define WK_POOL_MAX 64

enum wk_direction {
	WK_ARCHIVE = 0,
	WK_STAGE,
};

/* What each pool thread owns; a job gets its thread's. */
struct wk_thread {
	unsigned int index;
	struct hsm_catalog *cat;	/* NULL until wk_thread_catalog() */
	struct wk_backends be;
	unsigned int gen;		/* of the pool when be was opened */
};

/* The thread's catalog connection, opened on first use; NULL, err set. */
struct hsm_catalog *wk_thread_catalog(struct wk_thread *t,
				      const struct agent_config *cfg,
				      char *err, size_t len);

struct wk_pool;

typedef void (*wk_job_fn)(struct wk_thread *t, void *arg);

/* nr threads (1..WK_POOL_MAX); 0 or -errno. */
int wk_pool_start(unsigned int nr, struct wk_pool **out);
unsigned int wk_pool_size(const struct wk_pool *pool);
/* fn(thread, args[i]) for each i, pool-size at once; returns when done. */
void wk_pool_run(struct wk_pool *pool, wk_job_fn fn, void **args, size_t nr);
/* Every thread closes its backends before its next job (a reload). */
void wk_pool_reset_backends(struct wk_pool *pool);
/* Join the threads, close their catalogs and backends, free; NULL ok. */
void wk_pool_stop(struct wk_pool *pool);

/* The number of threads a worker needs for dir: the largest limit. */
unsigned int wk_pool_threads(const struct agent_config *cfg,
			     enum wk_direction dir);

/* How many transfers in dir backend (a name) runs at once; 1 if unknown. */
unsigned int wk_backend_limit(const struct agent_config *cfg,
			      const char *backend, enum wk_direction dir);

void wk_transfer_begin(const struct agent_config *cfg, const char *backend,
		       enum wk_direction dir);
void wk_transfer_end(const char *backend, enum wk_direction dir);
/* Most transfers of backend in dir seen at once since the start. */
unsigned int wk_transfer_peak(const char *backend, enum wk_direction dir);

/* Wait until backend's cap lets bytes more go (no cap: at once). */
void wk_pace(const struct agent_config *cfg, const char *backend,
	     uint64_t bytes);

#endif
