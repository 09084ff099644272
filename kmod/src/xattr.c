// SPDX-License-Identifier: GPL-2.0
/*
 * xattr.c: extended attributes, POSIX ACLs, the hidden "scoutfs.hide."
 * names and the ".srch." index.
 *
 * ITEMS
 *
 * One xattr of inode I is a run of SCOUTFS_XATTR_TYPE items keyed
 * (I, hash(name), id << SCOUTFS_XATTR_PART_SHIFT | part).  Conceptually
 * it is one blob, struct scoutfs_xattr (format.h) then the name then the
 * value, cut into parts of SCOUTFS_MAX_VAL_SIZE bytes: part 0 holds the
 * header, the whole name (at most 255 bytes) and the start of the value,
 * parts 1, 2, ... the rest, so a 64 KiB value is 17 items.  The number of
 * parts follows from the header alone, so a reader knows exactly which
 * items to look up.  val_len is 16 bits, and values are at most
 * SCOUTFS_XATTR_MAX_VAL_LEN (65535) bytes, upstream's limit: a larger
 * value is E2BIG, as there.  XATTR_CREATE with XATTR_REPLACE is EINVAL,
 * as upstream's (the VFS leaves that combination to the filesystem).
 *
 * The hash is 32 bits (scoutfs_xattr_name_hash(), the high half of the
 * 64-bit name hash) as upstream's, because LISTXATTR_HIDDEN resumes at a
 * (__u32 hash_pos, __u64 id_pos) position: with a 32-bit hash that
 * position is an exact key.  Names with the same hash are told apart by
 * their id and found by comparing the name stored in part 0.
 *
 * Ids come from the inode's next_xattr_id and are never reused.  Setting
 * an xattr that exists writes the new value under a new id and then
 * deletes the old id's parts, so the parts of one id never change once
 * written: a reader (getxattr holds no inode lock, and must not, see
 * LOCKING) that finds part 0 and then misses a later part knows the xattr
 * was replaced or removed under it and simply looks it up again.
 *
 * NAMESPACES
 *
 * "user.", "trusted." and "security." are stored as given; the VFS checks
 * their permissions (trusted. needs CAP_SYS_ADMIN, user. only on files
 * and directories).  "scoutfs." names are ours: setting or removing one
 * needs CAP_SYS_ADMIN, reading one needs only read permission.
 * "scoutfs.hide." names are not shown by listxattr (tools that copy or
 * archive files must not stumble over our bookkeeping) but are read and
 * set by name and listed by the LISTXATTR_HIDDEN ioctl
 * (scoutfs_xattr_list_hidden()).  "trusted." names are listed only to
 * CAP_SYS_ADMIN, as ext4 and xfs do.
 *
 * ACLs are ordinary items under their "system.posix_acl_access" and
 * "system.posix_acl_default" names, in the VFS's xattr format
 * (posix_acl_to_xattr() with the initial user namespace).  The generic
 * posix_acl xattr handlers route get/set to scoutfs_get_acl() and
 * scoutfs_set_acl(); the VFS caches the ACLs in the inode and we keep
 * that cache right on every change.  Setting the access ACL may change
 * the mode (posix_acl_update_mode()); the mode, the ACL item and ctime
 * change in one transaction.  New inodes inherit the default ACL of their
 * directory, or get the umask applied when it has none (the VFS leaves
 * the umask to filesystems with SB_POSIXACL), and get their LSM security
 * xattrs, inside the create's transaction.
 *
 * SRCH INDEX
 *
 * A name containing ".srch." also has a SCOUTFS_XATTR_SRCH_ZONE item
 * (hash(name), I, id), created and deleted in the same transaction as
 * the xattr's items, so SEARCH_XATTRS finds the inodes carrying a name by
 * walking one hash's items instead of scanning inodes.  The inode code
 * frees every fs-zone item of a deleted inode but the srch items live in
 * their own zone, so delete_inode_items() first calls
 * scoutfs_xattr_drop_srch().
 *
 * TRANSACTIONS
 *
 * Every set or remove is one transaction: the new parts (and srch item),
 * the deletion of the old ones, ctime (and for ACLs the mode) and the
 * inode item (scoutfs_inode_update(), which moves meta_seq so the
 * indexers see the change).  The new parts are written before the old ones
 * are deleted so a failure to write them (ENOSPC) can be undone, leaving
 * the old xattr intact.
 *
 * LOCKING
 *
 * VFS inode lock (i_rwsem, held by the VFS around set and remove, so
 * changes of one inode's xattrs are serialised) -> the inode's cluster
 * lock and the zone locks with the transaction hold (scoutfs_lock_hold())
 * -> meta_mutex (inside item.c).  Reads take the inode's cluster lock
 * for READ around their item reads, SEARCH_XATTRS the srch zone's.
 * Reads (getxattr, listxattr, get_acl) take no VFS inode lock: get_acl
 * is called from
 * permission checks made with i_rwsem already held (setxattr, create in
 * a locked directory), so taking it there would deadlock; reads rely on
 * the id rule above instead.  Allocations use GFP_NOFS: some run inside a
 * transaction hold, where reclaim re-entering the filesystem (evicting an
 * inode takes a hold) could deadlock against a waiting commit.
 */
#include <linux/fs.h>
#include <linux/xattr.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/capability.h>
#include <linux/string.h>

#include "super.h"
#include "inode.h"
#include "item.h"
#include "trans.h"
#include "lock.h"
#include "xattr.h"
#include "libscoutfs/key.h"
#include "libscoutfs/name_hash.h"

#define XATTR_HDR_SIZE		sizeof(struct scoutfs_xattr)
#define XATTR_PART_SIZE		SCOUTFS_MAX_VAL_SIZE
#define XATTR_PART_MASK		((1ULL << SCOUTFS_XATTR_PART_SHIFT) - 1)
#define XATTR_MAX_ID		(U64_MAX >> SCOUTFS_XATTR_PART_SHIFT)
#define XATTR_MAX_BLOB		(XATTR_HDR_SIZE + SCOUTFS_XATTR_MAX_NAME_LEN + \
				 SCOUTFS_XATTR_MAX_VAL_LEN)
static_assert(DIV_ROUND_UP(XATTR_MAX_BLOB, XATTR_PART_SIZE) <=
	      XATTR_PART_MASK + 1);
/* the whole name always lies in part 0 */
static_assert(XATTR_HDR_SIZE + SCOUTFS_XATTR_MAX_NAME_LEN < XATTR_PART_SIZE);

/* our namespace; setting a name in it needs CAP_SYS_ADMIN */
#define SCOUTFS_XATTR_PREFIX		"scoutfs."
#define XATTR_HANDLER_NEEDS_ADMIN	1

/* srch candidates SEARCH_XATTRS examines per call, bounding its work */
#define XATTR_SEARCH_MAX_CANDIDATES	8192
/* srch items deleted per transaction when an inode is deleted */
#define XATTR_DROP_BATCH		64

static unsigned int blob_bytes(unsigned int name_len, unsigned int val_len)
{
	return XATTR_HDR_SIZE + name_len + val_len;
}

static unsigned int blob_parts(unsigned int bytes)
{
	return DIV_ROUND_UP(bytes, XATTR_PART_SIZE);
}

static unsigned int part_bytes(unsigned int bytes, unsigned int part)
{
	return min_t(unsigned int, bytes - part * XATTR_PART_SIZE,
		     XATTR_PART_SIZE);
}

static unsigned int xattr_val_len(const struct scoutfs_xattr *xat)
{
	return le16_to_cpu(xat->val_len);
}

static void xattr_init_hdr(struct scoutfs_xattr *xat, unsigned int name_len,
			   unsigned int val_len)
{
	memset(xat, 0, XATTR_HDR_SIZE);
	xat->name_len = name_len;
	xat->val_len = cpu_to_le16(val_len);
}

static bool name_has_prefix(const char *name, unsigned int len,
			    const char *prefix)
{
	size_t plen = strlen(prefix);

	return len >= plen && !memcmp(name, prefix, plen);
}

static bool name_has_tag(const char *name, unsigned int len, const char *tag)
{
	size_t tlen = strlen(tag);
	unsigned int i;

	for (i = 0; i + tlen <= len; i++) {
		if (!memcmp(name + i, tag, tlen))
			return true;
	}
	return false;
}

static bool xattr_is_hidden(const char *name, unsigned int len)
{
	return name_has_prefix(name, len, SCOUTFS_XATTR_HIDE_PREFIX);
}

static bool xattr_is_srch(const char *name, unsigned int len)
{
	return name_has_tag(name, len, SCOUTFS_XATTR_SRCH_TAG);
}

u32 scoutfs_xattr_name_hash(const char *name, unsigned int name_len)
{
	return scoutfs_name_hash(name, name_len) >> 32;
}

static u64 key_xattr_id(const struct scoutfs_key *key)
{
	return scoutfs_key_third(key) >> SCOUTFS_XATTR_PART_SHIFT;
}

static unsigned int key_xattr_part(const struct scoutfs_key *key)
{
	return scoutfs_key_third(key) & XATTR_PART_MASK;
}

/* All the xattr items of ino, from the first hash to the last. */
static void init_xattr_range(struct scoutfs_key *start, struct scoutfs_key *end,
			     u64 ino)
{
	scoutfs_key_init_xattr(start, ino, 0, 0, 0);
	scoutfs_key_init_xattr(end, ino, U64_MAX, XATTR_MAX_ID,
			       XATTR_PART_MASK);
}

/*
 * Part 0 of an xattr must agree with itself: a sane header, a name, and
 * exactly the length the header implies.  Everything after relies on it
 * (the name is compared in place, the part count comes from it).
 */
static int check_part0(struct super_block *sb, const struct scoutfs_key *key,
		       const struct scoutfs_xattr *xat, int len)
{
	char ks[SCOUTFS_KEY_STR_LEN];
	const char *why = NULL;

	if (len < (int)XATTR_HDR_SIZE)
		why = "shorter than its header";
	else if (xat->name_len == 0)
		why = "empty name";
	else if (xat->flags)
		why = "unknown flags";
	else if (len != part_bytes(blob_bytes(xat->name_len, xattr_val_len(xat)), 0))
		why = "length does not match its header";
	if (!why)
		return 0;

	scoutfs_key_str(ks, sizeof(ks), key);
	scoutfs_err(sb, "xattr item %s of %d bytes is corrupt: %s", ks, len, why);
	return -EIO;
}

/*
 * Find the xattr of inode named name.  Fills part0 (XATTR_PART_SIZE
 * bytes) with its first item and returns that item's length, with its id
 * in *id_ret; -ENODATA when inode has no such xattr.
 */
static int find_xattr(struct inode *inode, const char *name,
		      unsigned int name_len, u32 hash,
		      struct scoutfs_xattr *part0, u64 *id_ret)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_key key, last, found;
	u64 ino = scoutfs_ino(inode);
	u64 id;
	int ret;

	scoutfs_key_init_xattr(&key, ino, hash, 0, 0);
	scoutfs_key_init_xattr(&last, ino, hash, XATTR_MAX_ID, XATTR_PART_MASK);
	for (;;) {
		ret = scoutfs_item_next(sb, &key, &last, &found, part0,
					XATTR_PART_SIZE);
		if (ret == -ENOENT)
			return -ENODATA;
		if (ret < 0)
			return ret;
		id = key_xattr_id(&found);
		if (key_xattr_part(&found) == 0) {
			ret = check_part0(sb, &found, part0, ret);
			if (ret < 0)
				return ret;
			if (part0->name_len == name_len &&
			    !memcmp(part0->name, name, name_len)) {
				*id_ret = id;
				return part_bytes(blob_bytes(name_len,
						  xattr_val_len(part0)), 0);
			}
		}
		/* a colliding name: skip the rest of its parts */
		if (id == XATTR_MAX_ID)
			return -ENODATA;
		scoutfs_key_init_xattr(&key, ino, hash, id + 1, 0);
	}
}

/*
 * Copy the value of the xattr whose part 0 is in part0 into value, which
 * has room for all of it.  -ENOENT when a later part is gone: the xattr
 * was replaced or removed since part0 was read.
 */
static int read_value(struct inode *inode, u32 hash, u64 id,
		      const struct scoutfs_xattr *part0, void *value)
{
	struct super_block *sb = inode->i_sb;
	unsigned int name_len = part0->name_len;
	unsigned int bytes = blob_bytes(name_len, xattr_val_len(part0));
	unsigned int nr = blob_parts(bytes);
	char ks[SCOUTFS_KEY_STR_LEN];
	struct scoutfs_key key;
	unsigned int off;
	unsigned int part;
	unsigned int len;
	int ret;

	off = part_bytes(bytes, 0) - XATTR_HDR_SIZE - name_len;
	memcpy(value, part0->name + name_len, off);
	for (part = 1; part < nr; part++) {
		len = part_bytes(bytes, part);
		scoutfs_key_init_xattr(&key, scoutfs_ino(inode), hash, id, part);
		ret = scoutfs_item_lookup(sb, &key, value + off, len);
		if (ret < 0)
			return ret;
		if (ret != len) {
			scoutfs_key_str(ks, sizeof(ks), &key);
			scoutfs_err(sb, "xattr item %s has %d bytes, expected %u",
				    ks, ret, len);
			return -EIO;
		}
		off += len;
	}
	return 0;
}

/*
 * getxattr of a full name: the value's length when size is 0, else the
 * value copied into value (a kernel buffer) and its length, -ERANGE when
 * it does not fit, -ENODATA when there is no such xattr.
 */
static int xattr_get(struct inode *inode, const char *name, void *value,
		     size_t size)
{
	unsigned int name_len = strlen(name);
	u32 hash = scoutfs_xattr_name_hash(name, name_len);
	struct scoutfs_xattr *part0;
	struct scoutfs_lock *lock;
	unsigned int val_len;
	u64 id;
	int ret;

	if (name_len > SCOUTFS_XATTR_MAX_NAME_LEN)
		return -ERANGE;
	part0 = kmalloc(XATTR_PART_SIZE, GFP_NOFS);
	if (!part0)
		return -ENOMEM;
	ret = scoutfs_lock_ino(inode->i_sb, SCOUTFS_LOCK_READ,
			       scoutfs_ino(inode), &lock);
	if (ret) {
		kfree(part0);
		return ret;
	}
	do {
		ret = find_xattr(inode, name, name_len, hash, part0, &id);
		if (ret < 0)
			break;
		val_len = xattr_val_len(part0);
		if (size == 0) {
			ret = val_len;
			break;
		}
		if (val_len > size) {
			ret = -ERANGE;
			break;
		}
		ret = read_value(inode, hash, id, part0, value);
		if (ret == 0)
			ret = val_len;
	} while (ret == -ENOENT);	/* replaced under us: look again */
	scoutfs_unlock(inode->i_sb, lock, SCOUTFS_LOCK_READ);
	kfree(part0);
	return ret;
}

/* The whole value of name in a new buffer (kvfree it); returns its length. */
static int xattr_get_alloc(struct inode *inode, const char *name, void **buf)
{
	void *val;
	int size;
	int ret;

	for (;;) {
		size = xattr_get(inode, name, NULL, 0);
		if (size < 0)
			return size;
		val = kvmalloc(max(size, 1), GFP_NOFS);
		if (!val)
			return -ENOMEM;
		ret = xattr_get(inode, name, val, max(size, 1));
		if (ret >= 0) {
			*buf = val;
			return ret;
		}
		kvfree(val);
		if (ret != -ERANGE)	/* ERANGE: it grew meanwhile */
			return ret;
	}
}

static int delete_parts(struct super_block *sb, u64 ino, u32 hash, u64 id,
			unsigned int nr)
{
	struct scoutfs_key key;
	unsigned int part;
	int err = 0;
	int ret;

	for (part = 0; part < nr; part++) {
		scoutfs_key_init_xattr(&key, ino, hash, id, part);
		ret = scoutfs_item_delete(sb, &key);
		if (ret && ret != -ENOENT && !err)
			err = ret;
	}
	return err;
}

static int create_parts(struct super_block *sb, u64 ino, u32 hash, u64 id,
			const void *blob, unsigned int bytes)
{
	unsigned int nr = blob_parts(bytes);
	struct scoutfs_key key;
	unsigned int part;
	int ret;

	for (part = 0; part < nr; part++) {
		scoutfs_key_init_xattr(&key, ino, hash, id, part);
		ret = scoutfs_item_create(sb, &key, blob + part * XATTR_PART_SIZE,
					  part_bytes(bytes, part));
		if (ret) {
			delete_parts(sb, ino, hash, id, part);
			return ret;
		}
	}
	return 0;
}

/*
 * Set (value non-NULL) or remove (value NULL) the xattr name of inode,
 * inside the caller's transaction hold and with the inode locked.  Only
 * items change here; the caller updates ctime and the inode item.
 * XATTR_CREATE fails with EEXIST when the name exists, XATTR_REPLACE and
 * removal with ENODATA when it does not.
 */
static int xattr_set_items(struct inode *inode, const char *name,
			   unsigned int name_len, const void *value,
			   size_t size, int flags)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	u32 hash = scoutfs_xattr_name_hash(name, name_len);
	bool is_srch = xattr_is_srch(name, name_len);
	u64 ino = scoutfs_ino(inode);
	struct scoutfs_xattr *part0;
	struct scoutfs_xattr *blob = NULL;
	unsigned int old_bytes = 0;
	unsigned int bytes = 0;
	struct scoutfs_key key;
	bool found;
	u64 old_id = 0;
	u64 new_id;
	int ret;

	if (name_len == 0)
		return -EINVAL;
	if (name_len > SCOUTFS_XATTR_MAX_NAME_LEN)
		return -ERANGE;
	if (value && size > SCOUTFS_XATTR_MAX_VAL_LEN)
		return -E2BIG;

	part0 = kmalloc(XATTR_PART_SIZE, GFP_NOFS);
	if (!part0)
		return -ENOMEM;
	if (value) {
		bytes = blob_bytes(name_len, size);
		blob = kvmalloc(bytes, GFP_NOFS);
		if (!blob) {
			ret = -ENOMEM;
			goto out;
		}
		xattr_init_hdr(blob, name_len, size);
		memcpy(blob->name, name, name_len);
		memcpy(blob->name + name_len, value, size);
	}

	ret = find_xattr(inode, name, name_len, hash, part0, &old_id);
	if (ret < 0 && ret != -ENODATA)
		goto out;
	found = ret >= 0;
	if (found)
		old_bytes = blob_bytes(name_len, xattr_val_len(part0));
	if (found && (flags & XATTR_CREATE)) {
		ret = -EEXIST;
		goto out;
	}
	if (!found && ((flags & XATTR_REPLACE) || !value)) {
		ret = -ENODATA;
		goto out;
	}

	ret = 0;
	if (value) {
		if (si->next_xattr_id > XATTR_MAX_ID) {
			scoutfs_err(sb, "inode %llu has used every xattr id", ino);
			ret = -ENOSPC;
			goto out;
		}
		new_id = si->next_xattr_id++;
		ret = create_parts(sb, ino, hash, new_id, blob, bytes);
		if (ret)
			goto out;
		if (is_srch) {
			scoutfs_key_init_srch(&key, hash, ino, new_id);
			ret = scoutfs_item_force(sb, &key, NULL, 0);
			if (ret) {
				delete_parts(sb, ino, hash, new_id,
					     blob_parts(bytes));
				goto out;
			}
		}
	}

	if (found) {
		ret = delete_parts(sb, ino, hash, old_id, blob_parts(old_bytes));
		if (!ret && is_srch) {
			scoutfs_key_init_srch(&key, hash, ino, old_id);
			ret = scoutfs_item_delete(sb, &key);
			if (ret == -ENOENT)
				ret = 0;
		}
		if (ret)
			scoutfs_err(sb, "inode %llu: deleting the old items of xattr id %llu failed (%d)",
				    ino, old_id, ret);
	}
out:
	kvfree(blob);
	kfree(part0);
	return ret;
}

/*
 * One whole change in its own transaction: the items, ctime, the mode if
 * new_mode is given (ACLs) and the inode item.
 */
static int xattr_set_trans(struct inode *inode, const char *name,
			   const void *value, size_t size, int flags,
			   const umode_t *new_mode)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock_set set;
	size_t name_len = strlen(name);
	int ret;

	if ((flags & XATTR_CREATE) && (flags & XATTR_REPLACE))
		return -EINVAL;
	if (name_len > SCOUTFS_XATTR_MAX_NAME_LEN)
		return -ERANGE;
	if (value && size > SCOUTFS_XATTR_MAX_VAL_LEN)
		return -E2BIG;
	ret = scoutfs_lock_hold(sb, &set, 0, scoutfs_ino(inode), 0, 0, 0);
	if (ret)
		return ret;
	ret = xattr_set_items(inode, name, name_len, value, size, flags);
	/* removing an absent ACL is how "no ACL" is set */
	if (ret == -ENODATA && !value && new_mode)
		ret = 0;
	if (ret == 0) {
		if (new_mode)
			inode->i_mode = *new_mode;
		inode->i_ctime = current_time(inode);
		ret = scoutfs_inode_update(inode, false);
	}
	scoutfs_lock_release_ret(sb, &set, ret, "xattr set",
				 scoutfs_ino(inode));
	return ret;
}

static int scoutfs_xattr_handler_get(const struct xattr_handler *handler,
				     struct dentry *dentry, struct inode *inode,
				     const char *name, void *value, size_t size)
{
	return xattr_get(inode, xattr_full_name(handler, name), value, size);
}

static int scoutfs_xattr_handler_set(const struct xattr_handler *handler,
				     struct user_namespace *mnt_userns,
				     struct dentry *dentry, struct inode *inode,
				     const char *name, const void *value,
				     size_t size, int flags)
{
	int ret;

	if ((handler->flags & XATTR_HANDLER_NEEDS_ADMIN) &&
	    !capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* a retained file's user. xattrs are its user's data: frozen */
	if (!strcmp(handler->prefix, XATTR_USER_PREFIX)) {
		ret = scoutfs_inode_check_retention(inode);
		if (ret)
			return ret;
	}
	return xattr_set_trans(inode, xattr_full_name(handler, name), value,
			       size, flags, NULL);
}

static const struct xattr_handler scoutfs_xattr_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.get	= scoutfs_xattr_handler_get,
	.set	= scoutfs_xattr_handler_set,
};

static const struct xattr_handler scoutfs_xattr_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.get	= scoutfs_xattr_handler_get,
	.set	= scoutfs_xattr_handler_set,
};

static const struct xattr_handler scoutfs_xattr_security_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.get	= scoutfs_xattr_handler_get,
	.set	= scoutfs_xattr_handler_set,
};

static const struct xattr_handler scoutfs_xattr_scoutfs_handler = {
	.prefix	= SCOUTFS_XATTR_PREFIX,
	.flags	= XATTR_HANDLER_NEEDS_ADMIN,
	.get	= scoutfs_xattr_handler_get,
	.set	= scoutfs_xattr_handler_set,
};

const struct xattr_handler *scoutfs_xattr_handlers[] = {
	&scoutfs_xattr_user_handler,
	&scoutfs_xattr_trusted_handler,
	&scoutfs_xattr_security_handler,
	&scoutfs_xattr_scoutfs_handler,
	&posix_acl_access_xattr_handler,
	&posix_acl_default_xattr_handler,
	NULL
};

/* Iterate an inode's xattr items under its lock, for READ. */
static int iterate_xattrs_locked(struct inode *inode,
				 const struct scoutfs_key *start,
				 const struct scoutfs_key *end,
				 scoutfs_btree_iter_cb cb, void *arg)
{
	struct super_block *sb = inode->i_sb;
	struct scoutfs_lock *lock;
	int ret;

	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, scoutfs_ino(inode), &lock);
	if (ret)
		return ret;
	ret = scoutfs_item_iterate(sb, start, end, cb, arg);
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	return ret;
}

struct list_ctx {
	struct super_block *sb;
	char *buf;		/* NULL: only count */
	size_t size;
	size_t total;
	bool show_trusted;
};

/* Runs under meta_mutex: only copies into the kernel buffer. */
static int list_cb(void *arg, const struct scoutfs_key *key, const void *val,
		   int val_len)
{
	struct list_ctx *lc = arg;
	const struct scoutfs_xattr *xat = val;
	size_t len;
	int ret;

	if (key_xattr_part(key) != 0)
		return 0;
	ret = check_part0(lc->sb, key, xat, val_len);
	if (ret < 0)
		return ret;
	if (xattr_is_hidden(xat->name, xat->name_len) ||
	    (!lc->show_trusted &&
	     name_has_prefix(xat->name, xat->name_len, XATTR_TRUSTED_PREFIX)))
		return 0;

	len = xat->name_len + 1;
	if (lc->buf) {
		if (lc->total + len > lc->size)
			return -ERANGE;
		memcpy(lc->buf + lc->total, xat->name, xat->name_len);
		lc->buf[lc->total + xat->name_len] = '\0';
	}
	lc->total += len;
	return 0;
}

/*
 * The names of every xattr but the hidden ones, NUL-terminated, in key
 * (hash) order; with size 0 just the bytes they need.
 */
ssize_t scoutfs_listxattr(struct dentry *dentry, char *buf, size_t size)
{
	struct inode *inode = d_inode(dentry);
	struct list_ctx lc = {
		.sb = inode->i_sb,
		.buf = size ? buf : NULL,
		.size = size,
		.show_trusted = capable(CAP_SYS_ADMIN),
	};
	struct scoutfs_key start, end;
	int ret;

	init_xattr_range(&start, &end, scoutfs_ino(inode));
	ret = iterate_xattrs_locked(inode, &start, &end, list_cb, &lc);
	if (ret < 0)
		return ret;
	return lc.total;
}

struct hidden_ctx {
	struct super_block *sb;
	char *buf;
	size_t size;
	size_t used;
	u32 last_hash;
	u64 last_id;
	bool full;
};

static int hidden_cb(void *arg, const struct scoutfs_key *key,
		     const void *val, int val_len)
{
	struct hidden_ctx *hc = arg;
	const struct scoutfs_xattr *xat = val;
	size_t len;
	int ret;

	if (key_xattr_part(key) != 0)
		return 0;
	ret = check_part0(hc->sb, key, xat, val_len);
	if (ret < 0)
		return ret;
	if (!xattr_is_hidden(xat->name, xat->name_len))
		return 0;

	len = xat->name_len + 1;
	if (hc->used + len > hc->size) {
		hc->full = true;
		return 1;
	}
	memcpy(hc->buf + hc->used, xat->name, xat->name_len);
	hc->buf[hc->used + xat->name_len] = '\0';
	hc->used += len;
	hc->last_hash = scoutfs_key_second(key);
	hc->last_id = key_xattr_id(key);
	return 0;
}

ssize_t scoutfs_xattr_list_hidden(struct inode *inode, char *buf, size_t size,
				  u32 *hash_pos, u64 *id_pos)
{
	struct hidden_ctx hc = {
		.sb = inode->i_sb,
		.buf = buf,
		.size = size,
	};
	struct scoutfs_key start, end;
	u64 ino = scoutfs_ino(inode);
	int ret;

	init_xattr_range(&start, &end, ino);
	if (*id_pos <= XATTR_MAX_ID)
		scoutfs_key_init_xattr(&start, ino, *hash_pos, *id_pos, 0);
	else if (*hash_pos < U32_MAX)
		scoutfs_key_init_xattr(&start, ino, (u64)*hash_pos + 1, 0, 0);
	else
		return 0;

	ret = iterate_xattrs_locked(inode, &start, &end, hidden_cb, &hc);
	if (ret < 0)
		return ret;
	if (hc.used == 0)
		return hc.full ? -ERANGE : 0;
	*hash_pos = hc.last_hash;
	*id_pos = hc.last_id + 1;
	return hc.used;
}

/*
 * Does inode ino carry the xattr id of hash, named name?  The srch item
 * only names the hash, so a collision or a racing removal is possible.
 */
static int srch_candidate_matches(struct super_block *sb, u64 ino, u32 hash,
				  u64 id, const char *name,
				  unsigned int name_len,
				  struct scoutfs_xattr *part0)
{
	struct scoutfs_lock *lock;
	struct scoutfs_key key;
	int ret;

	scoutfs_key_init_xattr(&key, ino, hash, id, 0);
	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, ino, &lock);
	if (ret)
		return ret;
	ret = scoutfs_item_lookup(sb, &key, part0, XATTR_PART_SIZE);
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	ret = check_part0(sb, &key, part0, ret);
	if (ret < 0)
		return ret;
	return part0->name_len == name_len &&
	       !memcmp(part0->name, name, name_len);
}

int scoutfs_xattr_search(struct super_block *sb, const char *name,
			 unsigned int name_len, u64 first_ino, u64 last_ino,
			 u64 *inos, int nr, u64 *next_ino, bool *at_end)
{
	u32 hash = scoutfs_xattr_name_hash(name, name_len);
	struct scoutfs_key key, last, found;
	struct scoutfs_xattr *part0;
	struct scoutfs_lock *lock;
	int candidates = 0;
	int count = 0;
	u64 ino;
	int ret;

	*next_ino = first_ino;
	*at_end = false;
	if (name_len == 0 || nr <= 0)
		return -EINVAL;
	if (name_len > SCOUTFS_XATTR_MAX_NAME_LEN)
		return -ERANGE;
	if (first_ino > last_ino || !xattr_is_srch(name, name_len)) {
		*at_end = true;
		return 0;
	}

	part0 = kmalloc(XATTR_PART_SIZE, GFP_NOFS);
	if (!part0)
		return -ENOMEM;
	scoutfs_key_init_srch(&key, hash, first_ino, 0);
	scoutfs_key_init_srch(&last, hash, last_ino, U64_MAX);
	for (;;) {
		ret = scoutfs_lock_zone(sb, SCOUTFS_LOCK_READ,
					SCOUTFS_XATTR_SRCH_ZONE, &lock);
		if (ret)
			break;
		ret = scoutfs_item_next(sb, &key, &last, &found, NULL, 0);
		scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
		if (ret == -ENOENT) {
			*at_end = true;
			*next_ino = last_ino;
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
		ino = scoutfs_key_second(&found);
		/* one ino can have several items of a hash (collisions) */
		if (count == 0 || inos[count - 1] != ino) {
			if (candidates++ == XATTR_SEARCH_MAX_CANDIDATES) {
				*next_ino = ino;
				ret = 0;
				break;
			}
			ret = srch_candidate_matches(sb, ino, hash,
						     scoutfs_key_third(&found),
						     name, name_len, part0);
			if (ret < 0)
				break;
			if (ret) {
				inos[count++] = ino;
				if (ino == last_ino) {
					*at_end = true;
					*next_ino = last_ino;
					ret = 0;
					break;
				}
				if (count == nr) {
					*next_ino = ino + 1;
					ret = 0;
					break;
				}
			}
		}
		key = found;
		scoutfs_key_inc(&key);
	}
	kfree(part0);
	return ret < 0 ? ret : count;
}

struct drop_batch {
	struct super_block *sb;
	u32 hash[XATTR_DROP_BATCH];
	u64 id[XATTR_DROP_BATCH];
	int nr;
	struct scoutfs_key last;
};

static int drop_cb(void *arg, const struct scoutfs_key *key, const void *val,
		   int val_len)
{
	struct drop_batch *db = arg;
	const struct scoutfs_xattr *xat = val;

	db->last = *key;
	/* a corrupt item is not worth failing the delete over */
	if (key_xattr_part(key) != 0 || check_part0(db->sb, key, xat, val_len) ||
	    !xattr_is_srch(xat->name, xat->name_len))
		return 0;
	db->hash[db->nr] = scoutfs_key_second(key);
	db->id[db->nr] = key_xattr_id(key);
	db->nr++;
	return db->nr == XATTR_DROP_BATCH ? 1 : 0;
}

int scoutfs_xattr_drop_srch(struct super_block *sb, u64 ino)
{
	struct scoutfs_lock_set set;
	struct scoutfs_key start, end, key;
	struct drop_batch *db;
	bool more;
	int ret;
	int i;

	db = kmalloc(sizeof(*db), GFP_NOFS);
	if (!db)
		return -ENOMEM;
	db->sb = sb;
	init_xattr_range(&start, &end, ino);
	do {
		db->nr = 0;
		ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED, ino, 0,
					0, 0);
		if (ret)
			break;
		ret = scoutfs_item_iterate(sb, &start, &end, drop_cb, db);
		if (ret < 0) {
			scoutfs_lock_release(sb, &set);
			break;
		}
		more = ret > 0;
		ret = 0;
		for (i = 0; i < db->nr && !ret; i++) {
			scoutfs_key_init_srch(&key, db->hash[i], ino, db->id[i]);
			ret = scoutfs_item_delete(sb, &key);
			if (ret == -ENOENT)
				ret = 0;
		}
		scoutfs_lock_release(sb, &set);
		if (db->nr == 0)
			break;
		start = db->last;
		scoutfs_key_inc(&start);
	} while (!ret && more);
	kfree(db);
	return ret;
}

static const char *acl_xattr_name(int type)
{
	switch (type) {
	case ACL_TYPE_ACCESS:
		return XATTR_NAME_POSIX_ACL_ACCESS;
	case ACL_TYPE_DEFAULT:
		return XATTR_NAME_POSIX_ACL_DEFAULT;
	}
	return NULL;
}

/* The VFS caches what this returns (get_acl()); NULL: no ACL. */
struct posix_acl *scoutfs_get_acl(struct inode *inode, int type, bool rcu)
{
	const char *name = acl_xattr_name(type);
	struct posix_acl *acl;
	void *buf = NULL;
	int ret;

	if (rcu)
		return ERR_PTR(-ECHILD);
	if (!name)
		return ERR_PTR(-EINVAL);
	ret = xattr_get_alloc(inode, name, &buf);
	if (ret == -ENODATA)
		return NULL;
	if (ret < 0)
		return ERR_PTR(ret);
	acl = posix_acl_from_xattr(&init_user_ns, buf, ret);
	kvfree(buf);
	return acl;
}

/* acl in the on-disk (xattr) format, in a new buffer; NULL acl: none. */
static int acl_to_value(struct posix_acl *acl, void **value, size_t *size)
{
	void *buf;
	int ret;

	*value = NULL;
	*size = 0;
	if (!acl)
		return 0;
	*size = posix_acl_xattr_size(acl->a_count);
	buf = kvmalloc(*size, GFP_NOFS);
	if (!buf)
		return -ENOMEM;
	ret = posix_acl_to_xattr(&init_user_ns, acl, buf, *size);
	if (ret < 0) {
		kvfree(buf);
		return ret;
	}
	*value = buf;
	return 0;
}

/*
 * Called with the inode locked: through the posix_acl xattr handlers
 * (setfacl) and from posix_acl_chmod() (chmod).
 */
int scoutfs_set_acl(struct user_namespace *mnt_userns, struct inode *inode,
		    struct posix_acl *acl, int type)
{
	const char *name = acl_xattr_name(type);
	umode_t mode = inode->i_mode;
	void *value;
	size_t size;
	int ret;

	if (!name)
		return -EINVAL;
	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		return ret;
	if (type == ACL_TYPE_ACCESS && acl) {
		/* may decide the ACL is just a mode and drop it */
		ret = posix_acl_update_mode(mnt_userns, inode, &mode, &acl);
		if (ret)
			return ret;
	}
	ret = acl_to_value(acl, &value, &size);
	if (ret)
		return ret;
	ret = xattr_set_trans(inode, name, value, size, 0, &mode);
	kvfree(value);
	if (ret)
		forget_cached_acl(inode, type);
	else
		set_cached_acl(inode, type, acl);
	return ret;
}

/*
 * chmod of an inode with an access ACL: the ACL's owner, group-or-mask
 * and other entries follow the new mode (POSIX.1e), stored inside the
 * caller's hold so the mode and the ACL change in one transaction.
 */
int scoutfs_xattr_chmod_acl(struct inode *inode)
{
	const char *name = XATTR_NAME_POSIX_ACL_ACCESS;
	struct posix_acl *acl;
	void *value;
	size_t size;
	int ret;

	if (!IS_POSIXACL(inode) || S_ISLNK(inode->i_mode))
		return 0;
	acl = get_acl(inode, ACL_TYPE_ACCESS);
	if (IS_ERR_OR_NULL(acl))
		return PTR_ERR_OR_ZERO(acl);
	ret = __posix_acl_chmod(&acl, GFP_NOFS, inode->i_mode);
	if (ret)
		return ret;
	ret = acl_to_value(acl, &value, &size);
	if (ret == 0) {
		ret = xattr_set_items(inode, name, strlen(name), value, size, 0);
		kvfree(value);
	}
	if (ret == 0)
		set_cached_acl(inode, ACL_TYPE_ACCESS, acl);
	else
		forget_cached_acl(inode, ACL_TYPE_ACCESS);
	posix_acl_release(acl);
	return ret;
}

/* Store a new inode's inherited ACL of type, inside the create's hold. */
static int init_acl(struct inode *inode, int type, struct posix_acl *acl)
{
	const char *name = acl_xattr_name(type);
	void *value;
	size_t size;
	int ret;

	if (acl) {
		ret = acl_to_value(acl, &value, &size);
		if (ret)
			return ret;
		ret = xattr_set_items(inode, name, strlen(name), value, size,
				      XATTR_CREATE);
		kvfree(value);
		if (ret)
			return ret;
	}
	/* caching "none" too spares the first permission check a lookup */
	set_cached_acl(inode, type, acl);
	return 0;
}

static int init_security_xattrs(struct inode *inode,
				const struct xattr *xattrs, void *fs_data)
{
	const struct xattr *xa;
	char *name;
	int ret;

	for (xa = xattrs; xa->name; xa++) {
		name = kasprintf(GFP_NOFS, XATTR_SECURITY_PREFIX "%s", xa->name);
		if (!name)
			return -ENOMEM;
		ret = xattr_set_items(inode, name, strlen(name), xa->value,
				      xa->value_len, XATTR_CREATE);
		kfree(name);
		if (ret)
			return ret;
	}
	return 0;
}

int scoutfs_xattr_init_new_inode(struct inode *inode, struct inode *dir,
				 const struct qstr *qstr)
{
	struct posix_acl *default_acl = NULL;
	struct posix_acl *acl = NULL;
	unsigned int nofs;
	int ret;

	/* we are inside a transaction hold: no reclaim into the fs */
	nofs = memalloc_nofs_save();
	ret = posix_acl_create(dir, &inode->i_mode, &default_acl, &acl);
	if (ret)
		goto out;
	ret = init_acl(inode, ACL_TYPE_DEFAULT, default_acl) ?:
	      init_acl(inode, ACL_TYPE_ACCESS, acl);
	if (ret)
		goto out;
	ret = security_inode_init_security(inode, dir, qstr,
					   init_security_xattrs, NULL);
out:
	posix_acl_release(default_acl);
	posix_acl_release(acl);
	memalloc_nofs_restore(nofs);
	return ret;
}
