/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_INODE_H_
#define _SCOUTFS_INODE_H_

#include <linux/fs.h>
#include <linux/rwsem.h>
#include <linux/xattr.h>

#include "format.h"

struct scoutfs_inode_info {
	u64 meta_seq;
	u64 data_seq;
	u64 data_version;
	u64 online_blocks;
	u64 offline_blocks;
	u64 next_readdir_pos;
	u64 next_xattr_id;
	u64 flags;
	struct timespec64 crtime;
	/* the seqs whose index items exist on disk, to move them */
	u64 indexed_meta_seq;
	u64 indexed_data_seq;
	/*
	 * Serialises changes to this inode's extent items (write, truncate,
	 * release, stage) without the VFS inode lock, so a reader waiting
	 * for offline data never needs i_rwsem (see data_wait.c).
	 */
	struct rw_semaphore extent_sem;
	/*
	 * Serialises scoutfs_inode_update(): the stamps, the index moves
	 * and the copy into the item, so the last copy to land is the
	 * newest, whichever lock its caller holds (i_rwsem, extent_sem or
	 * none: .dirty_inode).
	 */
	struct mutex update_mutex;
	struct inode vfs_inode;
};

static inline struct scoutfs_inode_info *SCOUTFS_I(struct inode *inode)
{
	return container_of(inode, struct scoutfs_inode_info, vfs_inode);
}

static inline u64 scoutfs_ino(struct inode *inode)
{
	return inode->i_ino;
}

int scoutfs_inode_init(void);
void scoutfs_inode_exit(void);

struct inode *scoutfs_alloc_inode(struct super_block *sb);
void scoutfs_free_inode(struct inode *inode);
int scoutfs_write_inode(struct inode *inode, struct writeback_control *wbc);
void scoutfs_evict_inode(struct inode *inode);
int scoutfs_drop_inode(struct inode *inode);
void scoutfs_dirty_inode(struct inode *inode, int flags);

struct inode *scoutfs_iget(struct super_block *sb, u64 ino);
u64 scoutfs_alloc_ino(struct super_block *sb);
struct inode *scoutfs_new_inode(struct super_block *sb, struct inode *dir,
				u64 ino, umode_t mode, dev_t rdev);
int scoutfs_inode_update(struct inode *inode, bool data_changed);
int scoutfs_inode_update_alloc(struct inode *inode);
void scoutfs_inode_set_blocks(struct inode *inode);
int scoutfs_inode_orphan_add(struct inode *inode);
int scoutfs_inode_orphan_del(struct inode *inode);
int scoutfs_orphan_scan(struct super_block *sb);
void scoutfs_orphan_scan_setup(struct super_block *sb);
void scoutfs_orphan_scan_schedule(struct super_block *sb, bool rearm);
void scoutfs_orphan_scan_stop(struct super_block *sb);
int scoutfs_inode_check_retention(struct inode *inode);
int scoutfs_inode_set_retention(struct inode *inode, bool retain);

int scoutfs_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		    struct iattr *attr);
int scoutfs_getattr(struct user_namespace *mnt_userns, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags);

long scoutfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

extern const struct xattr_handler *scoutfs_xattr_handlers[];
extern const struct inode_operations scoutfs_file_iops;
extern const struct inode_operations scoutfs_dir_iops;
extern const struct inode_operations scoutfs_symlink_iops;
extern const struct inode_operations scoutfs_special_iops;
extern const struct file_operations scoutfs_file_fops;
extern const struct file_operations scoutfs_dir_fops;
extern const struct address_space_operations scoutfs_aops;

#endif
