// SPDX-License-Identifier: GPL-2.0
/*
 * data.c: regular file data.  Placeholder until file data lands: files
 * can be created and are empty.
 */
#include <linux/fs.h>

#include "super.h"
#include "inode.h"
#include "data.h"
#include "trans.h"
#include "xattr.h"

int scoutfs_data_truncate(struct inode *inode, loff_t new_size)
{
	return new_size == i_size_read(inode) ? 0 : -EOPNOTSUPP;
}

const struct address_space_operations scoutfs_aops = {
};

const struct file_operations scoutfs_file_fops = {
	.llseek		= generic_file_llseek,
	.fsync		= scoutfs_fsync,
};

const struct inode_operations scoutfs_file_iops = {
	.setattr	= scoutfs_setattr,
	.getattr	= scoutfs_getattr,
	.listxattr	= scoutfs_listxattr,
	.get_acl	= scoutfs_get_acl,
	.set_acl	= scoutfs_set_acl,
};
