/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_LIB_TXN_H
#define SCOUTFS_LIB_TXN_H

#include "libscoutfs/scoutfs_os.h"
#include "format.h"
#include "libscoutfs/alloc.h"
#include "libscoutfs/btree.h"
#include "devio.h"

struct txn_cache;

/*
 * A userspace metadata transaction over a metadata device: the block
 * interface for libscoutfs plus commit.  ctx is for the fs and other user
 * trees; alloc for data allocation and freeing.
 */
struct scoutfs_txn {
	struct scoutfs_dev *meta;
	struct scoutfs_super_block *super;	/* the one being built */
	u64 seq;				/* transaction being built */
	struct scoutfs_alloc alloc;
	struct scoutfs_btree_ctx ctx;
	struct txn_cache *cache;
	struct scoutfs_extent *freed_meta;
	struct scoutfs_extent *freed_data;
	char err[256];				/* the last failure, for people */
};

extern const struct scoutfs_block_ops scoutfs_txn_block_ops;

int scoutfs_super_read_slot(struct scoutfs_dev *meta, int slot, void *blk,
			    int *problems);
int scoutfs_super_read_current(struct scoutfs_dev *meta,
			       struct scoutfs_super_block *super, int *slot);

int scoutfs_txn_open(struct scoutfs_txn **txn_ret, struct scoutfs_dev *meta);
int scoutfs_txn_create(struct scoutfs_txn **txn_ret, struct scoutfs_dev *meta,
		       const struct scoutfs_super_block *super);
int scoutfs_txn_commit(struct scoutfs_txn *txn);
void scoutfs_txn_free(struct scoutfs_txn *txn);

#endif
