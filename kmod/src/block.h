/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_KBLOCK_H_
#define _SCOUTFS_KBLOCK_H_

#include <linux/blk_types.h>
#include "libscoutfs/block.h"

extern const struct scoutfs_block_ops scoutfs_kernel_block_ops;

int scoutfs_block_cache_setup(struct super_block *sb);
void scoutfs_block_cache_destroy(struct super_block *sb);
int scoutfs_block_io(struct super_block *sb, blk_opf_t opf, u64 blkno,
		     void *data);
int scoutfs_block_write_dirty(struct super_block *sb);
unsigned long scoutfs_block_nr_dirty(struct super_block *sb);

#endif
