/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_DATA_H_
#define _SCOUTFS_DATA_H_

#include <linux/fs.h>

/*
 * Change i_size of a regular file to new_size, freeing (or keeping, for
 * growth) extents, in its own transaction(s); updates the inode item
 * (size, data_seq, data_version).  Called by setattr without a hold,
 * with the VFS inode lock held, after scoutfs_data_relock_online().
 */
int scoutfs_data_truncate(struct inode *inode, loff_t new_size);

/*
 * Called with the VFS inode lock held: return 0 with it held once no
 * block of the file is offline, dropping it around each wait for staging
 * (the caller must recheck whatever it decided under the lock), or an
 * error (a signal, an agent's DATA_WAIT_ERR) with the lock held again.
 */
int scoutfs_data_relock_online(struct inode *inode, int op);

/*
 * Wait until no block of [pos, pos + len) is offline (staged, or an
 * error from the agent, or a signal).  op is one of SCOUTFS_IOC_DWO_*
 * (ioctl.h).  Call it without a transaction hold and without extent_sem.
 */
int scoutfs_data_wait_check(struct inode *inode, loff_t pos, loff_t len,
			    int op);

int scoutfs_data_release(struct inode *inode, u64 offset, u64 length,
			 u64 data_version);
int scoutfs_data_punch_offline(struct inode *inode, u64 offset, u64 len,
			       u64 data_version);
int scoutfs_data_move_blocks(struct inode *from, u64 from_off, u64 len,
			     struct inode *to, u64 to_off, bool stage,
			     u64 data_version);
ssize_t scoutfs_data_stage(struct inode *inode, u64 data_version,
			   const void __user *ubuf, u64 offset, s32 length);
int scoutfs_data_setattr_more(struct inode *inode, u64 data_version,
			      u64 size, bool offline,
			      const struct timespec64 *ctime,
			      const struct timespec64 *crtime);

/* The writeback completion worker: set up at mount, destroyed at unmount. */
int scoutfs_data_setup(struct super_block *sb);
void scoutfs_data_flush_ioends(struct super_block *sb);
void scoutfs_data_destroy(struct super_block *sb);

#endif
