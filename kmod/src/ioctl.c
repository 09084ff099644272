// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c: the scoutfs ioctls (ABI in ioctl.h, upstream-compatible).
 *
 * Each ioctl copies its argument struct in, validates every field before
 * acting (unknown flags, non-zero padding the ABI reserves, counts beyond
 * the SCOUTFS_IOC_*_MAX caps -> EINVAL), so no user number ever sizes a
 * kernel allocation unchecked, and copies results out with the user
 * pointers it was given (EFAULT on a bad pointer, never an oops).
 *
 * WALK_INODES reads the meta_seq and data_seq index zones.  Results stop
 * at the last committed seq: index items of the transaction being built
 * carry a greater seq, and every item a later commit adds will too, so a
 * walker that resumes after the last entry it saw never misses an inode.
 *
 * INO_PATH follows LINK_BACKREF items upwards from the inode to the root,
 * one hard link per call; (dir_ino, dir_pos) is the cursor over links.
 * GET_REFERRING_ENTRIES returns the same backref items themselves, as
 * many as fit, from the same kind of cursor.
 *
 * MOVE_BLOCKS is called on the destination with the source's fd; the
 * work and its locking (two inodes) are in data.c.
 *
 * Locks: READ cluster locks (lock.c) around the item reads, the index
 * zone's for WALK_INODES and each inode's for INO_PATH and
 * GET_REFERRING_ENTRIES; results are
 * gathered into kernel buffers first and copied out with no lock held,
 * because a copy to user memory can fault.
 */
#include <linux/fs.h>
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/mount.h>
#include <linux/file.h>

#include "super.h"
#include "inode.h"
#include "lock.h"
#include "item.h"
#include "trans.h"
#include "ioctl.h"
#include "data_wait.h"
#include "data.h"
#include "xattr.h"
#include "libscoutfs/key.h"

static bool is_zeroed(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static int index_zone(u8 index)
{
	switch (index) {
	case SCOUTFS_IOC_WALK_INODES_META_SEQ:
		return SCOUTFS_META_SEQ_INDEX_ZONE;
	case SCOUTFS_IOC_WALK_INODES_DATA_SEQ:
		return SCOUTFS_DATA_SEQ_INDEX_ZONE;
	default:
		return -EINVAL;
	}
}

/*
 * What most calls check first: CAP_SYS_ADMIN, a file open for writing
 * when the call changes the file's contents, then their argument struct
 * copied in.
 */
static int admin_args(struct file *file, bool write, void *args,
		      const void __user *uarg, size_t size)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (write && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(args, uarg, size))
		return -EFAULT;
	return 0;
}

static long ioc_walk_inodes(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_ioctl_walk_inodes_entry *ents;
	struct scoutfs_ioctl_walk_inodes walk;
	struct scoutfs_key key, last, found;
	struct scoutfs_lock *lock;
	u64 last_seq;
	int zone;
	int nr = 0;
	int ret;

	ret = admin_args(file, false, &walk, uarg, sizeof(walk));
	if (ret)
		return ret;
	zone = index_zone(walk.index);
	if (zone < 0 || !is_zeroed(walk._pad, sizeof(walk._pad)))
		return -EINVAL;
	if (walk.nr_entries == 0)
		return 0;
	if (walk.nr_entries > SCOUTFS_IOC_WALK_INODES_MAX_ENTRIES)
		walk.nr_entries = SCOUTFS_IOC_WALK_INODES_MAX_ENTRIES;

	/* only what has committed: see the top comment */
	last_seq = min(walk.last.major, READ_ONCE(sbi->committed_seq));
	if (walk.first.major > last_seq)
		return 0;

	ents = kvcalloc(walk.nr_entries, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;

	scoutfs_key_init(&key, zone, walk.first.major, SCOUTFS_SEQ_INDEX_TYPE,
			 walk.first.ino, 0);
	if (last_seq < walk.last.major)
		scoutfs_key_init(&last, zone, last_seq, SCOUTFS_SEQ_INDEX_TYPE,
				 U64_MAX, U64_MAX);
	else
		scoutfs_key_init(&last, zone, last_seq, SCOUTFS_SEQ_INDEX_TYPE,
				 walk.last.ino, U64_MAX);

	ret = scoutfs_lock_zone(sb, SCOUTFS_LOCK_READ, zone, &lock);
	if (ret)
		goto out;
	while (nr < walk.nr_entries) {
		ret = scoutfs_item_next(sb, &key, &last, &found, NULL, 0);
		if (ret == -ENOENT)
			break;
		if (ret < 0) {
			scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
			goto out;
		}
		ents[nr].major = scoutfs_key_first(&found);
		ents[nr].ino = scoutfs_key_second(&found);
		ents[nr].minor = 0;
		nr++;
		key = found;
		scoutfs_key_inc(&key);
	}
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);

	ret = nr;
	if (nr && copy_to_user((void __user *)(uintptr_t)walk.entries_ptr, ents,
			       nr * sizeof(*ents)))
		ret = -EFAULT;
out:
	kvfree(ents);
	return ret;
}

/* The first backref item of ino in [key, last], under ino's lock. */
static int backref_next(struct super_block *sb, u64 ino,
			const struct scoutfs_key *key,
			const struct scoutfs_key *last,
			struct scoutfs_key *found, struct scoutfs_dirent *dent)
{
	struct scoutfs_lock *lock;
	int ret;

	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, ino, &lock);
	if (ret)
		return ret;
	ret = scoutfs_item_next(sb, key, last, found, dent,
				sizeof(*dent) + SCOUTFS_NAME_LEN);
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
	return ret;
}

/* The one link of a directory: its parent and its name. */
static int dir_parent(struct super_block *sb, u64 ino, u64 *parent,
		      struct scoutfs_dirent *dent, int *len)
{
	struct scoutfs_key key, last, found;
	int ret;

	scoutfs_key_init_backref(&key, ino, 0, 0);
	scoutfs_key_init_backref(&last, ino, U64_MAX, U64_MAX);
	ret = backref_next(sb, ino, &key, &last, &found, dent);
	if (ret == -ENOENT)
		return -EIO;	/* a directory other than the root has a parent */
	if (ret < (int)sizeof(*dent))
		return ret < 0 ? ret : -EIO;
	*parent = scoutfs_key_second(&found);
	*len = ret - sizeof(*dent);
	return 0;
}

/*
 * Build the path of the link (dir_ino, name) into the end of buf and
 * return its start, or an ERR_PTR.  Stops at SCOUTFS_BTREE_MAX_HEIGHT *
 * PATH_MAX worth of components to survive a corrupt cycle.
 */
static char *build_path(struct super_block *sb, u64 dir_ino,
			const char *name, int name_len, char *buf, int size,
			struct scoutfs_dirent *dent)
{
	char *p = buf + size - 1;
	int depth = 0;
	int len;
	u64 parent;
	int ret;

	*p = '\0';
	for (;;) {
		if (p - buf < name_len + 1)
			return ERR_PTR(-ENAMETOOLONG);
		p -= name_len;
		memcpy(p, name, name_len);
		if (dir_ino == SCOUTFS_ROOT_INO)
			return p;
		*--p = '/';
		if (++depth > PATH_MAX / 2)
			return ERR_PTR(-ELOOP);
		ret = dir_parent(sb, dir_ino, &parent, dent, &len);
		if (ret)
			return ERR_PTR(ret);
		/* dent->name is overwritten next round: copy into place now */
		name = dent->name;
		name_len = len;
		dir_ino = parent;
	}
}

static long ioc_ino_path(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_ioctl_ino_path_result res;
	struct scoutfs_ioctl_ino_path args;
	struct scoutfs_key key, last, found;
	struct scoutfs_dirent *dent = NULL;
	struct scoutfs_dirent *pdent = NULL;
	char *buf = NULL;
	char *path;
	int name_len;
	int path_bytes;
	int ret;

	ret = admin_args(file, false, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	if (!is_zeroed(args._pad, sizeof(args._pad)))
		return -EINVAL;
	if (args.result_bytes <= sizeof(res))
		return -EINVAL;

	dent = kmalloc(sizeof(*dent) + SCOUTFS_NAME_LEN, GFP_KERNEL);
	pdent = kmalloc(sizeof(*pdent) + SCOUTFS_NAME_LEN, GFP_KERNEL);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!dent || !pdent || !buf) {
		ret = -ENOMEM;
		goto out;
	}

	scoutfs_key_init_backref(&key, args.ino, args.dir_ino, args.dir_pos);
	scoutfs_key_init_backref(&last, args.ino, U64_MAX, U64_MAX);
	ret = backref_next(sb, args.ino, &key, &last, &found, dent);
	if (ret < 0)
		goto out;
	if (ret < (int)sizeof(*dent)) {
		ret = -EIO;
		goto out;
	}
	name_len = ret - sizeof(*dent);

	path = build_path(sb, scoutfs_key_second(&found), dent->name, name_len,
			  buf, PATH_MAX, pdent);
	if (IS_ERR(path)) {
		ret = PTR_ERR(path);
		goto out;
	}
	path_bytes = strlen(path) + 1;
	if (sizeof(res) + path_bytes > args.result_bytes) {
		ret = -ENAMETOOLONG;
		goto out;
	}

	memset(&res, 0, sizeof(res));
	res.dir_ino = scoutfs_key_second(&found);
	res.dir_pos = scoutfs_key_third(&found);
	res.path_bytes = path_bytes;
	if (copy_to_user((void __user *)(uintptr_t)args.result_ptr, &res,
			 sizeof(res)) ||
	    copy_to_user((void __user *)(uintptr_t)(args.result_ptr +
						    sizeof(res)),
			 path, path_bytes))
		ret = -EFAULT;
	else
		ret = 0;
out:
	kfree(dent);
	kfree(pdent);
	kfree(buf);
	return ret;
}

/*
 * Gather into buf (bytes long) the backref items of ino from the cursor
 * on, as packed scoutfs_ioctl_dirent records, under ino's READ lock.
 * Returns the number of records, -EINVAL if even the first does not fit.
 */
static int gather_referring_entries(struct super_block *sb, u64 ino,
				    u64 dir_ino, u64 dir_pos, void *buf,
				    size_t bytes)
{
	struct scoutfs_ioctl_dirent *ent, *prev = NULL;
	struct scoutfs_key key, last, found;
	struct scoutfs_dirent *dent;
	struct scoutfs_lock *lock;
	size_t used = 0, ent_bytes;
	int name_len;
	int nr = 0;
	int ret;

	dent = kmalloc(sizeof(*dent) + SCOUTFS_NAME_LEN, GFP_KERNEL);
	if (!dent)
		return -ENOMEM;
	ret = scoutfs_lock_ino(sb, SCOUTFS_LOCK_READ, ino, &lock);
	if (ret)
		goto out;

	scoutfs_key_init_backref(&key, ino, dir_ino, dir_pos);
	scoutfs_key_init_backref(&last, ino, U64_MAX, U64_MAX);
	for (;;) {
		ret = scoutfs_item_next(sb, &key, &last, &found, dent,
					sizeof(*dent) + SCOUTFS_NAME_LEN);
		if (ret == -ENOENT) {
			if (prev)
				prev->flags |= SCOUTFS_IOCTL_DIRENT_FLAG_LAST;
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
		name_len = ret - (int)sizeof(*dent);
		if (name_len <= 0 || name_len > SCOUTFS_NAME_LEN) {
			ret = -EIO;
			break;
		}
		ent_bytes = ALIGN(offsetof(struct scoutfs_ioctl_dirent, name) +
				  name_len + 1, SCOUTFS_IOCTL_DIRENT_ALIGN);
		if (used + ent_bytes > bytes) {
			ret = nr ? 0 : -EINVAL;
			break;
		}
		ent = buf + used;
		memset(ent, 0, ent_bytes);
		ent->dir_ino = scoutfs_key_second(&found);
		ent->dir_pos = scoutfs_key_third(&found);
		ent->ino = ino;
		ent->entry_bytes = ent_bytes;
		ent->d_type = dent->type;
		ent->name_len = name_len;
		memcpy(ent->name, dent->name, name_len);
		used += ent_bytes;
		prev = ent;
		nr++;

		if (ent->dir_pos == U64_MAX && ent->dir_ino == U64_MAX) {
			prev->flags |= SCOUTFS_IOCTL_DIRENT_FLAG_LAST;
			break;
		}
		scoutfs_key_init_backref(&key, ino,
					 ent->dir_ino + (ent->dir_pos == U64_MAX),
					 ent->dir_pos + 1);
	}
	scoutfs_unlock(sb, lock, SCOUTFS_LOCK_READ);
out:
	kfree(dent);
	return ret < 0 ? ret : nr;
}

static long ioc_get_referring_entries(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_ioctl_get_referring_entries args;
	size_t bytes;
	void *buf;
	int ret;

	if (!capable(CAP_DAC_READ_SEARCH))
		return -EPERM;
	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.entries_ptr & (SCOUTFS_IOCTL_DIRENT_ALIGN - 1) ||
	    args.entries_bytes < sizeof(struct scoutfs_ioctl_dirent))
		return -EINVAL;

	bytes = min_t(u64, args.entries_bytes,
		      SCOUTFS_IOC_REFERRING_ENTRIES_MAX_BYTES);
	buf = kvmalloc(bytes, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = gather_referring_entries(sb, args.ino, args.dir_ino,
				       args.dir_pos, buf, bytes);
	if (ret > 0) {
		struct scoutfs_ioctl_dirent *ent = buf;
		size_t used = 0;
		int i;

		for (i = 0; i < ret; i++) {
			used += ent->entry_bytes;
			ent = buf + used;
		}
		if (copy_to_user((void __user *)(uintptr_t)args.entries_ptr,
				 buf, used))
			ret = -EFAULT;
	}
	kvfree(buf);
	return ret;
}

static long ioc_punch_offline(struct file *file, void __user *uarg)
{
	struct scoutfs_ioctl_punch_offline args;
	int ret;

	ret = admin_args(file, true, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	if (args.flags)
		return -EINVAL;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	ret = scoutfs_data_punch_offline(file_inode(file), args.offset,
					 args.len, args.data_version);
	mnt_drop_write_file(file);
	return ret;
}

/*
 * MOVE_BLOCKS, called on the destination: the argument checks that need
 * no inode lock, then data.c.  Both files must be open for writing.
 */
static long ioc_move_blocks(struct file *file, void __user *uarg)
{
	struct scoutfs_ioctl_move_blocks args;
	struct inode *to = file_inode(file);
	struct inode *from;
	struct fd from_fd;
	long ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & SCOUTFS_IOC_MB_UNKNOWN)
		return -EINVAL;
	if (args.from_off + args.len < args.from_off ||
	    args.to_off + args.len < args.to_off)
		return -EOVERFLOW;
	if (args.from_fd > INT_MAX)
		return -EBADF;
	from_fd = fdget(args.from_fd);
	if (!from_fd.file)
		return -EBADF;
	from = file_inode(from_fd.file);
	if (from->i_sb != to->i_sb) {
		ret = -EXDEV;
		goto out;
	}
	if (S_ISDIR(from->i_mode) || S_ISDIR(to->i_mode)) {
		ret = -EISDIR;
		goto out;
	}
	if (from == to) {
		ret = -EINVAL;
		goto out;
	}
	if (!(file->f_mode & FMODE_WRITE) ||
	    !(from_fd.file->f_mode & FMODE_WRITE)) {
		ret = -EBADF;
		goto out;
	}
	ret = mnt_want_write_file(file);
	if (ret)
		goto out;
	ret = scoutfs_data_move_blocks(from, args.from_off, args.len, to,
				       args.to_off,
				       args.flags & SCOUTFS_IOC_MB_STAGE,
				       args.data_version);
	mnt_drop_write_file(file);
out:
	fdput(from_fd);
	return ret;
}

static long ioc_stat_more(struct file *file, void __user *uarg)
{
	struct inode *inode = file_inode(file);
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct scoutfs_ioctl_stat_more stm;

	memset(&stm, 0, sizeof(stm));
	inode_lock_shared(inode);
	stm.meta_seq = si->meta_seq;
	stm.data_seq = si->data_seq;
	stm.data_version = si->data_version;
	stm.online_blocks = si->online_blocks;
	stm.offline_blocks = si->offline_blocks;
	stm.crtime_sec = si->crtime.tv_sec;
	stm.crtime_nsec = si->crtime.tv_nsec;
	inode_unlock_shared(inode);

	return copy_to_user(uarg, &stm, sizeof(stm)) ? -EFAULT : 0;
}

/* GET_ATTR_X: every field x_mask asks for (ioctl.h). */
static long ioc_get_attr_x(struct file *file, void __user *uarg)
{
	struct inode *inode = file_inode(file);
	struct scoutfs_inode_info *si = SCOUTFS_I(inode);
	struct scoutfs_ioctl_inode_attr_x iax;
	u64 mask;

	if (copy_from_user(&iax, uarg, sizeof(iax)))
		return -EFAULT;
	if ((iax.x_mask & SCOUTFS_IOC_IAX__UNKNOWN) ||
	    (iax.x_flags & SCOUTFS_IOC_IAX_F__UNKNOWN))
		return -EINVAL;
	mask = iax.x_mask;
	memset(&iax, 0, sizeof(iax));
	iax.x_mask = mask;

	inode_lock_shared(inode);
	if (mask & SCOUTFS_IOC_IAX_META_SEQ)
		iax.meta_seq = si->meta_seq;
	if (mask & SCOUTFS_IOC_IAX_DATA_SEQ)
		iax.data_seq = si->data_seq;
	if (mask & SCOUTFS_IOC_IAX_DATA_VERSION)
		iax.data_version = si->data_version;
	if (mask & SCOUTFS_IOC_IAX_ONLINE_BLOCKS)
		iax.online_blocks = si->online_blocks;
	if (mask & SCOUTFS_IOC_IAX_OFFLINE_BLOCKS)
		iax.offline_blocks = si->offline_blocks;
	if (mask & SCOUTFS_IOC_IAX_CTIME) {
		iax.ctime_sec = inode->i_ctime.tv_sec;
		iax.ctime_nsec = inode->i_ctime.tv_nsec;
	}
	if (mask & SCOUTFS_IOC_IAX_CRTIME) {
		iax.crtime_sec = si->crtime.tv_sec;
		iax.crtime_nsec = si->crtime.tv_nsec;
	}
	if (mask & SCOUTFS_IOC_IAX_SIZE)
		iax.size = i_size_read(inode);
	if ((mask & SCOUTFS_IOC_IAX_RETENTION) &&
	    scoutfs_inode_check_retention(inode))
		iax.bits |= SCOUTFS_IOC_IAX_B_RETENTION;
	inode_unlock_shared(inode);

	return copy_to_user(uarg, &iax, sizeof(iax)) ? -EFAULT : 0;
}

/* SET_ATTR_X: only the retention mark here (ioctl.h). */
static long ioc_set_attr_x(struct file *file, void __user *uarg)
{
	struct scoutfs_ioctl_inode_attr_x iax;
	int ret;

	if (copy_from_user(&iax, uarg, sizeof(iax)))
		return -EFAULT;
	if ((iax.x_mask & SCOUTFS_IOC_IAX__UNKNOWN) ||
	    (iax.x_flags & SCOUTFS_IOC_IAX_F__UNKNOWN) ||
	    (iax.bits & ~SCOUTFS_IOC_IAX_B_RETENTION))
		return -EINVAL;
	if (iax.x_mask & ~SCOUTFS_IOC_IAX_RETENTION)
		return -EOPNOTSUPP;
	if (!iax.x_mask)
		return 0;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	ret = scoutfs_inode_set_retention(file_inode(file),
				iax.bits & SCOUTFS_IOC_IAX_B_RETENTION);
	mnt_drop_write_file(file);
	return ret;
}

static long ioc_statfs_more(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_ioctl_statfs_more sfm;

	memset(&sfm, 0, sizeof(sfm));
	mutex_lock(&sbi->meta_mutex);
	sfm.fsid = sbi->fsid;
	sfm.rid = sbi->rid;
	sfm.committed_seq = sbi->committed_seq;
	sfm.total_meta_blocks = le64_to_cpu(sbi->super->total_meta_blocks);
	sfm.total_data_blocks = le64_to_cpu(sbi->super->total_data_blocks);
	sfm.reserved_meta_blocks = sbi->alloc.nr_reserve;
	mutex_unlock(&sbi->meta_mutex);

	return copy_to_user(uarg, &sfm, sizeof(sfm)) ? -EFAULT : 0;
}

static long ioc_data_waiting(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_ioctl_data_waiting_entry *ents;
	struct scoutfs_ioctl_data_waiting args;
	int nr;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || !is_zeroed(args._pad, sizeof(args._pad)))
		return -EINVAL;
	if (args.ents_nr == 0)
		return 0;
	nr = min_t(int, args.ents_nr, SCOUTFS_IOC_DATA_WAITING_MAX_ENTRIES);
	ents = kvcalloc(nr, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;
	ret = scoutfs_data_wait_list(sb, args.after_ino, args.after_iblock,
				     ents, nr);
	if (ret > 0 && copy_to_user((void __user *)(uintptr_t)args.ents_ptr,
				    ents, ret * sizeof(*ents)))
		ret = -EFAULT;
	kvfree(ents);
	return ret;
}

#define DWO_ALL (SCOUTFS_IOC_DWO_READ | SCOUTFS_IOC_DWO_WRITE | \
		 SCOUTFS_IOC_DWO_CHANGE_SIZE)

static long ioc_data_wait_err(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_ioctl_data_wait_err args;
	u64 start, end;
	int ret;

	ret = admin_args(file, false, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	if (args.count == 0 || args.offset + args.count < args.offset ||
	    !args.op || (args.op & ~DWO_ALL) ||
	    args.err < -MAX_ERRNO || args.err >= 0)
		return -EINVAL;
	start = args.offset >> SCOUTFS_DATA_BLOCK_SHIFT;
	end = (args.offset + args.count - 1) >> SCOUTFS_DATA_BLOCK_SHIFT;
	return scoutfs_data_wait_set_err(sb, args.ino, start, end, args.op,
					 (int)args.err);
}

static long ioc_release(struct file *file, void __user *uarg)
{
	struct scoutfs_ioctl_release args;
	int ret;

	ret = admin_args(file, false, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	/* upstream: releasing nothing succeeds before anything is checked */
	if (args.length == 0)
		return 0;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	ret = scoutfs_data_release(file_inode(file), args.offset, args.length,
				   args.data_version);
	mnt_drop_write_file(file);
	return ret;
}

static long ioc_stage(struct file *file, void __user *uarg)
{
	struct scoutfs_ioctl_stage args;
	long ret;

	ret = admin_args(file, true, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	if (!is_zeroed(args._pad, sizeof(args._pad)))
		return -EINVAL;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	ret = scoutfs_data_stage(file_inode(file), args.data_version,
				 (const void __user *)(uintptr_t)args.buf_ptr,
				 args.offset, args.length);
	mnt_drop_write_file(file);
	return ret;
}

static long ioc_setattr_more(struct file *file, void __user *uarg)
{
	struct scoutfs_ioctl_setattr_more args;
	struct timespec64 ctime, crtime;
	int ret;

	ret = admin_args(file, false, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	/*
	 * Upstream's rules: a size needs a data_version (0 is the version of
	 * a file that never had contents), OFFLINE needs a size.
	 */
	if (args.flags & SCOUTFS_IOC_SETATTR_MORE_UNKNOWN ||
	    (args.i_size && !args.data_version) ||
	    (args.flags & SCOUTFS_IOC_SETATTR_MORE_OFFLINE && !args.i_size) ||
	    args.ctime_nsec >= NSEC_PER_SEC || args.crtime_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	ctime.tv_sec = args.ctime_sec;
	ctime.tv_nsec = args.ctime_nsec;
	crtime.tv_sec = args.crtime_sec;
	crtime.tv_nsec = args.crtime_nsec;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	ret = scoutfs_data_setattr_more(file_inode(file), args.data_version,
			args.i_size, args.flags & SCOUTFS_IOC_SETATTR_MORE_OFFLINE,
			args.ctime_sec || args.ctime_nsec ? &ctime : NULL,
			args.crtime_sec || args.crtime_nsec ? &crtime : NULL);
	mnt_drop_write_file(file);
	return ret;
}

static long ioc_listxattr_hidden(struct file *file, void __user *uarg)
{
	struct inode *inode = file_inode(file);
	struct scoutfs_ioctl_listxattr_hidden args;
	u32 hash_pos;
	u64 id_pos;
	size_t size;
	char *buf;
	ssize_t ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	ret = inode_permission(&init_user_ns, inode, MAY_READ);
	if (ret)
		return ret;
	if (args.buf_bytes == 0)
		return -EINVAL;
	size = min_t(size_t, args.buf_bytes,
		     SCOUTFS_IOC_LISTXATTR_HIDDEN_MAX_BYTES);
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	hash_pos = args.hash_pos;
	id_pos = args.id_pos;
	ret = scoutfs_xattr_list_hidden(inode, buf, size, &hash_pos, &id_pos);
	if (ret > 0) {
		args.hash_pos = hash_pos;
		args.id_pos = id_pos;
		if (copy_to_user((void __user *)(uintptr_t)args.buf_ptr, buf, ret) ||
		    copy_to_user(uarg, &args, sizeof(args)))
			ret = -EFAULT;
	}
	kvfree(buf);
	return ret;
}

static long ioc_search_xattrs(struct file *file, void __user *uarg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct scoutfs_ioctl_search_xattrs args;
	u64 next_ino = 0;
	bool at_end = false;
	char *name = NULL;
	u64 *inos = NULL;
	int nr;
	long ret;

	ret = admin_args(file, false, &args, uarg, sizeof(args));
	if (ret)
		return ret;
	if (!is_zeroed(args._pad, sizeof(args._pad)) || args.name_bytes == 0 ||
	    args.name_bytes > SCOUTFS_XATTR_MAX_NAME_LEN ||
	    args.next_ino > args.last_ino)
		return -EINVAL;
	if (args.nr_inodes == 0)
		return 0;
	nr = min_t(u64, args.nr_inodes, SCOUTFS_IOC_SEARCH_XATTRS_MAX_INODES);

	name = memdup_user((void __user *)(uintptr_t)args.name_ptr,
			   args.name_bytes);
	if (IS_ERR(name))
		return PTR_ERR(name);
	inos = kvcalloc(nr, sizeof(*inos), GFP_KERNEL);
	if (!inos) {
		ret = -ENOMEM;
		goto out;
	}
	ret = scoutfs_xattr_search(sb, name, args.name_bytes, args.next_ino,
				   args.last_ino, inos, nr, &next_ino, &at_end);
	if (ret < 0)
		goto out;
	if (ret && copy_to_user((void __user *)(uintptr_t)args.inodes_ptr, inos,
				ret * sizeof(*inos))) {
		ret = -EFAULT;
		goto out;
	}
	args.next_ino = next_ino;
	args.output_flags = at_end ? SCOUTFS_SEARCH_XATTRS_OFLAG_END : 0;
	if (copy_to_user(uarg, &args, sizeof(args)))
		ret = -EFAULT;
out:
	kvfree(inos);
	kfree(name);
	return ret;
}

long scoutfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case SCOUTFS_IOC_WALK_INODES:
		return ioc_walk_inodes(file, uarg);
	case SCOUTFS_IOC_INO_PATH:
		return ioc_ino_path(file, uarg);
	case SCOUTFS_IOC_STAT_MORE:
		return ioc_stat_more(file, uarg);
	case SCOUTFS_IOC_STATFS_MORE:
		return ioc_statfs_more(file, uarg);
	case SCOUTFS_IOC_RELEASE:
		return ioc_release(file, uarg);
	case SCOUTFS_IOC_STAGE:
		return ioc_stage(file, uarg);
	case SCOUTFS_IOC_SETATTR_MORE:
		return ioc_setattr_more(file, uarg);
	case SCOUTFS_IOC_LISTXATTR_HIDDEN:
		return ioc_listxattr_hidden(file, uarg);
	case SCOUTFS_IOC_SEARCH_XATTRS:
		return ioc_search_xattrs(file, uarg);
	case SCOUTFS_IOC_DATA_WAITING:
		return ioc_data_waiting(file, uarg);
	case SCOUTFS_IOC_DATA_WAIT_ERR:
		return ioc_data_wait_err(file, uarg);
	case SCOUTFS_IOC_GET_REFERRING_ENTRIES:
		return ioc_get_referring_entries(file, uarg);
	case SCOUTFS_IOC_PUNCH_OFFLINE:
		return ioc_punch_offline(file, uarg);
	case SCOUTFS_IOC_GET_ATTR_X:
		return ioc_get_attr_x(file, uarg);
	case SCOUTFS_IOC_SET_ATTR_X:
		return ioc_set_attr_x(file, uarg);
	case SCOUTFS_IOC_MOVE_BLOCKS:
		return ioc_move_blocks(file, uarg);
	}
	return -ENOTTY;
}
