/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_LIB_MKFS_WRITE_H
#define SCOUTFS_LIB_MKFS_WRITE_H

#include "libscoutfs/scoutfs_os.h"
#include "format.h"
#include "devio.h"

struct scoutfs_mkfs_params {
	u64 meta_blocks;	/* 64 KiB blocks to use on the meta device */
	u64 data_blocks;	/* 4 KiB blocks to use on the data device */
	u64 fsid;
	u8 uuid[16];
	u64 now_sec;
	u32 now_nsec;
	struct scoutfs_quorum_slot slots[SCOUTFS_QUORUM_MAX_SLOTS];
};

int scoutfs_mkfs_write(struct scoutfs_dev *meta, struct scoutfs_dev *data,
		       const struct scoutfs_mkfs_params *params, char *err,
		       size_t err_size);

#endif
