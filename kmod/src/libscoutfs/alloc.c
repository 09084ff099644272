// SPDX-License-Identifier: GPL-2.0
/*
 * alloc.c: allocating and freeing metadata and data blocks.
 *
 * Owns the two free-extent btrees named by the super (meta_free and
 * data_free: key first = start block, value = length), the super's free
 * counts, the transaction's freed lists and the metadata reserve.
 *
 * Invariants:
 *  - A block freed during a transaction may still be referenced by the last
 *    committed super, so it goes to the in-memory freed list, never straight
 *    into a free tree; scoutfs_alloc_commit() moves the freed lists into the
 *    trees as part of the commit.  Allocation only takes from the trees, so
 *    freed blocks cannot be reused before the commit.
 *  - Extents in a tree never overlap or touch: inserting merges with both
 *    neighbours, and an overlap (a double free) is -EIO.
 *  - super->free_{meta,data}_blocks is the sum of the lengths in each tree.
 *  - Changing a free tree copies its blocks like any btree, and those blocks
 *    must come from somewhere other than the tree being changed.  They come
 *    from the reserve: blocks already removed from meta_free.  Before each
 *    free tree change the reserve holds at least reserve_need() blocks,
 *    twice the most one change can use (copy the path and split every
 *    level, plus a new root), so a refill (itself a free tree change) always
 *    has enough.  Refills take from the end of the first extent, which
 *    only shrinks an item, so they never split.
 *  - User trees (the fs tree) allocate with scoutfs_alloc_meta(), which
 *    refuses (-ENOSPC) to dip below reserve_need() once meta_free is empty,
 *    so commit always has the blocks it needs to record the freed lists.
 *  - Once commit has put a freed block in a tree, nothing may allocate it
 *    before the super is written.  So commit fills the reserve first and
 *    sets ->committing, which stops refills; a block allocated and freed
 *    within the transaction (never committed) goes straight back to the
 *    reserve, so the free trees' own churn pays for itself.
 *  - Commit returns the reserve to meta_free down to reserve_need() blocks;
 *    returning the last ones could need blocks we no longer have, so those
 *    are saved in super->alloc_reserve[] (allocated, unused) and are the
 *    next transaction's first reserve.
 */
#include "scoutfs_os.h"
#include "alloc.h"
#include "key.h"

/* Commit gives up rather than loop forever on a corrupt tree. */
#define COMMIT_MAX_ROUNDS 100000

static u32 reserve_need(struct scoutfs_alloc *alloc)
{
	struct scoutfs_super_block *super = alloc->super;
	u32 height = max_t(u32, super->meta_free.height,
			   super->data_free.height);

	/* one change: copy height + 1 blocks, split height + 1, new root */
	return 2 * (2 * (height + 1) + 1);
}

static struct scoutfs_btree_root *tree_root(struct scoutfs_alloc *alloc,
					    bool meta)
{
	return meta ? &alloc->super->meta_free : &alloc->super->data_free;
}

static __le64 *free_count(struct scoutfs_alloc *alloc, bool meta)
{
	return meta ? &alloc->super->free_meta_blocks :
		      &alloc->super->free_data_blocks;
}

static void count_add(struct scoutfs_alloc *alloc, bool meta, s64 delta)
{
	__le64 *count = free_count(alloc, meta);

	*count = cpu_to_le64(le64_to_cpu(*count) + delta);
}

/* The free trees' own block source: the reserve, never a refill. */
static int reserve_pop(void *alloc_arg, u64 *blkno)
{
	struct scoutfs_alloc *alloc = alloc_arg;

	if (alloc->nr_reserve == 0)
		return -ENOSPC;
	*blkno = alloc->reserve[--alloc->nr_reserve];
	return 0;
}

static int extent_list_add(struct scoutfs_extent_list *list, u64 start,
			   u64 len)
{
	struct scoutfs_extent *last;

	if (list->nr) {
		last = &list->ext[list->nr - 1];
		if (last->start + last->len == start) {
			last->len += len;
			return 0;
		}
		if (start + len == last->start) {
			last->start = start;
			last->len += len;
			return 0;
		}
	}
	if (list->nr == list->cap)
		return -ENOBUFS;	/* the transaction must commit */
	list->ext[list->nr].start = start;
	list->ext[list->nr].len = len;
	list->nr++;
	return 0;
}

int scoutfs_alloc_free_meta(void *alloc_arg, u64 blkno)
{
	struct scoutfs_alloc *alloc = alloc_arg;

	return extent_list_add(&alloc->freed_meta, blkno, 1);
}

/*
 * A block allocated and freed within this transaction was never part of a
 * committed tree, so it can be reused at once: back into the reserve.
 */
int scoutfs_alloc_free_dirty_meta(void *alloc_arg, u64 blkno)
{
	struct scoutfs_alloc *alloc = alloc_arg;

	if (alloc->nr_reserve < SCOUTFS_ALLOC_RESERVE_MAX) {
		alloc->reserve[alloc->nr_reserve++] = blkno;
		return 0;
	}
	return extent_list_add(&alloc->freed_meta, blkno, 1);
}

int scoutfs_alloc_free_data(struct scoutfs_alloc *alloc, u64 start, u64 len)
{
	if (len == 0)
		return -EINVAL;
	return extent_list_add(&alloc->freed_data, start, len);
}

/*
 * Give back data blocks this transaction allocated and nothing came to
 * reference (an insert that failed after the allocation): they were free
 * in the committed super too, so they go straight back to the free tree
 * rather than through the freed list, which may be full.
 */
int scoutfs_alloc_unalloc_data(struct scoutfs_alloc *alloc, u64 start,
			       u64 len)
{
	return scoutfs_alloc_insert_free(alloc, false, start, len);
}

int scoutfs_alloc_add_reserve(struct scoutfs_alloc *alloc, u64 blkno)
{
	if (alloc->nr_reserve >= SCOUTFS_ALLOC_RESERVE_MAX)
		return -ENOBUFS;
	alloc->reserve[alloc->nr_reserve++] = blkno;
	return 0;
}

/* Reads the first extent of a free tree. */
static int first_extent(struct scoutfs_alloc *alloc, bool meta,
			u64 *start, u64 *len)
{
	struct scoutfs_free_extent fext;
	struct scoutfs_key key;
	struct scoutfs_key found;
	int ret;

	scoutfs_key_init_free_extent(&key, 0);
	ret = scoutfs_btree_next(&alloc->tree_ctx, tree_root(alloc, meta),
				 &key, &found, &fext, sizeof(fext));
	if (ret < 0)
		return ret;
	if (ret != sizeof(fext) || found.sk_zone != SCOUTFS_FREE_ZONE ||
	    le64_to_cpu(fext.len) == 0)
		return -EIO;
	*start = scoutfs_key_first(&found);
	*len = le64_to_cpu(fext.len);
	return 0;
}

/* Removes up to want blocks from the end of the first extent of a tree. */
static int take_from_tree(struct scoutfs_alloc *alloc, bool meta, u64 want,
			  u64 *start_ret, u64 *len_ret)
{
	struct scoutfs_free_extent fext;
	struct scoutfs_key key;
	u64 start;
	u64 len;
	u64 take;
	int ret;

	ret = first_extent(alloc, meta, &start, &len);
	if (ret < 0)
		return ret;
	take = min_t(u64, want, len);
	scoutfs_key_init_free_extent(&key, start);
	if (take == len) {
		ret = scoutfs_btree_delete(&alloc->tree_ctx,
					   tree_root(alloc, meta), &key);
	} else {
		fext.len = cpu_to_le64(len - take);
		ret = scoutfs_btree_update(&alloc->tree_ctx,
					   tree_root(alloc, meta), &key, &fext,
					   sizeof(fext));
	}
	if (ret < 0)
		return ret;
	count_add(alloc, meta, -(s64)take);
	*start_ret = start + len - take;
	*len_ret = take;
	return 0;
}

/*
 * Makes sure the reserve can pay for the next free tree change, refilling
 * from meta_free if it can't.  -ENOSPC only when it can't and the reserve
 * is too low for even one change.
 */
static int ensure_reserve_extra(struct scoutfs_alloc *alloc, u32 extra)
{
	u32 need = reserve_need(alloc) + extra;
	u64 start;
	u64 len;
	u64 i;
	int ret;

	/* each refill takes at least one block, first extents may be short */
	while (alloc->nr_reserve < need && !alloc->committing) {
		ret = take_from_tree(alloc, true, 2 * need - alloc->nr_reserve,
				     &start, &len);
		if (ret == -ENOENT)
			break;
		if (ret < 0)
			return ret;
		for (i = 0; i < len; i++)
			alloc->reserve[alloc->nr_reserve++] = start + i;
	}
	return alloc->nr_reserve >= need / 2 ? 0 : -ENOSPC;
}

static int ensure_reserve(struct scoutfs_alloc *alloc)
{
	return ensure_reserve_extra(alloc, 0);
}

int scoutfs_alloc_meta(void *alloc_arg, u64 *blkno)
{
	struct scoutfs_alloc *alloc = alloc_arg;
	int ret;

	ret = ensure_reserve_extra(alloc, 1);
	if (ret < 0)
		return ret;
	if (alloc->nr_reserve <= reserve_need(alloc))
		return -ENOSPC;
	return reserve_pop(alloc, blkno);
}

/*
 * Data comes from the start of the first free extent, so one writer's
 * successive allocations are contiguous and its extents merge (data.c):
 * sequential writes of a big file become a few extent items instead of
 * one per write.  Moving an extent's start is a delete and an insert;
 * the reserve always covers two changes (reserve_need()).
 */
int scoutfs_alloc_data(struct scoutfs_alloc *alloc, u64 want, u64 *start,
		       u64 *len)
{
	struct scoutfs_btree_root *root = tree_root(alloc, false);
	struct scoutfs_free_extent fext;
	struct scoutfs_key key;
	u64 ext_start;
	u64 ext_len;
	u64 take;
	int ret;

	if (want == 0)
		return -EINVAL;
	ret = ensure_reserve(alloc);
	if (ret < 0)
		return ret;
	ret = first_extent(alloc, false, &ext_start, &ext_len);
	if (ret < 0)
		return ret == -ENOENT ? -ENOSPC : ret;
	take = min_t(u64, want, ext_len);
	scoutfs_key_init_free_extent(&key, ext_start);
	ret = scoutfs_btree_delete(&alloc->tree_ctx, root, &key);
	if (ret == 0 && take < ext_len) {
		scoutfs_key_init_free_extent(&key, ext_start + take);
		fext.len = cpu_to_le64(ext_len - take);
		ret = scoutfs_btree_insert(&alloc->tree_ctx, root, &key, &fext,
					   sizeof(fext));
	}
	if (ret < 0)
		return ret;
	count_add(alloc, false, -(s64)take);
	*start = ext_start;
	*len = take;
	return 0;
}

/* Puts an extent in a free tree, merging with its neighbours. */
int scoutfs_alloc_insert_free(struct scoutfs_alloc *alloc, bool meta,
			      u64 start, u64 len)
{
	struct scoutfs_btree_root *root = tree_root(alloc, meta);
	struct scoutfs_btree_ctx *ctx = &alloc->tree_ctx;
	struct scoutfs_free_extent fext;
	struct scoutfs_key key;
	struct scoutfs_key found;
	u64 prev_start = 0;
	u64 prev_len = 0;
	u64 next_len = 0;
	bool merge_prev = false;
	bool merge_next = false;
	int ret;

	if (len == 0 || start + len < start)
		return -EINVAL;

	scoutfs_key_init_free_extent(&key, start);
	ret = scoutfs_btree_prev(ctx, root, &key, &found, &fext, sizeof(fext));
	if (ret >= 0) {
		prev_start = scoutfs_key_first(&found);
		prev_len = le64_to_cpu(fext.len);
		if (prev_start + prev_len > start)
			return -EIO;	/* overlap: double free */
		merge_prev = prev_start + prev_len == start;
	} else if (ret != -ENOENT) {
		return ret;
	}

	ret = scoutfs_btree_next(ctx, root, &key, &found, &fext, sizeof(fext));
	if (ret >= 0) {
		if (start + len > scoutfs_key_first(&found))
			return -EIO;
		merge_next = start + len == scoutfs_key_first(&found);
		if (merge_next)
			next_len = le64_to_cpu(fext.len);
	} else if (ret != -ENOENT) {
		return ret;
	}

	if (merge_next) {
		ret = ensure_reserve(alloc);
		if (ret < 0)
			return ret;
		scoutfs_key_init_free_extent(&key, start + len);
		ret = scoutfs_btree_delete(ctx, root, &key);
		if (ret < 0)
			return ret;
	}

	ret = ensure_reserve(alloc);
	if (ret < 0)
		return ret;
	if (merge_prev) {
		fext.len = cpu_to_le64(prev_len + len + next_len);
		scoutfs_key_init_free_extent(&key, prev_start);
		ret = scoutfs_btree_update(ctx, root, &key, &fext,
					   sizeof(fext));
	} else {
		fext.len = cpu_to_le64(len + next_len);
		scoutfs_key_init_free_extent(&key, start);
		ret = scoutfs_btree_insert(ctx, root, &key, &fext,
					   sizeof(fext));
	}
	if (ret < 0)
		return ret;
	count_add(alloc, meta, len);
	return 0;
}

/*
 * Records the freed lists in the free trees and returns the reserve down
 * to what must be saved.  Each tree change may free more (old copies of
 * the free trees' blocks), so this loops until nothing is left to do; it
 * converges because once a path is dirty changing it frees nothing.
 */
/* What commit keeps of the reserve: enough for a change, and savable. */
static u32 reserve_keep(struct scoutfs_alloc *alloc)
{
	return min_t(u32, reserve_need(alloc), SCOUTFS_ALLOC_SAVED_MAX);
}

/*
 * Pop the longest run of consecutive blocks off the top of the reserve
 * that leaves reserve_keep() behind, so commit gives the reserve back to
 * meta_free an extent at a time, not a block at a time (refills push
 * ascending runs, so the top is a descending run).  Returns its length.
 */
static u64 reserve_pop_run(struct scoutfs_alloc *alloc, u64 *start)
{
	u32 avail = alloc->nr_reserve - reserve_keep(alloc);
	u64 top = alloc->reserve[alloc->nr_reserve - 1];
	u32 len = 1;

	while (len < avail &&
	       alloc->reserve[alloc->nr_reserve - 1 - len] == top - len)
		len++;
	alloc->nr_reserve -= len;
	*start = top - len + 1;
	return len;
}

int scoutfs_alloc_commit(struct scoutfs_alloc *alloc)
{
	struct scoutfs_super_block *super = alloc->super;
	struct scoutfs_extent ext;
	struct scoutfs_extent_list *list;
	u32 rounds = 0;
	u32 i;
	int ret;

	/*
	 * Once a freed block is in a tree nothing may allocate it before the
	 * super is written: the last commit may still reference it.  So fill
	 * the reserve now, while the trees hold only blocks free in the last
	 * commit, and refill no more.
	 */
	while (alloc->nr_reserve < SCOUTFS_ALLOC_RESERVE_MAX / 2) {
		ret = ensure_reserve_extra(alloc, SCOUTFS_ALLOC_RESERVE_MAX / 2 -
					   reserve_need(alloc));
		if (ret < 0 || alloc->super->meta_free.height == 0)
			break;
	}
	alloc->committing = true;

	for (;;) {
		if (++rounds > COMMIT_MAX_ROUNDS)
			return -EIO;
		if (alloc->freed_data.nr || alloc->freed_meta.nr) {
			list = alloc->freed_data.nr ? &alloc->freed_data :
						      &alloc->freed_meta;
			ext = list->ext[--list->nr];
			ret = scoutfs_alloc_insert_free(alloc,
						list == &alloc->freed_meta,
						ext.start, ext.len);
		} else if (alloc->nr_reserve > reserve_keep(alloc)) {
			ext.len = reserve_pop_run(alloc, &ext.start);
			ret = scoutfs_alloc_insert_free(alloc, true, ext.start,
							ext.len);
		} else {
			break;
		}
		if (ret < 0)
			return ret;
	}

	alloc->committing = false;
	super->alloc_reserve_nr = cpu_to_le64(alloc->nr_reserve);
	memset(super->alloc_reserve, 0, sizeof(super->alloc_reserve));
	for (i = 0; i < alloc->nr_reserve; i++)
		super->alloc_reserve[i] = cpu_to_le64(alloc->reserve[i]);
	return 0;
}

void scoutfs_alloc_btree_ctx(struct scoutfs_alloc *alloc,
			     struct scoutfs_btree_ctx *ctx)
{
	*ctx = alloc->tree_ctx;
	ctx->alloc_blkno = scoutfs_alloc_meta;
	ctx->free_blkno = scoutfs_alloc_free_meta;
	ctx->free_dirty_blkno = scoutfs_alloc_free_dirty_meta;
	ctx->alloc_arg = alloc;
}

/*
 * Starts allocating for transaction seq from the super's trees, with the
 * reserve the last commit saved.
 */
int scoutfs_alloc_init(struct scoutfs_alloc *alloc,
		       struct scoutfs_super_block *super,
		       const struct scoutfs_block_ops *ops, void *ops_arg,
		       u64 seq, struct scoutfs_extent *freed_meta,
		       u32 freed_meta_cap, struct scoutfs_extent *freed_data,
		       u32 freed_data_cap)
{
	u64 total = le64_to_cpu(super->total_meta_blocks);
	u64 nr = le64_to_cpu(super->alloc_reserve_nr);
	u64 blkno;
	u64 i;

	memset(alloc, 0, sizeof(*alloc));
	alloc->super = super;
	alloc->tree_ctx.ops = ops;
	alloc->tree_ctx.ops_arg = ops_arg;
	alloc->tree_ctx.fsid = le64_to_cpu(super->hdr.fsid);
	alloc->tree_ctx.seq = seq;
	alloc->tree_ctx.alloc_blkno = reserve_pop;
	alloc->tree_ctx.free_blkno = scoutfs_alloc_free_meta;
	alloc->tree_ctx.free_dirty_blkno = scoutfs_alloc_free_dirty_meta;
	alloc->tree_ctx.alloc_arg = alloc;
	alloc->freed_meta.ext = freed_meta;
	alloc->freed_meta.cap = freed_meta_cap;
	alloc->freed_data.ext = freed_data;
	alloc->freed_data.cap = freed_data_cap;

	if (nr > SCOUTFS_ALLOC_SAVED_MAX)
		return -EIO;
	for (i = 0; i < nr; i++) {
		blkno = le64_to_cpu(super->alloc_reserve[i]);
		if (blkno < SCOUTFS_META_FIRST_BLKNO || blkno >= total)
			return -EIO;
		alloc->reserve[alloc->nr_reserve++] = blkno;
	}
	return 0;
}
