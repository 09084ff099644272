/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_XATTR_H_
#define _SCOUTFS_XATTR_H_

#include <linux/fs.h>
#include <linux/posix_acl.h>

extern const struct xattr_handler *scoutfs_xattr_handlers[];

ssize_t scoutfs_listxattr(struct dentry *dentry, char *buf, size_t size);
struct posix_acl *scoutfs_get_acl(struct inode *inode, int type, bool rcu);
int scoutfs_set_acl(struct user_namespace *mnt_userns, struct inode *inode,
		    struct posix_acl *acl, int type);
/*
 * Give a new inode the ACLs it inherits from dir (applying the umask
 * when dir has no default ACL) and its security xattrs.  Called inside
 * the create's transaction hold, after scoutfs_new_inode() and before
 * the inode is linked; the caller writes the inode item afterwards (the
 * mode may have changed).
 */
int scoutfs_xattr_init_new_inode(struct inode *inode, struct inode *dir,
				 const struct qstr *qstr);

/*
 * The hash that orders an inode's xattr items and keys the srch index:
 * 32 bits, so a LISTXATTR_HIDDEN position (its hash_pos is a __u32, as
 * upstream) names an exact place in the key space.
 */
u32 scoutfs_xattr_name_hash(const char *name, unsigned int name_len);

/*
 * For the LISTXATTR_HIDDEN ioctl: copy the "scoutfs.hide." names of
 * inode, each NUL-terminated, into the kernel buffer buf of size bytes,
 * starting at the position (*hash_pos, *id_pos) (0, 0 for the first
 * call).  Returns the bytes filled and moves the position past the last
 * name returned; 0 when there are no more names; -ERANGE when the next
 * name does not fit in size bytes at all.  The caller checks permission
 * (inode_permission MAY_READ) and copies buf to user memory; no locks are
 * needed (each item read is consistent, a concurrent set may or may not
 * be seen).
 */
ssize_t scoutfs_xattr_list_hidden(struct inode *inode, char *buf, size_t size,
				  u32 *hash_pos, u64 *id_pos);

/*
 * For the SEARCH_XATTRS ioctl: fill inos (at most nr) with the numbers,
 * ascending and each once, of the inodes in [first_ino, last_ino] that
 * have an xattr named exactly name (name_len bytes, not NUL-terminated).
 * Only names containing SCOUTFS_XATTR_SRCH_TAG are indexed; any other
 * name finds nothing.  Returns the number filled or -errno (-ERANGE for
 * a name longer than SCOUTFS_XATTR_MAX_NAME_LEN, -EINVAL for an empty
 * one).  *next_ino is where the next call continues; *at_end is true when
 * the range has been searched to last_ino.  Work per call is bounded, so
 * a call may return fewer than nr without being at the end.  inos is
 * kernel memory; the caller caps nr (SCOUTFS_IOC_SEARCH_XATTRS_MAX_INODES).
 */
int scoutfs_xattr_search(struct super_block *sb, const char *name,
			 unsigned int name_len, u64 first_ino, u64 last_ino,
			 u64 *inos, int nr, u64 *next_ino, bool *at_end);

/*
 * Delete the srch index items of an inode being deleted, in their own
 * transactions.  Must run before the inode's xattr items are deleted (it
 * finds the indexed names through them).  Called from
 * inode.c:delete_inode_items(); safe to repeat after a crash.
 */
int scoutfs_xattr_drop_srch(struct super_block *sb, u64 ino);
/* inside the caller's hold, after the mode changed */
int scoutfs_xattr_chmod_acl(struct inode *inode);

#endif
