// SPDX-License-Identifier: GPL-2.0
/*
 * trans.c: transactions, their sequence numbers, and commit.
 *
 * Every change a system call makes happens inside one transaction: the
 * caller takes its locks and a hold with scoutfs_lock_hold() (lock.c),
 * which ends in scoutfs_trans_hold*() taking trans_rwsem for read, and
 * leaves with scoutfs_lock_release().  Its item changes go to the mount's
 * commit log (item.c).  Commit takes trans_rwsem for write, so it sees no
 * half-made change, and then:
 *
 *   1. merges the commit log into the fs tree (scoutfs_item_write_log),
 *   2. records the blocks freed by the transaction in the free trees
 *      (scoutfs_alloc_commit),
 *   3. writes every dirty metadata block and waits for them, and
 *      flushes the data device so file data written before the commit
 *      is stable before any super references its extents,
 *   4. writes the super for seq N into slot N % 2 with PREFLUSH|FUA, so it
 *      is stable only after everything it references,
 *   5. starts transaction N + 1: blocks of N are now read-only history,
 *      and the btree copies them before changing them again.
 *
 * Space: the btree work of a transaction happens at commit, where an
 * -ENOSPC could only make the mount read-only, so a hold is refused up
 * front instead.  Each hold may add at most SCOUTFS_HOLD_MAX_ITEMS items
 * and SCOUTFS_HOLD_MAX_BYTES to the log; a hold is granted only while the
 * free metadata blocks cover the worst case of writing the log with every
 * open hold at its maximum (scoutfs_item_log_blocks_needed()), plus a
 * reserve that only holds which free space (SCOUTFS_HOLD_RESERVED:
 * unlink, rmdir, truncate, evict) may use, so a full filesystem can
 * always be emptied.
 *
 * A crash before step 3 completes leaves super N - 1 and every block it
 * references untouched (copy-on-write never overwrote them), so the next
 * mount sees exactly the last committed transaction (format.h).
 *
 * The transaction's seq is what the inode code stamps into meta_seq and
 * data_seq; it cannot change while a hold is taken, so every item of one
 * change carries the same seq.  Commits happen every
 * SCOUTFS_COMMIT_INTERVAL_MS while there are changes, when the log or
 * the dirty blocks grow past their bounds (memory pressure), when a hold
 * would not fit, and on sync/fsync/syncfs/unmount.
 *
 * A failed commit, a metadata I/O error or a metadata block that fails
 * verification (block.c), and a data write error seen by fsync leave the
 * filesystem read-only with one log line (scoutfs_trans_read_only()): the
 * transaction in memory can no longer be trusted to reach the disk, and
 * continuing would return success for changes that will be lost.
 *
 * THE TASK IN A HOLD
 *
 * While a task holds, current->journal_info points at its struct
 * scoutfs_trans_task (as jbd2 and XFS mark their transactions) and the task
 * allocates as GFP_NOFS (memalloc_nofs_save()): reclaim from inside a
 * hold must not enter a filesystem, ours (evict would take a second hold)
 * or another (which would take journal_info for its own).  A second hold
 * by the same task would deadlock against a commit waiting for
 * trans_rwsem for write, and a commit from inside a hold would wait for
 * itself: both are refused with -EDEADLK and logged as "(a bug)" with
 * the stack, which fails a test run (tests/vm/run).  lock.c reports a
 * cluster lock acquired inside a hold the same way: with several mounts
 * such a lock may wait for another mount, which may wait for this
 * mount's commit.
 *
 * NO OPERATION IS HALF ON DISK
 *
 * A hold has no rollback, so an operation that fails after it changed an
 * item or freed blocks (item.c and the freeing sites count the changes of
 * the task's hold) cannot be left to commit: scoutfs_lock_release_ret()
 * (lock.c) then makes the mount read-only, before any commit, with one
 * log line naming the operation and the inode
 * (scoutfs_trans_failed_part_way()).  The last committed
 * transaction stays what the disk holds, and the next mount sees the
 * operation either done (committed before) or not at all.
 *
 * Lock order: trans_rwsem -> meta_mutex.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>
#include <linux/blkdev.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>

#include "super.h"
#include "block.h"
#include "trans.h"
#include "item.h"
#include "fault.h"

#define SCOUTFS_COMMIT_INTERVAL_MS	5000
#define SCOUTFS_COMMIT_DIRTY_BLOCKS	512	/* 32 MiB of dirty metadata */
#define SCOUTFS_COMMIT_LOG_BYTES	(16U << 20)	/* log memory */
#define SCOUTFS_COMMIT_LOG_BLOCKS	4096	/* worst case of writing the log */
#define SCOUTFS_FREED_EXTENTS_MAX	(1U << 16)
/*
 * The most one hold may add to the log: replacing a 64 KiB xattr (17 new
 * parts, 17 deleted, srch, inode and index items) is the largest; evict
 * and truncate batches delete up to 64 adjacent items, which share
 * leaves, and use the reserve.
 */
#define SCOUTFS_HOLD_MAX_ITEMS		40
#define SCOUTFS_HOLD_MAX_BYTES		(80U << 10)
/* margin over the estimate, on top of the allocator's own reserve */
#define SCOUTFS_COMMIT_SLACK_BLOCKS	16
#define SCOUTFS_DELETE_RESERVE_MAX	256	/* 16 MiB */

static int trans_start(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret;

	ret = scoutfs_alloc_init(&sbi->alloc, sbi->super,
				 &scoutfs_kernel_block_ops, sb, sbi->trans_seq,
				 sbi->freed_meta, SCOUTFS_FREED_EXTENTS_MAX,
				 sbi->freed_data,
				 scoutfs_fault_freed_data_cap(SCOUTFS_FREED_EXTENTS_MAX));
	if (ret) {
		scoutfs_err(sb, "the super block's saved allocator reserve is invalid (%d)",
			    ret);
		return ret;
	}
	scoutfs_alloc_btree_ctx(&sbi->alloc, &sbi->btree);
	sbi->trans_dirty_ops = 0;
	return 0;
}

static void commit_worker(struct work_struct *work)
{
	struct scoutfs_sb_info *sbi =
		container_of(to_delayed_work(work), struct scoutfs_sb_info,
			     commit_work);

	scoutfs_trans_commit(sbi->sb);
}

int scoutfs_trans_setup(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	sbi->freed_meta = kvcalloc(SCOUTFS_FREED_EXTENTS_MAX,
				   sizeof(struct scoutfs_extent), GFP_KERNEL);
	sbi->freed_data = kvcalloc(SCOUTFS_FREED_EXTENTS_MAX,
				   sizeof(struct scoutfs_extent), GFP_KERNEL);
	if (!sbi->freed_meta || !sbi->freed_data)
		return -ENOMEM;
	INIT_DELAYED_WORK(&sbi->commit_work, commit_worker);
	sbi->committed_seq = le64_to_cpu(sbi->super->seq);
	sbi->trans_seq = sbi->committed_seq + 1;
	return trans_start(sb);
}

void scoutfs_trans_destroy(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	if (sbi->freed_meta)
		cancel_delayed_work_sync(&sbi->commit_work);
	kvfree(sbi->freed_meta);
	kvfree(sbi->freed_data);
	sbi->freed_meta = NULL;
	sbi->freed_data = NULL;
}

/*
 * Metadata blocks that commit would need if the log grew by one more
 * hold for each open hold (and this one), over what it needs now.
 */
static u64 blocks_needed_with_holds(struct super_block *sb,
				    unsigned int nr_holds)
{
	u64 nr_items, bytes;

	scoutfs_item_log_size(sb, &nr_items, &bytes);
	return scoutfs_item_log_blocks_needed(sb,
			nr_items + nr_holds * SCOUTFS_HOLD_MAX_ITEMS,
			bytes + nr_holds * SCOUTFS_HOLD_MAX_BYTES);
}

/*
 * Blocks kept free for the holds that free space (unlink, rmdir,
 * truncate, evict), so a full filesystem can always be emptied: a
 * sixteenth of the device, at most SCOUTFS_DELETE_RESERVE_MAX.
 */
static u64 delete_reserve(struct scoutfs_super_block *super)
{
	return min_t(u64, SCOUTFS_DELETE_RESERVE_MAX,
		     le64_to_cpu(super->total_meta_blocks) / 16);
}

/* Is there room for one more hold?  meta_mutex held. */
static bool hold_fits(struct super_block *sb, bool use_reserve)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	u64 free = le64_to_cpu(sbi->super->free_meta_blocks);
	u64 need = blocks_needed_with_holds(sb, sbi->trans_holders + 1) +
		   SCOUTFS_COMMIT_SLACK_BLOCKS;

	if (!use_reserve)
		need += delete_reserve(sbi->super);
	return free >= need;
}

/*
 * Enter the transaction.  Refused with -ENOSPC, before the caller has
 * changed anything, when the free metadata blocks could not cover writing
 * the log with this hold's worst case in it; a commit turns the log's
 * estimate into the (smaller) real use, so a full-looking transaction is
 * committed once and the check retried before giving up.
 */
#define SCOUTFS_TRANS_TASK_MAGIC	0x5c0f7a5cU

static struct scoutfs_trans_task *current_trans_task(void)
{
	struct scoutfs_trans_task *tt = current->journal_info;

	return tt && tt->magic == SCOUTFS_TRANS_TASK_MAGIC ? tt : NULL;
}

int scoutfs_trans_hold_flags(struct super_block *sb, bool use_reserve,
			     struct scoutfs_trans_task *tt)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	bool committed = false;
	bool fits;
	u64 nr_items, bytes;

	if (current->journal_info) {
		scoutfs_err(sb, "a task in a transaction hold asked for another (a bug)");
		dump_stack();
		return -EDEADLK;
	}
	for (;;) {
		down_read(&sbi->trans_rwsem);
		if (sbi->read_only_after_error) {
			up_read(&sbi->trans_rwsem);
			return -EROFS;
		}
		mutex_lock(&sbi->meta_mutex);
		fits = hold_fits(sb, use_reserve);
		if (fits)
			sbi->trans_holders++;
		scoutfs_item_log_size(sb, &nr_items, &bytes);
		mutex_unlock(&sbi->meta_mutex);
		if (fits) {
			tt->magic = SCOUTFS_TRANS_TASK_MAGIC;
			tt->sbi = sbi;
			tt->changes = 0;
			tt->nofs = memalloc_nofs_save();
			current->journal_info = tt;
			return 0;
		}
		up_read(&sbi->trans_rwsem);
		if (committed || (nr_items == 0 && scoutfs_block_nr_dirty(sb) == 0))
			return -ENOSPC;
		scoutfs_trans_commit(sb);
		committed = true;
	}
}

/*
 * The end of a hold: it no longer counts against the space check, and
 * returns whether the log or the dirty blocks have grown large enough to
 * commit now.
 */
static bool end_hold_is_full(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	u64 nr_items, bytes;
	bool full;

	mutex_lock(&sbi->meta_mutex);
	scoutfs_item_log_size(sb, &nr_items, &bytes);
	full = bytes >= SCOUTFS_COMMIT_LOG_BYTES ||
	       scoutfs_item_log_blocks_needed(sb, nr_items, bytes) >=
			SCOUTFS_COMMIT_LOG_BLOCKS ||
	       scoutfs_block_nr_dirty(sb) >= SCOUTFS_COMMIT_DIRTY_BLOCKS;
	sbi->trans_holders--;
	mutex_unlock(&sbi->meta_mutex);
	return full;
}

void scoutfs_trans_release(struct super_block *sb,
			   struct scoutfs_trans_task *tt)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	bool commit_now;

	memalloc_nofs_restore(tt->nofs);
	current->journal_info = NULL;
	tt->magic = 0;

	WRITE_ONCE(sbi->trans_dirty_ops, READ_ONCE(sbi->trans_dirty_ops) + 1);
	commit_now = end_hold_is_full(sb);
	up_read(&sbi->trans_rwsem);

	if (commit_now)
		mod_delayed_work(system_wq, &sbi->commit_work, 0);
	else if (!delayed_work_pending(&sbi->commit_work))
		queue_delayed_work(system_wq, &sbi->commit_work,
				   msecs_to_jiffies(SCOUTFS_COMMIT_INTERVAL_MS));
}

/* Is the current task in a hold of sb's transaction? */
bool scoutfs_trans_held(struct super_block *sb)
{
	struct scoutfs_trans_task *tt = current_trans_task();

	return tt && tt->sbi == SCOUTFS_SB(sb);
}

/* An item changed (item.c): count it against the task's hold. */
void scoutfs_trans_note_change(struct super_block *sb)
{
	struct scoutfs_trans_task *tt = current_trans_task();

	if (tt && tt->sbi == SCOUTFS_SB(sb))
		tt->changes++;
}

/*
 * An operation failed after its first change, inside its hold: nothing
 * of this transaction may commit.
 */
void scoutfs_trans_failed_part_way(struct super_block *sb, const char *what,
				   u64 ino, int err)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "%s of inode %llu, after its first change,",
		 what, ino);
	scoutfs_trans_read_only(sb, buf, err);
}

/* The seq of the transaction being built; stable under a hold. */
u64 scoutfs_trans_seq(struct super_block *sb)
{
	return SCOUTFS_SB(sb)->trans_seq;
}

static int write_super(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_super_block *super = sbi->super;
	u64 blkno = SCOUTFS_SUPER_BLKNO + (sbi->trans_seq % SCOUTFS_SUPER_SLOTS);

	super->seq = cpu_to_le64(sbi->trans_seq);
	scoutfs_block_init_hdr(super, SCOUTFS_BLOCK_MAGIC_SUPER, sbi->fsid,
			       sbi->trans_seq, blkno);
	scoutfs_block_set_crc(super);
	return scoutfs_block_io(sb, REQ_OP_WRITE | REQ_SYNC | REQ_PREFLUSH |
				REQ_FUA, blkno, super);
}

/* Commit; *wrote says whether there was anything to write (and flush). */
static int trans_commit(struct super_block *sb, bool *wrote)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret = 0;

	*wrote = false;
	down_write(&sbi->trans_rwsem);
	mutex_lock(&sbi->meta_mutex);

	if (sbi->read_only_after_error) {
		ret = -EROFS;
		goto out;
	}
	if (sbi->trans_dirty_ops == 0 && scoutfs_block_nr_dirty(sb) == 0)
		goto out;

	ret = scoutfs_item_write_log(sb);
	if (ret)
		goto fail;
	ret = scoutfs_alloc_commit(&sbi->alloc);
	if (ret) {
		scoutfs_err(sb, "commit of seq %llu: recording freed blocks failed (%d)",
			    sbi->trans_seq, ret);
		goto fail;
	}
	ret = scoutfs_block_write_dirty(sb);
	if (ret)
		goto fail;
	/*
	 * The super's PREFLUSH only reaches the metadata device: file data
	 * written before this commit must be stable on the data device
	 * before a super references its extents.
	 */
	ret = blkdev_issue_flush(sb->s_bdev);
	if (ret) {
		scoutfs_err(sb, "commit of seq %llu: flushing the data device failed (%d)",
			    sbi->trans_seq, ret);
		goto fail;
	}
	ret = write_super(sb);
	if (ret) {
		scoutfs_err(sb, "commit of seq %llu: super block write failed (%d)",
			    sbi->trans_seq, ret);
		goto fail;
	}
	sbi->committed_seq = sbi->trans_seq;
	*wrote = true;
	sbi->trans_seq++;
	ret = trans_start(sb);
	if (ret)
		goto fail;
out:
	mutex_unlock(&sbi->meta_mutex);
	up_write(&sbi->trans_rwsem);
	return ret;

fail:
	scoutfs_trans_read_only(sb, "commit", ret);
	goto out;
}

int scoutfs_trans_commit(struct super_block *sb)
{
	bool wrote;

	if (current->journal_info) {
		scoutfs_err(sb, "a task in a transaction hold asked for a commit (a bug)");
		dump_stack();
		return -EDEADLK;
	}
	return trans_commit(sb, &wrote);
}

/*
 * After a metadata I/O error or a block that failed verification, or a
 * failed commit, the transaction in memory may never reach the disk and
 * what is on disk may not be what we think: stop every change (holds
 * return -EROFS, commit writes nothing) and say so once.  What was
 * committed stays as it was; the changes since are lost, and the log line
 * names the seq they were not in.  Callable from any context that may
 * print.
 */
void scoutfs_trans_read_only(struct super_block *sb, const char *what, int err)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	if (xchg(&sbi->read_only_after_error, 1))
		return;
	/*
	 * The VFS skips ->sync_fs on a read-only super, so syncfs(2) would
	 * report success for the lost changes; the super's writeback error
	 * makes it (and each open file's next syncfs) return the error.
	 */
	errseq_set(&sb->s_wb_err, err < 0 ? err : -EIO);
	sb->s_flags |= SB_RDONLY;
	scoutfs_err(sb, "%s failed (%d): the filesystem is now read-only; changes after seq %llu are lost",
		    what, err, READ_ONCE(sbi->committed_seq));
}

/*
 * fsync, fdatasync: write the file's dirty pages (which allocates their
 * extents inside transactions), then commit.  Durable on return.
 */
int scoutfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	bool wrote;
	int ret;

	ret = file_write_and_wait_range(file, start, end);
	if (ret == -EIO)
		scoutfs_trans_read_only(inode->i_sb, "writing file data", ret);
	if (ret)
		return ret;
	ret = trans_commit(inode->i_sb, &wrote);
	/* a commit flushes the data device; with nothing to commit, do it here */
	if (ret == 0 && !wrote)
		ret = blkdev_issue_flush(inode->i_sb->s_bdev);
	return ret;
}
