// SPDX-License-Identifier: GPL-2.0
/*
 * data_wait.c: tasks waiting for offline data to be staged.
 *
 * A read or page fault that needs a block whose extent is offline
 * (released to the archive) sleeps here until the block is staged or an
 * archive agent hands the waiters an error (DATA_WAIT_ERR).  Agents find
 * the waiters with DATA_WAITING.
 *
 * Each sleeping task has a struct scoutfs_data_waiter on its stack, on the
 * mount's list while it sleeps.  The order that makes wake-ups reliable:
 *
 *   waiter: add itself to the list, THEN check the extent, then sleep;
 *   stager: change the extent (offline -> online), THEN wake the waiters
 *           of that range.
 *
 * Whichever runs second sees the other's change, so no wake-up is lost.
 *
 * THE RULE: A WAITER HOLDS NOTHING
 *
 * A task sleeping here holds no VFS inode lock (i_rwsem), no mapping
 * invalidate_lock, no page lock, no cluster lock, no transaction hold and
 * no extent_sem; it holds at most the mmap_lock of a faulting process and
 * the superblock's freeze protection.  So `touch`, `chmod`, `chown`,
 * xattr changes, `stat`, renames and links of the same file, a release of
 * another range and the stage that ends the wait never wait behind a task
 * waiting for data: the deadlock described in the seed (a reader holding a
 * cluster lock, then taking i_mutex) cannot happen.  After every wait the
 * caller retakes its locks and checks again, because a release may have
 * made the range offline again in between.  The still_offline callback
 * runs without dw_lock and takes what it needs itself.
 *
 * The wait sites (all in data.c unless named):
 *
 *   read(2), readv, splice and copy_file_range reads (->read_iter): before
 *     reading, and again when a release raced the read and the page cache
 *     miss found the block offline; no lock is held.
 *   page fault (->fault): before filemap_fault(); a fault that found the
 *     block offline returns VM_FAULT_NOPAGE and waits on its retry.
 *   write(2), splice and copy_file_range writes (->write_iter) and
 *     fallocate: inode_lock_online() waits, then takes the inode lock and
 *     checks again, waiting again without it if a release slipped in.
 *   page_mkwrite: waits, then checks again under the invalidate lock and
 *     refaults if a release slipped in.
 *   truncate, ftruncate, open(O_TRUNC) (->setattr, inode.c): the VFS calls
 *     setattr with the inode lock held; scoutfs_data_relock_online() drops
 *     it around the wait and retakes it, and setattr's checks run after.
 *   No ioctl waits for data (stage and release never do).
 *
 * Every wait is interruptible: any signal ends it with -ERESTARTSYS (a
 * restart, or EINTR when the system call cannot restart; a fault returns
 * to deliver the signal and faults again), and a killed task's waiter is
 * removed on its way out, so no waiter outlives its task.
 *
 * Locking: dw_lock (a spinlock) protects the list and the waiters' woken
 * and err fields; it is the innermost lock and nothing sleeps under it.
 */
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "super.h"
#include "data_wait.h"
#include "ioctl.h"

void scoutfs_data_wait_setup(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	spin_lock_init(&sbi->dw_lock);
	INIT_LIST_HEAD(&sbi->dw_list);
	init_waitqueue_head(&sbi->dw_wq);
}

static bool waiter_done(struct scoutfs_sb_info *sbi,
			struct scoutfs_data_waiter *dw)
{
	bool done;

	spin_lock(&sbi->dw_lock);
	done = dw->woken || dw->err;
	spin_unlock(&sbi->dw_lock);
	return done;
}

/*
 * Sleep until still_offline(arg) says the block is online (0), an agent
 * set an error on it (that error), or a signal arrives (-ERESTARTSYS).
 * still_offline returns 1 while offline, 0 once online, or -errno.
 */
int scoutfs_data_wait(struct super_block *sb, u64 ino, u64 iblock, u8 op,
		      int (*still_offline)(void *arg), void *arg)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_waiter dw = {
		.ino = ino,
		.iblock = iblock,
		.op = op,
	};
	int ret;

	spin_lock(&sbi->dw_lock);
	list_add_tail(&dw.entry, &sbi->dw_list);
	spin_unlock(&sbi->dw_lock);

	for (;;) {
		ret = still_offline(arg);
		if (ret <= 0)
			break;
		ret = wait_event_interruptible(sbi->dw_wq,
					       waiter_done(sbi, &dw));
		if (ret)
			break;
		spin_lock(&sbi->dw_lock);
		ret = dw.err;
		dw.woken = false;
		spin_unlock(&sbi->dw_lock);
		if (ret)
			break;
	}

	spin_lock(&sbi->dw_lock);
	list_del(&dw.entry);
	spin_unlock(&sbi->dw_lock);
	return ret;
}

/* Wake the waiters of blocks [start, end] of ino after they came online. */
void scoutfs_data_wait_wake(struct super_block *sb, u64 ino, u64 start,
			    u64 end)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_waiter *dw;
	bool any = false;

	spin_lock(&sbi->dw_lock);
	list_for_each_entry(dw, &sbi->dw_list, entry) {
		if (dw->ino == ino && dw->iblock >= start && dw->iblock <= end) {
			dw->woken = true;
			any = true;
		}
	}
	spin_unlock(&sbi->dw_lock);
	if (any)
		wake_up_all(&sbi->dw_wq);
}

/*
 * Give err to the waiters of ino on blocks [start, end] waiting for an op
 * in op_mask; returns how many there were.
 */
int scoutfs_data_wait_set_err(struct super_block *sb, u64 ino, u64 start,
			      u64 end, u8 op_mask, int err)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_waiter *dw;
	int nr = 0;

	spin_lock(&sbi->dw_lock);
	list_for_each_entry(dw, &sbi->dw_list, entry) {
		if (dw->ino == ino && dw->iblock >= start &&
		    dw->iblock <= end && (dw->op & op_mask)) {
			dw->err = err;
			nr++;
		}
	}
	spin_unlock(&sbi->dw_lock);
	if (nr)
		wake_up_all(&sbi->dw_wq);
	return nr;
}

static bool pos_after(u64 ino, u64 iblock, u64 after_ino, u64 after_iblock)
{
	return ino > after_ino || (ino == after_ino && iblock > after_iblock);
}

/*
 * Fill up to nr entries with the distinct (ino, iblock) waiters after the
 * cursor, in (ino, iblock) order; returns how many.  Each pass takes the
 * smallest position after the last one, so the list needs no sorting and
 * the work is bounded by nr times the number of sleeping tasks.
 */
int scoutfs_data_wait_list(struct super_block *sb, u64 after_ino,
			   u64 after_iblock,
			   struct scoutfs_ioctl_data_waiting_entry *ents,
			   int nr)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_waiter *dw, *best;
	int found = 0;
	u8 ops;

	spin_lock(&sbi->dw_lock);
	while (found < nr) {
		best = NULL;
		list_for_each_entry(dw, &sbi->dw_list, entry) {
			if (!pos_after(dw->ino, dw->iblock, after_ino,
				       after_iblock))
				continue;
			if (!best || !pos_after(dw->ino, dw->iblock, best->ino,
						best->iblock))
				best = dw;
		}
		if (!best)
			break;
		ops = 0;
		list_for_each_entry(dw, &sbi->dw_list, entry)
			if (dw->ino == best->ino && dw->iblock == best->iblock)
				ops |= dw->op;
		memset(&ents[found], 0, sizeof(ents[found]));
		ents[found].ino = best->ino;
		ents[found].iblock = best->iblock;
		ents[found].op = ops;
		after_ino = best->ino;
		after_iblock = best->iblock;
		found++;
	}
	spin_unlock(&sbi->dw_lock);
	return found;
}
