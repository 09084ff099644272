/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_ALLOC_H_
#define _SCOUTFS_ALLOC_H_

#include "scoutfs_os.h"
#include "../format.h"
#include "btree.h"

/* The in-memory reserve of metadata blocks for the allocator trees. */
#define SCOUTFS_ALLOC_RESERVE_MAX 1024

struct scoutfs_extent {
	u64 start;
	u64 len;
};

/* A caller-provided array of extents (the transaction's freed lists). */
struct scoutfs_extent_list {
	struct scoutfs_extent *ext;
	u32 nr;
	u32 cap;
};

struct scoutfs_alloc {
	struct scoutfs_super_block *super;	/* free roots and counts */
	struct scoutfs_btree_ctx tree_ctx;	/* for the free trees */
	u64 reserve[SCOUTFS_ALLOC_RESERVE_MAX];
	u32 nr_reserve;
	bool committing;	/* no refills: freed blocks are in the trees */
	struct scoutfs_extent_list freed_meta;
	struct scoutfs_extent_list freed_data;
};

int scoutfs_alloc_init(struct scoutfs_alloc *alloc,
		       struct scoutfs_super_block *super,
		       const struct scoutfs_block_ops *ops, void *ops_arg,
		       u64 seq, struct scoutfs_extent *freed_meta,
		       u32 freed_meta_cap, struct scoutfs_extent *freed_data,
		       u32 freed_data_cap);
void scoutfs_alloc_btree_ctx(struct scoutfs_alloc *alloc,
			     struct scoutfs_btree_ctx *ctx);

int scoutfs_alloc_meta(void *alloc_arg, u64 *blkno);
int scoutfs_alloc_free_meta(void *alloc_arg, u64 blkno);
int scoutfs_alloc_free_dirty_meta(void *alloc_arg, u64 blkno);
int scoutfs_alloc_data(struct scoutfs_alloc *alloc, u64 want, u64 *start,
		       u64 *len);
int scoutfs_alloc_free_data(struct scoutfs_alloc *alloc, u64 start, u64 len);
int scoutfs_alloc_unalloc_data(struct scoutfs_alloc *alloc, u64 start,
			       u64 len);

int scoutfs_alloc_insert_free(struct scoutfs_alloc *alloc, bool meta,
			      u64 start, u64 len);
int scoutfs_alloc_add_reserve(struct scoutfs_alloc *alloc, u64 blkno);
int scoutfs_alloc_commit(struct scoutfs_alloc *alloc);

#endif
