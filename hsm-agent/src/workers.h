/* SPDX-License-Identifier: GPL-2.0 */
/*
 * workers.h: what the four workers (workers.c: the indexer and the shared
 * helpers; archiver.c, releaser.c, stager.c) share, and nothing the core
 * needs: agent.h is the core's side.
 *
 *  - struct wk_fs: the mount as a worker uses it, an O_DIRECTORY fd and
 *    the fsid as the catalog names it (16 hex digits, as the indexer
 *    registers it).  wk_fs_open() probes the mount and, when it is not a
 *    scoutfs mount yet, sets the worker's state and says how long to wait.
 *  - files are reached by inode number: the catalog's inode row gives a
 *    path (the indexer keeps it current), checked to lead to that inode;
 *    else INO_PATH names one.  No handle opens an inode by number.
 *  - each worker opens its own catalog connection and its own backend
 *    instances (both are one thread at a time), backends lazily by name
 *    and all closed again on a reload.
 *  - the stager publishes how many files have waiting readers; the
 *    archiver and the releaser look at it between items and step aside
 *    while it is non-zero, so stages run before archives and releases.
 *  - the stager notes when it staged a file so that the releaser keeps it
 *    for release.min_residence (in memory: after a restart the residence
 *    of files staged before it is not known and they may be released once
 *    their copies are safe, which never loses data).
 */
#ifndef SCOUTFS_HSM_AGENT_WORKERS_H
#define SCOUTFS_HSM_AGENT_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "agent.h"
#include "backend.h"
#include "catalog.h"
#include "ioctl.h"

/* how often a worker that needs the mount looks again */
#define WK_FS_RETRY_MS 10000
/* how long the archiver and releaser step aside for the stager */
#define WK_YIELD_MS 200

struct wk_fs {
	int mnt_fd;		/* -1: not open */
	char fsid[17];
};

void wk_fs_init(struct wk_fs *fs);
/*
 * 0 with fs open, or the ms to wait when the mount is not (yet) a scoutfs
 * mount (the worker's state says why), or a negative errno.
 */
long wk_fs_open(struct agent_worker *w, struct wk_fs *fs);
/* The same for any thread: the reason in why instead of a state. */
long wk_fs_try(const char *mount, struct wk_fs *fs, char *why, size_t len);
void wk_fs_close(struct wk_fs *fs);

int wk_catalog_open(const struct agent_config *cfg, struct hsm_catalog **out,
		    char *err, size_t len);

/*
 * Open inode ino below the mount with flags: hint (a path relative to the
 * mount, with or without a leading '/', may be NULL) when it still leads
 * to ino, else INO_PATH's first link.  path (PATH_MAX) gets the relative
 * path used and st the fstat.  The fd, -ENOENT when the inode has no
 * links, or another negative errno.
 */
int wk_open_ino(struct wk_fs *fs, uint64_t ino, const char *hint, int flags,
		char *path, struct stat *st);
int wk_stat_more(int fd, struct scoutfs_ioctl_stat_more *sm);

/* The archive set of the open file fd at relative path (NULL: none). */
const struct agent_set_conf *wk_match_set(const struct agent_config *cfg,
					  int fd, const char *path,
					  const struct stat *st);
/* Whether fd has xattr name (false for name NULL). */
bool wk_has_xattr(int fd, const char *name);

struct wk_backends {
	struct hsm_backend **be;	/* by the configuration's index */
	size_t nr;
};

/* The backend called name, opened on first use; NULL with err set. */
struct hsm_backend *wk_backend(struct wk_backends *b,
			       const struct agent_config *cfg,
			       const char *name, char *err, size_t len);
void wk_backends_close(struct wk_backends *b);

/*
 * The core's per-backend counters (agent.c registers them): one file of
 * bytes archived to / staged from backend, or one failed operation.
 */
void wk_count_archive(struct agent_worker *w, const char *backend,
		      uint64_t bytes);
void wk_count_stage(struct agent_worker *w, const char *backend,
		    uint64_t bytes);
void wk_count_backend_error(struct agent_worker *w, const char *backend);

/* The stager's count of files with waiting readers. */
void wk_set_stage_waiting(unsigned int nr);
unsigned int wk_stage_waiting(void);

/* The stager staged ino now; was ino staged less than secs ago? */
void wk_note_staged(uint64_t ino);
bool wk_staged_within(uint64_t ino, uint64_t secs);

uint64_t wk_now_ms(void);	/* CLOCK_MONOTONIC */

/* A growing list of inode numbers (a catalog scan's picks); free inos. */
struct wk_inos {
	uint64_t *inos;
	size_t nr, max;
};
int wk_inos_add(struct wk_inos *l, uint64_t ino);	/* 0 or -ENOMEM */

/* snprintf for messages, where a long path may cut the text short */
void wk_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
