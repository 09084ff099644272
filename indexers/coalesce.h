/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coalesce.h: merging the events of one walk window into at most one
 * catalog operation per inode, the way Robinhood's changelog reader
 * batches its records before it touches its database.
 *
 * An event says what the indexer learned about an inode: it exists with
 * these attributes (IDX_EV_UPDATE) or it no longer exists (IDX_EV_REMOVE),
 * as of a meta_seq, and whether the catalog had a row for it when the
 * window began.  Per inode the event with the highest seq wins (equal
 * seqs: the later one, which was observed later), so many changes of one
 * inode become one upsert with its newest attributes.  An inode whose
 * last event removes it becomes a delete if the catalog had its row and
 * nothing at all if it did not: a create and an unlink inside one window
 * cancel.  Draining hands the operations out in inode order (the
 * catalog's key order, so one batch touches neighbouring pages).
 *
 * Pure logic: no I/O, no catalog; the walker feeds it and applies what
 * it drains.  Not thread-safe.
 */
#ifndef SCOUTFS_INDEXERS_COALESCE_H
#define SCOUTFS_INDEXERS_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index_row.h"

enum idx_event_type {
	IDX_EV_UPDATE = 0,	/* the inode exists with ev->row */
	IDX_EV_REMOVE,		/* the inode is gone (no links, or deleted) */
};

struct idx_event {
	enum idx_event_type type;
	uint64_t ino;
	uint64_t seq;		/* meta_seq the observation is as of */
	bool in_catalog;	/* the catalog had a row at window start */
	struct idx_row row;	/* IDX_EV_UPDATE: the attributes (row.ino == ino) */
};

enum idx_op_type {
	IDX_OP_UPSERT = 0,
	IDX_OP_DELETE,
};

struct idx_op {
	enum idx_op_type type;
	uint64_t ino;
	const struct idx_row *row;	/* IDX_OP_UPSERT only; valid in the callback */
};

struct idx_coalesce_stats {
	uint64_t events;	/* events added */
	uint64_t merged;	/* events folded into an inode's earlier one */
	uint64_t cancelled;	/* inodes whose create and removal cancelled */
	uint64_t upserts;	/* operations drained */
	uint64_t deletes;
};

struct idx_coalesce;

struct idx_coalesce *idx_coalesce_create(void);
void idx_coalesce_destroy(struct idx_coalesce *co);

/* 0, or -ENOMEM (the table is unchanged then); -EINVAL for a bad type. */
int idx_coalesce_add(struct idx_coalesce *co, const struct idx_event *ev);
/* Whether ino has an event in this window. */
bool idx_coalesce_contains(const struct idx_coalesce *co, uint64_t ino);
/* Inodes with a pending event. */
size_t idx_coalesce_count(const struct idx_coalesce *co);

typedef int (*idx_coalesce_fn)(void *arg, const struct idx_op *op);
/*
 * Call fn once per inode that needs an operation, in inode order, then
 * empty the table (also when fn fails: its first error is returned and
 * the rest are not called).  -ENOMEM if the sort buffer cannot be had,
 * with the table kept.
 */
int idx_coalesce_drain(struct idx_coalesce *co, idx_coalesce_fn fn, void *arg);
/* Empty the table without operations (a window given up). */
void idx_coalesce_reset(struct idx_coalesce *co);

void idx_coalesce_stats(const struct idx_coalesce *co,
			struct idx_coalesce_stats *out);

#endif
