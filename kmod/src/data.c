// SPDX-License-Identifier: GPL-2.0
/*
 * data.c: regular file data: extent items, page cache I/O through iomap,
 * truncate, fallocate, SEEK_DATA/SEEK_HOLE, FIEMAP, and the archive
 * operations on offline extents (release, stage, punch-offline), and
 * move-blocks (extents from one file to another, MOVE_BLOCKS below).
 *
 * EXTENTS
 *
 * A file's blocks are SCOUTFS_DATA_EXTENT_TYPE items keyed by (ino, first
 * logical block) with a struct scoutfs_data_extent value (format.h):
 * len data blocks starting at blkno on the data device (sb->s_bdev, 4 KiB
 * blocks).  Extents of one file never overlap; a logical block with no
 * extent is a hole and reads as zeros.  Flags:
 *
 *   UNWRITTEN  blocks are allocated but read as zeros: fallocate's, and
 *              every block a write allocates until its data is on disk.
 *   OFFLINE    released: no blocks (blkno 0), the data lives only in the
 *              archive.  Only the archive operations at the end of this
 *              file make them (release, setattr_more) and take them away
 *              (stage, punch-offline); readers and writers of an offline range
 *              wait in data_wait.c until a stage brings it back (THE RULE
 *              at the top of data_wait.c says where, and with which locks
 *              dropped).
 *
 * Adjacent extents with the same flags and contiguous blocks are merged
 * when one is inserted (cheap: one lookup on each side), so sequential
 * writes of a big file do not leave an item per write.
 *
 * ALLOCATION: AT WRITE TIME, UNWRITTEN UNTIL THE DATA IS ON DISK
 *
 * A buffered write (or mmap fault, via page_mkwrite) that lands on a hole
 * allocates its blocks in ->iomap_begin inside its own transaction hold,
 * inserts them as an UNWRITTEN extent and updates the inode item
 * (online_blocks, data_seq, data_version) in that same transaction, and
 * hands iomap a mapping flagged IOMAP_UNWRITTEN | IOMAP_F_NEW, so the
 * parts of a block the write does not cover are zeroed in the page cache
 * rather than read.  Written and unwritten extents are mapped as they
 * are, without a hold.  So every dirty page already has blocks when
 * writeback runs: writeback (->map_blocks) only looks extents up, never
 * takes a hold, and a hole or offline extent under a dirty page is an
 * error it reports.  There is no delayed allocation: sequential small
 * appends each allocate, and the allocator hands out the end of its first
 * free extent, so they are often not contiguous and do not merge, unless
 * the data_prealloc_* mount options ask for preallocation (PREALLOCATION
 * above map_for_write()).
 *
 * STALE DATA: NOBODY READS BYTES THAT ARE NOT THEIRS
 *
 * A freshly allocated block may hold a deleted file's bytes.  It reads as
 * zeros until its extent is converted to written, and that happens only
 * in the completion of the write that put the data there (WRITEBACK
 * COMPLETION below), before the pages leave writeback.  So:
 *
 *  - a short write (user buffer fault, signal, ENOSPC for the next
 *    mapping) gives back in ->iomap_end the unwritten blocks it mapped
 *    and did not write; whatever is left (a racing mmap store dirtied one
 *    of them) still reads as zeros;
 *  - a failed data write converts nothing: the blocks stay zeros;
 *  - a crash or power cut at any moment: a commit can only record a
 *    written extent after the data I/O completed, and the commit flushes
 *    the data device before it writes the super (trans.c), so after a
 *    crash a block shows zeros, the file's old bytes or its new ones,
 *    never a third file's (ext4's data=ordered promise);
 *  - the tail of the last block and blocks beyond EOF are zeroed through
 *    the page cache before i_size grows over them (zero_beyond_eof()),
 *    and truncate zeroes and writes the tail of its new last block once the
 *    new size is in the inode item (scoutfs_data_truncate()).
 *
 * A buffered write then stamps the inode (mtime, ctime, i_size, data_seq,
 * data_version) once more after copying, in one hold per write(2); only
 * that stamp bumps data_version (the allocations stamp data_seq alone),
 * so a write(2) or a fallocate(2) moves it by one, as upstream's does.  i_size
 * only ever reaches disk through scoutfs_inode_update().  Content changes
 * by mmap are stamped once per page_mkwrite (the first write to a clean
 * page), before the page is dirtied.  fsync and O_DIRECT/O_SYNC writes
 * wait for the data, and so for its conversion, before returning.
 *
 * FREEING
 *
 * Truncate and evict free blocks with scoutfs_alloc_free_data(): they go
 * to the transaction's freed list and become allocatable only after the
 * commit, because the last committed super still references them.  A
 * truncate of a big file frees SCOUTFS_DATA_EXTENT_BATCH extents per hold
 * and commits when the freed list is full (-ENOBUFS).
 *
 * O_DIRECT
 *
 * There is no direct I/O path: O_DIRECT opens are accepted
 * (FMODE_CAN_ODIRECT, set in ->open) and served by the page cache; an
 * O_DIRECT write is written and waited for before write(2) returns, so it
 * is on the data device (not necessarily committed: that is fsync's job).
 * No alignment is required.
 *
 * LOCKING
 *
 * Lock order (see inode.c and lock.c for the whole list):
 *
 *   VFS inode lock (i_rwsem) -> mapping invalidate_lock -> page lock ->
 *     trans hold (trans_rwsem) -> extent_sem -> update_mutex (inode.c) ->
 *     meta_mutex
 *
 * meta_mutex is taken inside the item calls and around the allocator
 * calls.  extent_sem is taken for read by lookups (reads, writeback, seek,
 * scoutfs_data_wait_check) and for write around every change of extent
 * items and the block counts, so the release and stage ioctls can
 * serialise against I/O without the VFS inode lock.  Nothing waits for a
 * page lock or page writeback while holding a trans hold or extent_sem,
 * and no hold is ever taken twice by one task (a commit waiting for the
 * trans_rwsem would deadlock it): ->iomap_begin takes and drops its own
 * hold, and the write paths call no VFS helper that marks the inode dirty
 * (scoutfs_dirty_inode() takes its own hold) while they hold one.
 */
#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/sched/mm.h>
#include <linux/uio.h>
#include <linux/writeback.h>
#include <linux/vmalloc.h>
#include <linux/bio.h>
#include <linux/blkdev.h>

#include "super.h"
#include "inode.h"
#include "item.h"
#include "data.h"
#include "trans.h"
#include "lock.h"
#include "xattr.h"
#include "ioctl.h"
#include "data_wait.h"
#include "fault.h"
#include "options.h"
#include "libscoutfs/key.h"

/* Most blocks one ->iomap_begin allocates: 32 MiB. */
#define SCOUTFS_DATA_ALLOC_MAX_BLOCKS	8192ULL
/* Most extents truncate changes in one transaction hold. */
#define SCOUTFS_DATA_EXTENT_BATCH	64

/* An extent item, in cpu order. */
struct data_ext {
	u64 iblock;	/* first logical block */
	u64 len;	/* blocks */
	u64 blkno;	/* first data device block; 0 when offline */
	u32 flags;	/* SCOUTFS_EXTENT_FLAG_* */
};

static inline u64 ext_end(const struct data_ext *ext)
{
	return ext->iblock + ext->len;
}

static inline bool ext_is_offline(const struct data_ext *ext)
{
	return ext->flags & SCOUTFS_EXTENT_FLAG_OFFLINE;
}

static inline bool ext_is_unwritten(const struct data_ext *ext)
{
	return ext->flags & SCOUTFS_EXTENT_FLAG_UNWRITTEN;
}

static inline u64 pos_to_block(loff_t pos)
{
	return (u64)pos >> SCOUTFS_DATA_BLOCK_SHIFT;
}

static inline loff_t block_to_pos(u64 iblock)
{
	return (loff_t)(iblock << SCOUTFS_DATA_BLOCK_SHIFT);
}

/* The block after the last one that [pos, pos + len) touches. */
static inline u64 pos_end_block(loff_t pos, loff_t len)
{
	return pos_to_block(pos + len + SCOUTFS_DATA_BLOCK_SIZE - 1);
}

static int ext_from_item(struct inode *inode, const struct scoutfs_key *key,
			 const struct scoutfs_data_extent *dext, int val_len,
			 struct data_ext *ext)
{
	if (val_len != sizeof(*dext) || le64_to_cpu(dext->len) == 0) {
		scoutfs_err(inode->i_sb, "inode %lu: extent item at block %llu has a bad value (%d bytes, len %llu)",
			    inode->i_ino, scoutfs_key_second(key), val_len,
			    val_len == sizeof(*dext) ?
			    le64_to_cpu(dext->len) : 0);
		return -EIO;
	}
	ext->iblock = scoutfs_key_second(key);
	ext->len = le64_to_cpu(dext->len);
	ext->blkno = le64_to_cpu(dext->blkno);
	ext->flags = le32_to_cpu(dext->flags);
	return 0;
}

/*
 * The extent containing iblock or, if iblock is in a hole, the first
 * extent after it.  -ENOENT when there is neither.  Caller holds the
 * inode's cluster lock and extent_sem.
 */
static int extent_lookup(struct inode *inode, u64 iblock, struct data_ext *ext)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_data_extent dext;
	struct scoutfs_key key, bound, found;
	int ret;

	scoutfs_key_init_data_extent(&key, inode->i_ino, iblock);
	scoutfs_key_init_data_extent(&bound, inode->i_ino, 0);
	ret = scoutfs_item_prev(sb, &key, &bound, &found, &dext, sizeof(dext));
	if (ret >= 0) {
		ret = ext_from_item(inode, &found, &dext, ret, ext);
		if (ret < 0)
			return ret;
		if (ext_end(ext) > iblock)
			return 0;
	} else if (ret != -ENOENT) {
		return ret;
	}

	scoutfs_key_init(&bound, SCOUTFS_FS_ZONE, inode->i_ino,
			 SCOUTFS_DATA_EXTENT_TYPE, U64_MAX, U64_MAX);
	ret = scoutfs_item_next(sb, &key, &bound, &found, &dext, sizeof(dext));
	if (ret < 0)
		return ret;
	return ext_from_item(inode, &found, &dext, ret, ext);
}


static int extent_item_write(struct inode *inode, const struct data_ext *ext)
{
	struct scoutfs_data_extent dext = {
		.len = cpu_to_le64(ext->len),
		.blkno = cpu_to_le64(ext->blkno),
		.flags = cpu_to_le32(ext->flags),
	};
	struct scoutfs_key key;

	scoutfs_key_init_data_extent(&key, inode->i_ino, ext->iblock);
	return scoutfs_item_force(inode->i_sb, &key, &dext, sizeof(dext));
}

static int extent_item_delete(struct inode *inode, u64 iblock)
{
	struct scoutfs_key key;

	scoutfs_key_init_data_extent(&key, inode->i_ino, iblock);
	return scoutfs_item_delete(inode->i_sb, &key);
}

/*
 * For lookups outside a change: the inode's cluster lock for READ, then
 * extent_sem for read (the lock order in lock.c).
 */
static int extents_read_lock(struct inode *inode, struct scoutfs_lock **lock)
{
	int ret;

	ret = scoutfs_lock_ino(inode->i_sb, SCOUTFS_LOCK_READ, inode->i_ino,
			       lock);
	if (ret == 0)
		down_read(&SCOUTFS_I(inode)->extent_sem);
	return ret;
}

static void extents_read_unlock(struct inode *inode, struct scoutfs_lock *lock)
{
	up_read(&SCOUTFS_I(inode)->extent_sem);
	scoutfs_unlock(inode->i_sb, lock, SCOUTFS_LOCK_READ);
}

/* Keep online_blocks/offline_blocks and i_blocks in step; extent_sem held. */
static void count_blocks(struct inode *inode, const struct data_ext *ext,
			 u64 len, bool add)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	u64 *count = ext_is_offline(ext) ? &si->offline_blocks :
					   &si->online_blocks;

	if (add)
		*count += len;
	else
		*count -= min(*count, len);
	scoutfs_inode_set_blocks(inode);	/* online + offline, as upstream */
}

static bool extents_can_merge(const struct data_ext *a,
			      const struct data_ext *b)
{
	if (ext_end(a) != b->iblock || a->flags != b->flags)
		return false;
	return ext_is_offline(a) || a->blkno + a->len == b->blkno;
}

/*
 * Insert an extent over a range that must be a hole, merging it with a
 * neighbour on either side that continues it.  Inside a hold, extent_sem
 * held for write.
 */
static int extent_insert(struct inode *inode, const struct data_ext *new)
{
	struct data_ext ext = *new;
	struct data_ext prev, next;
	bool merged_next = false;
	int ret;

	if (ext.iblock > 0) {
		ret = extent_lookup(inode, ext.iblock - 1, &prev);
		if (ret < 0 && ret != -ENOENT)
			return ret;
		if (ret == 0 && extents_can_merge(&prev, &ext)) {
			prev.len += ext.len;
			ext = prev;
		}
	}

	ret = extent_lookup(inode, ext_end(&ext), &next);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (ret == 0 && extents_can_merge(&ext, &next)) {
		ext.len += next.len;
		merged_next = true;
	}

	ret = extent_item_write(inode, &ext);
	if (ret == 0 && merged_next)
		ret = extent_item_delete(inode, next.iblock);
	if (ret == 0)
		count_blocks(inode, new, new->len, true);
	return ret;
}

/* how extent_remove_range() removes */
#define EXT_REMOVE_FREE		(1U << 0)	/* free the data blocks */
#define EXT_REMOVE_UNWRITTEN	(1U << 1)	/* only unwritten extents */

/*
 * Remove the mapping of logical blocks [start, end), trimming extents
 * that straddle the edges, and, with EXT_REMOVE_FREE, freeing their data
 * blocks; with EXT_REMOVE_UNWRITTEN, extents that are not unwritten are
 * left as they are.  Stops after SCOUTFS_DATA_EXTENT_BATCH extents; *next is where
 * the next call continues (end when done).  The freeing comes first for
 * each extent so a full freed list (-ENOBUFS: the transaction must
 * commit) leaves that extent untouched.  Inside a hold, extent_sem held
 * for write.
 */
static int extent_remove_range(struct inode *inode, u64 start, u64 end,
			       unsigned int how, u64 *next)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(inode->i_sb);
	struct data_ext ext, piece;
	u64 cut_start, cut_end;
	u64 iblock = start;
	int nr = 0;
	int ret = 0;

	while (iblock < end && nr++ < SCOUTFS_DATA_EXTENT_BATCH) {
		ret = extent_lookup(inode, iblock, &ext);
		if (ret == -ENOENT || (ret == 0 && ext.iblock >= end)) {
			iblock = end;
			ret = 0;
			break;
		}
		if (ret < 0)
			break;

		cut_start = max(ext.iblock, iblock);
		cut_end = min(ext_end(&ext), end);
		if ((how & EXT_REMOVE_UNWRITTEN) && !ext_is_unwritten(&ext)) {
			iblock = cut_end;
			continue;
		}

		if ((how & EXT_REMOVE_FREE) && !ext_is_offline(&ext) &&
		    ext.blkno) {
			mutex_lock(&sbi->meta_mutex);
			ret = scoutfs_alloc_free_data(&sbi->alloc,
					ext.blkno + (cut_start - ext.iblock),
					cut_end - cut_start);
			mutex_unlock(&sbi->meta_mutex);
			if (ret < 0)
				break;
			/* freed blocks must not stay in an extent */
			scoutfs_trans_note_change(inode->i_sb);
		}

		if (cut_start > ext.iblock) {
			piece = ext;
			piece.len = cut_start - ext.iblock;
			ret = extent_item_write(inode, &piece);
		} else {
			ret = extent_item_delete(inode, ext.iblock);
		}
		if (ret == 0 && cut_end < ext_end(&ext)) {
			piece = ext;
			piece.iblock = cut_end;
			piece.len = ext_end(&ext) - cut_end;
			if (!ext_is_offline(&ext))
				piece.blkno += cut_end - ext.iblock;
			ret = extent_item_write(inode, &piece);
		}
		if (ret < 0) {
			scoutfs_err(inode->i_sb, "inode %lu: changing the extent at block %llu failed (%d)",
				    inode->i_ino, ext.iblock, ret);
			break;
		}
		count_blocks(inode, &ext, cut_end - cut_start, false);
		iblock = cut_end;
	}

	*next = iblock;
	return ret;
}

/*
 * Blocks allocated in this transaction that nothing references after a
 * failed insert go straight back to the free tree; if even that fails
 * they would leak, so the mount goes read-only before it can commit.
 */
static void unalloc_blocks(struct inode *inode, u64 blkno, u64 len)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(inode->i_sb);
	int ret;

	mutex_lock(&sbi->meta_mutex);
	ret = scoutfs_alloc_unalloc_data(&sbi->alloc, blkno, len);
	mutex_unlock(&sbi->meta_mutex);
	if (ret) {
		scoutfs_err(inode->i_sb, "inode %lu: returning unused data blocks %llu-%llu failed (%d)",
			    inode->i_ino, blkno, blkno + len - 1, ret);
		scoutfs_trans_read_only(inode->i_sb, "returning unused blocks",
					ret);
	}
}

/*
 * Allocate up to want blocks for the hole at [iblock, iblock + want) and
 * insert them as one extent with flags; the extent always covers block
 * must (iblock <= must < iblock + want).  When the allocator hands out
 * too few blocks to reach must from iblock, the extent starts at must
 * instead, trimmed to the hole.  Returns the extent in *ext.  -ENOSPC
 * when the data device is full.  Inside a hold, extent_sem held for
 * write.
 */
static int extent_alloc_covering(struct inode *inode, u64 iblock, u64 want,
				 u64 must, u32 flags, struct data_ext *ext)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(inode->i_sb);
	u64 end = iblock + want;
	u64 blkno, len;
	int ret;

	want = min(want, SCOUTFS_DATA_ALLOC_MAX_BLOCKS);
	mutex_lock(&sbi->meta_mutex);
	ret = scoutfs_fault_hit() ? -ENOSPC :
	      scoutfs_alloc_data(&sbi->alloc, want, &blkno, &len);
	mutex_unlock(&sbi->meta_mutex);
	if (ret < 0)
		return ret;

	if (iblock + len <= must) {
		iblock = must;
		if (len > end - must) {
			unalloc_blocks(inode, blkno + (end - must),
				       len - (end - must));
			len = end - must;
		}
	}
	ext->iblock = iblock;
	ext->len = len;
	ext->blkno = blkno;
	ext->flags = flags;
	ret = extent_insert(inode, ext);
	if (ret < 0)
		unalloc_blocks(inode, blkno, len);
	return ret;
}

/*
 * Allocate up to want blocks for the hole at iblock and insert them as
 * one extent with flags.  Returns the extent in *ext.  -ENOSPC when the
 * data device is full.  Inside a hold, extent_sem held for write.
 */
static int extent_alloc(struct inode *inode, u64 iblock, u64 want, u32 flags,
			struct data_ext *ext)
{
	return extent_alloc_covering(inode, iblock, want, iblock, flags, ext);
}

/*
 * extent_remove_range() over all of [start, end) in batches, one hold
 * each (using the reserve: they free space), stamping the inode in each
 * (data_changed: as a content change) and committing when the freed list
 * fills (-ENOBUFS).  A fatal signal stops it between batches.
 */
static int remove_extents(struct inode *inode, u64 start, u64 end,
			  unsigned int how, bool data_changed, const char *what)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	u64 next = start;
	int ret;

	do {
		ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED,
					inode->i_ino, 0, 0, 0);
		if (ret)
			break;
		down_write(&si->extent_sem);
		ret = extent_remove_range(inode, next, end, how, &next);
		if (ret == 0 || ret == -ENOBUFS) {
			int err = scoutfs_inode_update(inode, data_changed);

			ret = err ?: ret;
		}
		up_write(&si->extent_sem);
		scoutfs_lock_release_ret(sb, &set, ret == -ENOBUFS ? 0 : ret,
					 what, inode->i_ino);
		/* the freed list is full: commit, then carry on */
		if (ret == -ENOBUFS) {
			ret = scoutfs_trans_commit(sb);
			scoutfs_fault_batch_pause();
		}
		if (ret == 0 && next < end && fatal_signal_pending(current))
			ret = -EINTR;
	} while (ret == 0 && next < end);

	if (ret)
		scoutfs_err(sb, "inode %lu: %s: removing blocks from %llu failed (%d)",
			    inode->i_ino, what, next, ret);
	return ret;
}

/*
 * Turn the unwritten blocks [start, end) of ext into a plain extent:
 * remove their mapping (keeping the blocks) and insert them again
 * without the flag, which merges them with a plain neighbour.
 */
static int extent_convert_unwritten(struct inode *inode,
				    const struct data_ext *ext,
				    u64 start, u64 end, struct data_ext *conv)
{
	u64 next;
	int ret;

	ret = extent_remove_range(inode, start, end, 0, &next);
	if (ret < 0)
		return ret;
	conv->iblock = start;
	conv->len = end - start;
	conv->blkno = ext->blkno + (start - ext->iblock);
	conv->flags = ext->flags & ~SCOUTFS_EXTENT_FLAG_UNWRITTEN;
	return extent_insert(inode, conv);
}

/* A content change: stamp the inode, optionally its times; in a hold. */
static int update_inode_data(struct inode *inode, bool set_times)
{
	if (set_times)
		inode->i_mtime = inode->i_ctime = current_time(inode);
	return scoutfs_inode_update(inode, true);
}

/* The same in a transaction of its own. */
static int update_inode_data_hold(struct inode *inode, bool set_times)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	int ret;

	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		return ret;
	ret = update_inode_data(inode, set_times);
	scoutfs_lock_release_ret(sb, &set, ret, "a data change", inode->i_ino);
	if (ret)
		scoutfs_err(sb, "inode %lu: updating the inode after a data change failed (%d)",
			    inode->i_ino, ret);
	return ret;
}

/*
 * The first offline block in [start, end) into *iblock: 1 when there is
 * one, 0 when none, or -errno.  Costs nothing for a file without offline
 * blocks.  Takes extent_sem for read.
 */
static int first_offline_block(struct inode *inode, u64 start, u64 end,
			       u64 *iblock)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct scoutfs_lock *lock;
	struct data_ext ext;
	u64 blk = start;
	int ret = 0;

	if (start >= end || READ_ONCE(si->offline_blocks) == 0)
		return 0;

	ret = extents_read_lock(inode, &lock);
	if (ret)
		return ret;
	while (blk < end) {
		ret = extent_lookup(inode, blk, &ext);
		if (ret == -ENOENT || (ret == 0 && ext.iblock >= end)) {
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
		if (ext_is_offline(&ext)) {
			*iblock = max(ext.iblock, blk);
			ret = 1;
			break;
		}
		blk = ext_end(&ext);
	}
	extents_read_unlock(inode, lock);
	return ret;
}

struct offline_check {
	struct inode *inode;
	u64 iblock;
};

static int block_still_offline(void *arg)
{
	struct offline_check *oc = arg;
	u64 found;

	return first_offline_block(oc->inode, oc->iblock, oc->iblock + 1,
				   &found);
}

/*
 * Wait until no block of [pos, pos + len) is offline: each offline block
 * in turn is waited for in data_wait.c until it is staged, an agent sets
 * an error on it, or a signal arrives.  op (SCOUTFS_IOC_DWO_*) tells the
 * agent what the task is doing.  Must be called with none of our locks
 * held (data_wait.c explains why, and lists the callers).
 */
int scoutfs_data_wait_check(struct inode *inode, loff_t pos, loff_t len,
			    int op)
{
	struct offline_check oc = { .inode = inode };
	u64 end;
	int ret;

	if (len <= 0)
		return 0;
	end = pos_end_block(pos, len);
	for (;;) {
		ret = first_offline_block(inode, pos_to_block(pos), end,
					  &oc.iblock);
		if (ret <= 0)
			return ret;
		ret = scoutfs_data_wait(inode->i_sb, inode->i_ino, oc.iblock, op,
					block_still_offline, &oc);
		if (ret)
			return ret;
	}
}

/* Changes of size and contents wait until the whole file is online. */
static int wait_whole_file_online(struct inode *inode, int op)
{
	return scoutfs_data_wait_check(inode, 0, i_size_read(inode), op);
}

static bool whole_file_online(struct inode *inode)
{
	u64 iblock;

	return first_offline_block(inode, 0,
				   pos_end_block(0, i_size_read(inode)),
				   &iblock) == 0;
}

/*
 * Take the VFS inode lock once the whole file is online, for changes of
 * contents or size.  The wait happens without the lock, so touch and chmod
 * are never stuck behind a writer waiting for staging; a release that
 * slips in between is seen under the lock and waited for again.
 */
static int inode_lock_online(struct inode *inode, int op)
{
	int ret;

	for (;;) {
		ret = wait_whole_file_online(inode, op);
		if (ret)
			return ret;
		inode_lock(inode);
		if (whole_file_online(inode))
			return 0;
		inode_unlock(inode);
	}
}

static void map_extent(struct inode *inode, struct iomap *iomap,
		       const struct data_ext *ext, u64 iblock, u16 type,
		       u16 flags)
{
	u64 end = ext_end(ext);

	iomap->bdev = inode->i_sb->s_bdev;
	iomap->offset = block_to_pos(iblock);
	iomap->length = block_to_pos(end - iblock);
	iomap->type = type;
	iomap->flags = flags;
	if (type == IOMAP_MAPPED || type == IOMAP_UNWRITTEN)
		iomap->addr = (ext->blkno + (iblock - ext->iblock)) <<
			      SCOUTFS_DATA_BLOCK_SHIFT;
	else
		iomap->addr = IOMAP_NULL_ADDR;
}

static void map_hole(struct inode *inode, struct iomap *iomap, u64 iblock,
		     u64 end)
{
	struct data_ext hole = { .iblock = iblock, .len = end - iblock };

	map_extent(inode, iomap, &hole, iblock, IOMAP_HOLE, 0);
}

int scoutfs_data_relock_online(struct inode *inode, int op)
{
	int ret;

	while (!whole_file_online(inode)) {
		inode_unlock(inode);
		ret = wait_whole_file_online(inode, op);
		inode_lock(inode);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Map the blocks at pos for reading, zeroing, seeking or writeback:
 * never changes anything.  Offline extents are data for SEEK_DATA and
 * SEEK_HOLE (mapped as delalloc: no known location), nothing to zero,
 * and an error for I/O.  FIEMAP has its own walk (scoutfs_fiemap()).
 */
static int map_lookup(struct inode *inode, loff_t pos, loff_t length,
		      unsigned int flags, struct iomap *iomap)
{
	u64 iblock = pos_to_block(pos);
	u64 end = pos_end_block(pos, length);
	struct scoutfs_lock *lock;
	struct data_ext ext;
	int ret;

	ret = extents_read_lock(inode, &lock);
	if (ret)
		return ret;
	ret = extent_lookup(inode, iblock, &ext);
	extents_read_unlock(inode, lock);

	if (ret == -ENOENT || (ret == 0 && ext.iblock > iblock)) {
		map_hole(inode, iomap, iblock, ret == 0 ? ext.iblock : end);
		return 0;
	}
	if (ret < 0)
		return ret;

	if (ext_is_offline(&ext)) {
		if (flags & IOMAP_REPORT) {
			map_extent(inode, iomap, &ext, iblock, IOMAP_DELALLOC, 0);
			return 0;
		}
		if (flags & IOMAP_ZERO) {
			map_hole(inode, iomap, iblock, ext_end(&ext));
			return 0;
		}
		return -ENODATA;
	}
	map_extent(inode, iomap, &ext, iblock,
		   ext_is_unwritten(&ext) ? IOMAP_UNWRITTEN : IOMAP_MAPPED, 0);
	return 0;
}

/*
 * The end of the last extent before the hole at iblock (0 if none): where
 * the hole starts.  Caller holds the cluster lock and extent_sem.
 */
static int hole_start(struct inode *inode, u64 iblock, u64 *start)
{
	struct scoutfs_data_extent dext;
	struct scoutfs_key key, bound, found;
	struct data_ext ext;
	int ret;

	*start = 0;
	if (iblock == 0)
		return 0;
	scoutfs_key_init_data_extent(&key, inode->i_ino, iblock - 1);
	scoutfs_key_init_data_extent(&bound, inode->i_ino, 0);
	ret = scoutfs_item_prev(inode->i_sb, &key, &bound, &found, &dext,
				sizeof(dext));
	if (ret == -ENOENT)
		return 0;
	if (ret >= 0)
		ret = ext_from_item(inode, &found, &dext, ret, &ext);
	if (ret < 0)
		return ret;
	*start = min(ext_end(&ext), iblock);
	return 0;
}

/*
 * PREALLOCATION: which blocks a write into the hole [iblock, hole_end)
 * (hole_end U64_MAX: no extent after it) that needs want blocks
 * allocates, as upstream's data_prealloc_blocks (P) and
 * data_prealloc_contig_only options ask (options.c):
 *
 *  - contig_only 1: a write that extends a file whose blocks before it
 *    are all allocated (iblock == online_blocks, past its first two
 *    blocks, nothing after it) allocates as many more blocks as the file
 *    has, at most P: sequential writes, however small, double their
 *    extents up to P.  Any other write allocates what it covers.
 *  - contig_only 0: a write allocates all of the P-aligned region around
 *    iblock that is hole, from the end of the extent before iblock.
 *
 * Never less than the write needs, never more than
 * SCOUTFS_DATA_ALLOC_MAX_BLOCKS in one go.  The blocks beyond what the
 * write covers are unwritten like all new blocks: they read as zeros,
 * count in online_blocks and st_blocks, and stay past EOF until a
 * truncate or unlink frees them.  P = 1 (the default here) preallocates
 * nothing.  *start and *count are the range to allocate.
 */
static int prealloc_range(struct inode *inode, u64 iblock, u64 want,
			  u64 hole_end, u64 *start, u64 *count)
{
	struct scoutfs_mount_options opts;
	u64 s = iblock, e = iblock + want;
	u64 p, rs, hs;
	int ret;

	scoutfs_options_read(inode->i_sb, &opts);
	p = min(opts.data_prealloc_blocks, SCOUTFS_DATA_ALLOC_MAX_BLOCKS);
	if (p <= 1) {
		/* nothing to add */
	} else if (opts.data_prealloc_contig_only) {
		if (hole_end == U64_MAX && iblock > 1 &&
		    iblock == SCOUTFS_I(inode)->online_blocks)
			e = max(e, iblock + min(iblock, p));
	} else {
		div64_u64_rem(iblock, p, &rs);
		rs = iblock - rs;
		ret = hole_start(inode, iblock, &hs);
		if (ret)
			return ret;
		s = max(rs, hs);
		e = max(e, min(rs + p, hole_end));
	}
	if (e - s > SCOUTFS_DATA_ALLOC_MAX_BLOCKS) {
		s = iblock;
		e = min(e, iblock + SCOUTFS_DATA_ALLOC_MAX_BLOCKS);
	}
	*start = s;
	*count = e - s;
	return 0;
}

/*
 * Map the blocks at pos for a write (buffered, zeroing or page_mkwrite).
 * Written and unwritten extents are mapped as they are: no hold.  A hole
 * gets new blocks as an UNWRITTEN extent, in one transaction with the
 * inode update, mapped IOMAP_UNWRITTEN | IOMAP_F_NEW: iomap zeroes what
 * the write does not cover in the page cache, writeback converts the
 * extent once the data is on disk (end_unwritten_ioend()), and
 * ->iomap_end gives back what a short write did not use.  See the top
 * comment.
 */
static int map_for_write(struct inode *inode, loff_t pos, loff_t length,
			 struct iomap *iomap)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	u64 iblock = pos_to_block(pos);
	u64 end = pos_end_block(pos, length);
	struct data_ext ext, new;
	u64 hole_end, start, count;
	int ret;

	ret = map_lookup(inode, pos, length, 0, iomap);
	if (ret || iomap->type != IOMAP_HOLE)
		return ret;

	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		return ret;
	down_write(&si->extent_sem);

	/* the hole may have been filled since the lookup */
	ret = extent_lookup(inode, iblock, &ext);
	if (ret == -ENOENT || (ret == 0 && ext.iblock > iblock)) {
		hole_end = ret == 0 ? ext.iblock : U64_MAX;
		ret = prealloc_range(inode, iblock, min(hole_end, end) - iblock,
				     hole_end, &start, &count) ?:
		      extent_alloc_covering(inode, start, count, iblock,
					    SCOUTFS_EXTENT_FLAG_UNWRITTEN,
					    &new);
		if (ret == 0) {
			/*
			 * Only what the write asked for is mapped, so
			 * ->iomap_end gives back none of the preallocation.
			 */
			if (ext_end(&new) > end)
				new.len = end - new.iblock;
			map_extent(inode, iomap, &new, iblock, IOMAP_UNWRITTEN,
				   IOMAP_F_NEW);
			/* the write's own stamp bumps data_version, once */
			ret = scoutfs_inode_update_alloc(inode);
			if (ret)
				scoutfs_err(sb, "inode %lu: updating the inode after allocating blocks failed (%d)",
					    inode->i_ino, ret);
		}
	} else if (ret == 0 && ext_is_offline(&ext)) {
		/* scoutfs_data_wait_check() lost a race with release */
		ret = -ENODATA;
	} else if (ret == 0) {
		map_extent(inode, iomap, &ext, iblock,
			   ext_is_unwritten(&ext) ? IOMAP_UNWRITTEN :
			   IOMAP_MAPPED, 0);
	}

	up_write(&si->extent_sem);
	scoutfs_lock_release_ret(sb, &set, ret, "write", inode->i_ino);
	return ret;
}

static int scoutfs_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
			       unsigned int flags, struct iomap *iomap,
			       struct iomap *srcmap)
{
	if (flags & IOMAP_WRITE)
		return map_for_write(inode, pos, length, iomap);
	return map_lookup(inode, pos, length, flags, iomap);
}

/*
 * The end of one mapping of a buffered write: blocks this write
 * allocated (IOMAP_F_NEW) beyond what it wrote, because the user buffer
 * faulted, a signal arrived or the next allocation failed, are given
 * back, as iomap's users do for delalloc: from the block after the last
 * byte written, or from the first block when nothing was.  The
 * invalidate lock keeps page faults from dirtying pages over the range
 * while it goes; if a fault already dirtied one (a store through mmap
 * racing the write), the blocks stay, unwritten and reading as zeros.
 * Faults (IOMAP_FAULT) hold the invalidate lock already and map one
 * folio they write whole, so they give nothing back.
 */
static int scoutfs_iomap_end(struct inode *inode, loff_t pos, loff_t length,
			     ssize_t written, unsigned int flags,
			     struct iomap *iomap)
{
	struct address_space *mapping = inode->i_mapping;
	u64 start, end;
	int ret = 0;

	if (!(flags & IOMAP_WRITE) || (flags & IOMAP_FAULT) ||
	    !(iomap->flags & IOMAP_F_NEW))
		return 0;
	start = written > 0 ? pos_end_block(pos, written) : pos_to_block(pos);
	end = pos_to_block(iomap->offset + iomap->length);
	if (start >= end)
		return 0;

	filemap_invalidate_lock(mapping);
	if (!filemap_range_needs_writeback(mapping,
			start << SCOUTFS_DATA_BLOCK_SHIFT,
			(end << SCOUTFS_DATA_BLOCK_SHIFT) - 1))
		/*
		 * A failure leaves allocated blocks that read as zeros:
		 * wasted space, never someone else's bytes.
		 */
		ret = remove_extents(inode, start, end,
				     EXT_REMOVE_FREE | EXT_REMOVE_UNWRITTEN,
				     false, "giving back unused blocks");
	filemap_invalidate_unlock(mapping);
	return ret;
}

static const struct iomap_ops scoutfs_iomap_ops = {
	.iomap_begin	= scoutfs_iomap_begin,
	.iomap_end	= scoutfs_iomap_end,
};

/*
 * Writeback: every dirty block has an extent (allocated when it was
 * dirtied), so this only looks it up, reusing the last mapping while it
 * covers offset.  Blocks of unwritten extents are written like any other
 * and converted when their I/O completes (end_unwritten_ioend()).  A
 * hole or offline extent under a dirty page would lose data silently, so
 * it is an error with a log line.
 */
static int scoutfs_map_blocks(struct iomap_writepage_ctx *wpc,
			      struct inode *inode, loff_t offset)
{
	struct iomap *iomap = &wpc->iomap;
	int ret;

	if ((iomap->type == IOMAP_MAPPED || iomap->type == IOMAP_UNWRITTEN) &&
	    offset >= iomap->offset && offset < iomap->offset + iomap->length)
		return 0;

	ret = map_lookup(inode, offset, SCOUTFS_DATA_BLOCK_SIZE, 0, iomap);
	if (ret == 0 && iomap->type != IOMAP_MAPPED &&
	    iomap->type != IOMAP_UNWRITTEN)
		ret = -EIO;
	if (ret)
		scoutfs_err(inode->i_sb, "inode %lu: writeback of a dirty block at byte %lld found no extent (%d)",
			    inode->i_ino, offset, ret);
	return ret;
}

/*
 * WRITEBACK COMPLETION
 *
 * The bio of an ioend over unwritten blocks ends in scoutfs_end_io(),
 * which hands the ioend to the mount's ioend worker: the worker turns the
 * range's unwritten extents into written ones in transactions of their
 * own, and only then ends the pages' writeback.  So an extent is written
 * (and reads as its blocks) only after its blocks hold the data, a
 * commit never records a written extent whose data is not on the data
 * device (the commit flushes the data device before the super), and the
 * pages cannot be dropped and reread as zeros in between.  fsync waits
 * for page writeback, so for the conversion too, before it commits.
 *
 * The conversion must not wait for anything that waits for page
 * writeback while holding a hold: nothing does (the rule in the top
 * comment).  A failed write converts nothing (the blocks keep reading as
 * zeros) and ends the pages with the error, which fsync reports; a failed
 * conversion makes the mount read-only.
 */

/* Unwritten extents converted per transaction hold. */
#define SCOUTFS_DATA_CONVERT_BATCH	8

static int convert_unwritten(struct inode *inode, u64 start, u64 end)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct data_ext ext, conv;
	u64 iblock = start;
	int nr;
	int ret = 0;

	while (iblock < end && ret == 0) {
		ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED,
					inode->i_ino, 0, 0, 0);
		if (ret)
			break;
		down_write(&si->extent_sem);
		for (nr = 0; iblock < end && nr < SCOUTFS_DATA_CONVERT_BATCH;) {
			ret = extent_lookup(inode, iblock, &ext);
			if (ret == -ENOENT || (ret == 0 && ext.iblock >= end)) {
				iblock = end;
				ret = 0;
				break;
			}
			if (ret)
				break;
			if (ext.iblock > iblock) {
				iblock = ext.iblock;
			} else if (ext_is_unwritten(&ext)) {
				ret = extent_convert_unwritten(inode, &ext,
						iblock, min(ext_end(&ext), end),
						&conv);
				if (ret)
					break;
				iblock = min(ext_end(&ext), end);
				nr++;
			} else {
				iblock = ext_end(&ext);
			}
		}
		up_write(&si->extent_sem);
		scoutfs_lock_release(sb, &set);
	}
	return ret;
}

static void end_unwritten_ioend(struct iomap_ioend *ioend)
{
	struct inode *inode = ioend->io_inode;
	int err = blk_status_to_errno(ioend->io_bio->bi_status);
	int ret;

	if (err == 0) {
		ret = convert_unwritten(inode, pos_to_block(ioend->io_offset),
				pos_end_block(ioend->io_offset, ioend->io_size));
		if (ret) {
			scoutfs_err(inode->i_sb, "inode %lu: recording written blocks at byte %lld failed (%d)",
				    inode->i_ino, ioend->io_offset, ret);
			scoutfs_trans_read_only(inode->i_sb,
						"converting written blocks", ret);
			err = ret;
		}
	}
	iomap_finish_ioends(ioend, err);
}

static void ioend_worker(struct work_struct *work)
{
	struct scoutfs_sb_info *sbi =
		container_of(work, struct scoutfs_sb_info, ioend_work);
	struct iomap_ioend *ioend;
	unsigned long flags;
	LIST_HEAD(list);

	spin_lock_irqsave(&sbi->ioend_lock, flags);
	list_splice_init(&sbi->ioend_list, &list);
	spin_unlock_irqrestore(&sbi->ioend_lock, flags);

	while ((ioend = list_first_entry_or_null(&list, struct iomap_ioend,
						 io_list))) {
		list_del_init(&ioend->io_list);
		end_unwritten_ioend(ioend);
		cond_resched();
	}
}

/* bio completion (interrupt context): queue the ioend for its worker */
static void scoutfs_end_io(struct bio *bio)
{
	struct iomap_ioend *ioend = bio->bi_private;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(ioend->io_inode->i_sb);
	unsigned long flags;

	spin_lock_irqsave(&sbi->ioend_lock, flags);
	if (list_empty(&sbi->ioend_list))
		queue_work(sbi->ioend_wq, &sbi->ioend_work);
	list_add_tail(&ioend->io_list, &sbi->ioend_list);
	spin_unlock_irqrestore(&sbi->ioend_lock, flags);
}

static int scoutfs_prepare_ioend(struct iomap_ioend *ioend, int status)
{
	if (status == 0 && ioend->io_type == IOMAP_UNWRITTEN)
		ioend->io_bio->bi_end_io = scoutfs_end_io;
	return status;
}

int scoutfs_data_setup(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	spin_lock_init(&sbi->ioend_lock);
	INIT_LIST_HEAD(&sbi->ioend_list);
	INIT_WORK(&sbi->ioend_work, ioend_worker);
	sbi->ioend_wq = alloc_workqueue("scoutfs_ioend/%s",
					WQ_MEM_RECLAIM | WQ_FREEZABLE, 1,
					sb->s_id);
	return sbi->ioend_wq ? 0 : -ENOMEM;
}

/* Wait for every queued conversion (they may hold transactions). */
void scoutfs_data_flush_ioends(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	if (sbi->ioend_wq)
		flush_workqueue(sbi->ioend_wq);
}

void scoutfs_data_destroy(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	if (sbi->ioend_wq) {
		destroy_workqueue(sbi->ioend_wq);
		sbi->ioend_wq = NULL;
	}
}

static const struct iomap_writeback_ops scoutfs_writeback_ops = {
	.map_blocks	= scoutfs_map_blocks,
	.prepare_ioend	= scoutfs_prepare_ioend,
};

static int scoutfs_read_folio(struct file *file, struct folio *folio)
{
	return iomap_read_folio(folio, &scoutfs_iomap_ops);
}

static void scoutfs_readahead(struct readahead_control *rac)
{
	iomap_readahead(rac, &scoutfs_iomap_ops);
}

static int scoutfs_writepages(struct address_space *mapping,
			      struct writeback_control *wbc)
{
	struct iomap_writepage_ctx wpc = { };

	return iomap_writepages(mapping, wbc, &wpc, &scoutfs_writeback_ops);
}

/*
 * Zero, through the page cache, whatever written blocks lie in
 * [old_size, new_size) before i_size grows over them: the tail of the
 * old last block and blocks a short write left beyond EOF.  Holes and
 * unwritten extents are skipped by iomap, so this is cheap.
 */
static int zero_beyond_eof(struct inode *inode, loff_t old_size,
			   loff_t new_size)
{
	loff_t tail = old_size & (SCOUTFS_DATA_BLOCK_SIZE - 1);
	int ret;

	if (new_size <= old_size)
		return 0;
	/*
	 * iomap skips unwritten blocks as zeros, but a dirty last block not
	 * yet converted may hold bytes past EOF in the page cache (stores
	 * through mmap): write it back first so its tail is zeroed below.
	 */
	if (tail) {
		ret = filemap_write_and_wait_range(inode->i_mapping, old_size,
				old_size - tail + SCOUTFS_DATA_BLOCK_SIZE - 1);
		if (ret)
			return ret;
	}
	return iomap_zero_range(inode, old_size, new_size - old_size, NULL,
				&scoutfs_iomap_ops);
}

/*
 * Free the extents from logical block start on, SCOUTFS_DATA_EXTENT_BATCH
 * per transaction, stamping the inode (and so the new i_size) in each.
 * A crash part way leaves extents beyond i_size, which are harmless and
 * freed by the next truncate or evict.
 */
static int free_extents_from(struct inode *inode, u64 start)
{
	return remove_extents(inode, start, U64_MAX, EXT_REMOVE_FREE, true,
			      "truncate");
}

/*
 * After a truncate down to size: the written block holding the new EOF
 * goes back to disk with zeros past EOF (writeback zeroes the part of
 * the EOF folio beyond i_size), so the old bytes there cannot show if the
 * file regrows.  A hole or unwritten block reads as zeros already.  Not
 * iomap_truncate_page(): zeroing through iomap past EOF grows i_size.
 */
static int write_back_eof_block(struct inode *inode, loff_t size)
{
	struct address_space *mapping = inode->i_mapping;
	u64 iblock = pos_to_block(size);
	struct scoutfs_lock *lock;
	struct folio *folio;
	struct data_ext ext;
	bool written;
	int ret;

	if (!(size & (SCOUTFS_DATA_BLOCK_SIZE - 1)))
		return 0;
	ret = extents_read_lock(inode, &lock);
	if (ret)
		return ret;
	ret = extent_lookup(inode, iblock, &ext);
	extents_read_unlock(inode, lock);
	written = ret == 0 && ext.iblock <= iblock && !ext_is_offline(&ext) &&
		  !ext_is_unwritten(&ext);
	if (ret && ret != -ENOENT)
		return ret;
	if (!written)
		return 0;

	folio = read_mapping_folio(mapping, size >> PAGE_SHIFT, NULL);
	if (IS_ERR(folio))
		return PTR_ERR(folio);
	folio_lock(folio);
	folio_zero_segment(folio, offset_in_folio(folio, size),
			   folio_size(folio));
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	return filemap_write_and_wait_range(mapping, size,
			round_up(size, SCOUTFS_DATA_BLOCK_SIZE) - 1);
}

int scoutfs_data_truncate(struct inode *inode, loff_t new_size)
{
	struct address_space *mapping = inode->i_mapping;
	loff_t old_size = i_size_read(inode);
	int ret;

	if (new_size == old_size)
		return 0;

	/*
	 * scoutfs_setattr() waited, without the inode lock, until the whole
	 * file was online, and release cannot run while we hold the lock.
	 */
	filemap_invalidate_lock(mapping);
	if (new_size > old_size) {
		ret = zero_beyond_eof(inode, old_size, new_size);
		if (ret)
			goto out;
		truncate_setsize(inode, new_size);
		ret = update_inode_data_hold(inode, false);
		goto out;
	}

	/*
	 * The new size first, in a transaction of its own: until it is in
	 * the inode item nothing on disk changes, so a failure leaves the
	 * file as it was.  Then the blocks beyond it go (a failure part way
	 * leaves blocks beyond EOF, harmless: the next truncate or evict
	 * frees them), then the tail of the new last block is zeroed and
	 * written, so it reads as zeros if the file regrows (a crash before
	 * that write leaves the file's own old bytes beyond EOF, which an
	 * extension zeroes before it covers them: zero_beyond_eof()).
	 */
	i_size_write(inode, new_size);
	ret = update_inode_data_hold(inode, false);
	if (ret) {
		i_size_write(inode, old_size);
		goto out;
	}
	truncate_pagecache(inode, new_size);
	ret = free_extents_from(inode, pos_end_block(new_size, 0));
	if (ret == 0)
		ret = write_back_eof_block(inode, new_size);
out:
	filemap_invalidate_unlock(mapping);
	return ret;
}

static int scoutfs_file_open(struct inode *inode, struct file *file)
{
	/* O_DIRECT is served by the page cache: see the top comment */
	file->f_mode |= FMODE_CAN_ODIRECT;
	return generic_file_open(inode, file);
}

/*
 * Reads wait, with none of our locks, until the range they will read is
 * online.  A release can still turn a block offline between that check
 * and the page cache miss that reads it, which ->iomap_begin fails
 * (-ENODATA, seen as EIO): when the read stops at an offline block it
 * waits for that block like any other reader and carries on, so no
 * reader ever sees an error for data that is merely offline.
 */
static ssize_t scoutfs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t done = 0;
	ssize_t ret;
	loff_t size;
	u64 iblock;

	if (!iov_iter_count(to))
		return 0;
	/* O_DIRECT reads are buffered reads (no ->direct_IO) */
	iocb->ki_flags &= ~IOCB_DIRECT;
	for (;;) {
		size = i_size_read(inode);
		if (iocb->ki_pos < size) {
			ret = scoutfs_data_wait_check(inode, iocb->ki_pos,
					min_t(loff_t, iov_iter_count(to),
					      size - iocb->ki_pos),
					SCOUTFS_IOC_DWO_READ);
			if (ret)
				break;
		}
		ret = generic_file_read_iter(iocb, to);
		if (ret > 0)
			done += ret;
		if (ret != -EIO && (ret <= 0 || !iov_iter_count(to)))
			break;
		/* stopped short: carry on only if an offline block stopped it */
		if (first_offline_block(inode, pos_to_block(iocb->ki_pos),
					pos_to_block(iocb->ki_pos) + 1,
					&iblock) != 1)
			break;
	}
	return done ? done : ret;
}

static ssize_t scoutfs_file_write_iter(struct kiocb *iocb,
				       struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	bool is_direct = iocb->ki_flags & IOCB_DIRECT;
	loff_t pos;
	ssize_t ret;
	int err;

	if (iocb->ki_flags & IOCB_NOWAIT)
		return -EOPNOTSUPP;

	ret = inode_lock_online(inode, SCOUTFS_IOC_DWO_WRITE);
	if (ret)
		return ret;
	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		goto out;
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	/* may call notify_change(), which takes its own hold */
	ret = file_remove_privs(file);
	if (ret)
		goto out;
	pos = iocb->ki_pos;
	ret = zero_beyond_eof(inode, i_size_read(inode), pos);
	if (ret)
		goto out;

	iocb->ki_flags &= ~IOCB_DIRECT;
	ret = iomap_file_buffered_write(iocb, from, &scoutfs_iomap_ops);
	if (is_direct)
		iocb->ki_flags |= IOCB_DIRECT;
	/*
	 * 6.1 stable's iomap_file_buffered_write() leaves ki_pos to the
	 * caller (earlier 6.1 advanced it): set it either way.
	 */
	if (ret > 0)
		iocb->ki_pos = pos + ret;

	/* times, i_size, data_seq, data_version: once per write(2) */
	if (ret > 0) {
		err = update_inode_data_hold(inode, true);
		if (err)
			ret = err;
	}
out:
	inode_unlock(inode);

	if (ret > 0 && is_direct) {
		err = filemap_write_and_wait_range(inode->i_mapping, pos,
						   pos + ret - 1);
		if (err)
			ret = err;
	}
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/* A fault that waited or must wait again is retried from the start. */
static vm_fault_t wait_fault_error(int ret)
{
	/* a signal: let it be delivered, the access faults again after */
	if (ret == -ERESTARTSYS || ret == -EINTR)
		return VM_FAULT_NOPAGE;
	return VM_FAULT_SIGBUS;
}

static vm_fault_t scoutfs_filemap_fault(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	loff_t pos = (loff_t)vmf->pgoff << PAGE_SHIFT;
	vm_fault_t vmret;
	u64 iblock;
	int ret;

	ret = scoutfs_data_wait_check(inode, pos, PAGE_SIZE,
				      SCOUTFS_IOC_DWO_READ);
	if (ret)
		return wait_fault_error(ret);
	vmret = filemap_fault(vmf);
	/* released since the check: fault again, which waits for it */
	if ((vmret & VM_FAULT_SIGBUS) &&
	    first_offline_block(inode, pos_to_block(pos),
				pos_end_block(pos, PAGE_SIZE), &iblock) == 1)
		return VM_FAULT_NOPAGE;
	return vmret;
}

/*
 * The first write to a clean mapped page: wait (with no lock of ours)
 * until the file is online, then, under the invalidate lock, which keeps
 * release, truncate and fallocate out, check it again, stamp the content
 * change and let iomap allocate (->iomap_begin, in its own hold) and
 * dirty the page.  A release that slipped in before the lock sends the
 * fault round again, so a file is never stamped (data_version) while any
 * of it is offline.
 */
static vm_fault_t scoutfs_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	vm_fault_t vmret;
	int ret;

	if (scoutfs_inode_check_retention(inode))
		return VM_FAULT_SIGBUS;
	ret = wait_whole_file_online(inode, SCOUTFS_IOC_DWO_WRITE);
	if (ret)
		return wait_fault_error(ret);

	sb_start_pagefault(inode->i_sb);
	filemap_invalidate_lock_shared(inode->i_mapping);
	if (!whole_file_online(inode)) {
		vmret = VM_FAULT_NOPAGE;
		goto out;
	}
	ret = update_inode_data_hold(inode, true);
	if (ret)
		vmret = vmf_error(ret);
	else
		vmret = iomap_page_mkwrite(vmf, &scoutfs_iomap_ops);
out:
	filemap_invalidate_unlock_shared(inode->i_mapping);
	sb_end_pagefault(inode->i_sb);
	return vmret;
}

static const struct vm_operations_struct scoutfs_file_vm_ops = {
	.fault		= scoutfs_filemap_fault,
	.map_pages	= filemap_map_pages,
	.page_mkwrite	= scoutfs_page_mkwrite,
};

static int scoutfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	if ((vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) ==
	    (VM_SHARED | VM_MAYWRITE) &&
	    scoutfs_inode_check_retention(file_inode(file)))
		return -EPERM;
	file_accessed(file);
	vma->vm_ops = &scoutfs_file_vm_ops;
	return 0;
}

static loff_t scoutfs_file_llseek(struct file *file, loff_t offset,
				  int whence)
{
	struct inode *inode = file_inode(file);

	switch (whence) {
	case SEEK_DATA:
	case SEEK_HOLE:
		inode_lock_shared(inode);
		if (whence == SEEK_DATA)
			offset = iomap_seek_data(inode, offset,
						 &scoutfs_iomap_ops);
		else
			offset = iomap_seek_hole(inode, offset,
						 &scoutfs_iomap_ops);
		inode_unlock_shared(inode);
		if (offset < 0)
			return offset;
		return vfs_setpos(file, offset, inode->i_sb->s_maxbytes);
	default:
		return generic_file_llseek(file, offset, whence);
	}
}

/*
 * Allocate unwritten extents over the holes of [start, end) (logical
 * blocks), one extent per transaction; existing extents, offline ones
 * included, are left as they are.
 */
static int fallocate_blocks(struct inode *inode, u64 start, u64 end)
{
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct data_ext ext, new;
	u64 iblock = start;
	int ret = 0;

	while (iblock < end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
		if (ret)
			return ret;
		down_write(&si->extent_sem);

		ret = extent_lookup(inode, iblock, &ext);
		if (ret == 0 && ext.iblock <= iblock) {
			iblock = ext_end(&ext);
		} else if (ret == 0 || ret == -ENOENT) {
			ret = extent_alloc(inode, iblock,
					   (ret == 0 ? min(ext.iblock, end) : end) -
					   iblock, SCOUTFS_EXTENT_FLAG_UNWRITTEN,
					   &new);
			if (ret == 0) {
				iblock = ext_end(&new);
				/* data_version moves once, at the end */
				ret = scoutfs_inode_update_alloc(inode);
			}
		}

		up_write(&si->extent_sem);
		scoutfs_lock_release_ret(sb, &set, ret, "fallocate",
					 inode->i_ino);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Mode 0 and FALLOC_FL_KEEP_SIZE: allocate unwritten blocks over the
 * holes of the range and, without KEEP_SIZE, grow i_size to its end.
 * Everything else (punch, zero, collapse, insert) is -EOPNOTSUPP for now.
 */
static long scoutfs_fallocate(struct file *file, int mode, loff_t offset,
			      loff_t len)
{
	struct inode *inode = file_inode(file);
	loff_t end = offset + len;
	int ret;

	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (offset < 0 || len <= 0)
		return -EINVAL;

	ret = inode_lock_online(inode, SCOUTFS_IOC_DWO_CHANGE_SIZE);
	if (ret)
		return ret;
	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		goto out;
	if (!(mode & FALLOC_FL_KEEP_SIZE)) {
		ret = inode_newsize_ok(inode, end);
		if (ret)
			goto out;
	}
	ret = file_remove_privs(file);
	if (ret)
		goto out;

	filemap_invalidate_lock(inode->i_mapping);
	ret = fallocate_blocks(inode, pos_to_block(offset),
			       pos_end_block(offset, len));
	if (ret == 0 && !(mode & FALLOC_FL_KEEP_SIZE) &&
	    end > i_size_read(inode)) {
		ret = zero_beyond_eof(inode, i_size_read(inode), end);
		if (ret == 0) {
			truncate_setsize(inode, end);
			ret = update_inode_data_hold(inode, true);
		}
	} else if (ret == 0) {
		ret = update_inode_data_hold(inode, true);
	}
	filemap_invalidate_unlock(inode->i_mapping);
out:
	inode_unlock(inode);
	return ret;
}

/*
 * FIEMAP, as upstream reports it: one record per run of extents that
 * continue each other (same flags, and for online blocks the next
 * physical block), offline runs flagged FIEMAP_EXTENT_UNKNOWN with
 * physical 0, unwritten ones FIEMAP_EXTENT_UNWRITTEN, the last record
 * FIEMAP_EXTENT_LAST.  Dirty pages are written back first: their blocks
 * are unwritten until their I/O completes (STALE DATA above), and a
 * caller asking where a file's data is wants it shown as written.
 *
 * Each extent is looked up under the inode's READ lock and extent_sem,
 * and records are copied out with neither held (a copy can fault, and a
 * fault reads the file).  The VFS inode lock, shared, keeps truncate and
 * release away; a stage may turn offline blocks online as we go, and the
 * records then show some of each, as a racing stage would anyway.
 */
struct fiemap_run {
	u64 iblock;
	u64 len;
	u64 blkno;
	u32 flags;	/* FIEMAP_EXTENT_* */
};

static int fiemap_emit(struct fiemap_extent_info *fieinfo,
		       const struct fiemap_run *run, u32 last)
{
	if (!run->len)
		return 0;
	return fiemap_fill_next_extent(fieinfo, block_to_pos(run->iblock),
				       block_to_pos(run->blkno),
				       block_to_pos(run->len),
				       run->flags | last);
}

static int scoutfs_fiemap(struct inode *inode,
			  struct fiemap_extent_info *fieinfo, u64 start,
			  u64 len)
{
	struct fiemap_run run = { 0 }, next;
	struct scoutfs_lock *lock;
	struct data_ext ext;
	u64 iblock, end;
	int ret;

	ret = fiemap_prep(inode, fieinfo, start, &len, FIEMAP_FLAG_SYNC);
	if (ret || len == 0)
		return ret;

	inode_lock_shared(inode);
	ret = filemap_write_and_wait(inode->i_mapping);
	if (ret)
		goto out;

	iblock = pos_to_block(start);
	end = start + len < start ? U64_MAX : pos_end_block(start, len);
	while (iblock < end) {
		ret = extents_read_lock(inode, &lock);
		if (ret)
			break;
		ret = extent_lookup(inode, iblock, &ext);
		extents_read_unlock(inode, lock);
		if (ret == -ENOENT || (ret == 0 && ext.iblock >= end)) {
			ret = 0;
			break;
		}
		if (ret)
			break;

		next.iblock = ext.iblock;
		next.len = ext.len;
		next.blkno = ext_is_offline(&ext) ? 0 : ext.blkno;
		next.flags = ext_is_offline(&ext) ? FIEMAP_EXTENT_UNKNOWN :
			     ext_is_unwritten(&ext) ? FIEMAP_EXTENT_UNWRITTEN : 0;
		iblock = ext_end(&ext);

		if (run.len && run.iblock + run.len == next.iblock &&
		    run.flags == next.flags &&
		    (ext_is_offline(&ext) ||
		     run.blkno + run.len == next.blkno)) {
			run.len += next.len;
			continue;
		}
		ret = fiemap_emit(fieinfo, &run, 0);
		if (ret)
			break;
		run = next;
	}
	/* 1 from fill_next_extent: the user's array is full */
	if (ret == 0)
		ret = fiemap_emit(fieinfo, &run, FIEMAP_EXTENT_LAST);
	if (ret > 0)
		ret = 0;
out:
	inode_unlock_shared(inode);
	return ret;
}

/*
 * ARCHIVE: RELEASE, STAGE, SETATTR_MORE (and PUNCH_OFFLINE, below)
 *
 * Release turns a range into offline extents and frees its blocks; stage
 * writes archived bytes back into offline extents; setattr_more makes an
 * empty file an offline file of a given size (namespace restore).  None
 * of them changes data_version or mtime: the contents a reader sees are
 * the same before release and after stage.
 *
 * Release holds the VFS inode lock so no write or truncate runs while it
 * checks data_version, writes back and drops the range's pages, and
 * swaps the extents.  Each transaction of a long release removes a batch
 * of extents and inserts the offline extent over exactly what it removed,
 * so after a crash every block is either online or offline, never a hole
 * that would read as zeros.
 *
 * Stage must not take the VFS inode lock: a truncate waiting for the file
 * to come online holds it (see scoutfs_data_truncate()).  Stage instead
 * holds extent_sem for write from its offline check to its extent swap,
 * writes the new blocks with bios straight to the data device before the
 * extents point at them, and wakes the waiters after the swap.  Data
 * version cannot change under it: every writer and truncate waits until
 * the whole file is online.
 */

/* Bytes stage copies in from the user per transaction. */
#define SCOUTFS_STAGE_CHUNK_BYTES	(1024 * 1024)

static int release_batch(struct inode *inode, u64 start, u64 end, u64 *next)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct data_ext off;
	int ret;

	ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED,
				inode->i_ino, 0, 0, 0);
	if (ret)
		return ret;
	down_write(&si->extent_sem);
	ret = extent_remove_range(inode, start, end, EXT_REMOVE_FREE, next);
	if (ret == -ENOBUFS && *next > start)
		ret = 0;	/* record what was removed; commit below */
	if (ret == 0 && *next > start) {
		off.iblock = start;
		off.len = *next - start;
		off.blkno = 0;
		off.flags = SCOUTFS_EXTENT_FLAG_OFFLINE;
		ret = extent_insert(inode, &off);
	}
	if (ret == 0)
		ret = scoutfs_inode_update(inode, false);
	up_write(&si->extent_sem);
	scoutfs_lock_release_ret(sb, &set, ret == -ENOBUFS ? 0 : ret,
				 "release", inode->i_ino);
	if (ret == -ENOBUFS)
		ret = scoutfs_trans_commit(sb);
	return ret;
}

int scoutfs_data_release(struct inode *inode, u64 offset, u64 length,
			 u64 data_version)
{
	struct address_space *mapping = inode->i_mapping;
	struct scoutfs_lock *lock;
	u64 start, end, iblock, next;
	loff_t size;
	int ret;

	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if ((offset | length) & (SCOUTFS_DATA_BLOCK_SIZE - 1) || length == 0 ||
	    offset + length < offset)
		return -EINVAL;

	inode_lock(inode);
	filemap_invalidate_lock(mapping);
	if (SCOUTFS_I(inode)->data_version != data_version) {
		ret = -ESTALE;
		goto out;
	}
	size = i_size_read(inode);
	start = pos_to_block(offset);
	end = min(pos_to_block(offset + length), pos_end_block(0, size));
	if (start >= end) {
		ret = 0;
		goto out;
	}

	ret = filemap_write_and_wait_range(mapping, block_to_pos(start),
					   block_to_pos(end) - 1);
	if (ret)
		goto out;
	truncate_inode_pages_range(mapping, block_to_pos(start),
				   block_to_pos(end) - 1);

	/* releasing what is already offline changes nothing */
	for (iblock = start; iblock < end; iblock = next) {
		struct data_ext ext;

		ret = extents_read_lock(inode, &lock);
		if (ret)
			goto out;
		ret = extent_lookup(inode, iblock, &ext);
		extents_read_unlock(inode, lock);
		if (ret == -ENOENT || (ret == 0 && ext.iblock > iblock) ||
		    (ret == 0 && !ext_is_offline(&ext)))
			break;
		if (ret < 0)
			goto out;
		next = ext_end(&ext);
	}
	ret = 0;
	if (iblock >= end)
		goto out;

	for (iblock = start; iblock < end && ret == 0; iblock = next)
		ret = release_batch(inode, iblock, end, &next);
out:
	filemap_invalidate_unlock(mapping);
	inode_unlock(inode);
	return ret;
}

/* Write len blocks from buf to the data device at blkno, synchronously. */
static int write_data_blocks(struct super_block *sb, u64 blkno, void *buf,
			     u64 len)
{
	unsigned int nr_pages = len << (SCOUTFS_DATA_BLOCK_SHIFT - PAGE_SHIFT);
	struct bio *bio;
	unsigned int i;
	int ret;

	bio = bio_alloc(sb->s_bdev, nr_pages, REQ_OP_WRITE | REQ_SYNC,
			GFP_NOFS);
	bio->bi_iter.bi_sector = blkno << (SCOUTFS_DATA_BLOCK_SHIFT - SECTOR_SHIFT);
	for (i = 0; i < nr_pages; i++)
		__bio_add_page(bio, vmalloc_to_page(buf + i * PAGE_SIZE),
			       PAGE_SIZE, 0);
	flush_kernel_vmap_range(buf, nr_pages << PAGE_SHIFT);
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

/*
 * Write the offline blocks [iblock, iblock + nr) from buf to newly
 * allocated blocks and swap them in; extent_sem held for write, inside
 * the caller's hold.  *done counts the blocks staged.
 */
static int stage_offline_run(struct inode *inode, u64 iblock, u64 nr,
			     void *buf, u64 *done)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct data_ext online;
	u64 blkno, len, next, staged = 0;
	int ret = 0;

	while (staged < nr) {
		mutex_lock(&sbi->meta_mutex);
		ret = scoutfs_fault_hit() ? -ENOSPC :
		      scoutfs_alloc_data(&sbi->alloc, nr - staged, &blkno, &len);
		mutex_unlock(&sbi->meta_mutex);
		if (ret)
			break;
		ret = write_data_blocks(sb, blkno,
				buf + (staged << SCOUTFS_DATA_BLOCK_SHIFT), len);
		if (ret) {
			/* nothing changed yet: the blocks go back */
			unalloc_blocks(inode, blkno, len);
			break;
		}
		/*
		 * From here a failure would leave the range neither offline
		 * nor online: the mount goes read-only before any commit.
		 */
		ret = extent_remove_range(inode, iblock + staged,
					  iblock + staged + len,
					  EXT_REMOVE_FREE, &next);
		if (ret == 0) {
			online.iblock = iblock + staged;
			online.len = len;
			online.blkno = blkno;
			online.flags = 0;
			ret = extent_insert(inode, &online);
		}
		if (ret) {
			scoutfs_trans_failed_part_way(sb, "stage", inode->i_ino,
						      ret);
			break;
		}
		staged += len;
	}
	*done += staged;
	return ret;
}

/*
 * Stage the blocks [iblock, iblock + nr) from buf (whole blocks, the
 * last zero-filled past EOF).  Only offline blocks are written: blocks
 * already online (or holes) hold this data_version's contents, so they
 * are left alone and the call still succeeds, as upstream's stage does.
 */
static int stage_blocks(struct inode *inode, u64 iblock, u64 nr, void *buf,
			u64 data_version)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	u64 end = iblock + nr, cur, start, stop, done = 0;
	struct data_ext ext;
	int err = 0;
	int ret;

	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		return ret;
	down_write(&si->extent_sem);

	if (si->data_version != data_version) {
		ret = -ESTALE;
		goto out;
	}
	for (cur = iblock; cur < end; cur = stop) {
		ret = extent_lookup(inode, cur, &ext);
		if (ret == -ENOENT || (ret == 0 && ext.iblock >= end)) {
			ret = 0;
			break;
		}
		if (ret)
			break;
		start = max(cur, ext.iblock);
		stop = min(end, ext_end(&ext));
		if (ext_is_offline(&ext)) {
			ret = stage_offline_run(inode, start, stop - start,
				buf + ((start - iblock) << SCOUTFS_DATA_BLOCK_SHIFT),
				&done);
			if (ret)
				break;
		}
	}
	/* what was staged stays staged; its inode update must not fail */
	if (done) {
		err = scoutfs_inode_update(inode, false);
		ret = err ?: ret;
	}
out:
	up_write(&si->extent_sem);
	scoutfs_lock_release_ret(sb, &set, err, "stage", inode->i_ino);
	if (done)
		scoutfs_data_wait_wake(sb, inode->i_ino, iblock, end - 1);
	return ret;
}

ssize_t scoutfs_data_stage(struct inode *inode, u64 data_version,
			   const void __user *ubuf, u64 offset, s32 length)
{
	loff_t size = i_size_read(inode);
	u64 staged = 0;
	size_t chunk;
	void *buf;
	int ret = 0;

	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (length < 0 || (offset & (SCOUTFS_DATA_BLOCK_SIZE - 1)))
		return -EINVAL;
	if (length == 0)
		return 0;
	/* only whole blocks, except the file's last */
	if (offset + length > size ||
	    ((offset + length) & (SCOUTFS_DATA_BLOCK_SIZE - 1) &&
	     offset + length != size))
		return -EINVAL;

	buf = vmalloc(SCOUTFS_STAGE_CHUNK_BYTES);
	if (!buf)
		return -ENOMEM;
	while (staged < length) {
		chunk = min_t(u64, length - staged, SCOUTFS_STAGE_CHUNK_BYTES);
		if (copy_from_user(buf, ubuf + staged, chunk)) {
			ret = -EFAULT;
			break;
		}
		memset(buf + chunk, 0,
		       round_up(chunk, SCOUTFS_DATA_BLOCK_SIZE) - chunk);
		ret = stage_blocks(inode, pos_to_block(offset + staged),
				   pos_end_block(0, chunk), buf, data_version);
		if (ret)
			break;
		staged += chunk;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	vfree(buf);
	return staged ? staged : ret;
}

/*
 * PUNCH_OFFLINE: the offline blocks of a range become a hole.  Like
 * release it holds the VFS inode lock, so no write, truncate or release
 * runs meanwhile.  Stage does not take that lock, so each batch checks
 * again, under extent_sem, that what it removes is still offline: the
 * first pass refuses an online or unwritten block before anything
 * changes, a later batch only if a racing stage brought blocks back.
 * Offline extents have no blocks, so nothing is freed; each batch is a
 * transaction of its own (using the reserve: it frees metadata).
 */

/* 1 if [start, end) holds only offline extents and holes, else 0. */
static int range_only_offline(struct inode *inode, u64 start, u64 end)
{
	struct data_ext ext;
	u64 iblock = start;
	int ret;

	while (iblock < end) {
		ret = extent_lookup(inode, iblock, &ext);
		if (ret == -ENOENT || (ret == 0 && ext.iblock >= end))
			return 1;
		if (ret)
			return ret;
		if (!ext_is_offline(&ext))
			return 0;
		iblock = ext_end(&ext);
	}
	return 1;
}

static int punch_offline_batch(struct inode *inode, u64 start, u64 end,
			       u64 *next)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct scoutfs_lock_set set;
	int ret;

	ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED,
				inode->i_ino, 0, 0, 0);
	if (ret)
		return ret;
	down_write(&si->extent_sem);
	ret = range_only_offline(inode, start, end);
	if (ret == 0)
		ret = -EINVAL;
	if (ret == 1)
		ret = extent_remove_range(inode, start, end, 0, next);
	if (ret == 0)
		ret = scoutfs_inode_update(inode, false);
	up_write(&si->extent_sem);
	scoutfs_lock_release_ret(sb, &set, ret, "punch-offline", inode->i_ino);
	return ret;
}

int scoutfs_data_punch_offline(struct inode *inode, u64 offset, u64 len,
			       u64 data_version)
{
	struct scoutfs_lock *lock;
	u64 start, end, iblock, next;
	int ret;

	if ((offset | len) & (SCOUTFS_DATA_BLOCK_SIZE - 1) || len == 0 ||
	    offset + len < offset)
		return -EOVERFLOW;
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;

	inode_lock(inode);
	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		goto out;
	if (SCOUTFS_I(inode)->data_version != data_version) {
		ret = -ESTALE;
		goto out;
	}
	start = pos_to_block(offset);
	end = min(pos_to_block(offset + len),
		  pos_end_block(0, i_size_read(inode)));
	if (start >= end) {
		ret = 0;
		goto out;
	}

	ret = extents_read_lock(inode, &lock);
	if (ret)
		goto out;
	ret = range_only_offline(inode, start, end);
	extents_read_unlock(inode, lock);
	if (ret <= 0) {
		ret = ret ?: -EINVAL;
		goto out;
	}

	ret = 0;
	for (iblock = start; iblock < end && ret == 0; iblock = next)
		ret = punch_offline_batch(inode, iblock, end, &next);
	/* the range reads as zeros now: its waiters need no stage */
	scoutfs_data_wait_wake(inode->i_sb, inode->i_ino, start, end - 1);
out:
	inode_unlock(inode);
	return ret;
}

/*
 * MOVE_BLOCKS: the extents of a range of one file become the extents of
 * a range of another, without copying or freeing a block.  Both VFS
 * inode locks and both mappings' invalidate_locks are held throughout
 * (lock_two_nondirectories(), filemap_invalidate_lock_two(): the VFS's
 * own order between two inodes), so no write, truncate, release, read
 * or fault brings pages into either range or changes the files' sizes
 * while the source's pages are written back and both ranges' pages are
 * dropped.  Stage takes no VFS lock, so each batch checks again under
 * both extent_sems what it moves and where it moves it.
 *
 * Each batch is one transaction (both inodes' cluster locks, one hold):
 * it looks up to SCOUTFS_MOVE_EXTENTS_PER_HOLD source extents, checks
 * every destination (a hole, or with MB_STAGE inside one offline extent)
 * before changing anything, then unmaps each piece from the source,
 * (staging) removes the offline piece it replaces, and inserts it in the
 * destination, and stamps both inodes.  A failure after its first change
 * makes the mount read-only (scoutfs_lock_release_ret()); a check that
 * fails refuses the batch whole, so after an error what moved in earlier
 * batches stays moved (as upstream's) and nothing is half moved.  The
 * work per hold is bounded whatever the range: holes are skipped by one
 * lookup each.  Nothing is freed, so the freed list never fills.
 *
 * Stamps, as upstream's: each batch changes the source's ctime, mtime,
 * data_seq and data_version, and, without MB_STAGE, the destination's;
 * a staged destination keeps its times and data_version (its contents
 * are what the archive had) and its waiters wake.
 */

/*
 * Source extents one hold moves: a piece changes at most six extent
 * items (trims at both ends of the source extent, of the offline
 * destination extent, an insert that merges), and the two inode updates
 * ten more (inode items and seq index moves): within
 * SCOUTFS_HOLD_MAX_ITEMS (trans.c).
 */
#define SCOUTFS_MOVE_EXTENTS_PER_HOLD	5

struct move_piece {
	u64 from;	/* first source block */
	u64 to;		/* first destination block */
	u64 len;
	u64 blkno;
	u32 flags;
};

struct move_args {
	struct inode *from;
	struct inode *to;
	u64 from_start;		/* first block of the source range */
	u64 from_end;		/* block after it, clipped to its i_size */
	u64 to_start;
	loff_t from_size;
	u64 data_version;
	bool stage;
};

/* Two inodes' extent_sems: the lower inode number first (lock.c). */
static void extent_sems_lock_two(struct inode *a, struct inode *b)
{
	if (a->i_ino > b->i_ino)
		swap(a, b);
	down_write(&SCOUTFS_I(a)->extent_sem);
	down_write_nested(&SCOUTFS_I(b)->extent_sem, SINGLE_DEPTH_NESTING);
}

static void extent_sems_unlock_two(struct inode *a, struct inode *b)
{
	up_write(&SCOUTFS_I(a)->extent_sem);
	up_write(&SCOUTFS_I(b)->extent_sem);
}

/*
 * May a piece land on [iblock, iblock + len) of the destination: a hole,
 * or when staging, a part of one offline extent?  0 or -EINVAL.
 */
static int move_dest_ok(struct inode *to, u64 iblock, u64 len, bool stage)
{
	struct data_ext ext;
	int ret;

	ret = extent_lookup(to, iblock, &ext);
	if (ret == -ENOENT)
		return stage ? -EINVAL : 0;
	if (ret < 0)
		return ret;
	if (stage)
		return ext_is_offline(&ext) && ext.iblock <= iblock &&
		       ext_end(&ext) >= iblock + len ? 0 : -EINVAL;
	return ext.iblock >= iblock + len ? 0 : -EINVAL;
}

/* The checks of the whole operation, repeated under the hold. */
static int move_check_inodes(struct move_args *ma)
{
	struct scoutfs_inode_info *from_si = SCOUTFS_I(ma->from);
	struct scoutfs_inode_info *to_si = SCOUTFS_I(ma->to);
	int ret;

	ret = scoutfs_inode_check_retention(ma->from) ?:
	      scoutfs_inode_check_retention(ma->to);
	if (ret)
		return ret;
	if (ma->stage && to_si->data_version != ma->data_version)
		return -ESTALE;
	if (from_si->offline_blocks || (!ma->stage && to_si->offline_blocks))
		return -ENODATA;
	return 0;
}

/* One transaction's worth of pieces from *cur on; *cur moves past them. */
static int move_batch(struct move_args *ma, u64 *cur, u64 *moved)
{
	struct move_piece pieces[SCOUTFS_MOVE_EXTENTS_PER_HOLD];
	struct inode *from = ma->from;
	struct inode *to = ma->to;
	struct super_block *sb = from->i_sb;
	struct scoutfs_lock_set set;
	struct move_piece *p;
	struct data_ext ext;
	struct timespec64 now;
	loff_t end_pos, src_end;
	u64 iblock = *cur, next;
	int nr = 0, i;
	int ret;

	ret = scoutfs_lock_hold(sb, &set, 0, from->i_ino, to->i_ino, 0, 0);
	if (ret)
		return ret;
	extent_sems_lock_two(from, to);

	ret = move_check_inodes(ma);
	if (ret)
		goto out;

	/* gather and check, changing nothing */
	while (nr < SCOUTFS_MOVE_EXTENTS_PER_HOLD && iblock < ma->from_end) {
		ret = extent_lookup(from, iblock, &ext);
		if (ret == -ENOENT || (ret == 0 && ext.iblock >= ma->from_end)) {
			iblock = ma->from_end;
			ret = 0;
			break;
		}
		if (ret < 0)
			goto out;
		p = &pieces[nr];
		p->from = max(iblock, ext.iblock);
		p->len = min(ext_end(&ext), ma->from_end) - p->from;
		p->blkno = ext.blkno + (p->from - ext.iblock);
		p->flags = ext.flags;
		p->to = ma->to_start + (p->from - ma->from_start);
		ret = move_dest_ok(to, p->to, p->len, ma->stage);
		if (ret)
			goto out;
		iblock = p->from + p->len;
		nr++;
	}

	/* from here a failure leaves the mount read-only */
	for (i = 0; i < nr; i++) {
		p = &pieces[i];
		ret = extent_remove_range(from, p->from, p->from + p->len, 0,
					  &next);
		if (ret == 0 && ma->stage)
			ret = extent_remove_range(to, p->to, p->to + p->len, 0,
						  &next);
		if (ret == 0) {
			ext.iblock = p->to;
			ext.len = p->len;
			ext.blkno = p->blkno;
			ext.flags = p->flags;
			ret = extent_insert(to, &ext);
		}
		if (ret)
			goto out;
		/* the destination covers what moved; a partial last block stays partial */
		end_pos = block_to_pos(p->to + p->len);
		src_end = block_to_pos(p->from + p->len);
		if (src_end > ma->from_size)
			end_pos -= src_end - ma->from_size;
		if (end_pos > i_size_read(to))
			i_size_write(to, end_pos);
		*moved += p->len;
	}

	if (nr) {
		now = current_time(from);
		from->i_mtime = from->i_ctime = now;
		ret = scoutfs_inode_update(from, true);
		if (ret == 0) {
			if (!ma->stage)
				to->i_mtime = to->i_ctime = now;
			ret = scoutfs_inode_update(to, !ma->stage);
		}
	}
	*cur = iblock;
out:
	extent_sems_unlock_two(from, to);
	scoutfs_lock_release_ret(sb, &set, ret, "move-blocks", to->i_ino);
	return ret;
}

int scoutfs_data_move_blocks(struct inode *from, u64 from_off, u64 len,
			     struct inode *to, u64 to_off, bool stage,
			     u64 data_version)
{
	struct super_block *sb = to->i_sb;
	struct move_args ma = {
		.from = from,
		.to = to,
		.stage = stage,
		.data_version = data_version,
	};
	u64 cur, moved = 0;
	int ret;

	if (S_ISDIR(from->i_mode) || S_ISDIR(to->i_mode))
		return -EISDIR;
	if (!S_ISREG(from->i_mode) || !S_ISREG(to->i_mode) || from == to)
		return -EINVAL;
	if (len == 0)
		return 0;

	lock_two_nondirectories(from, to);
	filemap_invalidate_lock_two(from->i_mapping, to->i_mapping);

	ma.from_size = i_size_read(from);
	if ((from_off | to_off) & (SCOUTFS_DATA_BLOCK_SIZE - 1) ||
	    ((len & (SCOUTFS_DATA_BLOCK_SIZE - 1)) &&
	     from_off + len != ma.from_size)) {
		ret = -EINVAL;
		goto out;
	}
	ret = inode_permission(&init_user_ns, from, MAY_WRITE) ?:
	      inode_permission(&init_user_ns, to, MAY_WRITE);
	if (ret)
		goto out;
	if (IS_IMMUTABLE(from) || IS_IMMUTABLE(to) || IS_APPEND(from) ||
	    IS_APPEND(to)) {
		ret = -EPERM;
		goto out;
	}
	if (stage && SCOUTFS_I(to)->data_version != data_version) {
		ret = -ESTALE;
		goto out;
	}
	/* only blocks inside the source's i_size move */
	if (from_off >= ma.from_size) {
		ret = 0;
		goto out;
	}
	ma.from_start = pos_to_block(from_off);
	ma.from_end = pos_end_block(from_off,
				    min_t(u64, len, ma.from_size - from_off));
	ma.to_start = pos_to_block(to_off);
	if (block_to_pos(ma.to_start + (ma.from_end - ma.from_start)) >
	    sb->s_maxbytes) {
		ret = -EFBIG;
		goto out;
	}

	/* the source's dirty pages get their blocks converted, then go */
	ret = filemap_write_and_wait_range(from->i_mapping,
					   block_to_pos(ma.from_start),
					   block_to_pos(ma.from_end) - 1) ?:
	      filemap_write_and_wait_range(to->i_mapping,
			block_to_pos(ma.to_start),
			block_to_pos(ma.to_start + ma.from_end - ma.from_start) - 1);
	if (ret)
		goto out;
	truncate_inode_pages_range(from->i_mapping, block_to_pos(ma.from_start),
				   block_to_pos(ma.from_end) - 1);
	truncate_inode_pages_range(to->i_mapping, block_to_pos(ma.to_start),
			block_to_pos(ma.to_start + ma.from_end - ma.from_start) - 1);

	for (cur = ma.from_start; cur < ma.from_end && ret == 0; ) {
		ret = move_batch(&ma, &cur, &moved);
		if (ret == 0 && cur < ma.from_end) {
			scoutfs_fault_batch_pause();
			if (fatal_signal_pending(current))
				ret = -EINTR;
		}
	}
	if (stage && moved)
		scoutfs_data_wait_wake(sb, to->i_ino, ma.to_start,
				ma.to_start + (ma.from_end - ma.from_start) - 1);
out:
	filemap_invalidate_unlock_two(from->i_mapping, to->i_mapping);
	unlock_two_nondirectories(from, to);
	return ret;
}

/*
 * On an empty regular file: set data_version and size, and with offline
 * make [0, size) one offline extent, so a namespace restored from the
 * archive reads (by staging) like the original.
 */
int scoutfs_data_setattr_more(struct inode *inode, u64 data_version,
			      u64 size, bool offline,
			      const struct timespec64 *ctime,
			      const struct timespec64 *crtime)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct data_ext off;
	int ret;

	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (size > inode->i_sb->s_maxbytes)
		return -EFBIG;

	inode_lock(inode);
	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		goto unlock;
	/* upstream's rule: only a file that never had contents (version 0) */
	if (si->data_version != 0 || i_size_read(inode) != 0 ||
	    si->online_blocks || si->offline_blocks) {
		ret = -EINVAL;
		goto unlock;
	}
	ret = scoutfs_lock_hold(sb, &set, 0, inode->i_ino, 0, 0, 0);
	if (ret)
		goto unlock;
	down_write(&si->extent_sem);
	if (offline && size) {
		off.iblock = 0;
		off.len = pos_end_block(0, size);
		off.blkno = 0;
		off.flags = SCOUTFS_EXTENT_FLAG_OFFLINE;
		ret = extent_insert(inode, &off);
	}
	if (ret == 0) {
		i_size_write(inode, size);
		if (ctime)
			inode->i_ctime = *ctime;
		if (crtime)
			si->crtime = *crtime;
		/*
		 * content is now this version's; set after the update's bump.
		 * Version 0 (times only, upstream's form) keeps data_seq.
		 */
		ret = scoutfs_inode_update(inode, data_version != 0);
		if (ret == 0 && data_version != 0) {
			si->data_version = data_version;
			ret = scoutfs_inode_update(inode, false);
		}
	}
	up_write(&si->extent_sem);
	scoutfs_lock_release_ret(sb, &set, ret, "setattr_more", inode->i_ino);
unlock:
	inode_unlock(inode);
	return ret;
}

const struct address_space_operations scoutfs_aops = {
	.read_folio		= scoutfs_read_folio,
	.readahead		= scoutfs_readahead,
	.writepages		= scoutfs_writepages,
	.dirty_folio		= filemap_dirty_folio,
	.release_folio		= iomap_release_folio,
	.invalidate_folio	= iomap_invalidate_folio,
	.migrate_folio		= filemap_migrate_folio,
	.is_partially_uptodate	= iomap_is_partially_uptodate,
	.error_remove_page	= generic_error_remove_page,
};

const struct file_operations scoutfs_file_fops = {
	.open		= scoutfs_file_open,
	.llseek		= scoutfs_file_llseek,
	.read_iter	= scoutfs_file_read_iter,
	.write_iter	= scoutfs_file_write_iter,
	.mmap		= scoutfs_file_mmap,
	.fallocate	= scoutfs_fallocate,
	.splice_read	= generic_file_splice_read,
	.splice_write	= iter_file_splice_write,
	.fsync		= scoutfs_fsync,
	.unlocked_ioctl	= scoutfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

const struct inode_operations scoutfs_file_iops = {
	.setattr	= scoutfs_setattr,
	.getattr	= scoutfs_getattr,
	.listxattr	= scoutfs_listxattr,
	.get_acl	= scoutfs_get_acl,
	.set_acl	= scoutfs_set_acl,
	.fiemap		= scoutfs_fiemap,
};
