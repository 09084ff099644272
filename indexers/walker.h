/* SPDX-License-Identifier: GPL-2.0 */
/*
 * walker.h: the incremental walker of a mounted scoutfs's meta_seq index,
 * which brings the catalog's inode rows up to date.  walker.c explains
 * the algorithm and why it never misses a change.
 */
#ifndef SCOUTFS_INDEXERS_WALKER_H
#define SCOUTFS_INDEXERS_WALKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define IDX_WALK_BATCH_DEFAULT 1024	/* WALK_INODES entries per window */
#define IDX_ERROR_MAX 512

struct idx_walker;

struct idx_pass_stats {
	uint64_t first_seq;	/* the window walked: (first_seq, last_seq] */
	uint64_t last_seq;	/*   (first run: [0, last_seq]) */
	uint64_t walked;	/* inodes WALK_INODES returned */
	uint64_t looked_up;	/* inodes resolved (INO_PATH + STAT_MORE) */
	uint64_t dirs_checked;	/* changed directories whose rows were checked */
	uint64_t upserts;	/* rows written */
	uint64_t deletes;	/* rows removed */
	uint64_t cancelled;	/* created and gone inside one window */
	uint64_t merged;	/* observations folded into another */
	uint64_t batches;	/* catalog transactions committed */
	double seconds;
};

/* Called after each committed batch of a pass (may be NULL). */
typedef void (*idx_progress_fn)(void *arg, const struct idx_pass_stats *st,
				uint64_t at_seq);

/*
 * Called for each row operation a batch applies, just before it is
 * written: the row as the catalog has it (NULL: none yet) and as it will
 * be (NULL: removed).  Both are valid during the call only.  A batch that
 * then fails to commit is walked again by a later pass, so one change
 * may be reported more than once: callers treat these as hints (the
 * agent's file events) and look again before acting.
 */
typedef void (*idx_change_fn)(void *arg, const struct idx_row *old,
			      const struct idx_row *row);

struct idx_walker_opts {
	unsigned int batch;	/* 0: IDX_WALK_BATCH_DEFAULT */
	idx_progress_fn progress;
	void *progress_arg;
	idx_change_fn change;	/* may be NULL */
	void *change_arg;
};

/*
 * Open the mount (any path on a scoutfs mount's root directory) for the
 * walker; the store stays the caller's.  -ENOTTY: not a scoutfs mount
 * root.  Errors are described in err.
 */
int idx_walker_open(const char *mount, struct idx_store *store,
		    const struct idx_walker_opts *opts,
		    struct idx_walker **out, char *err, size_t errlen);
void idx_walker_close(struct idx_walker *w);
/* The filesystem's fsid as the store names it. */
const char *idx_walker_fsid(const struct idx_walker *w);
const char *idx_walker_error(const struct idx_walker *w);

/*
 * One pass: from the seq stored in the catalog to the filesystem's last
 * committed seq, applying every change in batches and advancing the
 * stored seq with each.  On error the catalog keeps every committed
 * batch and the next pass resumes after the last of them.
 */
int idx_walker_pass(struct idx_walker *w, struct idx_pass_stats *st);

#endif
