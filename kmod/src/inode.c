// SPDX-License-Identifier: GPL-2.0
/*
 * inode.c: inodes, their items, the seq indexes and orphans.
 *
 * Each inode is one SCOUTFS_INODE_TYPE item in the fs zone.  Every change
 * to an inode rewrites that item inside the caller's transaction hold
 * (scoutfs_inode_update()), never later from writeback, so the inode item
 * and the other items a system call changes always land in the same
 * transaction.  .write_inode therefore has nothing to do.
 *
 * Seq indexes: each inode has one item in the meta_seq index zone at
 * (meta_seq, ino) and one in the data_seq index zone at (data_seq, ino).
 * scoutfs_inode_update() stamps meta_seq with the transaction's seq on
 * every change and, when the contents changed, also data_seq and a new
 * data_version (0 for a new inode, bumped by each change of contents);
 * when a seq moves, the old index item is deleted and the
 * new one created in the same transaction, so the indexes always match
 * the inode items (fsck checks it).  The archive tools walk these indexes
 * instead of the namespace.
 *
 * Orphans: when the last link goes, an orphan item (ino) is created in the
 * same transaction as the unlink (an O_TMPFILE inode is born with one,
 * which linkat deletes, dir.c); the inode's items and blocks are freed
 * when the last reference is dropped (evict), which also deletes the
 * orphan item.  A crash in between leaves the orphan item, and the next
 * mount frees those inodes (scoutfs_orphan_scan()); while mounted, a
 * periodic scan retries orphans nobody has open (THE PERIODIC ORPHAN SCAN).
 *
 * Locks: every change takes the inode's cluster lock and its hold with
 * scoutfs_lock_hold() (lock.c), reads take the inode's lock for READ.
 * Lock order (lock.c): VFS inode locks -> cluster locks -> trans_rwsem ->
 * extent_sem -> update_mutex -> meta_mutex (item.c).
 *
 * The in-memory inode is copied into its item by callers that hold
 * different locks: writes and setattr hold i_rwsem, iomap, release and
 * stage only extent_sem, .dirty_inode none.  scoutfs_inode_update() does
 * its stamping (meta_seq, data_seq, the data_version increment), index
 * moves and the copy under the inode's update_mutex, so copies land in
 * the order they were made and the last one holds every change made
 * before it: a chmod during a stage cannot be overwritten by the stage's
 * older copy.  .dirty_inode takes its own hold, so
 * code inside a hold must never call mark_inode_dirty(); it calls
 * scoutfs_inode_update() instead.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/pagemap.h>
#include <linux/namei.h>
#include <linux/posix_acl.h>
#include <linux/random.h>
#include <linux/blkdev.h>

#include "super.h"
#include "inode.h"
#include "item.h"
#include "trans.h"
#include "lock.h"
#include "data.h"
#include "fault.h"
#include "xattr.h"
#include "ioctl.h"
#include "options.h"
#include "libscoutfs/key.h"

static struct kmem_cache *scoutfs_inode_cachep;

static void init_once(void *ptr)
{
	struct scoutfs_inode_info *si = ptr;

	init_rwsem(&si->extent_sem);
	mutex_init(&si->update_mutex);
	inode_init_once(&si->vfs_inode);
}

int scoutfs_inode_init(void)
{
	scoutfs_inode_cachep = kmem_cache_create("scoutfs_inode",
					sizeof(struct scoutfs_inode_info), 0,
					SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					init_once);
	return scoutfs_inode_cachep ? 0 : -ENOMEM;
}

void scoutfs_inode_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(scoutfs_inode_cachep);
}

struct inode *scoutfs_alloc_inode(struct super_block *sb)
{
	struct scoutfs_inode_info *si;

	si = alloc_inode_sb(sb, scoutfs_inode_cachep, GFP_NOFS);
	return si ? &si->vfs_inode : NULL;
}

void scoutfs_free_inode(struct inode *inode)
{
	kmem_cache_free(scoutfs_inode_cachep, SCOUTFS_I(inode));
}

int scoutfs_write_inode(struct inode *inode, struct writeback_control *wbc)
{
	/* inode items are written within each change's transaction */
	return 0;
}

static void ts_to_disk(struct scoutfs_timespec *dts, struct timespec64 *ts)
{
	dts->sec = cpu_to_le64(ts->tv_sec);
	dts->nsec = cpu_to_le32(ts->tv_nsec);
	memset(dts->_pad, 0, sizeof(dts->_pad));
}

static void ts_from_disk(struct timespec64 *ts, struct scoutfs_timespec *dts)
{
	ts->tv_sec = le64_to_cpu(dts->sec);
	ts->tv_nsec = le32_to_cpu(dts->nsec);
}

static void inode_to_item(struct inode *inode, struct scoutfs_inode *sinode)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);

	memset(sinode, 0, sizeof(*sinode));
	sinode->size = cpu_to_le64(i_size_read(inode));
	sinode->meta_seq = cpu_to_le64(si->meta_seq);
	sinode->data_seq = cpu_to_le64(si->data_seq);
	sinode->data_version = cpu_to_le64(si->data_version);
	sinode->online_blocks = cpu_to_le64(si->online_blocks);
	sinode->offline_blocks = cpu_to_le64(si->offline_blocks);
	sinode->next_readdir_pos = cpu_to_le64(si->next_readdir_pos);
	sinode->next_xattr_id = cpu_to_le64(si->next_xattr_id);
	sinode->flags = cpu_to_le64(si->flags);
	sinode->nlink = cpu_to_le32(inode->i_nlink);
	sinode->uid = cpu_to_le32(i_uid_read(inode));
	sinode->gid = cpu_to_le32(i_gid_read(inode));
	sinode->mode = cpu_to_le32(inode->i_mode);
	sinode->rdev = cpu_to_le32(new_encode_dev(inode->i_rdev));
	ts_to_disk(&sinode->atime, &inode->i_atime);
	ts_to_disk(&sinode->mtime, &inode->i_mtime);
	ts_to_disk(&sinode->ctime, &inode->i_ctime);
	ts_to_disk(&sinode->crtime, &si->crtime);
}

static void set_inode_ops(struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &scoutfs_file_iops;
		inode->i_fop = &scoutfs_file_fops;
		inode->i_mapping->a_ops = &scoutfs_aops;
		break;
	case S_IFDIR:
		inode->i_op = &scoutfs_dir_iops;
		inode->i_fop = &scoutfs_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &scoutfs_symlink_iops;
		inode_nohighmem(inode);
		break;
	default:
		inode->i_op = &scoutfs_special_iops;
		init_special_inode(inode, inode->i_mode, inode->i_rdev);
		break;
	}
}

static void item_to_inode(struct inode *inode, struct scoutfs_inode *sinode)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);

	i_size_write(inode, le64_to_cpu(sinode->size));
	si->meta_seq = le64_to_cpu(sinode->meta_seq);
	si->data_seq = le64_to_cpu(sinode->data_seq);
	si->indexed_meta_seq = si->meta_seq;
	si->indexed_data_seq = si->data_seq;
	si->data_version = le64_to_cpu(sinode->data_version);
	si->online_blocks = le64_to_cpu(sinode->online_blocks);
	si->offline_blocks = le64_to_cpu(sinode->offline_blocks);
	si->next_readdir_pos = le64_to_cpu(sinode->next_readdir_pos);
	si->next_xattr_id = le64_to_cpu(sinode->next_xattr_id);
	si->flags = le64_to_cpu(sinode->flags);
	set_nlink(inode, le32_to_cpu(sinode->nlink));
	i_uid_write(inode, le32_to_cpu(sinode->uid));
	i_gid_write(inode, le32_to_cpu(sinode->gid));
	inode->i_mode = le32_to_cpu(sinode->mode);
	inode->i_rdev = new_decode_dev(le32_to_cpu(sinode->rdev));
	ts_from_disk(&inode->i_atime, &sinode->atime);
	ts_from_disk(&inode->i_mtime, &sinode->mtime);
	ts_from_disk(&inode->i_ctime, &sinode->ctime);
	ts_from_disk(&si->crtime, &sinode->crtime);
	scoutfs_inode_set_blocks(inode);
}

struct inode *scoutfs_iget(struct super_block *sb, u64 ino)
{
	struct scoutfs_lock *lock;
	struct scoutfs_inode sinode;
	struct scoutfs_key key;
	struct inode *inode;
	int ret;

	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	scoutfs_key_init_inode(&key, ino);
	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, ino, &lock);
	if (ret == 0) {
		ret = scoutfs_item_lookup(sb, &key, &sinode, sizeof(sinode));
		scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	}
	if (ret >= 0 && ret != sizeof(sinode)) {
		scoutfs_err(sb, "inode %llu item has %d bytes, expected %zu",
			    ino, ret, sizeof(sinode));
		ret = -EIO;
	}
	if (ret < 0) {
		iget_failed(inode);
		return ERR_PTR(ret == -ENOENT ? -ESTALE : ret);
	}
	item_to_inode(inode, &sinode);
	set_inode_ops(inode);
	unlock_new_inode(inode);
	return inode;
}

/* Move an index item from its old seq to the new one. */
static int update_index(struct super_block *sb, u8 zone, u64 ino,
			u64 old_seq, u64 new_seq)
{
	struct scoutfs_key key;
	int ret;

	if (old_seq == new_seq)
		return 0;
	scoutfs_key_init(&key, zone, new_seq, SCOUTFS_SEQ_INDEX_TYPE, ino, 0);
	ret = scoutfs_item_force(sb, &key, NULL, 0);
	if (ret || old_seq == 0)
		return ret;
	scoutfs_key_init(&key, zone, old_seq, SCOUTFS_SEQ_INDEX_TYPE, ino, 0);
	ret = scoutfs_item_delete(sb, &key);
	return ret == -ENOENT ? 0 : ret;
}

/*
 * Write the inode's item, stamping meta_seq (and, if the contents
 * changed, data_seq and a new data_version) with the transaction's seq and
 * keeping the index items in step.  Must be called inside a hold.
 */
static int inode_write_item(struct inode *inode, bool stamp_data_seq,
			    bool bump_data_version)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	u64 seq = scoutfs_trans_seq(sb);
	struct scoutfs_inode sinode;
	struct scoutfs_key key;
	int ret;

	mutex_lock(&si->update_mutex);
	si->meta_seq = seq;
	if (stamp_data_seq)
		si->data_seq = seq;
	if (bump_data_version)
		si->data_version++;
	ret = update_index(sb, SCOUTFS_META_SEQ_INDEX_ZONE, inode->i_ino,
			   si->indexed_meta_seq, si->meta_seq) ?:
	      update_index(sb, SCOUTFS_DATA_SEQ_INDEX_ZONE, inode->i_ino,
			   si->indexed_data_seq, si->data_seq);
	if (ret == 0) {
		si->indexed_meta_seq = si->meta_seq;
		si->indexed_data_seq = si->data_seq;
		inode_to_item(inode, &sinode);
		scoutfs_key_init_inode(&key, inode->i_ino);
		ret = scoutfs_item_force(sb, &key, &sinode, sizeof(sinode));
	}
	mutex_unlock(&si->update_mutex);
	return ret;
}

int scoutfs_inode_update(struct inode *inode, bool data_changed)
{
	return inode_write_item(inode, data_changed, data_changed);
}

/*
 * Blocks allocated for a change of contents whose own stamp, later in
 * the same system call, bumps data_version: data_seq moves, the version
 * does not, so one write(2) or fallocate(2) moves it by one.
 */
int scoutfs_inode_update_alloc(struct inode *inode)
{
	return inode_write_item(inode, true, false);
}

/*
 * st_blocks counts online and offline blocks, as upstream's does: a
 * released file keeps its block count, so du over an archived tree shows
 * what it would take to stage it all back.  STAT_MORE tells them apart.
 */
void scoutfs_inode_set_blocks(struct inode *inode)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);

	inode->i_blocks = (si->online_blocks + si->offline_blocks) <<
			  (SCOUTFS_DATA_BLOCK_SHIFT - SECTOR_SHIFT);
}

/* Timestamps and the like changed by generic VFS code. */
void scoutfs_dirty_inode(struct inode *inode, int flags)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	int ret;

	if (inode->i_nlink == 0 && !S_ISDIR(inode->i_mode) &&
	    (inode->i_state & I_FREEING))
		return;
	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		return;
	ret = scoutfs_inode_update(inode, false);
	scoutfs_lock_release(sb, &set);
	if (ret)
		scoutfs_err(sb, "inode %lu: update after a VFS change failed (%d)",
			    inode->i_ino, ret);
}

/*
 * A number for a new inode, taken before the caller locks it (the lock
 * covers the number) and enters the transaction.  A number taken by an
 * operation that then fails is never used; numbers are never reused.
 */
u64 scoutfs_alloc_ino(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	u64 ino;

	mutex_lock(&sbi->meta_mutex);
	ino = le64_to_cpu(sbi->super->next_ino);
	le64_add_cpu(&sbi->super->next_ino, 1);
	mutex_unlock(&sbi->meta_mutex);
	return ino;
}

/*
 * A new inode numbered ino (scoutfs_alloc_ino()), its item and index
 * items, inside the caller's hold with ino locked.  The caller links it
 * into the namespace in the same transaction.
 */
struct inode *scoutfs_new_inode(struct super_block *sb, struct inode *dir,
				u64 ino, umode_t mode, dev_t rdev)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_inode_info *si;
	struct inode *inode;
	int ret;

	inode = new_inode(sb);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&sbi->meta_mutex);
	le64_add_cpu(&sbi->super->inode_count, 1);
	mutex_unlock(&sbi->meta_mutex);

	si = SCOUTFS_I(inode);
	inode->i_ino = ino;
	inode_init_owner(&init_user_ns, inode, dir, mode);
	inode->i_rdev = rdev;
	inode->i_atime = inode->i_mtime = inode->i_ctime = current_time(inode);
	si->crtime = inode->i_mtime;
	si->meta_seq = 0;
	si->data_seq = 0;
	si->indexed_meta_seq = 0;
	si->indexed_data_seq = 0;
	si->data_version = 0;
	si->online_blocks = 0;
	si->offline_blocks = 0;
	si->next_readdir_pos = SCOUTFS_DIRENT_FIRST_POS;
	si->next_xattr_id = 1;
	si->flags = 0;
	set_nlink(inode, S_ISDIR(mode) ? 2 : 1);
	set_inode_ops(inode);

	ret = insert_inode_locked(inode);
	if (ret)
		goto out_iput;
	/*
	 * A new inode enters both seq indexes, but its data_version stays
	 * 0 until its contents first change, as upstream's: SETATTR_MORE
	 * accepts only files whose data_version is still 0.
	 */
	ret = inode_write_item(inode, true, false);
	if (ret) {
		make_bad_inode(inode);
		unlock_new_inode(inode);
		goto out_iput;
	}
	return inode;

out_iput:
	clear_nlink(inode);
	iput(inode);
	return ERR_PTR(ret);
}

int scoutfs_inode_orphan_add(struct inode *inode)
{
	struct scoutfs_key key;

	scoutfs_key_init_orphan(&key, inode->i_ino);
	return scoutfs_item_force(inode->i_sb, &key, NULL, 0);
}

/* An unlinked inode got a name again (linkat of an O_TMPFILE file). */
int scoutfs_inode_orphan_del(struct inode *inode)
{
	struct scoutfs_key key;

	scoutfs_key_init_orphan(&key, inode->i_ino);
	return scoutfs_item_delete(inode->i_sb, &key);
}

struct key_batch {
	struct scoutfs_key keys[64];
	struct scoutfs_data_extent exts[64];
	int nr;
};

static int collect_keys(void *arg, const struct scoutfs_key *key,
			const void *val, int val_len)
{
	struct key_batch *kb = arg;

	if (key->sk_type == SCOUTFS_DATA_EXTENT_TYPE &&
	    val_len == sizeof(struct scoutfs_data_extent))
		memcpy(&kb->exts[kb->nr], val, val_len);
	else
		memset(&kb->exts[kb->nr], 0, sizeof(kb->exts[0]));
	kb->keys[kb->nr++] = *key;
	return kb->nr == ARRAY_SIZE(kb->keys) ? 1 : 0;
}

/*
 * Free everything of an unlinked inode: every item with its ino in the fs
 * zone (freeing the blocks of extents), its index items and its orphan
 * item.  Done in batches of transactions; a crash part way leaves the
 * orphan item, so the next mount finishes the job.
 */
static int delete_inode_items(struct super_block *sb, u64 ino, u64 meta_seq,
			      u64 data_seq)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_lock_set set;
	struct key_batch *kb;
	struct scoutfs_key start, end, key;
	bool full;
	int ret;
	int i;

	/* srch items are in their own zone; found through the xattr items */
	ret = scoutfs_xattr_drop_srch(sb, ino);
	if (ret)
		return ret;

	kb = kmalloc(sizeof(*kb), GFP_NOFS);
	if (!kb)
		return -ENOMEM;

	/* the inode item goes last, so a partial delete still finds it */
	scoutfs_key_init(&start, SCOUTFS_FS_ZONE, ino, SCOUTFS_INODE_TYPE + 1, 0, 0);
	scoutfs_key_init(&end, SCOUTFS_FS_ZONE, ino, U8_MAX, U64_MAX, U64_MAX);
	do {
		kb->nr = 0;
		ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED, ino, 0,
					0, 0);
		if (ret)
			break;
		ret = scoutfs_item_iterate(sb, &start, &end, collect_keys, kb);
		if (ret < 0) {
			scoutfs_lock_release(sb, &set);
			break;
		}
		ret = 0;	/* 1: the batch filled */
		for (i = 0; i < kb->nr && !ret; i++) {
			struct scoutfs_data_extent *ext = &kb->exts[i];

			if (kb->keys[i].sk_type == SCOUTFS_DATA_EXTENT_TYPE &&
			    le64_to_cpu(ext->blkno)) {
				mutex_lock(&sbi->meta_mutex);
				ret = scoutfs_alloc_free_data(&sbi->alloc,
						le64_to_cpu(ext->blkno),
						le64_to_cpu(ext->len));
				mutex_unlock(&sbi->meta_mutex);
				/* freed blocks must not stay in an extent */
				if (!ret)
					scoutfs_trans_note_change(sb);
			}
			if (!ret)
				ret = scoutfs_item_delete(sb, &kb->keys[i]);
		}
		/*
		 * A full freed list is committed below; any other failure
		 * after a change must not commit.
		 */
		scoutfs_lock_release_ret(sb, &set, ret == -ENOBUFS ? 0 : ret,
					 "freeing the items", ino);
		/*
		 * A full freed list (a file of very many extents): commit
		 * it and go on with the extents still there.
		 */
		full = kb->nr == ARRAY_SIZE(kb->keys);
		if (ret == -ENOBUFS) {
			ret = scoutfs_trans_commit(sb);
			full = true;
			scoutfs_fault_batch_pause();
		}
	} while (ret == 0 && full);
	kfree(kb);
	if (ret < 0)
		return ret;

	ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED, ino, 0, 0, 0);
	if (ret)
		return ret;
	scoutfs_key_init(&key, SCOUTFS_META_SEQ_INDEX_ZONE, meta_seq,
			 SCOUTFS_SEQ_INDEX_TYPE, ino, 0);
	ret = scoutfs_item_delete(sb, &key);
	if (ret == 0 || ret == -ENOENT) {
		scoutfs_key_init(&key, SCOUTFS_DATA_SEQ_INDEX_ZONE, data_seq,
				 SCOUTFS_SEQ_INDEX_TYPE, ino, 0);
		ret = scoutfs_item_delete(sb, &key);
	}
	if (ret == 0 || ret == -ENOENT) {
		scoutfs_key_init_inode(&key, ino);
		ret = scoutfs_item_delete(sb, &key);
	}
	if (ret == 0 || ret == -ENOENT) {
		scoutfs_key_init_orphan(&key, ino);
		ret = scoutfs_item_delete(sb, &key);
	}
	if (ret == 0 || ret == -ENOENT) {
		mutex_lock(&sbi->meta_mutex);
		le64_add_cpu(&sbi->super->inode_count, -1);
		mutex_unlock(&sbi->meta_mutex);
		ret = 0;
	}
	scoutfs_lock_release_ret(sb, &set, ret, "freeing the inode", ino);
	return ret;
}

void scoutfs_evict_inode(struct inode *inode)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct super_block *sb = inode->i_sb;
	int ret;

	truncate_inode_pages_final(&inode->i_data);
	if (inode->i_nlink == 0 && !is_bad_inode(inode)) {
		ret = delete_inode_items(sb, inode->i_ino, si->indexed_meta_seq,
					 si->indexed_data_seq);
		if (ret)
			scoutfs_err(sb, "inode %lu: freeing its items failed (%d); the orphan item remains for the next mount",
				    inode->i_ino, ret);
	}
	clear_inode(inode);
}

int scoutfs_drop_inode(struct inode *inode)
{
	return generic_drop_inode(inode);
}

/*
 * The first orphan item at or after ino: its inode number in *found_ino.
 * -ENOENT when there are no more.
 */
static int next_orphan(struct super_block *sb, u64 ino, u64 *found_ino)
{
	struct scoutfs_lock *lock;
	struct scoutfs_key key, last, found;
	int ret;

	scoutfs_key_init(&key, SCOUTFS_ORPHAN_ZONE, ino, 0, 0, 0);
	scoutfs_key_init(&last, SCOUTFS_ORPHAN_ZONE, U64_MAX, U8_MAX,
			 U64_MAX, U64_MAX);
	ret = scoutfs_lock_zone(sb, SCOUTFS_LOCK_READ, SCOUTFS_ORPHAN_ZONE,
				&lock);
	if (ret)
		return ret;
	ret = scoutfs_item_next(sb, &key, &last, &found, NULL, 0);
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	if (ret >= 0)
		*found_ino = scoutfs_key_first(&found);
	return ret < 0 ? ret : 0;
}

/*
 * Free the inodes whose last link went before a crash.  Runs at mount,
 * before anything else can look them up.
 */
int scoutfs_orphan_scan(struct super_block *sb)
{
	struct scoutfs_lock *lock;
	struct scoutfs_inode sinode;
	struct scoutfs_key key;
	u64 ino = 0;
	int nr = 0;
	int ret;

	if (sb_rdonly(sb))
		return 0;
	while ((ret = next_orphan(sb, ino, &ino)) == 0) {
		scoutfs_key_init_inode(&key, ino);
		ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, ino, &lock);
		if (ret)
			return ret;
		ret = scoutfs_item_lookup(sb, &key, &sinode, sizeof(sinode));
		scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
		if (ret == sizeof(sinode))
			ret = delete_inode_items(sb, ino,
						 le64_to_cpu(sinode.meta_seq),
						 le64_to_cpu(sinode.data_seq));
		else if (ret >= 0 || ret == -ENOENT)
			ret = delete_inode_items(sb, ino, 0, 0);
		if (ret < 0) {
			scoutfs_err(sb, "freeing orphan inode %llu failed (%d)",
				    ino, ret);
			return ret;
		}
		nr++;
		ino++;
	}
	if (ret == -ENOENT)
		ret = 0;
	if (nr && ret == 0) {
		scoutfs_info(sb, "freed %d orphaned inodes", nr);
		ret = scoutfs_trans_commit(sb);
	}
	return ret;
}

/*
 * THE PERIODIC ORPHAN SCAN
 *
 * Every orphan_scan_delay_ms (options.c) a worker walks the orphan items
 * and gets each one's inode: one still open here is in the inode cache
 * and is left to its last close (counted as orphan_scan_cached); one
 * that nobody has open is evicted by the worker's own iput, which frees
 * it as the last close would (scoutfs_evict_inode()).  So an orphan left
 * behind by an eviction that failed (out of space, an I/O error) is
 * retried without a remount.  iget cannot race eviction or creation:
 * it waits for an inode being freed (and then finds no inode item) and
 * for a new inode until it is set up.
 *
 * Each run looks at most ORPHAN_SCAN_BATCH items and the next run goes
 * on from there (a user with very many open unlinked files cannot make
 * one run long); orphan_scan counts the passes that reached the end.
 *
 * Locking: the worker holds nothing across iget and iput, which take
 * their own cluster locks and holds.  orphan_lock (a leaf spinlock)
 * covers orphan_scan_stopped and the queueing, so unmount's
 * scoutfs_orphan_scan_stop() leaves no run queued or running.
 */
#define ORPHAN_SCAN_BATCH	1024

void scoutfs_orphan_scan_schedule(struct super_block *sb, bool rearm)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_mount_options opts;
	unsigned long delay;

	scoutfs_options_read(sb, &opts);
	delay = msecs_to_jiffies(opts.orphan_scan_delay_ms);
	spin_lock(&sbi->orphan_lock);
	if (!sbi->orphan_scan_stopped) {
		if (rearm)
			mod_delayed_work(system_unbound_wq, &sbi->orphan_work,
					 delay);
		else
			queue_delayed_work(system_unbound_wq,
					   &sbi->orphan_work, delay);
	}
	spin_unlock(&sbi->orphan_lock);
}

static void orphan_scan_worker(struct work_struct *work)
{
	struct scoutfs_sb_info *sbi = container_of(to_delayed_work(work),
						   struct scoutfs_sb_info,
						   orphan_work);
	struct super_block *sb = sbi->sb;
	struct inode *inode;
	u64 ino = sbi->orphan_scan_next;
	int nr = 0;
	int ret = 0;

	if (sb_rdonly(sb) || READ_ONCE(sbi->read_only_after_error))
		goto out;
	while (nr++ < ORPHAN_SCAN_BATCH &&
	       (ret = next_orphan(sb, ino, &ino)) == 0) {
		atomic64_inc(&sbi->counters.orphan_scan_item);
		inode = scoutfs_iget(sb, ino);
		if (!IS_ERR(inode)) {
			if (atomic_read(&inode->i_count) > 1 || inode->i_nlink)
				atomic64_inc(&sbi->counters.orphan_scan_cached);
			iput(inode);
		}
		ino++;
		cond_resched();
	}
	if (ret == -ENOENT) {
		atomic64_inc(&sbi->counters.orphan_scan);
		ino = 0;
	} else if (ret < 0) {
		scoutfs_err(sb, "orphan scan: reading the orphan items failed (%d)",
			    ret);
		ino = 0;
	}
	sbi->orphan_scan_next = ino;
out:
	scoutfs_orphan_scan_schedule(sb, false);
}

void scoutfs_orphan_scan_setup(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	spin_lock_init(&sbi->orphan_lock);
	INIT_DELAYED_WORK(&sbi->orphan_work, orphan_scan_worker);
}

/* Unmount, or a failed mount: no scan runs or is queued after this. */
void scoutfs_orphan_scan_stop(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	if (!sbi)
		return;
	spin_lock(&sbi->orphan_lock);
	sbi->orphan_scan_stopped = true;
	spin_unlock(&sbi->orphan_lock);
	cancel_delayed_work_sync(&sbi->orphan_work);
}

/*
 * RETENTION (SCOUTFS_INO_FLAG_RETENTION, ioctl.h SET_ATTR_X): every path
 * that would change a retained file's contents, attributes, ACLs, user.
 * xattrs or names calls this first and fails with its EPERM: setattr,
 * write, page_mkwrite and shared writable mmap, fallocate, punch-offline,
 * move-blocks, setattr_more (data.c), link, unlink, rename (dir.c),
 * user. xattrs and ACLs (xattr.c).  The flag only changes under the VFS
 * inode lock (scoutfs_inode_set_retention()), which those paths hold
 * when they check, except page_mkwrite and mmap, which check what was
 * set when they ran.
 */
int scoutfs_inode_check_retention(struct inode *inode)
{
	return READ_ONCE(SCOUTFS_I(inode)->flags) & SCOUTFS_INO_FLAG_RETENTION ?
	       -EPERM : 0;
}

/* Set or clear a regular file's retention mark (SET_ATTR_X); root only. */
int scoutfs_inode_set_retention(struct inode *inode, bool retain)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct timespec64 old_ctime;
	u64 old_flags;
	int ret;

	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	inode_lock(inode);
	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		goto out;
	old_flags = si->flags;
	old_ctime = inode->i_ctime;
	if (retain)
		WRITE_ONCE(si->flags, old_flags | SCOUTFS_INO_FLAG_RETENTION);
	else
		WRITE_ONCE(si->flags, old_flags & ~SCOUTFS_INO_FLAG_RETENTION);
	inode->i_ctime = current_time(inode);
	ret = scoutfs_inode_update(inode, false);
	if (ret) {
		WRITE_ONCE(si->flags, old_flags);
		inode->i_ctime = old_ctime;
	}
	scoutfs_lock_release_ret(sb, &set, ret, "setting retention",
				 inode->i_ino);
out:
	inode_unlock(inode);
	return ret;
}

int scoutfs_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		    struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct {
		umode_t i_mode;
		kuid_t i_uid;
		kgid_t i_gid;
		struct timespec64 i_atime, i_mtime, i_ctime;
	} old;
	int ret;

	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		return ret;

	/*
	 * A size change waits until the whole file is online.  The VFS calls
	 * us with its inode lock held (notify_change()), and no task may
	 * wait for staging holding it (data_wait.c), so the wait drops and
	 * retakes it; the checks below run after it, on what is there then.
	 * No release can slip in afterwards: release takes the inode lock.
	 */
	if ((attr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode) &&
	    attr->ia_size != i_size_read(inode)) {
		ret = scoutfs_data_relock_online(inode,
						 SCOUTFS_IOC_DWO_CHANGE_SIZE);
		if (ret)
			return ret;
	}

	/* again: the wait above dropped the inode lock */
	ret = scoutfs_inode_check_retention(inode) ?:
	      setattr_prepare(mnt_userns, dentry, attr);
	if (ret)
		return ret;

	/*
	 * A size change is a change of contents: truncate(2) by path asks
	 * for no times (ftruncate(2) asks for both), so mark mtime and ctime
	 * here, as ext4 and XFS do.  They land in the hold below, after the
	 * size's own transactions.
	 */
	if ((attr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode) &&
	    attr->ia_size != i_size_read(inode) &&
	    !(attr->ia_valid & (ATTR_MTIME | ATTR_CTIME))) {
		attr->ia_mtime = attr->ia_ctime = current_time(inode);
		attr->ia_valid |= ATTR_MTIME | ATTR_CTIME;
	}

	if ((attr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode)) {
		ret = scoutfs_data_truncate(inode, attr->ia_size);
		if (ret)
			return ret;
		attr->ia_valid &= ~ATTR_SIZE;
	}

	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		return ret;
	/* what setattr_copy() changes, to put back if nothing reached disk */
	old.i_mode = inode->i_mode;
	old.i_uid = inode->i_uid;
	old.i_gid = inode->i_gid;
	old.i_atime = inode->i_atime;
	old.i_mtime = inode->i_mtime;
	old.i_ctime = inode->i_ctime;
	setattr_copy(mnt_userns, inode, attr);
	/* the ACL follows the mode in the same transaction */
	if (attr->ia_valid & ATTR_MODE)
		ret = scoutfs_xattr_chmod_acl(inode);
	if (ret == 0)
		ret = scoutfs_inode_update(inode, false);
	if (ret && !set.task.changes) {
		inode->i_mode = old.i_mode;
		inode->i_uid = old.i_uid;
		inode->i_gid = old.i_gid;
		inode->i_atime = old.i_atime;
		inode->i_mtime = old.i_mtime;
		inode->i_ctime = old.i_ctime;
	}
	scoutfs_lock_release_ret(sb, &set, ret, "setattr", inode->i_ino);
	return ret;
}

int scoutfs_getattr(struct user_namespace *mnt_userns, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);

	generic_fillattr(mnt_userns, inode, stat);
	stat->blksize = SCOUTFS_DATA_BLOCK_SIZE;
	stat->btime = si->crtime;
	stat->result_mask |= STATX_BTIME;
	return 0;
}

const struct inode_operations scoutfs_special_iops = {
	.setattr	= scoutfs_setattr,
	.getattr	= scoutfs_getattr,
	.listxattr	= scoutfs_listxattr,
	.get_acl	= scoutfs_get_acl,
	.set_acl	= scoutfs_set_acl,
};
