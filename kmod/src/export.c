// SPDX-License-Identifier: GPL-2.0
/*
 * export.c: NFS export: file handles for name_to_handle_at(2),
 * open_by_handle_at(2) and knfsd.
 *
 * A handle names an inode by its number alone.  Inode numbers come from
 * the super's next_ino and are never used twice (inode.c), so no
 * generation number is needed: a handle of a deleted inode finds no
 * inode item, or an inode with no links left, and is ESTALE.  The
 * layout matches upstream scoutfs's, so a handle kept by an NFS client
 * or a tool stays meaningful across the two:
 *
 *   type 0x81 (FILEID_SCOUTFS)              le64 ino
 *   type 0x82 (FILEID_SCOUTFS_WITH_PARENT)  le64 ino, le64 parent ino
 *
 * Handles are 4-byte aligned u32 arrays, so the fields are read and
 * written unaligned.
 *
 * Decoding reads the inode item through scoutfs_iget() (its own READ
 * cluster lock), whether or not the inode or its dentry is cached, so a
 * handle works after drop_caches or a remount.  A disconnected directory
 * is joined to the tree by exportfs through ->get_parent, which reads
 * the directory's one LINK_BACKREF item (a directory has exactly one
 * link, dir.c) for the parent's number; ->get_name is exportfs's
 * generic one, which finds the name by readdir of the parent.  Nothing
 * here takes a hold or changes an item.
 */
#include <linux/fs.h>
#include <linux/exportfs.h>
#include <asm/unaligned.h>

#include "super.h"
#include "inode.h"
#include "item.h"
#include "lock.h"
#include "export.h"
#include "libscoutfs/key.h"

#define FILEID_SCOUTFS			0x81
#define FILEID_SCOUTFS_WITH_PARENT	0x82

/* handle lengths in u32 words */
#define SCOUTFS_FH_WORDS		2
#define SCOUTFS_FH_PARENT_WORDS		4

static int scoutfs_encode_fh(struct inode *inode, __u32 *fh, int *max_len,
			     struct inode *parent)
{
	int words = parent ? SCOUTFS_FH_PARENT_WORDS : SCOUTFS_FH_WORDS;

	if (*max_len < words) {
		*max_len = words;
		return FILEID_INVALID;
	}
	put_unaligned_le64(inode->i_ino, fh);
	if (parent)
		put_unaligned_le64(parent->i_ino, fh + 2);
	*max_len = words;
	return parent ? FILEID_SCOUTFS_WITH_PARENT : FILEID_SCOUTFS;
}

/* The dentry of a live inode by number; ESTALE if it is gone. */
static struct dentry *ino_dentry(struct super_block *sb, u64 ino)
{
	struct inode *inode;

	if (ino < SCOUTFS_ROOT_INO)
		return ERR_PTR(-ESTALE);
	inode = scoutfs_iget(sb, ino);
	if (!IS_ERR(inode) && inode->i_nlink == 0) {
		/* unlinked: an orphan that only its openers may still use */
		iput(inode);
		inode = ERR_PTR(-ESTALE);
	}
	return d_obtain_alias(inode);
}

static struct dentry *scoutfs_fh_to_dentry(struct super_block *sb,
					   struct fid *fid, int fh_len,
					   int fh_type)
{
	if ((fh_type != FILEID_SCOUTFS &&
	     fh_type != FILEID_SCOUTFS_WITH_PARENT) ||
	    fh_len < SCOUTFS_FH_WORDS)
		return NULL;	/* exportfs: ESTALE */
	return ino_dentry(sb, get_unaligned_le64(fid->raw));
}

static struct dentry *scoutfs_fh_to_parent(struct super_block *sb,
					   struct fid *fid, int fh_len,
					   int fh_type)
{
	if (fh_type != FILEID_SCOUTFS_WITH_PARENT ||
	    fh_len < SCOUTFS_FH_PARENT_WORDS)
		return NULL;
	return ino_dentry(sb, get_unaligned_le64(fid->raw + 2));
}

/* The parent of a directory: its one backref item names it. */
static struct dentry *scoutfs_get_parent(struct dentry *child)
{
	struct inode *inode = d_inode(child);
	struct super_block *sb = inode->i_sb;
	struct scoutfs_key key, last, found;
	struct scoutfs_lock *lock;
	int ret;

	if (inode->i_ino == SCOUTFS_ROOT_INO)
		return ERR_PTR(-ENOENT);	/* exportfs stops at the root */
	scoutfs_key_init_backref(&key, inode->i_ino, 0, 0);
	scoutfs_key_init_backref(&last, inode->i_ino, U64_MAX, U64_MAX);
	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, inode->i_ino, &lock);
	if (ret)
		return ERR_PTR(ret);
	/* only the key is wanted */
	ret = scoutfs_item_next(sb, &key, &last, &found, NULL, 0);
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	if (ret == -ENOENT)
		return ERR_PTR(-ESTALE);	/* removed meanwhile */
	if (ret < 0)
		return ERR_PTR(ret);
	return ino_dentry(sb, scoutfs_key_second(&found));
}

const struct export_operations scoutfs_export_ops = {
	.encode_fh	= scoutfs_encode_fh,
	.fh_to_dentry	= scoutfs_fh_to_dentry,
	.fh_to_parent	= scoutfs_fh_to_parent,
	.get_parent	= scoutfs_get_parent,
};
