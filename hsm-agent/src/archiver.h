/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archiver.h: what archiver.c (planning, running requests) and
 * archiver_pack.c (packing small files for S3) share.  Internal to the
 * archiver; the core knows it only as agent_archiver_ops.
 *
 * Locks: lock covers the event queue, the counters and last_error;
 * pend_lock the list of files to look at again; pack_lock the open packs
 * and every held request (struct ar_held).  Requests run on the pool's
 * threads (transfers.h), each with its own catalog connection and
 * backends; planning, claiming and the timed pack flushes run in the
 * worker's own thread, between pool batches.
 */
#ifndef SCOUTFS_HSM_AGENT_ARCHIVER_H
#define SCOUTFS_HSM_AGENT_ARCHIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pack.h"
#include "transfers.h"
#include "workers.h"

#define AR_RETRY_S 60		/* a file whose copy failed is planned again */
#define AR_RECYCLE_S 60		/* dead packs are looked for this often */
#define AR_RECYCLE_PAGE 64

enum { AR_OK = 0, AR_RETRY, AR_GIVE_UP };

struct ar_pending {
	uint64_t ino;
	time_t due;		/* wall clock: ages are against ctime */
};

/*
 * One request with copies in packs: finished (completed or failed with
 * the worst outcome seen) by whoever drops the last reference, the
 * request's run or the flush of the last of its members' packs.
 */
struct ar_held {
	int64_t req_id;
	uint64_t ino;
	char path[PATH_MAX];
	unsigned int refs;
	int res;		/* AR_OK, AR_RETRY, AR_GIVE_UP */
	char why[HSM_ERROR_MAX + 256];
};

/* The open pack of one backend (by its index in the configuration). */
struct ar_open_pack {
	struct hsm_pack pack;
	bool is_open;
	char backend[AGENT_NAME_MAX];
	uint64_t opened_ms;	/* when its first member went in */
};

struct archiver {
	struct agent_worker *w;
	struct wk_fs fs;
	struct hsm_catalog *cat;	/* the worker thread's */
	struct wk_backends be;		/* the worker thread's */
	struct wk_pool *pool;
	bool started;		/* recovery and the first scan done */
	const struct agent_config *cfg;	/* of the running step, for stop() */
	pthread_mutex_t lock;	/* evq, the counters, last_error */
	uint64_t *evq;
	size_t nr_evq, max_evq;
	pthread_mutex_t pend_lock;
	struct ar_pending *pend;
	size_t nr_pend, max_pend;
	pthread_mutex_t pack_lock;
	struct ar_open_pack *packs;	/* by backend index */
	size_t nr_packs;
	uint64_t archived, failed, discarded, bytes, queued_now;
	uint64_t packs_put, packed_files;
	time_t recycled_at;	/* the last look for dead packs */
	size_t nr_sets;		/* of the configuration of its last step */
	char last_error[HSM_ERROR_MAX + 128];
	struct agent_metric *m_queue, *m_copies, *m_bytes, *m_failed,
			    *m_discarded, *m_packs;
};

/* Look at ino again at due (replacing an earlier entry for it). */
void ar_pend(struct archiver *ar, uint64_t ino, time_t due);
void ar_set_error(struct archiver *ar, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A verified copy of bytes on backend counts (metrics, status). */
void ar_count_copy(struct archiver *ar, const char *backend, uint64_t bytes);
void ar_count_discarded(struct archiver *ar);

/* The put's reader over an open file, paced to its backend's cap. */
struct ar_reader {
	int fd;
	uint64_t bytes;
	const struct agent_config *cfg;
	const char *backend;
};

ssize_t ar_read(void *arg, void *buf, size_t len);

/* ---- archiver_pack.c ---- */

/* Does copy c of this file go into a pack on its backend? */
bool ar_pack_wants(const struct agent_config *cfg, const char *backend,
		   uint64_t size);
/*
 * Read the open file into backend's pack as copy c of file (its copy
 * begun as copy_id), holding req (*held made on first use) until the pack
 * commits.  AR_OK, or AR_RETRY/AR_GIVE_UP with why (the copy is settled).
 */
int ar_pack_add(struct archiver *ar, struct wk_thread *t,
		const struct agent_config *cfg, const char *backend,
		unsigned int c, const struct hsm_catalog_file *file,
		int64_t copy_id, int fd, const struct stat *st,
		int64_t req_id, struct ar_held **held, char *why,
		size_t why_len);
/*
 * The run of a request is over (res, why): drop its reference on held,
 * finishing the request when no pack holds it any more.  cat: the
 * caller's connection.
 */
void ar_held_put(struct archiver *ar, struct hsm_catalog *cat,
		 struct ar_held *held, int res, const char *why);
/*
 * Put and commit the packs that are due (older than their pack_delay, or
 * every open one with is_all), on the worker thread.  The ms until the
 * next one is due, or -1 when none is open.
 */
long ar_pack_flush_due(struct archiver *ar, const struct agent_config *cfg,
		       bool is_all);
/* Delete the packs none of whose members is live (worker thread). */
void ar_pack_recycle(struct archiver *ar, const struct agent_config *cfg);
void ar_packs_free(struct archiver *ar);

#endif
