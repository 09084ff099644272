/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_BTREE_H_
#define _SCOUTFS_BTREE_H_

#include "scoutfs_os.h"
#include "../format.h"
#include "block.h"

/*
 * Everything a btree operation needs from its caller: block access, the
 * filesystem's fsid, the seq of the transaction being built (blocks with
 * an older seq are copied before they are changed), and where new blocks
 * come from and freed ones go (the allocator, see alloc.h).  A block the
 * last commit may reference goes to free_blkno (not reusable until commit);
 * one allocated by this transaction goes to free_dirty_blkno.
 */
struct scoutfs_btree_ctx {
	const struct scoutfs_block_ops *ops;
	void *ops_arg;
	u64 fsid;
	u64 seq;
	int (*alloc_blkno)(void *alloc_arg, u64 *blkno);
	int (*free_blkno)(void *alloc_arg, u64 blkno);
	/* a block written only by this transaction: reusable at once */
	int (*free_dirty_blkno)(void *alloc_arg, u64 blkno);
	void *alloc_arg;
};

#define SCOUTFS_BTREE_HDR_SIZE offsetof(struct scoutfs_btree_block, items)
#define SCOUTFS_BTREE_ITEM_SIZE sizeof(struct scoutfs_btree_item)
#define SCOUTFS_BTREE_USABLE (SCOUTFS_BLOCK_SIZE - SCOUTFS_BTREE_HDR_SIZE)

/*
 * The reads copy at most val_size bytes of the value into val and return
 * the value's full length, or -ENOENT, or another -errno.
 */
int scoutfs_btree_lookup(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key, void *val,
			 int val_size);
int scoutfs_btree_next(struct scoutfs_btree_ctx *ctx,
		       struct scoutfs_btree_root *root,
		       const struct scoutfs_key *key, struct scoutfs_key *found,
		       void *val, int val_size);
int scoutfs_btree_prev(struct scoutfs_btree_ctx *ctx,
		       struct scoutfs_btree_root *root,
		       const struct scoutfs_key *key, struct scoutfs_key *found,
		       void *val, int val_size);

/* Called for each item in order; a non-zero return stops and is returned. */
typedef int (*scoutfs_btree_iter_cb)(void *arg, const struct scoutfs_key *key,
				     const void *val, int val_len);
int scoutfs_btree_iterate(struct scoutfs_btree_ctx *ctx,
			  struct scoutfs_btree_root *root,
			  const struct scoutfs_key *start,
			  const struct scoutfs_key *end,
			  scoutfs_btree_iter_cb cb, void *arg);

int scoutfs_btree_insert(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key, const void *val,
			 int val_len);
int scoutfs_btree_update(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key, const void *val,
			 int val_len);
int scoutfs_btree_force(struct scoutfs_btree_ctx *ctx,
			struct scoutfs_btree_root *root,
			const struct scoutfs_key *key, const void *val,
			int val_len);
int scoutfs_btree_delete(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key);

/* Structural check of one block; *why names the first problem found. */
int scoutfs_btree_block_check(const struct scoutfs_btree_block *bt,
			      const char **why);

/* Accessors for readers that walk blocks themselves (print, fsck). */
static inline unsigned int
scoutfs_btree_val_start(const struct scoutfs_btree_block *bt, unsigned int i)
{
	unsigned int off = le16_to_cpu(bt->items[i].val_off);

	return off ? off : SCOUTFS_BLOCK_SIZE;
}

static inline const void *
scoutfs_btree_item_val(const struct scoutfs_btree_block *bt, unsigned int i)
{
	return (const u8 *)bt + scoutfs_btree_val_start(bt, i);
}

#endif
