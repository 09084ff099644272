// SPDX-License-Identifier: GPL-2.0
/*
 * super.c: module entry, the scoutfs filesystem type, mount and unmount,
 * statfs and sync.
 *
 * A mount names the data device as its device and the metadata device
 * with the metadev_path option:
 *
 *   mount -t scoutfs -o metadev_path=/dev/META[,quorum_slot_nr=N] /dev/DATA /mnt
 *
 * Mount checks, in order, and fails with an errno and one log line naming
 * the problem: the options (metadev_path required, nothing unknown), the
 * metadata device (opened exclusively), its two super slots (the valid one
 * with the greater seq is used; a slot that fails its checksum is named),
 * the format version, the data device's identity block (its fsid must
 * match the metadata device's), the quorum slot number (must name a
 * configured slot), and finally the root inode.  None of these failures
 * can oops: every read is verified before it is used.
 *
 * Unmount commits the open transaction before anything is torn down, so
 * everything written before it is on disk and a remount shows it.
 *
 * Lock order: see lock.c.  This file only takes trans_rwsem and
 * meta_mutex through trans.c and item.c.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/blkdev.h>
#include <linux/buffer_head.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/seq_file.h>
#include <linux/random.h>

#include "export.h"
#include "format.h"
#include "super.h"
#include "ioctl.h"
#include "block.h"
#include "trans.h"
#include "data.h"
#include "item.h"
#include "lock.h"
#include "inode.h"
#include "data_wait.h"
#include "options.h"
#include "sysfs.h"
#include "libscoutfs/block.h"

/*
 * Read both super slots and keep the valid one with the greater seq.
 * Errors name the device and what failed in each slot.
 */
static int read_super(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_super_block *super;
	char why[2][SCOUTFS_BLOCK_PROBLEM_STR_LEN];
	u64 best_seq = 0;
	int found = -1;
	int problems;
	int slot;
	int ret = 0;

	super = kvmalloc(SCOUTFS_BLOCK_SIZE, GFP_KERNEL);
	if (!super)
		return -ENOMEM;

	for (slot = 0; slot < SCOUTFS_SUPER_SLOTS; slot++) {
		why[slot][0] = '\0';
		ret = scoutfs_block_io(sb, REQ_OP_READ, SCOUTFS_SUPER_BLKNO + slot,
				       super);
		if (ret) {
			scoutfs_err(sb, "metadata device %s: read of super slot %d failed (%d)",
				    sbi->opts.metadev_path, slot, ret);
			goto out;
		}
		problems = scoutfs_block_check(super, SCOUTFS_BLOCK_MAGIC_SUPER,
					       0, SCOUTFS_SUPER_BLKNO + slot, 0);
		if (!problems && le64_to_cpu(super->seq) !=
				 le64_to_cpu(super->hdr.seq))
			problems |= SCOUTFS_BLOCK_BAD_SEQ;
		if (problems) {
			scoutfs_block_problem_str(why[slot], sizeof(why[slot]),
						  problems);
			continue;
		}
		if (le64_to_cpu(super->format_version) != SCOUTFS_FORMAT_VERSION) {
			scoutfs_err(sb, "metadata device %s: format version %llu is not supported (this module reads version %llu)",
				    sbi->opts.metadev_path,
				    le64_to_cpu(super->format_version),
				    SCOUTFS_FORMAT_VERSION);
			ret = -EINVAL;
			goto out;
		}
		if (found < 0 || le64_to_cpu(super->seq) > best_seq) {
			best_seq = le64_to_cpu(super->seq);
			memcpy(sbi->super, super, SCOUTFS_BLOCK_SIZE);
			found = slot;
		}
	}

	if (found < 0) {
		/* nothing like a super: probably not our device at all */
		if (strstr(why[0], "magic") && strstr(why[1], "magic"))
			scoutfs_err(sb, "metadata device %s is not a scoutfs metadata device (no super block magic)",
				    sbi->opts.metadev_path);
		else
			scoutfs_err(sb, "metadata device %s: no valid super block: slot 0: %s, slot 1: %s",
				    sbi->opts.metadev_path, why[0], why[1]);
		ret = -EINVAL;
		goto out;
	}
	if (why[!found][0] && le64_to_cpu(sbi->super->seq) > 1)
		scoutfs_info(sb, "super slot %d failed verification (%s); using slot %d, seq %llu",
			     !found, why[!found], found, best_seq);
	sbi->fsid = le64_to_cpu(sbi->super->hdr.fsid);
out:
	kvfree(super);
	return ret;
}

/* The data device must carry the same fsid as the metadata device. */
static int check_data_super(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_data_super *dsuper;
	struct buffer_head *bh;
	int ret = -EINVAL;

	bh = sb_bread(sb, SCOUTFS_DATA_SUPER_BLKNO);
	if (!bh) {
		scoutfs_err(sb, "data device: read of its identity block failed");
		return -EIO;
	}
	dsuper = (void *)bh->b_data;
	if (le32_to_cpu(dsuper->magic) != SCOUTFS_DATA_SUPER_MAGIC) {
		scoutfs_err(sb, "data device is not a scoutfs data device (no identity block magic)");
	} else if (le32_to_cpu(dsuper->crc) !=
		   scoutfs_data_super_calc_crc(dsuper)) {
		scoutfs_err(sb, "data device: identity block checksum is bad");
	} else if (le64_to_cpu(dsuper->fsid) != sbi->fsid) {
		scoutfs_err(sb, "data device belongs to filesystem %016llx but metadata device %s to %016llx",
			    le64_to_cpu(dsuper->fsid), sbi->opts.metadev_path,
			    sbi->fsid);
	} else if (le64_to_cpu(dsuper->total_data_blocks) >
		   (bdev_nr_bytes(sb->s_bdev) >> SCOUTFS_DATA_BLOCK_SHIFT)) {
		scoutfs_err(sb, "data device is smaller than the filesystem says (%llu blocks)",
			    le64_to_cpu(dsuper->total_data_blocks));
	} else {
		ret = 0;
	}
	brelse(bh);
	return ret;
}

static int check_quorum_slot(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	int nr = sbi->opts.quorum_slot_nr;

	if (nr < 0)
		return 0;
	if (sbi->super->quorum_slots[nr].addr_family == SCOUTFS_QUORUM_ADDR_NONE) {
		scoutfs_err(sb, "quorum_slot_nr=%d names a slot that mkfs did not configure",
			    nr);
		return -EINVAL;
	}
	return 0;
}

static int open_meta_dev(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct block_device *bdev;

	sbi->meta_mode = FMODE_READ | FMODE_EXCL;
	if (!sb_rdonly(sb))
		sbi->meta_mode |= FMODE_WRITE;
	bdev = blkdev_get_by_path(sbi->opts.metadev_path, sbi->meta_mode, sb);
	if (IS_ERR(bdev)) {
		scoutfs_err(sb, "cannot open metadata device %s (%ld)",
			    sbi->opts.metadev_path, PTR_ERR(bdev));
		return PTR_ERR(bdev);
	}
	if (bdev == sb->s_bdev) {
		blkdev_put(bdev, sbi->meta_mode);
		scoutfs_err(sb, "the metadata device and the data device must differ");
		return -EINVAL;
	}
	sbi->meta_bdev = bdev;
	return 0;
}

static int scoutfs_statfs(struct dentry *dentry, struct kstatfs *kst)
{
	struct super_block *sb = dentry->d_sb;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_super_block *super = sbi->super;
	u64 fsid = sbi->fsid;

	mutex_lock(&sbi->meta_mutex);
	kst->f_type = SCOUTFS_SUPER_MAGIC;
	kst->f_bsize = SCOUTFS_DATA_BLOCK_SIZE;
	kst->f_frsize = SCOUTFS_DATA_BLOCK_SIZE;
	kst->f_blocks = le64_to_cpu(super->total_data_blocks);
	kst->f_bfree = le64_to_cpu(super->free_data_blocks);
	kst->f_bavail = kst->f_bfree;
	/* each free metadata block can hold many inodes; report a bound */
	kst->f_files = le64_to_cpu(super->inode_count) +
		       le64_to_cpu(super->free_meta_blocks) *
		       SCOUTFS_STATFS_INODES_PER_META_BLOCK;
	kst->f_ffree = kst->f_files - le64_to_cpu(super->inode_count);
	mutex_unlock(&sbi->meta_mutex);
	kst->f_namelen = SCOUTFS_NAME_LEN;
	kst->f_fsid.val[0] = (u32)fsid;
	kst->f_fsid.val[1] = (u32)(fsid >> 32);
	return 0;
}

static int scoutfs_sync_fs(struct super_block *sb, int wait)
{
	if (!wait)
		return 0;
	return scoutfs_trans_commit(sb);
}

static void free_sbi(struct scoutfs_sb_info *sbi)
{
	if (!sbi)
		return;
	kfree(sbi->opts.metadev_path);
	kvfree(sbi->super);
	kfree(sbi);
}

/* Everything fill_super set up, in reverse; each step copes with not set up. */
static void teardown_sbi(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	scoutfs_data_destroy(sb);
	scoutfs_trans_destroy(sb);
	scoutfs_item_destroy(sb);
	scoutfs_lock_destroy(sb);
	scoutfs_block_cache_destroy(sb);
	if (sbi->meta_bdev)
		blkdev_put(sbi->meta_bdev, sbi->meta_mode);
	sb->s_fs_info = NULL;
	free_sbi(sbi);
}

static void scoutfs_put_super(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);

	/* sync_filesystem() waited for writeback, so for its conversions */
	scoutfs_data_flush_ioends(sb);
	if (!sbi->read_only_after_error)
		scoutfs_trans_commit(sb);
	teardown_sbi(sb);
}

static const struct super_operations scoutfs_super_ops = {
	.alloc_inode	= scoutfs_alloc_inode,
	.free_inode	= scoutfs_free_inode,
	.write_inode	= scoutfs_write_inode,
	.dirty_inode	= scoutfs_dirty_inode,
	.evict_inode	= scoutfs_evict_inode,
	.drop_inode	= scoutfs_drop_inode,
	.put_super	= scoutfs_put_super,
	.sync_fs	= scoutfs_sync_fs,
	.statfs		= scoutfs_statfs,
	.show_options	= scoutfs_options_show,
};

static int scoutfs_fill_super(struct super_block *sb, void *data, int silent)
{
	struct scoutfs_sb_info *sbi;
	struct inode *root;
	int ret;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sb->s_fs_info = sbi;
	sbi->sb = sb;
	sbi->rid = get_random_u64();
	mutex_init(&sbi->meta_mutex);
	init_rwsem(&sbi->trans_rwsem);
	scoutfs_data_wait_setup(sb);
	scoutfs_orphan_scan_setup(sb);

	sb->s_magic = SCOUTFS_SUPER_MAGIC;
	sb->s_op = &scoutfs_super_ops;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_flags |= SB_POSIXACL;
	sb->s_xattr = scoutfs_xattr_handlers;
	sb->s_export_op = &scoutfs_export_ops;

	ret = scoutfs_options_parse(sb, data);
	if (ret)
		return ret;
	if (!sb_set_blocksize(sb, SCOUTFS_DATA_BLOCK_SIZE)) {
		scoutfs_err(sb, "data device cannot use %u byte blocks",
			    SCOUTFS_DATA_BLOCK_SIZE);
		return -EINVAL;
	}

	sbi->super = kvzalloc(SCOUTFS_BLOCK_SIZE, GFP_KERNEL);
	if (!sbi->super)
		return -ENOMEM;

	ret = open_meta_dev(sb) ?:
	      read_super(sb) ?:
	      check_data_super(sb) ?:
	      check_quorum_slot(sb) ?:
	      scoutfs_block_cache_setup(sb) ?:
	      scoutfs_lock_setup(sb) ?:
	      scoutfs_item_setup(sb) ?:
	      scoutfs_trans_setup(sb) ?:
	      scoutfs_data_setup(sb);
	if (ret)
		return ret;

	root = scoutfs_iget(sb, SCOUTFS_ROOT_INO);
	if (IS_ERR(root)) {
		scoutfs_err(sb, "cannot read the root inode (%ld)", PTR_ERR(root));
		return PTR_ERR(root);
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;

	ret = scoutfs_orphan_scan(sb) ?:
	      scoutfs_sysfs_setup(sb);
	if (ret)
		return ret;
	scoutfs_orphan_scan_schedule(sb, false);

	scoutfs_info(sb, "mounted fsid %016llx seq %llu meta %s data %s%s",
		     sbi->fsid, sbi->committed_seq, sbi->opts.metadev_path,
		     sb->s_id,
		     sbi->opts.quorum_slot_nr >= 0 ? " (quorum member)" : "");
	return 0;
}

static struct dentry *scoutfs_mount(struct file_system_type *fs_type,
				    int flags, const char *dev_name,
				    void *data)
{
	return mount_bdev(fs_type, flags, dev_name, data, scoutfs_fill_super);
}

/*
 * kill_block_super() calls put_super only for a mounted root; a failed
 * fill_super leaves the devices and sbi to us.
 */
static void scoutfs_kill_sb(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi;

	/* nothing may start work on the mount while it goes */
	scoutfs_sysfs_destroy(sb);
	scoutfs_orphan_scan_stop(sb);
	kill_block_super(sb);
	/* put_super ran and freed it if the mount had succeeded */
	sbi = SCOUTFS_SB(sb);
	if (sbi)
		teardown_sbi(sb);
}

static struct file_system_type scoutfs_fs_type = {
	.owner		= THIS_MODULE,
	.name		= SCOUTFS_FS_TYPE_NAME,
	.mount		= scoutfs_mount,
	.kill_sb	= scoutfs_kill_sb,
	.fs_flags	= FS_REQUIRES_DEV,
};
MODULE_ALIAS_FS("scoutfs");

static int __init scoutfs_module_init(void)
{
	int ret;

	ret = scoutfs_inode_init();
	if (ret)
		return ret;
	ret = scoutfs_sysfs_init();
	if (ret)
		goto out_inode;
	ret = register_filesystem(&scoutfs_fs_type);
	if (ret)
		goto out_sysfs;
	return 0;
out_sysfs:
	scoutfs_sysfs_exit();
out_inode:
	scoutfs_inode_exit();
	return ret;
}

static void __exit scoutfs_module_exit(void)
{
	unregister_filesystem(&scoutfs_fs_type);
	scoutfs_sysfs_exit();
	scoutfs_inode_exit();
}

module_init(scoutfs_module_init);
module_exit(scoutfs_module_exit);

MODULE_AUTHOR("scoutfs developers");
MODULE_DESCRIPTION("scoutfs clustered archive filesystem");
MODULE_LICENSE("GPL");
