/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_DATA_H_
#define _SCOUTFS_DATA_H_

#include <linux/fs.h>

/*
 * Change i_size of a regular file to new_size, freeing (or keeping, for
 * growth) extents, in its own transaction(s); updates the inode item
 * (size, data_seq, data_version).  Called by setattr without a hold,
 * with the VFS inode lock held.
 */
int scoutfs_data_truncate(struct inode *inode, loff_t new_size);

/*
 * 0 when no block of [pos, pos + len) is offline, else -ENODATA.  op is
 * one of SCOUTFS_IOC_DWO_* (ioctl.h).  A placeholder that data_wait.c
 * replaces with a wait for staging; call it without a transaction hold
 * and without extent_sem.
 */
int scoutfs_data_wait_check(struct inode *inode, loff_t pos, loff_t len,
			    int op);

#endif
