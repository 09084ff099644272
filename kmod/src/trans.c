// SPDX-License-Identifier: GPL-2.0
/*
 * trans.c: transactions, their sequence numbers, and commit.
 *
 * Every change a system call makes happens inside one transaction: the
 * caller brackets its item changes with scoutfs_trans_hold() and
 * scoutfs_trans_release(), which take trans_rwsem for read.  Commit takes
 * it for write, so it sees no half-made change, and then:
 *
 *   1. records the blocks freed by the transaction in the free trees
 *      (scoutfs_alloc_commit),
 *   2. writes every dirty metadata block and waits for them,
 *   3. writes the super for seq N into slot N % 2 with PREFLUSH|FUA, so it
 *      is stable only after everything it references,
 *   4. starts transaction N + 1: blocks of N are now read-only history,
 *      and the btree copies them before changing them again.
 *
 * A crash before step 3 completes leaves super N - 1 and every block it
 * references untouched (copy-on-write never overwrote them), so the next
 * mount sees exactly the last committed transaction (format.h).
 *
 * The transaction's seq is what the inode code stamps into meta_seq and
 * data_seq; it cannot change while a hold is taken, so every item of one
 * change carries the same seq.  Commits happen every
 * SCOUTFS_COMMIT_INTERVAL_MS while there are changes, when the dirty
 * blocks pass SCOUTFS_COMMIT_DIRTY_BLOCKS (memory pressure bound), and on
 * sync/fsync/syncfs/unmount.
 *
 * A failed commit leaves the filesystem read-only with one log line: the
 * transaction in memory can no longer reach the disk, and continuing would
 * return success for changes that will be lost.
 *
 * Lock order: trans_rwsem -> meta_mutex.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>

#include "super.h"
#include "block.h"
#include "trans.h"

#define SCOUTFS_COMMIT_INTERVAL_MS	5000
#define SCOUTFS_COMMIT_DIRTY_BLOCKS	512	/* 32 MiB of dirty metadata */
#define SCOUTFS_FREED_EXTENTS_MAX	(1U << 16)

static int trans_start(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret;

	ret = scoutfs_alloc_init(&sbi->alloc, sbi->super,
				 &scoutfs_kernel_block_ops, sb, sbi->trans_seq,
				 sbi->freed_meta, SCOUTFS_FREED_EXTENTS_MAX,
				 sbi->freed_data, SCOUTFS_FREED_EXTENTS_MAX);
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

int scoutfs_trans_hold(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	down_read(&sbi->trans_rwsem);
	if (sbi->read_only_after_error) {
		up_read(&sbi->trans_rwsem);
		return -EROFS;
	}
	return 0;
}

void scoutfs_trans_release(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	bool commit_now;

	WRITE_ONCE(sbi->trans_dirty_ops, READ_ONCE(sbi->trans_dirty_ops) + 1);
	commit_now = scoutfs_block_nr_dirty(sb) >= SCOUTFS_COMMIT_DIRTY_BLOCKS;
	up_read(&sbi->trans_rwsem);

	if (commit_now)
		mod_delayed_work(system_wq, &sbi->commit_work, 0);
	else if (!delayed_work_pending(&sbi->commit_work))
		queue_delayed_work(system_wq, &sbi->commit_work,
				   msecs_to_jiffies(SCOUTFS_COMMIT_INTERVAL_MS));
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

int scoutfs_trans_commit(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int ret = 0;

	down_write(&sbi->trans_rwsem);
	mutex_lock(&sbi->meta_mutex);

	if (sbi->read_only_after_error) {
		ret = -EROFS;
		goto out;
	}
	if (sbi->trans_dirty_ops == 0 && scoutfs_block_nr_dirty(sb) == 0)
		goto out;

	ret = scoutfs_alloc_commit(&sbi->alloc);
	if (ret) {
		scoutfs_err(sb, "commit of seq %llu: recording freed blocks failed (%d)",
			    sbi->trans_seq, ret);
		goto fail;
	}
	ret = scoutfs_block_write_dirty(sb);
	if (ret)
		goto fail;
	ret = write_super(sb);
	if (ret) {
		scoutfs_err(sb, "commit of seq %llu: super block write failed (%d)",
			    sbi->trans_seq, ret);
		goto fail;
	}
	sbi->committed_seq = sbi->trans_seq;
	sbi->trans_seq++;
	ret = trans_start(sb);
	if (ret)
		goto fail;
out:
	mutex_unlock(&sbi->meta_mutex);
	up_write(&sbi->trans_rwsem);
	return ret;

fail:
	sbi->read_only_after_error = true;
	sb->s_flags |= SB_RDONLY;
	scoutfs_err(sb, "commit failed (%d): the filesystem is now read-only; changes since seq %llu are lost",
		    ret, sbi->committed_seq);
	goto out;
}

/*
 * fsync, fdatasync: write the file's dirty pages (which allocates their
 * extents inside transactions), then commit.  Durable on return.
 */
int scoutfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	int ret;

	ret = file_write_and_wait_range(file, start, end);
	if (ret)
		return ret;
	return scoutfs_trans_commit(inode->i_sb);
}
