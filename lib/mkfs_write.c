// SPDX-License-Identifier: GPL-2.0
/*
 * mkfs_write.c: writing a new filesystem onto validated devices.
 *
 * The caller (cli/mkfs.c, the tests) has checked every parameter; this
 * only writes.  Order: zero the super and quorum blocks (so no super of an
 * older filesystem can be found after a crash part way through), write the
 * data device's super, then build transaction 1 through the ordinary
 * transaction code: the free trees describing all free space and the fs
 * tree with the root directory, committed like any later transaction.
 *
 * The allocator trees are empty to begin with and changing them needs
 * reserve blocks, so the first SCOUTFS_ALLOC_SAVED_MAX blocks after
 * SCOUTFS_META_FIRST_BLKNO seed the reserve and everything after them is
 * inserted as one free extent; commit hands back what the reserve did not
 * use.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mkfs_write.h"
#include "txn.h"
#include "libscoutfs/key.h"
#include "libscoutfs/block.h"
#include "libscoutfs/alloc.h"
#include "libscoutfs/btree.h"
#include "libscoutfs/crc32c.h"

static int insert_root_inode(struct scoutfs_txn *txn,
			     const struct scoutfs_mkfs_params *params)
{
	struct scoutfs_super_block *super = txn->super;
	struct scoutfs_inode inode;
	struct scoutfs_key key;
	int ret;

	memset(&inode, 0, sizeof(inode));
	inode.meta_seq = cpu_to_le64(1);
	inode.data_seq = cpu_to_le64(1);
	inode.next_readdir_pos = cpu_to_le64(SCOUTFS_DIRENT_FIRST_POS);
	inode.nlink = cpu_to_le32(2);
	inode.mode = cpu_to_le32(040755);
	inode.atime.sec = cpu_to_le64(params->now_sec);
	inode.atime.nsec = cpu_to_le32(params->now_nsec);
	inode.mtime = inode.atime;
	inode.ctime = inode.atime;
	inode.crtime = inode.atime;

	scoutfs_key_init_inode(&key, SCOUTFS_ROOT_INO);
	ret = scoutfs_btree_insert(&txn->ctx, &super->fs_root, &key, &inode,
				   sizeof(inode));
	if (ret < 0)
		return ret;
	/* every inode has an item in each seq index (inode.c) */
	scoutfs_key_init_meta_seq(&key, 1, SCOUTFS_ROOT_INO);
	ret = scoutfs_btree_insert(&txn->ctx, &super->fs_root, &key, NULL, 0);
	if (ret < 0)
		return ret;
	scoutfs_key_init_data_seq(&key, 1, SCOUTFS_ROOT_INO);
	return scoutfs_btree_insert(&txn->ctx, &super->fs_root, &key, NULL, 0);
}

static int write_data_super(struct scoutfs_dev *data,
			    const struct scoutfs_mkfs_params *params)
{
	struct scoutfs_data_super *dsuper;
	int ret;

	dsuper = calloc(1, SCOUTFS_DATA_BLOCK_SIZE);
	if (!dsuper)
		return -ENOMEM;
	dsuper->magic = cpu_to_le32(SCOUTFS_DATA_SUPER_MAGIC);
	dsuper->fsid = cpu_to_le64(params->fsid);
	dsuper->format_version = cpu_to_le64(SCOUTFS_FORMAT_VERSION);
	dsuper->total_data_blocks = cpu_to_le64(params->data_blocks);
	memcpy(dsuper->uuid, params->uuid, sizeof(dsuper->uuid));
	dsuper->crc = cpu_to_le32(scoutfs_data_super_calc_crc(dsuper));
	ret = scoutfs_dev_write(data, SCOUTFS_DATA_SUPER_BLKNO <<
				SCOUTFS_DATA_BLOCK_SHIFT, dsuper,
				SCOUTFS_DATA_BLOCK_SIZE);
	if (ret == 0)
		ret = scoutfs_dev_sync(data);
	free(dsuper);
	return ret;
}

static int zero_fixed_blocks(struct scoutfs_dev *meta)
{
	void *zeros = calloc(1, SCOUTFS_BLOCK_SIZE);
	u64 blkno;
	int ret = 0;

	if (!zeros)
		return -ENOMEM;
	for (blkno = SCOUTFS_SUPER_BLKNO;
	     blkno < SCOUTFS_QUORUM_BLKNO + SCOUTFS_QUORUM_MAX_SLOTS && !ret;
	     blkno++)
		ret = scoutfs_dev_write(meta, blkno << SCOUTFS_BLOCK_SHIFT,
					zeros, SCOUTFS_BLOCK_SIZE);
	free(zeros);
	return ret;
}

int scoutfs_mkfs_write(struct scoutfs_dev *meta, struct scoutfs_dev *data,
		       const struct scoutfs_mkfs_params *params, char *err,
		       size_t err_size)
{
	struct scoutfs_super_block *super;
	struct scoutfs_txn *txn = NULL;
	const char *what = "";
	u64 first_free;
	u64 i;
	int ret;

	super = calloc(1, sizeof(*super));
	if (!super)
		return -ENOMEM;
	super->hdr.fsid = cpu_to_le64(params->fsid);
	super->format_version = cpu_to_le64(SCOUTFS_FORMAT_VERSION);
	memcpy(super->uuid, params->uuid, sizeof(super->uuid));
	super->next_ino = cpu_to_le64(SCOUTFS_ROOT_INO + 1);
	super->total_meta_blocks = cpu_to_le64(params->meta_blocks);
	super->total_data_blocks = cpu_to_le64(params->data_blocks);
	super->inode_count = cpu_to_le64(1);
	memcpy(super->quorum_slots, params->slots, sizeof(params->slots));

	what = "zeroing the super and quorum blocks";
	ret = zero_fixed_blocks(meta);
	if (ret < 0)
		goto out;
	what = "writing the data device super block";
	ret = write_data_super(data, params);
	if (ret < 0)
		goto out;

	what = "starting the first transaction";
	ret = scoutfs_txn_create(&txn, meta, super);
	if (ret < 0)
		goto out;
	first_free = SCOUTFS_META_FIRST_BLKNO + SCOUTFS_ALLOC_SAVED_MAX;
	for (i = SCOUTFS_META_FIRST_BLKNO; i < first_free; i++)
		scoutfs_alloc_add_reserve(&txn->alloc, i);
	what = "building the free trees";
	ret = scoutfs_alloc_insert_free(&txn->alloc, true, first_free,
					params->meta_blocks - first_free);
	if (ret == 0)
		ret = scoutfs_alloc_insert_free(&txn->alloc, false,
					SCOUTFS_DATA_FIRST_BLKNO,
					params->data_blocks -
					SCOUTFS_DATA_FIRST_BLKNO);
	if (ret < 0)
		goto out;
	what = "creating the root directory";
	ret = insert_root_inode(txn, params);
	if (ret < 0)
		goto out;
	what = "committing the first transaction";
	ret = scoutfs_txn_commit(txn);
out:
	if (ret < 0)
		snprintf(err, err_size, "%s: %s%s%s", what, strerror(-ret),
			 txn && txn->err[0] ? ": " : "",
			 txn && txn->err[0] ? txn->err : "");
	scoutfs_txn_free(txn);
	free(super);
	return ret;
}
