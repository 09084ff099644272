// SPDX-License-Identifier: GPL-2.0
/*
 * xattr.c: extended attributes.  Placeholder until xattrs land.
 */
#include <linux/fs.h>
#include <linux/xattr.h>

#include "super.h"
#include "inode.h"
#include "xattr.h"

ssize_t scoutfs_listxattr(struct dentry *dentry, char *buf, size_t size)
{
	return 0;
}

struct posix_acl *scoutfs_get_acl(struct inode *inode, int type, bool rcu)
{
	return NULL;
}

int scoutfs_set_acl(struct user_namespace *mnt_userns, struct inode *inode,
		    struct posix_acl *acl, int type)
{
	return -EOPNOTSUPP;
}

int scoutfs_xattr_init_new_inode(struct inode *inode, struct inode *dir,
				 const struct qstr *qstr)
{
	return 0;
}

const struct xattr_handler *scoutfs_xattr_handlers[] = {
	NULL
};
