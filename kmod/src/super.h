/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_SUPER_H_
#define _SCOUTFS_SUPER_H_

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "format.h"
#include "options.h"
#include "libscoutfs/alloc.h"
#include "libscoutfs/btree.h"

struct scoutfs_block_cache;
struct scoutfs_item_log;
struct scoutfs_lock_info;
struct scoutfs_sysfs_info;

/* statfs reports this many possible inodes per free metadata block */

/* most links one inode may have */
#define SCOUTFS_LINK_MAX			65000


/*
 * Everything one mount keeps, reached from sb->s_fs_info.
 *
 * Lock order (see lock.c for the whole list): VFS inode locks -> cluster
 * locks (lock.c) -> trans_rwsem (held for read by every change, for write
 * by commit) -> meta_mutex (serialises every btree and allocator call and
 * the block cache under them).
 */
struct scoutfs_sb_info {
	struct super_block *sb;
	struct scoutfs_mount_options opts;
	seqlock_t opts_seqlock;		/* the changeable options (options.c) */
	struct scoutfs_sysfs_info *sysfs;	/* sysfs.c */
	struct block_device *meta_bdev;
	fmode_t meta_mode;
	u64 fsid;
	u64 rid;			/* this mount's random id */

	/* the transaction being built; the committed seq is trans_seq - 1 */
	struct mutex meta_mutex;
	struct rw_semaphore trans_rwsem;
	struct scoutfs_super_block *super;	/* SCOUTFS_BLOCK_SIZE buffer */
	u64 trans_seq;
	u64 committed_seq;
	struct scoutfs_block_cache *bcache;
	struct scoutfs_alloc alloc;
	struct scoutfs_btree_ctx btree;
	struct scoutfs_extent *freed_meta;
	struct scoutfs_extent *freed_data;
	unsigned long trans_dirty_ops;	/* changes since the last commit */
	unsigned int trans_holders;	/* open holds, under meta_mutex */
	struct scoutfs_item_log *item_log;	/* this mount's commit log */
	struct scoutfs_lock_info *lock_info;
	struct delayed_work commit_work;
	int read_only_after_error;	/* set once, by scoutfs_trans_read_only() */

	/* ioends over unwritten blocks, converted by their worker (data.c) */
	spinlock_t ioend_lock;
	struct list_head ioend_list;
	struct work_struct ioend_work;
	struct workqueue_struct *ioend_wq;

	/* tasks waiting for offline data (data_wait.c) */
	spinlock_t dw_lock;
	struct rb_root dw_tree;		/* data_wait.c */
	u64 dw_nr;

	/* the periodic orphan scan (inode.c) */
	struct delayed_work orphan_work;
	bool orphan_scan_stopped;	/* unmounting: no more scans */
	u64 orphan_scan_next;		/* where the next run starts */
	spinlock_t orphan_lock;		/* orphan_scan_stopped, (re)queueing */

	/* counters, shown in sysfs counters/ (sysfs.c) */
	struct {
		atomic64_t orphan_scan;
		atomic64_t orphan_scan_item;
		atomic64_t orphan_scan_cached;
	} counters;
};

static inline struct scoutfs_sb_info *SCOUTFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

/*
 * Messages carry upstream's prefix, "scoutfs f.FSID.r.RID" with the top
 * 24 bits of the fsid and of the mount's rid in hex (0 until known), and
 * errors add " error", so tools that filter the kernel log for upstream's
 * messages find ours.
 */
#define SCOUTFS_MSG_PREFIX "scoutfs f.%06llx.r.%06llx"

static inline unsigned long long scoutfs_msg_id(struct super_block *sb,
						bool is_fsid)
{
	struct scoutfs_sb_info *sbi = sb->s_fs_info;

	if (!sbi)
		return 0;
	return (is_fsid ? sbi->fsid : sbi->rid) >> 40;
}

#define scoutfs_err(sb, fmt, ...) \
	pr_err(SCOUTFS_MSG_PREFIX " error: " fmt "\n", scoutfs_msg_id(sb, true), \
	       scoutfs_msg_id(sb, false), ##__VA_ARGS__)
#define scoutfs_info(sb, fmt, ...) \
	pr_info(SCOUTFS_MSG_PREFIX ": " fmt "\n", scoutfs_msg_id(sb, true), \
		scoutfs_msg_id(sb, false), ##__VA_ARGS__)

#endif
