// SPDX-License-Identifier: GPL-2.0
/*
 * data_wait.c: tasks waiting for offline data to be staged.
 *
 * A read or page fault that needs a block whose extent is offline
 * (released to the archive) sleeps here until the block is staged or an
 * archive agent hands the waiters an error (DATA_WAIT_ERR).  Agents find
 * the waiters with DATA_WAITING.
 *
 * Each sleeping task has a struct scoutfs_data_waiter on its stack, in the
 * mount's index (below) while it sleeps.  The order that makes wake-ups
 * reliable:
 *
 *   waiter: add itself to the index, THEN check the extent, then sleep;
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
 * THE INDEX
 *
 * Waiters live in one rbtree per mount ordered by (ino, iblock), ties
 * broken by address, and each has its own wait queue.  So a stage of one
 * range finds the waiters of that range in O(log n + k) and wakes only
 * them, DATA_WAITING lists k positions after its cursor in O(log n + k)
 * however many tasks wait elsewhere, and DATA_WAIT_ERR touches only the
 * range it names.  Nothing a user does makes the module walk every
 * waiter: each call's work is bounded by what it returns or wakes.
 *
 * Locking: dw_lock (a spinlock) protects the tree and the waiters' woken
 * and err fields; it is the innermost lock and nothing sleeps under it
 * (a waiter's wait queue lock nests inside it for the wake-up).
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
	sbi->dw_tree = RB_ROOT;
	sbi->dw_nr = 0;
}

/* <0, 0, >0 as (ino, iblock) is before, at, after the waiter's position */
static int pos_cmp(u64 ino, u64 iblock, const struct scoutfs_data_waiter *dw)
{
	if (ino != dw->ino)
		return ino < dw->ino ? -1 : 1;
	if (iblock != dw->iblock)
		return iblock < dw->iblock ? -1 : 1;
	return 0;
}

static void tree_insert(struct rb_root *root, struct scoutfs_data_waiter *ins)
{
	struct rb_node **p = &root->rb_node, *parent = NULL;
	struct scoutfs_data_waiter *dw;
	int cmp;

	while (*p) {
		parent = *p;
		dw = rb_entry(parent, struct scoutfs_data_waiter, node);
		cmp = pos_cmp(ins->ino, ins->iblock, dw);
		if (cmp == 0)
			cmp = ins < dw ? -1 : 1;
		p = cmp < 0 ? &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&ins->node, parent, p);
	rb_insert_color(&ins->node, root);
}

/* The first waiter at or after (ino, iblock); dw_lock held. */
static struct scoutfs_data_waiter *first_from(struct rb_root *root, u64 ino,
					      u64 iblock)
{
	struct rb_node *n = root->rb_node;
	struct scoutfs_data_waiter *dw, *best = NULL;

	while (n) {
		dw = rb_entry(n, struct scoutfs_data_waiter, node);
		if (pos_cmp(ino, iblock, dw) <= 0) {
			best = dw;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

static struct scoutfs_data_waiter *next_waiter(struct scoutfs_data_waiter *dw)
{
	struct rb_node *n = rb_next(&dw->node);

	return n ? rb_entry(n, struct scoutfs_data_waiter, node) : NULL;
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

	init_waitqueue_head(&dw.wq);
	spin_lock(&sbi->dw_lock);
	tree_insert(&sbi->dw_tree, &dw);
	sbi->dw_nr++;
	spin_unlock(&sbi->dw_lock);

	for (;;) {
		ret = still_offline(arg);
		if (ret <= 0)
			break;
		ret = wait_event_interruptible(dw.wq, waiter_done(sbi, &dw));
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
	rb_erase(&dw.node, &sbi->dw_tree);
	sbi->dw_nr--;
	spin_unlock(&sbi->dw_lock);
	return ret;
}

/* Wake the waiters of blocks [start, end] of ino after they came online. */
void scoutfs_data_wait_wake(struct super_block *sb, u64 ino, u64 start,
			    u64 end)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_waiter *dw;

	spin_lock(&sbi->dw_lock);
	for (dw = first_from(&sbi->dw_tree, ino, start);
	     dw && dw->ino == ino && dw->iblock <= end; dw = next_waiter(dw)) {
		dw->woken = true;
		wake_up(&dw->wq);
	}
	spin_unlock(&sbi->dw_lock);
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
	for (dw = first_from(&sbi->dw_tree, ino, start);
	     dw && dw->ino == ino && dw->iblock <= end; dw = next_waiter(dw)) {
		if (dw->op & op_mask) {
			dw->err = err;
			wake_up(&dw->wq);
			nr++;
		}
	}
	spin_unlock(&sbi->dw_lock);
	return nr;
}

/*
 * Fill up to nr entries with the distinct (ino, iblock) waiters after the
 * cursor, in (ino, iblock) order, the ops of every waiter at a position
 * combined; returns how many.
 */
int scoutfs_data_wait_list(struct super_block *sb, u64 after_ino,
			   u64 after_iblock,
			   struct scoutfs_ioctl_data_waiting_entry *ents,
			   int nr)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_waiter *dw;
	int found = 0;

	if (after_iblock == U64_MAX) {
		if (after_ino == U64_MAX)
			return 0;
		after_ino++;
		after_iblock = 0;
	} else {
		after_iblock++;
	}

	spin_lock(&sbi->dw_lock);
	dw = first_from(&sbi->dw_tree, after_ino, after_iblock);
	while (dw && found < nr) {
		memset(&ents[found], 0, sizeof(ents[found]));
		ents[found].ino = dw->ino;
		ents[found].iblock = dw->iblock;
		ents[found].op = dw->op;
		for (dw = next_waiter(dw);
		     dw && dw->ino == ents[found].ino &&
		     dw->iblock == ents[found].iblock; dw = next_waiter(dw))
			ents[found].op |= dw->op;
		found++;
	}
	spin_unlock(&sbi->dw_lock);
	return found;
}
