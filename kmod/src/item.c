// SPDX-License-Identifier: GPL-2.0
/*
 * item.c: the items of the filesystem, as the rest of the module sees
 * them.
 *
 * Callers name items by key and never see blocks or trees.  With one
 * mount every item lives in the super's fs_root btree and this file calls
 * the shared btree code (libscoutfs/btree.c) under meta_mutex.  The
 * cluster step puts a per-mount log tree here: changes go to the mount's
 * own log, reads merge the log with fs_root, and nothing above this file
 * changes.
 *
 * Changes must be made inside a transaction hold (trans.c) by a caller
 * that holds the lock covering the key (lock.c); reads need only the
 * lock.  -ENOENT means no such item; other errors are the btree's (-EIO
 * after a block failed verification, -ENOSPC when metadata is full).
 *
 * Lock order: trans_rwsem -> meta_mutex (taken here).
 */
#include <linux/fs.h>
#include <linux/mutex.h>

#include "super.h"
#include "item.h"
#include "libscoutfs/key.h"

#define item_call(sb, call) ({						\
	struct scoutfs_sb_info *__sbi = SCOUTFS_SB(sb);			\
	int __ret;							\
	mutex_lock(&__sbi->meta_mutex);					\
	__ret = call;							\
	mutex_unlock(&__sbi->meta_mutex);				\
	__ret;								\
})

#define FS_ROOT(sb) (&SCOUTFS_SB(sb)->super->fs_root)
#define BT(sb) (&SCOUTFS_SB(sb)->btree)

int scoutfs_item_lookup(struct super_block *sb, const struct scoutfs_key *key,
			void *val, int val_size)
{
	return item_call(sb, scoutfs_btree_lookup(BT(sb), FS_ROOT(sb), key,
						  val, val_size));
}

/* The first item at or after key and at or before last. */
int scoutfs_item_next(struct super_block *sb, const struct scoutfs_key *key,
		      const struct scoutfs_key *last, struct scoutfs_key *found,
		      void *val, int val_size)
{
	int ret;

	ret = item_call(sb, scoutfs_btree_next(BT(sb), FS_ROOT(sb), key, found,
					       val, val_size));
	if (ret >= 0 && scoutfs_key_compare(found, last) > 0)
		ret = -ENOENT;
	return ret;
}

/* The last item at or before key and at or after first. */
int scoutfs_item_prev(struct super_block *sb, const struct scoutfs_key *key,
		      const struct scoutfs_key *first,
		      struct scoutfs_key *found, void *val, int val_size)
{
	int ret;

	ret = item_call(sb, scoutfs_btree_prev(BT(sb), FS_ROOT(sb), key, found,
					       val, val_size));
	if (ret >= 0 && scoutfs_key_compare(found, first) < 0)
		ret = -ENOENT;
	return ret;
}

int scoutfs_item_create(struct super_block *sb, const struct scoutfs_key *key,
			const void *val, int val_len)
{
	return item_call(sb, scoutfs_btree_insert(BT(sb), FS_ROOT(sb), key, val,
						  val_len));
}

int scoutfs_item_update(struct super_block *sb, const struct scoutfs_key *key,
			const void *val, int val_len)
{
	return item_call(sb, scoutfs_btree_update(BT(sb), FS_ROOT(sb), key, val,
						  val_len));
}

/* Create or replace. */
int scoutfs_item_force(struct super_block *sb, const struct scoutfs_key *key,
		       const void *val, int val_len)
{
	return item_call(sb, scoutfs_btree_force(BT(sb), FS_ROOT(sb), key, val,
						 val_len));
}

int scoutfs_item_delete(struct super_block *sb, const struct scoutfs_key *key)
{
	return item_call(sb, scoutfs_btree_delete(BT(sb), FS_ROOT(sb), key));
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
	return item_call(sb, scoutfs_btree_iterate(BT(sb), FS_ROOT(sb), start,
						   end, cb, arg));
}
