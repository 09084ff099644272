// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c: directories, names and links: lookup, readdir, create, mknod,
 * mkdir, symlink, O_TMPFILE, link, unlink, rmdir and rename.
 *
 * One link of inode I named N in directory D is three items carrying the
 * same struct scoutfs_dirent value (format.h):
 *
 *   DIRENT       (D, hash(N), pos)  lookup by name: walk the items of the
 *                                   hash, compare names (collisions ok)
 *   READDIR      (D, pos)           readdir in position order
 *   LINK_BACKREF (I, D, pos)        every path of I (INO_PATH, fsck)
 *
 * pos comes from the directory's next_readdir_pos and only grows, so a
 * readdir position stays valid while entries are added and removed: an
 * entry is returned once, at its own position, and new entries appear
 * after every existing position.  Positions 0 and 1 are "." and "..".
 *
 * A directory's i_size is the sum of the name lengths of its entries
 * (upstream's rule, which tools comparing st_size rely on); the link
 * item helpers keep it, so every operation that adds or removes a name
 * does too.
 *
 * Every operation is one transaction: all the items it adds and removes
 * and the inode items of every inode it touches (link counts, times,
 * seqs) change inside one scoutfs_lock_hold(), which write-locks every
 * inode involved (both directories and both victims of a rename) in the
 * cluster lock order before entering the transaction.  Lookups, readdir
 * and readlink take the directory's (or link's) lock for READ around
 * their item reads only.  The VFS holds the directory (and for rename,
 * both directories and the victims) locked, so two operations never
 * change the same names at once.
 *
 * Lock order (lock.c): VFS i_rwsem of dirs then of children -> cluster
 * locks -> trans_rwsem -> meta_mutex.  Nothing here waits for offline
 * data.
 */
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/posix_acl.h>

#include "super.h"
#include "inode.h"
#include "item.h"
#include "trans.h"
#include "lock.h"
#include "xattr.h"
#include "libscoutfs/key.h"
#include "libscoutfs/name_hash.h"

#define DIRENT_BUF_SIZE (sizeof(struct scoutfs_dirent) + SCOUTFS_NAME_LEN)

static unsigned char mode_to_dt(umode_t mode)
{
	return (mode >> 12) & 15;
}

static u64 dirent_hash(const struct qstr *name)
{
	return scoutfs_name_hash(name->name, name->len);
}

static bool dirent_names_equal(const struct scoutfs_dirent *dent,
			       int val_len, const struct qstr *name)
{
	return val_len == sizeof(*dent) + name->len &&
	       !memcmp(dent->name, name->name, name->len);
}

/*
 * Find the dirent of name in dir; fills dent (DIRENT_BUF_SIZE bytes).
 * Returns the value length or -ENOENT.
 */
static int find_dirent(struct inode *dir, const struct qstr *name,
		       struct scoutfs_dirent *dent)
{
	struct super_block *sb = dir->i_sb;
	u64 hash = dirent_hash(name);
	struct scoutfs_key key, last, found;
	struct scoutfs_lock *lock;
	int ret;

	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, dir->i_ino, &lock);
	if (ret)
		return ret;
	scoutfs_key_init_dirent(&key, dir->i_ino, hash, 0);
	scoutfs_key_init_dirent(&last, dir->i_ino, hash, U64_MAX);
	for (;;) {
		ret = scoutfs_item_next(sb, &key, &last, &found, dent,
					DIRENT_BUF_SIZE);
		if (ret < 0)
			break;
		if (ret < (int)sizeof(*dent) || ret > DIRENT_BUF_SIZE) {
			scoutfs_err(sb, "dir %lu: dirent item of %d bytes", dir->i_ino, ret);
			ret = -EIO;
			break;
		}
		if (dirent_names_equal(dent, ret, name))
			break;
		key = found;
		scoutfs_key_inc(&key);
	}
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	return ret;
}

static struct dentry *scoutfs_lookup(struct inode *dir, struct dentry *dentry,
				     unsigned int flags)
{
	struct scoutfs_dirent *dent;
	struct inode *inode = NULL;
	int ret;

	if (dentry->d_name.len > SCOUTFS_NAME_LEN)
		return ERR_PTR(-ENAMETOOLONG);
	dent = kmalloc(DIRENT_BUF_SIZE, GFP_NOFS);
	if (!dent)
		return ERR_PTR(-ENOMEM);
	ret = find_dirent(dir, &dentry->d_name, dent);
	if (ret >= 0) {
		inode = scoutfs_iget(dir->i_sb, le64_to_cpu(dent->ino));
		ret = 0;
	} else if (ret == -ENOENT) {
		ret = 0;
	}
	kfree(dent);
	if (ret)
		return ERR_PTR(ret);
	return d_splice_alias(inode, dentry);
}

struct readdir_ctx {
	struct dir_context *ctx;
	bool stopped;
};

static int readdir_cb(void *arg, const struct scoutfs_key *key,
		      const void *val, int val_len)
{
	struct readdir_ctx *rc = arg;
	const struct scoutfs_dirent *dent = val;
	u64 pos = scoutfs_key_second(key);

	if (val_len < (int)sizeof(*dent) ||
	    val_len > (int)(sizeof(*dent) + SCOUTFS_NAME_LEN))
		return -EIO;
	rc->ctx->pos = pos;
	/* dir_emit copies to user memory; the item buffer is stable here */
	if (!dir_emit(rc->ctx, dent->name, val_len - sizeof(*dent),
		      le64_to_cpu(dent->ino), dent->type)) {
		rc->stopped = true;
		return 1;
	}
	rc->ctx->pos = pos + 1;
	return 0;
}

/*
 * dir_emit() may fault on the user buffer, and a fault must not happen
 * with meta_mutex held (the fault could need the filesystem), so entries
 * are copied out in batches first and emitted without locks.
 */
struct readdir_batch {
	int nr;
	int used;
	u64 pos[32];
	u16 len[32];
	u8 buf[32 * (sizeof(struct scoutfs_dirent) + SCOUTFS_NAME_LEN)];
};

static int batch_cb(void *arg, const struct scoutfs_key *key,
		    const void *val, int val_len)
{
	struct readdir_batch *rb = arg;

	if (val_len < (int)sizeof(struct scoutfs_dirent) ||
	    val_len > (int)(sizeof(struct scoutfs_dirent) + SCOUTFS_NAME_LEN))
		return -EIO;
	rb->pos[rb->nr] = scoutfs_key_second(key);
	rb->len[rb->nr] = val_len;
	memcpy(rb->buf + rb->used, val, val_len);
	rb->used += val_len;
	rb->nr++;
	return rb->nr == ARRAY_SIZE(rb->pos) ? 1 : 0;
}

static int scoutfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct super_block *sb = dir->i_sb;
	struct readdir_ctx rc = { .ctx = ctx };
	struct scoutfs_lock *lock;
	struct scoutfs_key start, end;
	struct readdir_batch *rb;
	int ret = 0;
	int i, off;

	if (!dir_emit_dots(file, ctx))
		return 0;

	rb = kmalloc(sizeof(*rb), GFP_NOFS);
	if (!rb)
		return -ENOMEM;
	scoutfs_key_init_readdir(&end, dir->i_ino, U64_MAX);
	for (;;) {
		rb->nr = 0;
		rb->used = 0;
		scoutfs_key_init_readdir(&start, dir->i_ino, ctx->pos);
		ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, dir->i_ino, &lock);
		if (ret < 0)
			break;
		ret = scoutfs_item_iterate(sb, &start, &end, batch_cb, rb);
		scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
		if (ret < 0)
			break;
		for (i = 0, off = 0; i < rb->nr; off += rb->len[i], i++) {
			struct scoutfs_key k;

			scoutfs_key_init_readdir(&k, dir->i_ino, rb->pos[i]);
			ret = readdir_cb(&rc, &k, rb->buf + off, rb->len[i]);
			if (ret)
				break;
		}
		if (ret < 0 || rc.stopped || rb->nr < (int)ARRAY_SIZE(rb->pos)) {
			ret = ret < 0 ? ret : 0;
			break;
		}
	}
	kfree(rb);
	return ret;
}

static int add_link_items(struct inode *dir, const struct qstr *name,
			  struct inode *inode, u64 *pos_ret)
{
	struct super_block *sb = dir->i_sb;
	struct scoutfs_inode_info *dsi = SCOUTFS_I(dir);
	struct scoutfs_dirent *dent;
	struct scoutfs_key key;
	int len = sizeof(*dent) + name->len;
	u64 hash = dirent_hash(name);
	u64 pos = dsi->next_readdir_pos++;
	int ret;

	dent = kzalloc(len, GFP_NOFS);
	if (!dent)
		return -ENOMEM;
	dent->ino = cpu_to_le64(inode->i_ino);
	dent->hash = cpu_to_le64(hash);
	dent->pos = cpu_to_le64(pos);
	dent->type = mode_to_dt(inode->i_mode);
	memcpy(dent->name, name->name, name->len);

	scoutfs_key_init_dirent(&key, dir->i_ino, hash, pos);
	ret = scoutfs_item_create(sb, &key, dent, len);
	if (!ret) {
		scoutfs_key_init_readdir(&key, dir->i_ino, pos);
		ret = scoutfs_item_create(sb, &key, dent, len);
	}
	if (!ret) {
		scoutfs_key_init_backref(&key, inode->i_ino, dir->i_ino, pos);
		ret = scoutfs_item_create(sb, &key, dent, len);
	}
	/* upstream's rule: a directory's size is the sum of its names */
	if (!ret)
		i_size_write(dir, i_size_read(dir) + name->len);
	kfree(dent);
	if (!ret && pos_ret)
		*pos_ret = pos;
	return ret;
}

static int del_link_items(struct inode *dir, const struct scoutfs_dirent *dent,
			  unsigned int name_len)
{
	struct super_block *sb = dir->i_sb;
	u64 pos = le64_to_cpu(dent->pos);
	struct scoutfs_key key;
	int ret;

	scoutfs_key_init_dirent(&key, dir->i_ino, le64_to_cpu(dent->hash), pos);
	ret = scoutfs_item_delete(sb, &key);
	if (!ret) {
		scoutfs_key_init_readdir(&key, dir->i_ino, pos);
		ret = scoutfs_item_delete(sb, &key);
	}
	if (!ret) {
		scoutfs_key_init_backref(&key, le64_to_cpu(dent->ino),
					 dir->i_ino, pos);
		ret = scoutfs_item_delete(sb, &key);
	}
	if (!ret)
		i_size_write(dir, i_size_read(dir) - name_len);
	return ret;
}

static void touch_dir(struct inode *dir)
{
	dir->i_mtime = dir->i_ctime = current_time(dir);
}

/* Create, link and instantiate a new inode of mode in dir. */
static int create_common(struct inode *dir, struct dentry *dentry,
			 umode_t mode, dev_t rdev, const char *symname)
{
	struct super_block *sb = dir->i_sb;
	struct scoutfs_lock_set set;
	struct inode *inode;
	struct scoutfs_key key;
	u64 ino;
	int ret;

	if (dentry->d_name.len > SCOUTFS_NAME_LEN)
		return -ENAMETOOLONG;
	ino = scoutfs_alloc_ino(sb);
	ret = scoutfs_lock_hold(sb, &set, 0, dir->i_ino, ino, 0, 0);
	if (ret)
		return ret;

	inode = scoutfs_new_inode(sb, dir, ino, mode, rdev);
	if (IS_ERR(inode)) {
		ret = PTR_ERR(inode);
		goto out;
	}
	ret = scoutfs_xattr_init_new_inode(inode, dir, &dentry->d_name);
	if (!ret && symname) {
		i_size_write(inode, strlen(symname));
		scoutfs_key_init_symlink(&key, inode->i_ino, 0);
		ret = scoutfs_item_create(sb, &key, symname, strlen(symname));
	}
	if (!ret)
		ret = add_link_items(dir, &dentry->d_name, inode, NULL);
	if (!ret) {
		if (S_ISDIR(mode))
			inc_nlink(dir);
		touch_dir(dir);
		ret = scoutfs_inode_update(inode, false) ?:
		      scoutfs_inode_update(dir, false);
	}
	if (ret) {
		/*
		 * The half-made inode is freed as an orphan, by the iput
		 * after the hold: evicting it takes holds of its own.
		 */
		clear_nlink(inode);
		scoutfs_inode_orphan_add(inode);
		unlock_new_inode(inode);
		scoutfs_lock_release_ret(sb, &set, ret, "create", ino);
		iput(inode);
		return ret;
	}
	d_instantiate_new(dentry, inode);
out:
	scoutfs_lock_release_ret(sb, &set, ret, "create", ino);
	return ret;
}

static int scoutfs_create(struct user_namespace *mnt_userns, struct inode *dir,
			  struct dentry *dentry, umode_t mode, bool excl)
{
	return create_common(dir, dentry, mode | S_IFREG, 0, NULL);
}

static int scoutfs_mknod(struct user_namespace *mnt_userns, struct inode *dir,
			 struct dentry *dentry, umode_t mode, dev_t rdev)
{
	return create_common(dir, dentry, mode, rdev, NULL);
}

static int scoutfs_mkdir(struct user_namespace *mnt_userns, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	return create_common(dir, dentry, mode | S_IFDIR, 0, NULL);
}

static int scoutfs_symlink(struct user_namespace *mnt_userns,
			   struct inode *dir, struct dentry *dentry,
			   const char *symname)
{
	if (strlen(symname) >= PATH_MAX ||
	    strlen(symname) > SCOUTFS_MAX_VAL_SIZE)
		return -ENAMETOOLONG;
	return create_common(dir, dentry, S_IFLNK | 0777, 0, symname);
}

/*
 * O_TMPFILE: a regular file with no name.  Its inode item is written
 * with no links, beside its orphan item, in the transaction that creates
 * it, so if it is never linked its last close frees it (evict), and a
 * crash before that leaves an orphan the next mount frees.  The mode is
 * what the VFS passes (umask already applied without ACLs), then the
 * directory's default ACL, or the umask, as for create.  d_tmpfile()
 * wants one link to drop and marks the inode dirty (its own hold), so it
 * runs after ours.  linkat() of it (scoutfs_link()) deletes the orphan
 * item in the transaction that adds the name.
 */
static int scoutfs_tmpfile(struct user_namespace *mnt_userns,
			   struct inode *dir, struct file *file, umode_t mode)
{
	struct super_block *sb = dir->i_sb;
	struct scoutfs_lock_set set;
	struct inode *inode;
	u64 ino;
	int ret;

	ino = scoutfs_alloc_ino(sb);
	ret = scoutfs_lock_hold(sb, &set, 0, dir->i_ino, ino, 0, 0);
	if (ret)
		return ret;

	inode = scoutfs_new_inode(sb, dir, ino, mode, 0);
	if (IS_ERR(inode)) {
		ret = PTR_ERR(inode);
		scoutfs_lock_release_ret(sb, &set, ret, "tmpfile", ino);
		return ret;
	}
	clear_nlink(inode);
	ret = scoutfs_xattr_init_new_inode(inode, dir,
					   &file->f_path.dentry->d_name) ?:
	      scoutfs_inode_orphan_add(inode) ?:
	      scoutfs_inode_update(inode, false);
	if (ret) {
		/* freed as an orphan by the iput after the hold, as create's */
		scoutfs_inode_orphan_add(inode);
		unlock_new_inode(inode);
		scoutfs_lock_release_ret(sb, &set, ret, "tmpfile", ino);
		iput(inode);
		return ret;
	}
	scoutfs_lock_release_ret(sb, &set, ret, "tmpfile", ino);

	set_nlink(inode, 1);
	d_tmpfile(file, inode);
	unlock_new_inode(inode);
	return finish_open_simple(file, 0);
}

static int scoutfs_link(struct dentry *old_dentry, struct inode *dir,
			struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);
	struct super_block *sb = dir->i_sb;
	struct scoutfs_lock_set set;
	bool was_orphan;
	int ret;

	if (dentry->d_name.len > SCOUTFS_NAME_LEN)
		return -ENAMETOOLONG;
	if (inode->i_nlink >= SCOUTFS_LINK_MAX)
		return -EMLINK;
	ret = scoutfs_inode_check_retention(inode);
	if (ret)
		return ret;
	ret = scoutfs_lock_hold(sb, &set, 0, dir->i_ino, inode->i_ino, 0, 0);
	if (ret)
		return ret;
	/* an O_TMPFILE file (the VFS allows only a linkable one) */
	was_orphan = inode->i_nlink == 0;
	ret = add_link_items(dir, &dentry->d_name, inode, NULL);
	if (!ret && was_orphan)
		ret = scoutfs_inode_orphan_del(inode);
	if (!ret) {
		inc_nlink(inode);
		inode->i_ctime = current_time(inode);
		touch_dir(dir);
		ret = scoutfs_inode_update(inode, false) ?:
		      scoutfs_inode_update(dir, false);
	}
	scoutfs_lock_release_ret(sb, &set, ret, "link", inode->i_ino);
	if (!ret) {
		ihold(inode);
		d_instantiate(dentry, inode);
	}
	return ret;
}

/* 0 when dir has no entries, -ENOTEMPTY when it has, or an error. */
static int check_dir_empty(struct inode *dir)
{
	struct super_block *sb = dir->i_sb;
	struct scoutfs_key key, last, found;
	struct scoutfs_lock *lock;
	int ret;

	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, dir->i_ino, &lock);
	if (ret)
		return ret;
	scoutfs_key_init_readdir(&key, dir->i_ino, 0);
	scoutfs_key_init_readdir(&last, dir->i_ino, U64_MAX);
	ret = scoutfs_item_next(sb, &key, &last, &found, NULL, 0);
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	if (ret == -ENOENT)
		return 0;
	return ret < 0 ? ret : -ENOTEMPTY;
}

/*
 * Remove the link of dentry from dir, inside a hold.  Drops the inode's
 * link count and makes it an orphan when the last link goes.
 */
static int remove_link(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	struct scoutfs_dirent *dent;
	int ret;

	dent = kmalloc(DIRENT_BUF_SIZE, GFP_NOFS);
	if (!dent)
		return -ENOMEM;
	ret = find_dirent(dir, &dentry->d_name, dent);
	if (ret >= 0 && le64_to_cpu(dent->ino) != inode->i_ino)
		ret = -EIO;
	if (ret >= 0)
		ret = del_link_items(dir, dent, dentry->d_name.len);
	kfree(dent);
	if (ret)
		return ret;

	inode->i_ctime = current_time(inode);
	touch_dir(dir);
	if (S_ISDIR(inode->i_mode)) {
		clear_nlink(inode);
		drop_nlink(dir);
	} else {
		drop_nlink(inode);
	}
	if (inode->i_nlink == 0)
		ret = scoutfs_inode_orphan_add(inode);
	return ret ?: scoutfs_inode_update(inode, false) ?:
	       scoutfs_inode_update(dir, false);
}

static int scoutfs_unlink(struct inode *dir, struct dentry *dentry)
{
	struct super_block *sb = dir->i_sb;
	struct scoutfs_lock_set set;
	int ret;

	ret = scoutfs_inode_check_retention(d_inode(dentry));
	if (ret)
		return ret;
	/* frees space, so it may use the reserve: a full fs can be emptied */
	ret = scoutfs_lock_hold(sb, &set, SCOUTFS_HOLD_RESERVED, dir->i_ino,
				d_inode(dentry)->i_ino, 0, 0);
	if (ret)
		return ret;
	ret = remove_link(dir, dentry);
	scoutfs_lock_release_ret(sb, &set, ret, "unlink",
				 d_inode(dentry)->i_ino);
	return ret;
}

static int scoutfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	int ret = check_dir_empty(d_inode(dentry));

	return ret ?: scoutfs_unlink(dir, dentry);
}

static int rename_exchange(struct inode *old_dir, struct dentry *old_dentry,
			   struct inode *new_dir, struct dentry *new_dentry)
{
	struct inode *old_inode = d_inode(old_dentry);
	struct inode *new_inode = d_inode(new_dentry);
	struct scoutfs_dirent *odent, *ndent;
	int ret;

	odent = kmalloc(DIRENT_BUF_SIZE, GFP_NOFS);
	ndent = kmalloc(DIRENT_BUF_SIZE, GFP_NOFS);
	ret = (odent && ndent) ? 0 : -ENOMEM;
	if (!ret)
		ret = find_dirent(old_dir, &old_dentry->d_name, odent);
	if (ret >= 0)
		ret = find_dirent(new_dir, &new_dentry->d_name, ndent);
	if (ret >= 0)
		ret = del_link_items(old_dir, odent, old_dentry->d_name.len) ?:
		      del_link_items(new_dir, ndent, new_dentry->d_name.len) ?:
		      add_link_items(old_dir, &old_dentry->d_name, new_inode, NULL) ?:
		      add_link_items(new_dir, &new_dentry->d_name, old_inode, NULL);
	kfree(odent);
	kfree(ndent);
	if (ret)
		return ret;

	if (old_dir != new_dir && S_ISDIR(old_inode->i_mode) !=
				  S_ISDIR(new_inode->i_mode)) {
		if (S_ISDIR(old_inode->i_mode)) {
			drop_nlink(old_dir);
			inc_nlink(new_dir);
		} else {
			inc_nlink(old_dir);
			drop_nlink(new_dir);
		}
	}
	old_inode->i_ctime = new_inode->i_ctime = current_time(old_inode);
	touch_dir(old_dir);
	touch_dir(new_dir);
	return scoutfs_inode_update(old_inode, false) ?:
	       scoutfs_inode_update(new_inode, false) ?:
	       scoutfs_inode_update(old_dir, false) ?:
	       (new_dir != old_dir ? scoutfs_inode_update(new_dir, false) : 0);
}

static int scoutfs_rename(struct user_namespace *mnt_userns,
			  struct inode *old_dir, struct dentry *old_dentry,
			  struct inode *new_dir, struct dentry *new_dentry,
			  unsigned int flags)
{
	struct super_block *sb = old_dir->i_sb;
	struct inode *old_inode = d_inode(old_dentry);
	struct inode *new_inode = d_inode(new_dentry);
	struct scoutfs_lock_set set;
	struct scoutfs_dirent *dent;
	int ret;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (new_dentry->d_name.len > SCOUTFS_NAME_LEN)
		return -ENAMETOOLONG;
	ret = scoutfs_inode_check_retention(old_inode) ?:
	      (new_inode ? scoutfs_inode_check_retention(new_inode) : 0);
	if (ret)
		return ret;
	/* the VFS checked NOREPLACE against the dcache under the locks */
	if (new_inode && S_ISDIR(new_inode->i_mode) &&
	    !(flags & RENAME_EXCHANGE)) {
		ret = check_dir_empty(new_inode);
		if (ret)
			return ret;
	}

	ret = scoutfs_lock_hold(sb, &set,
				new_inode ? SCOUTFS_HOLD_RESERVED : 0,
				old_dir->i_ino, new_dir->i_ino,
				old_inode->i_ino,
				new_inode ? new_inode->i_ino : 0);
	if (ret)
		return ret;

	if (flags & RENAME_EXCHANGE) {
		ret = rename_exchange(old_dir, old_dentry, new_dir, new_dentry);
		goto out;
	}

	if (new_inode) {
		ret = remove_link(new_dir, new_dentry);
		if (ret)
			goto out;
	}

	dent = kmalloc(DIRENT_BUF_SIZE, GFP_NOFS);
	if (!dent) {
		ret = -ENOMEM;
		goto out;
	}
	ret = find_dirent(old_dir, &old_dentry->d_name, dent);
	if (ret >= 0)
		ret = del_link_items(old_dir, dent, old_dentry->d_name.len) ?:
		      add_link_items(new_dir, &new_dentry->d_name, old_inode,
				     NULL);
	kfree(dent);
	if (ret)
		goto out;

	if (S_ISDIR(old_inode->i_mode) && old_dir != new_dir) {
		drop_nlink(old_dir);
		inc_nlink(new_dir);
	}
	old_inode->i_ctime = current_time(old_inode);
	touch_dir(old_dir);
	touch_dir(new_dir);
	ret = scoutfs_inode_update(old_inode, false) ?:
	      scoutfs_inode_update(old_dir, false) ?:
	      (new_dir != old_dir ? scoutfs_inode_update(new_dir, false) : 0);
out:
	scoutfs_lock_release_ret(sb, &set, ret, "rename", old_inode->i_ino);
	return ret;
}

static const char *scoutfs_get_link(struct dentry *dentry, struct inode *inode,
				    struct delayed_call *done)
{
	struct scoutfs_lock *lock;
	struct scoutfs_key key;
	char *target;
	int ret;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	target = kmalloc(SCOUTFS_MAX_VAL_SIZE + 1, GFP_NOFS);
	if (!target)
		return ERR_PTR(-ENOMEM);
	scoutfs_key_init_symlink(&key, inode->i_ino, 0);
	ret = scoutfs_lock_ino(inode->i_sb, SCOUTFS_LOCK_READ, inode->i_ino,
			       &lock);
	if (ret == 0) {
		ret = scoutfs_item_lookup(inode->i_sb, &key, target,
					  SCOUTFS_MAX_VAL_SIZE);
		scoutfs_unlock(inode->i_sb, lock, SCOUTFS_LOCK_READ);
	}
	if (ret >= 0 && ret != i_size_read(inode))
		ret = -EIO;
	if (ret < 0) {
		kfree(target);
		return ERR_PTR(ret == -ENOENT ? -EIO : ret);
	}
	target[ret] = '\0';
	set_delayed_call(done, kfree_link, target);
	return target;
}

const struct file_operations scoutfs_dir_fops = {
	.llseek		= generic_file_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= scoutfs_readdir,
	.fsync		= scoutfs_fsync,
	.unlocked_ioctl	= scoutfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

const struct inode_operations scoutfs_dir_iops = {
	.lookup		= scoutfs_lookup,
	.create		= scoutfs_create,
	.mknod		= scoutfs_mknod,
	.mkdir		= scoutfs_mkdir,
	.symlink	= scoutfs_symlink,
	.link		= scoutfs_link,
	.tmpfile	= scoutfs_tmpfile,
	.unlink		= scoutfs_unlink,
	.rmdir		= scoutfs_rmdir,
	.rename		= scoutfs_rename,
	.setattr	= scoutfs_setattr,
	.getattr	= scoutfs_getattr,
	.listxattr	= scoutfs_listxattr,
	.get_acl	= scoutfs_get_acl,
	.set_acl	= scoutfs_set_acl,
};

const struct inode_operations scoutfs_symlink_iops = {
	.get_link	= scoutfs_get_link,
	.setattr	= scoutfs_setattr,
	.getattr	= scoutfs_getattr,
	.listxattr	= scoutfs_listxattr,
};
