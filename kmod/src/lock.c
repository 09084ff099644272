// SPDX-License-Identifier: GPL-2.0
/*
 * lock.c: the lock manager.  Every operation that reads or changes items
 * first takes locks on the key ranges it will touch, through this file.
 *
 * RANGES
 *
 * A lock covers a fixed, canonical range of the key space, so two
 * requests for the same items always meet on the same lock and ranges
 * never overlap:
 *
 *   - an inode group: every fs-zone item of 2^SCOUTFS_LOCK_INODE_GROUP_SHIFT
 *     consecutive inode numbers (inode, xattrs, dirents, readdir and
 *     backref items, symlink, extents: all keyed first by ino);
 *   - a whole zone for the items that are not an inode's own: the meta_seq
 *     and data_seq indexes, the orphan list and the .srch. xattr index.
 *     Changes to these take WRITE_ONLY, which mounts share, and only their
 *     readers (walk-inodes, search-xattrs, the orphan scan) take READ.
 *
 * MODES AND GRANTS
 *
 * READ, WRITE and WRITE_ONLY are the modes the cluster's server will grant
 * between mounts.  Within one mount, tasks share a granted lock in any
 * mode; the VFS inode locks already order them.  With one mount the
 * grant is local: a lock asked for in a mode the mount does not have yet
 * is granted at once and kept (cached) after its last user unlocks, as
 * the cluster will keep it until another mount asks for a conflicting
 * mode.  The cluster step puts the server request, and the write-back and
 * invalidation of the covered items when another mount needs the lock,
 * behind the same calls.
 *
 * Each acquisition records its task, and item.c refuses (with a log line)
 * an item read by a task holding no lock that covers the key, or a change
 * without a WRITE or WRITE_ONLY lock.  So every path proves today that it
 * locks what it touches, before a second mount can make a missing lock a
 * silent corruption.
 *
 * LOCK ORDER (the whole module's)
 *
 *   VFS: s_vfs_rename_mutex -> i_rwsem (parent before child; the VFS's
 *        own order between inodes) -> mapping invalidate_lock -> page lock
 *   -> cluster locks (this file), several taken in key order: zone locks
 *        (orphan, meta_seq, data_seq, srch zones) before inode groups, and
 *        inode groups by number (scoutfs_lock_hold() sorts them)
 *   -> transaction hold (trans_rwsem, read; commit takes it for write)
 *   -> per-inode extent_sem (data.c; two inodes, as move-blocks takes
 *        them: the lower inode number first)
 *   -> per-inode update_mutex (inode.c, scoutfs_inode_update())
 *   -> meta_mutex (items, btrees, allocator, block cache)
 *   -> the spinlocks: this file's lock tree, data waiting (data_wait.c)
 *
 * Every cluster lock an operation needs is taken before its hold (with
 * several mounts a lock may wait for another mount, which may wait for
 * this mount's commit, which waits for the hold): inside a hold a task
 * takes again only a lock it already holds in an allowing mode, which
 * never waits; lock_range() reports any other as "(a bug)" (trans.c,
 * THE TASK IN A HOLD).
 *
 * A task waiting for offline data holds none of these (data_wait.c).
 * Page locks come before cluster locks only for reads and writeback of
 * an inode whose lock this mount already has granted; the cluster step
 * must keep a page-locked task from waiting on the server.
 *
 * Locks are freed when the mount goes, or when more than
 * SCOUTFS_LOCK_CACHE_MAX unused ones are cached.
 */
#include <linux/fs.h>
#include <linux/rbtree.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/sched.h>

#include "super.h"
#include "lock.h"
#include "trans.h"
#include "libscoutfs/key.h"

#define SCOUTFS_LOCK_CACHE_MAX	4096

struct lock_holder {
	struct list_head entry;
	struct task_struct *task;
	enum scoutfs_lock_mode mode;
};

struct scoutfs_lock {
	struct rb_node node;
	struct scoutfs_key start;
	struct scoutfs_key end;
	enum scoutfs_lock_mode granted;	/* 0: none yet */
	unsigned int nr_holders;
	struct list_head holders;
	struct list_head lru;		/* unused and cached */
};

struct scoutfs_lock_info {
	spinlock_t lock;
	struct rb_root tree;
	struct list_head lru;
	unsigned long nr_unused;
	u64 nr_grants;
};

#define LINFO(sb) (SCOUTFS_SB(sb)->lock_info)

/* A grant of mode also allows what these modes allow. */
static bool mode_allows(enum scoutfs_lock_mode granted,
			enum scoutfs_lock_mode mode)
{
	return granted == mode || granted == SCOUTFS_LOCK_WRITE;
}

static struct scoutfs_lock *tree_find(struct scoutfs_lock_info *linfo,
				      const struct scoutfs_key *start)
{
	struct rb_node *n = linfo->tree.rb_node;
	struct scoutfs_lock *lck;
	int cmp;

	while (n) {
		lck = rb_entry(n, struct scoutfs_lock, node);
		cmp = scoutfs_key_compare(start, &lck->start);
		if (cmp == 0)
			return lck;
		n = cmp < 0 ? n->rb_left : n->rb_right;
	}
	return NULL;
}

/* The lock whose range contains key, or NULL. */
static struct scoutfs_lock *tree_containing(struct scoutfs_lock_info *linfo,
					    const struct scoutfs_key *key)
{
	struct rb_node *n = linfo->tree.rb_node;
	struct scoutfs_lock *lck, *best = NULL;

	while (n) {
		lck = rb_entry(n, struct scoutfs_lock, node);
		if (scoutfs_key_compare(key, &lck->start) < 0) {
			n = n->rb_left;
		} else {
			best = lck;
			n = n->rb_right;
		}
	}
	if (best && scoutfs_key_compare(key, &best->end) <= 0)
		return best;
	return NULL;
}

static void tree_insert(struct scoutfs_lock_info *linfo,
			struct scoutfs_lock *ins)
{
	struct rb_node **p = &linfo->tree.rb_node;
	struct rb_node *parent = NULL;
	struct scoutfs_lock *lck;

	while (*p) {
		parent = *p;
		lck = rb_entry(parent, struct scoutfs_lock, node);
		if (scoutfs_key_compare(&ins->start, &lck->start) < 0)
			p = &parent->rb_left;
		else
			p = &parent->rb_right;
	}
	rb_link_node(&ins->node, parent, p);
	rb_insert_color(&ins->node, &linfo->tree);
}

/* Drop cached unused locks beyond the cache limit; spinlock held. */
static void shrink_unused(struct scoutfs_lock_info *linfo,
			  struct list_head *doomed)
{
	struct scoutfs_lock *lck;

	while (linfo->nr_unused > SCOUTFS_LOCK_CACHE_MAX) {
		lck = list_first_entry(&linfo->lru, struct scoutfs_lock, lru);
		list_move(&lck->lru, doomed);
		rb_erase(&lck->node, &linfo->tree);
		linfo->nr_unused--;
	}
}

/*
 * Acquire the lock on [start, end] in mode for the current task.  With
 * one mount a missing grant is granted here; nothing waits.
 */
static int lock_range(struct super_block *sb, enum scoutfs_lock_mode mode,
		      const struct scoutfs_key *start,
		      const struct scoutfs_key *end,
		      struct scoutfs_lock **lock_ret)
{
	struct scoutfs_lock_info *linfo = LINFO(sb);
	struct scoutfs_lock *lck, *new;
	struct lock_holder *holder, *h;
	bool in_hold = scoutfs_trans_held(sb);
	bool waits = false;

	if (mode < SCOUTFS_LOCK_READ || mode >= SCOUTFS_LOCK_NR_MODES)
		return -EINVAL;
	holder = kmalloc(sizeof(*holder), GFP_NOFS);
	new = kzalloc(sizeof(*new), GFP_NOFS);
	if (!holder || !new) {
		kfree(holder);
		kfree(new);
		return -ENOMEM;
	}
	holder->task = current;
	holder->mode = mode;

	spin_lock(&linfo->lock);
	lck = tree_find(linfo, start);
	if (!lck) {
		lck = new;
		new = NULL;
		lck->start = *start;
		lck->end = *end;
		INIT_LIST_HEAD(&lck->holders);
		INIT_LIST_HEAD(&lck->lru);
		tree_insert(linfo, lck);
	}
	/*
	 * Inside a hold only a lock the task already holds in a mode that
	 * allows this one may be taken again: that never waits.
	 */
	if (in_hold) {
		waits = true;
		list_for_each_entry(h, &lck->holders, entry) {
			if (h->task == current && mode_allows(h->mode, mode)) {
				waits = false;
				break;
			}
		}
	}
	if (lck->nr_holders == 0 && !list_empty(&lck->lru)) {
		list_del_init(&lck->lru);
		linfo->nr_unused--;
	}
	if (!lck->granted || !mode_allows(lck->granted, mode)) {
		/* local grant; a mix of READ and WRITE_ONLY needs WRITE */
		lck->granted = lck->granted ? SCOUTFS_LOCK_WRITE : mode;
		linfo->nr_grants++;
	}
	list_add(&holder->entry, &lck->holders);
	lck->nr_holders++;
	spin_unlock(&linfo->lock);

	kfree(new);
	if (waits) {
		scoutfs_err(sb, "a cluster lock (zone %u ino %llu mode %d) taken inside a transaction hold (a bug)",
			    start->sk_zone, le64_to_cpu(start->_sk_first),
			    mode);
		dump_stack();
	}
	*lock_ret = lck;
	return 0;
}

int scoutfs_lock_ino(struct super_block *sb, enum scoutfs_lock_mode mode,
		     u64 ino, struct scoutfs_lock **lock_ret)
{
	u64 first = ino & ~((1ULL << SCOUTFS_LOCK_INODE_GROUP_SHIFT) - 1);
	u64 last = first + (1ULL << SCOUTFS_LOCK_INODE_GROUP_SHIFT) - 1;
	struct scoutfs_key start, end;

	scoutfs_key_init(&start, SCOUTFS_FS_ZONE, first, 0, 0, 0);
	scoutfs_key_init(&end, SCOUTFS_FS_ZONE, last, U8_MAX, U64_MAX, U64_MAX);
	return lock_range(sb, mode, &start, &end, lock_ret);
}

int scoutfs_lock_zone(struct super_block *sb, enum scoutfs_lock_mode mode,
		      u8 zone, struct scoutfs_lock **lock_ret)
{
	struct scoutfs_key start, end;

	if (zone == SCOUTFS_FS_ZONE || zone == SCOUTFS_FREE_ZONE)
		return -EINVAL;	/* inode groups; the allocator's own */
	scoutfs_key_init(&start, zone, 0, 0, 0, 0);
	scoutfs_key_init(&end, zone, U64_MAX, U8_MAX, U64_MAX, U64_MAX);
	return lock_range(sb, mode, &start, &end, lock_ret);
}

void scoutfs_unlock(struct super_block *sb, struct scoutfs_lock *lck,
		    enum scoutfs_lock_mode mode)
{
	struct scoutfs_lock_info *linfo = LINFO(sb);
	struct lock_holder *holder, *found = NULL;
	LIST_HEAD(doomed);
	struct scoutfs_lock *tmp;

	if (!lck)
		return;
	spin_lock(&linfo->lock);
	list_for_each_entry(holder, &lck->holders, entry) {
		if (holder->task == current && holder->mode == mode) {
			found = holder;
			break;
		}
	}
	if (found) {
		list_del(&found->entry);
		if (--lck->nr_holders == 0) {
			list_add_tail(&lck->lru, &linfo->lru);
			linfo->nr_unused++;
			shrink_unused(linfo, &doomed);
		}
	}
	spin_unlock(&linfo->lock);

	if (!found)
		scoutfs_err(sb, "unlock of a lock this task does not hold in mode %d (a bug)",
			    mode);
	kfree(found);
	list_for_each_entry_safe(lck, tmp, &doomed, lru)
		kfree(lck);
}

/*
 * Does the current task hold a lock covering key that allows a read
 * (READ or WRITE) or, with is_change, a change (WRITE or WRITE_ONLY)?
 */
bool scoutfs_lock_is_held(struct super_block *sb,
			  const struct scoutfs_key *key, bool is_change)
{
	struct scoutfs_lock_info *linfo = LINFO(sb);
	struct lock_holder *holder;
	struct scoutfs_lock *lck;
	bool held = false;

	spin_lock(&linfo->lock);
	lck = tree_containing(linfo, key);
	if (lck) {
		list_for_each_entry(holder, &lck->holders, entry) {
			if (holder->task != current)
				continue;
			if (holder->mode == SCOUTFS_LOCK_WRITE ||
			    (is_change ? holder->mode == SCOUTFS_LOCK_WRITE_ONLY :
					 holder->mode == SCOUTFS_LOCK_READ)) {
				held = true;
				break;
			}
		}
	}
	spin_unlock(&linfo->lock);
	return held;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static void set_unlock_all(struct super_block *sb, struct scoutfs_lock_set *set)
{
	while (set->nr > 0) {
		set->nr--;
		scoutfs_unlock(sb, set->locks[set->nr], set->modes[set->nr]);
	}
}

static int set_add(struct super_block *sb, struct scoutfs_lock_set *set,
		   enum scoutfs_lock_mode mode, bool is_zone, u64 nr)
{
	int ret;

	ret = is_zone ? scoutfs_lock_zone(sb, mode, nr, &set->locks[set->nr]) :
			scoutfs_lock_ino(sb, mode, nr, &set->locks[set->nr]);
	if (ret == 0)
		set->modes[set->nr++] = mode;
	return ret;
}

/*
 * Lock for a change of up to four inodes (0: none; repeats are fine) and
 * enter a transaction: the zone locks, then the inode groups in order,
 * then the hold.  SCOUTFS_HOLD_RESERVED lets an operation that frees
 * space (unlink, truncate, evict) use the metadata kept for it.
 */
int scoutfs_lock_hold(struct super_block *sb, struct scoutfs_lock_set *set,
		      unsigned int flags, u64 ino0, u64 ino1, u64 ino2,
		      u64 ino3)
{
	static const u8 zones[] = {
		SCOUTFS_ORPHAN_ZONE, SCOUTFS_META_SEQ_INDEX_ZONE,
		SCOUTFS_DATA_SEQ_INDEX_ZONE, SCOUTFS_XATTR_SRCH_ZONE,
	};
	u64 inos[SCOUTFS_LOCK_SET_INODES] = { ino0, ino1, ino2, ino3 };
	u64 groups[SCOUTFS_LOCK_SET_INODES];
	int nr_groups = 0;
	int ret = 0;
	int i;

	/* ino 0 is never an inode: it means "none" */
	for (i = 0; i < ARRAY_SIZE(inos); i++)
		if (inos[i])
			groups[nr_groups++] = inos[i] >>
					      SCOUTFS_LOCK_INODE_GROUP_SHIFT;
	sort(groups, nr_groups, sizeof(groups[0]), cmp_u64, NULL);

	set->nr = 0;
	for (i = 0; i < ARRAY_SIZE(zones) && !ret; i++)
		ret = set_add(sb, set, SCOUTFS_LOCK_WRITE_ONLY, true, zones[i]);
	for (i = 0; i < nr_groups && !ret; i++) {
		if (i > 0 && groups[i] == groups[i - 1])
			continue;
		ret = set_add(sb, set, SCOUTFS_LOCK_WRITE, false,
			      groups[i] << SCOUTFS_LOCK_INODE_GROUP_SHIFT);
	}
	if (ret == 0)
		ret = scoutfs_trans_hold_flags(sb, flags & SCOUTFS_HOLD_RESERVED,
					       &set->task);
	if (ret)
		set_unlock_all(sb, set);
	return ret;
}

void scoutfs_lock_release(struct super_block *sb, struct scoutfs_lock_set *set)
{
	scoutfs_trans_release(sb, &set->task);
	set_unlock_all(sb, set);
}

/*
 * The end of an operation's hold with its result: a failure after the
 * operation changed items makes the mount read-only before anything of
 * it can commit (trans.c, NO OPERATION IS HALF ON DISK).
 */
void scoutfs_lock_release_ret(struct super_block *sb,
			      struct scoutfs_lock_set *set, int ret,
			      const char *what, u64 ino)
{
	if (ret < 0 && set->task.changes)
		scoutfs_trans_failed_part_way(sb, what, ino, ret);
	scoutfs_lock_release(sb, set);
}

int scoutfs_lock_setup(struct super_block *sb)
{
	struct scoutfs_lock_info *linfo;

	linfo = kzalloc(sizeof(*linfo), GFP_KERNEL);
	if (!linfo)
		return -ENOMEM;
	spin_lock_init(&linfo->lock);
	linfo->tree = RB_ROOT;
	INIT_LIST_HEAD(&linfo->lru);
	SCOUTFS_SB(sb)->lock_info = linfo;
	return 0;
}

/* At unmount: every operation is done, so no lock has holders. */
void scoutfs_lock_destroy(struct super_block *sb)
{
	struct scoutfs_lock_info *linfo = LINFO(sb);
	struct lock_holder *holder, *htmp;
	struct scoutfs_lock *lck, *tmp;

	if (!linfo)
		return;
	rbtree_postorder_for_each_entry_safe(lck, tmp, &linfo->tree, node) {
		if (lck->nr_holders)
			scoutfs_err(sb, "a lock still had %u holders at unmount (a bug)",
				    lck->nr_holders);
		list_for_each_entry_safe(holder, htmp, &lck->holders, entry)
			kfree(holder);
		kfree(lck);
	}
	kfree(linfo);
	SCOUTFS_SB(sb)->lock_info = NULL;
}
