/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_XATTR_H_
#define _SCOUTFS_XATTR_H_

#include <linux/fs.h>
#include <linux/posix_acl.h>

ssize_t scoutfs_listxattr(struct dentry *dentry, char *buf, size_t size);
struct posix_acl *scoutfs_get_acl(struct inode *inode, int type, bool rcu);
int scoutfs_set_acl(struct user_namespace *mnt_userns, struct inode *inode,
		    struct posix_acl *acl, int type);
/*
 * Give a new inode the ACLs it inherits from dir and its security
 * xattrs.  Called inside the create's transaction hold, after
 * scoutfs_new_inode() and before the inode is linked.
 */
int scoutfs_xattr_init_new_inode(struct inode *inode, struct inode *dir,
				 const struct qstr *qstr);

#endif
