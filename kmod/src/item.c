// SPDX-License-Identifier: GPL-2.0
/*
 * item.c: the items of the filesystem, as the rest of the module sees
 * them, and this mount's commit log.
 *
 * Callers name items by key and never see blocks or trees.  Committed
 * items live in the super's fs_root btree.  Every change a mount makes
 * goes first into its own log: an in-memory, key-sorted set of the items
 * the open transaction created, replaced or deleted (a deletion is kept
 * as a tombstone so it hides the committed item).  Reads see the log
 * merged over fs_root, the log winning where both have a key.  Commit
 * (trans.c) calls scoutfs_item_write_log(), which merges the log into
 * fs_root in key order and empties it, before the dirty blocks and the
 * super are written; so the log and its merge land in one transaction
 * and a crash leaves either all of a transaction's items or none.
 *
 * This is the shape the cluster needs without changing any caller: there
 * each mount writes its log into its own log btree (struct
 * scoutfs_log_trees in format.h) and the server merges finished logs into
 * fs_root; with one mount the mount is its own server and merges at every
 * commit, so logs_root stays empty on disk.
 *
 * Keeping changes in memory until commit also means a system call never
 * meets -ENOSPC half way through its items: the btree work happens at
 * commit, and trans.c refuses a hold up front when the free metadata
 * blocks could not cover the worst case of writing the log
 * (scoutfs_item_log_blocks_needed()).
 *
 * The calling task must hold a cluster lock covering the key (lock.c):
 * READ or WRITE to read, WRITE or WRITE_ONLY to change.  An item touched
 * without one is a bug in the caller and is refused with -EINVAL and one
 * log line rather than silently allowed, so the cluster step cannot
 * inherit unlocked access.
 *
 * Changes must be made inside a transaction hold (trans.c).  -ENOENT
 * means no such item; other errors are the btree's (-EIO after a block
 * failed verification) or -ENOMEM.
 *
 * Lock order: trans_rwsem -> meta_mutex (taken here; it protects the log
 * and every btree call).
 */
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "super.h"
#include "item.h"
#include "lock.h"
#include "fault.h"
#include "libscoutfs/key.h"

/* One change in the log. */
struct log_item {
	struct rb_node node;
	struct scoutfs_key key;
	bool is_deletion;
	/* false when we know fs_root has no such item: delete just frees */
	bool maybe_committed;
	u16 val_len;
	u8 val[];
};

struct scoutfs_item_log {
	struct rb_root items;
	u64 nr_items;
	u64 bytes;	/* keys, headers and values, as they would be in leaves */
};

#define FS_ROOT(sb) (&SCOUTFS_SB(sb)->super->fs_root)
#define BT(sb) (&SCOUTFS_SB(sb)->btree)
#define ILOG(sb) (SCOUTFS_SB(sb)->item_log)

static u64 log_item_bytes(u16 val_len)
{
	return SCOUTFS_BTREE_ITEM_SIZE + val_len;
}

static int key_cmp(const struct scoutfs_key *a, const struct scoutfs_key *b)
{
	return scoutfs_key_compare(a, b);
}

/* The log item with exactly key, or NULL. */
static struct log_item *log_lookup(struct scoutfs_item_log *ilog,
				   const struct scoutfs_key *key)
{
	struct rb_node *n = ilog->items.rb_node;
	struct log_item *li;
	int cmp;

	while (n) {
		li = rb_entry(n, struct log_item, node);
		cmp = key_cmp(key, &li->key);
		if (cmp < 0)
			n = n->rb_left;
		else if (cmp > 0)
			n = n->rb_right;
		else
			return li;
	}
	return NULL;
}

/* The first log item at or after key (next) or at or before it (!next). */
static struct log_item *log_near(struct scoutfs_item_log *ilog,
				 const struct scoutfs_key *key, bool next)
{
	struct rb_node *n = ilog->items.rb_node;
	struct log_item *best = NULL;
	struct log_item *li;
	int cmp;

	while (n) {
		li = rb_entry(n, struct log_item, node);
		cmp = key_cmp(key, &li->key);
		if (cmp == 0)
			return li;
		if ((cmp < 0) == next)
			best = li;
		n = cmp < 0 ? n->rb_left : n->rb_right;
	}
	return best;
}

static void log_remove(struct scoutfs_item_log *ilog, struct log_item *li)
{
	rb_erase(&li->node, &ilog->items);
	ilog->nr_items--;
	ilog->bytes -= log_item_bytes(li->val_len);
	kfree(li);
}

/*
 * Put a change in the log, replacing any earlier change of the same key
 * in this transaction.
 */
static int log_insert(struct scoutfs_item_log *ilog,
		      const struct scoutfs_key *key, const void *val,
		      int val_len, bool is_deletion, bool maybe_committed)
{
	struct rb_node **p = &ilog->items.rb_node;
	struct rb_node *parent = NULL;
	struct log_item *li, *old;
	int cmp;

	if (val_len < 0 || val_len > SCOUTFS_MAX_VAL_SIZE)
		return -EINVAL;
	li = scoutfs_fault_hit() ? NULL :
	     kmalloc(sizeof(*li) + val_len, GFP_NOFS);
	if (!li)
		return -ENOMEM;
	li->key = *key;
	li->is_deletion = is_deletion;
	li->maybe_committed = maybe_committed;
	li->val_len = val_len;
	if (val_len)
		memcpy(li->val, val, val_len);

	while (*p) {
		parent = *p;
		old = rb_entry(parent, struct log_item, node);
		cmp = key_cmp(key, &old->key);
		if (cmp < 0) {
			p = &parent->rb_left;
		} else if (cmp > 0) {
			p = &parent->rb_right;
		} else {
			li->maybe_committed = old->maybe_committed;
			rb_replace_node(&old->node, &li->node, &ilog->items);
			ilog->bytes += log_item_bytes(val_len) -
				       log_item_bytes(old->val_len);
			kfree(old);
			return 0;
		}
	}
	rb_link_node(&li->node, parent, p);
	rb_insert_color(&li->node, &ilog->items);
	ilog->nr_items++;
	ilog->bytes += log_item_bytes(val_len);
	return 0;
}

static int copy_log_val(const struct log_item *li, void *val, int val_size)
{
	if (val && val_size > 0 && li->val_len)
		memcpy(val, li->val, min_t(int, li->val_len, val_size));
	return li->val_len;
}

/*
 * The lock must cover the key, and allow changes when is_change.  The
 * cluster step depends on this: an item touched without its lock would be
 * read stale or lost when another mount holds the lock.
 */
static int check_lock(struct super_block *sb,
		      const struct scoutfs_key *key, bool is_change)
{
	char kstr[SCOUTFS_KEY_STR_LEN];

	if (likely(scoutfs_lock_is_held(sb, key, is_change)))
		return 0;
	scoutfs_key_str(kstr, sizeof(kstr), key);
	scoutfs_err(sb, "item %s %s without a covering %s lock (a bug)",
		    kstr, is_change ? "changed" : "read",
		    is_change ? "write" : "read");
	return -EINVAL;
}

static int lookup_locked(struct super_block *sb, const struct scoutfs_key *key,
			 void *val, int val_size)
{
	struct log_item *li = log_lookup(ILOG(sb), key);

	if (li)
		return li->is_deletion ? -ENOENT : copy_log_val(li, val,
								val_size);
	return scoutfs_btree_lookup(BT(sb), FS_ROOT(sb), key, val, val_size);
}

int scoutfs_item_lookup(struct super_block *sb,
			const struct scoutfs_key *key, void *val, int val_size)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret;

	ret = check_lock(sb, key, false);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = lookup_locked(sb, key, val, val_size);
	mutex_unlock(&sbi->meta_mutex);
	return ret;
}

/*
 * The first item at or after key and at or before last, the log merged
 * over fs_root.  A committed item found in fs_root is kept while log
 * tombstones before it are skipped, so a run of deletions costs one
 * btree search, not one each.
 */
static int next_locked(struct super_block *sb, const struct scoutfs_key *key,
		       const struct scoutfs_key *last,
		       struct scoutfs_key *found, void *val, int val_size)
{
	struct scoutfs_key pos = *key;
	struct scoutfs_key bkey;
	struct log_item *li;
	bool have_bkey = false;
	int bret = -ENOENT;

	for (;;) {
		if (key_cmp(&pos, last) > 0)
			return -ENOENT;
		if (!have_bkey || key_cmp(&bkey, &pos) < 0) {
			bret = scoutfs_btree_next(BT(sb), FS_ROOT(sb), &pos,
						  &bkey, val, val_size);
			if (bret < 0 && bret != -ENOENT)
				return bret;
			have_bkey = true;
		}
		li = log_near(ILOG(sb), &pos, true);
		if (li && (bret == -ENOENT || key_cmp(&li->key, &bkey) <= 0)) {
			if (key_cmp(&li->key, last) > 0)
				return -ENOENT;
			if (!li->is_deletion) {
				*found = li->key;
				return copy_log_val(li, val, val_size);
			}
			if (key_cmp(&li->key, last) == 0)
				return -ENOENT;
			pos = li->key;
			scoutfs_key_inc(&pos);
			continue;
		}
		if (bret == -ENOENT || key_cmp(&bkey, last) > 0)
			return -ENOENT;
		*found = bkey;
		return bret;
	}
}

int scoutfs_item_next(struct super_block *sb,
		      const struct scoutfs_key *key,
		      const struct scoutfs_key *last, struct scoutfs_key *found,
		      void *val, int val_size)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret;

	ret = check_lock(sb, key, false) ?:
	      check_lock(sb, last, false);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = next_locked(sb, key, last, found, val, val_size);
	mutex_unlock(&sbi->meta_mutex);
	return ret;
}

/* The last item at or before key and at or after first; next's mirror. */
static int prev_locked(struct super_block *sb, const struct scoutfs_key *key,
		       const struct scoutfs_key *first,
		       struct scoutfs_key *found, void *val, int val_size)
{
	struct scoutfs_key pos = *key;
	struct scoutfs_key bkey;
	struct log_item *li;
	bool have_bkey = false;
	int bret = -ENOENT;

	for (;;) {
		if (key_cmp(&pos, first) < 0)
			return -ENOENT;
		if (!have_bkey || key_cmp(&bkey, &pos) > 0) {
			bret = scoutfs_btree_prev(BT(sb), FS_ROOT(sb), &pos,
						  &bkey, val, val_size);
			if (bret < 0 && bret != -ENOENT)
				return bret;
			have_bkey = true;
		}
		li = log_near(ILOG(sb), &pos, false);
		if (li && (bret == -ENOENT || key_cmp(&li->key, &bkey) >= 0)) {
			if (key_cmp(&li->key, first) < 0)
				return -ENOENT;
			if (!li->is_deletion) {
				*found = li->key;
				return copy_log_val(li, val, val_size);
			}
			if (key_cmp(&li->key, first) == 0)
				return -ENOENT;
			pos = li->key;
			scoutfs_key_dec(&pos);
			continue;
		}
		if (bret == -ENOENT || key_cmp(&bkey, first) < 0)
			return -ENOENT;
		*found = bkey;
		return bret;
	}
}

int scoutfs_item_prev(struct super_block *sb,
		      const struct scoutfs_key *key,
		      const struct scoutfs_key *first,
		      struct scoutfs_key *found, void *val, int val_size)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret;

	ret = check_lock(sb, key, false) ?:
	      check_lock(sb, first, false);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = prev_locked(sb, key, first, found, val, val_size);
	mutex_unlock(&sbi->meta_mutex);
	return ret;
}

/* Whether an item exists, and whether fs_root may have it. */
static int exists_locked(struct super_block *sb,
			 const struct scoutfs_key *key, bool *in_log)
{
	struct log_item *li = log_lookup(ILOG(sb), key);
	int ret;

	*in_log = li != NULL;
	if (li)
		return li->is_deletion ? -ENOENT : 0;
	ret = scoutfs_btree_lookup(BT(sb), FS_ROOT(sb), key, NULL, 0);
	return ret < 0 ? ret : 0;
}

int scoutfs_item_create(struct super_block *sb,
			const struct scoutfs_key *key, const void *val,
			int val_len)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	bool in_log;
	int ret;

	ret = check_lock(sb, key, true);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = exists_locked(sb, key, &in_log);
	if (ret == 0)
		ret = -EEXIST;
	else if (ret == -ENOENT)
		/* a replaced tombstone keeps its maybe_committed */
		ret = log_insert(ILOG(sb), key, val, val_len, false, false);
	mutex_unlock(&sbi->meta_mutex);
	if (ret == 0)
		scoutfs_trans_note_change(sb);
	return ret;
}

int scoutfs_item_update(struct super_block *sb,
			const struct scoutfs_key *key, const void *val,
			int val_len)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	bool in_log;
	int ret;

	ret = check_lock(sb, key, true);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = exists_locked(sb, key, &in_log);
	if (ret == 0)
		ret = log_insert(ILOG(sb), key, val, val_len, false, true);
	mutex_unlock(&sbi->meta_mutex);
	if (ret == 0)
		scoutfs_trans_note_change(sb);
	return ret;
}

/* Create or replace. */
int scoutfs_item_force(struct super_block *sb,
		       const struct scoutfs_key *key, const void *val,
		       int val_len)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret;

	ret = check_lock(sb, key, true);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = log_insert(ILOG(sb), key, val, val_len, false, true);
	mutex_unlock(&sbi->meta_mutex);
	if (ret == 0)
		scoutfs_trans_note_change(sb);
	return ret;
}

int scoutfs_item_delete(struct super_block *sb,
			const struct scoutfs_key *key)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct log_item *li;
	bool in_log;
	int ret;

	ret = check_lock(sb, key, true);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	ret = exists_locked(sb, key, &in_log);
	if (ret == 0) {
		li = in_log ? log_lookup(ILOG(sb), key) : NULL;
		if (li && !li->maybe_committed)
			log_remove(ILOG(sb), li);	/* born and gone in this transaction */
		else
			ret = log_insert(ILOG(sb), key, NULL, 0, true, true);
	}
	mutex_unlock(&sbi->meta_mutex);
	if (ret == 0)
		scoutfs_trans_note_change(sb);
	return ret;
}

/*
 * Iteration merges the log into a btree walk: before each committed item,
 * the log's changes at smaller keys are visited; a log change at the same
 * key replaces (or, as a tombstone, hides) the committed item.
 */
struct merge_iter {
	struct scoutfs_item_log *ilog;
	struct log_item *li;		/* next log change not yet visited */
	const struct scoutfs_key *end;
	scoutfs_btree_iter_cb cb;
	void *arg;
};

static struct log_item *log_next_item(struct merge_iter *mi,
				      struct log_item *li)
{
	struct rb_node *n = rb_next(&li->node);

	li = n ? rb_entry(n, struct log_item, node) : NULL;
	return li && key_cmp(&li->key, mi->end) <= 0 ? li : NULL;
}

/* Visit the log changes before key (all of them when key is NULL). */
static int merge_log_before(struct merge_iter *mi,
			    const struct scoutfs_key *key)
{
	struct log_item *li;
	int ret;

	while ((li = mi->li) && (!key || key_cmp(&li->key, key) < 0)) {
		mi->li = log_next_item(mi, li);
		if (li->is_deletion)
			continue;
		ret = mi->cb(mi->arg, &li->key, li->val, li->val_len);
		if (ret)
			return ret;
	}
	return 0;
}

static int merge_cb(void *arg, const struct scoutfs_key *key, const void *val,
		    int val_len)
{
	struct merge_iter *mi = arg;
	struct log_item *li;
	int ret;

	ret = merge_log_before(mi, key);
	if (ret)
		return ret;
	li = mi->li;
	if (li && key_cmp(&li->key, key) == 0) {
		mi->li = log_next_item(mi, li);
		if (li->is_deletion)
			return 0;
		return mi->cb(mi->arg, &li->key, li->val, li->val_len);
	}
	return mi->cb(mi->arg, key, val, val_len);
}

/*
 * Calls cb for each item in [start, end] in order.  cb runs with
 * meta_mutex held: it must only copy out what it needs.
 */
int scoutfs_item_iterate(struct super_block *sb,
			 const struct scoutfs_key *start,
			 const struct scoutfs_key *end,
			 scoutfs_btree_iter_cb cb, void *arg)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct merge_iter mi = {
		.ilog = ILOG(sb), .end = end, .cb = cb, .arg = arg,
	};
	int ret;

	ret = check_lock(sb, start, false) ?:
	      check_lock(sb, end, false);
	if (ret)
		return ret;
	mutex_lock(&sbi->meta_mutex);
	mi.li = log_near(mi.ilog, start, true);
	if (mi.li && key_cmp(&mi.li->key, end) > 0)
		mi.li = NULL;
	ret = scoutfs_btree_iterate(BT(sb), FS_ROOT(sb), start, end, merge_cb,
				    &mi) ?:
	      merge_log_before(&mi, NULL);
	mutex_unlock(&sbi->meta_mutex);
	return ret;
}

/*
 * The most metadata blocks that merging a log of nr_items changes holding
 * "bytes" bytes into fs_root can allocate.  Copy-on-write dirties at most
 * one leaf per item and never more leaves than exist; a parent has at
 * least a quarter block of children (hundreds), so each parent level
 * dirties at most one block per SCOUTFS_ITEM_MIN_FANOUT used blocks, or
 * per item, plus one.  Splits add at most one block per touched leaf that
 * was full, plus one per half block of new bytes, plus their parents'
 * splits and a new root.  The allocator's own trees are paid for by its
 * reserve (libscoutfs/alloc.c).
 */
#define SCOUTFS_ITEM_MIN_FANOUT	256

u64 scoutfs_item_log_blocks_needed(struct super_block *sb, u64 nr_items,
				   u64 bytes)
{
	struct scoutfs_super_block *super = SCOUTFS_SB(sb)->super;
	u64 total = le64_to_cpu(super->total_meta_blocks);
	u64 free = le64_to_cpu(super->free_meta_blocks);
	u64 height = max_t(u64, super->fs_root.height, 1);
	u64 used = total > free ? total - free : 0;
	u64 leaves, parents, splits;

	if (nr_items == 0)
		return 0;
	leaves = min(nr_items, used);
	parents = (height - 1) *
		  (min(nr_items, div64_u64(used, SCOUTFS_ITEM_MIN_FANOUT)) + 1);
	splits = leaves + div64_u64(2 * bytes, SCOUTFS_BTREE_USABLE) + 1;
	return leaves + parents + splits +
	       div64_u64(splits, SCOUTFS_ITEM_MIN_FANOUT) + height + 1;
}

/* The log's size, for trans.c's space checks and commit triggers. */
void scoutfs_item_log_size(struct super_block *sb, u64 *nr_items, u64 *bytes)
{
	*nr_items = ILOG(sb)->nr_items;
	*bytes = ILOG(sb)->bytes;
}

static void free_log(struct scoutfs_item_log *ilog)
{
	struct log_item *li, *tmp;

	rbtree_postorder_for_each_entry_safe(li, tmp, &ilog->items, node)
		kfree(li);
	ilog->items = RB_ROOT;
	ilog->nr_items = 0;
	ilog->bytes = 0;
}

/*
 * Commit: merge the log into fs_root in key order and empty it.  Called
 * by trans.c with trans_rwsem held for write and meta_mutex held, so no
 * change can arrive meanwhile.  A failure leaves fs_root part merged in
 * memory only; trans.c then makes the mount read-only and nothing of this
 * transaction reaches the disk.
 */
int scoutfs_item_write_log(struct super_block *sb)
{
	struct scoutfs_item_log *ilog = ILOG(sb);
	struct rb_node *n;
	struct log_item *li;
	char kstr[SCOUTFS_KEY_STR_LEN];
	int ret = 0;

	for (n = rb_first(&ilog->items); n; n = rb_next(n)) {
		li = rb_entry(n, struct log_item, node);
		if (li->is_deletion) {
			ret = scoutfs_btree_delete(BT(sb), FS_ROOT(sb),
						   &li->key);
			if (ret == -ENOENT)
				ret = 0;
		} else {
			ret = scoutfs_btree_force(BT(sb), FS_ROOT(sb), &li->key,
						  li->val, li->val_len);
		}
		if (ret) {
			scoutfs_key_str(kstr, sizeof(kstr), &li->key);
			scoutfs_err(sb, "merging the commit log into the fs tree failed at item %s (%d)",
				    kstr, ret);
			break;
		}
	}
	if (ret == 0)
		free_log(ilog);
	return ret;
}

int scoutfs_item_setup(struct super_block *sb)
{
	struct scoutfs_item_log *ilog;

	ilog = kzalloc(sizeof(*ilog), GFP_KERNEL);
	if (!ilog)
		return -ENOMEM;
	ilog->items = RB_ROOT;
	SCOUTFS_SB(sb)->item_log = ilog;
	return 0;
}

/* At unmount, after the final commit; a read-only mount drops its log. */
void scoutfs_item_destroy(struct super_block *sb)
{
	struct scoutfs_item_log *ilog = ILOG(sb);

	if (ilog) {
		free_log(ilog);
		kfree(ilog);
		SCOUTFS_SB(sb)->item_log = NULL;
	}
}
