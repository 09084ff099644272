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

#endif
