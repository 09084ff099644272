/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_BLOCK_H_
#define _SCOUTFS_BLOCK_H_

#include "scoutfs_os.h"
#include "../format.h"

/*
 * What scoutfs_block_check() found wrong with a block, as a bitmask so a
 * block with several problems reports all of them.
 */
#define SCOUTFS_BLOCK_BAD_CRC	(1 << 0)
#define SCOUTFS_BLOCK_BAD_MAGIC	(1 << 1)
#define SCOUTFS_BLOCK_BAD_FSID	(1 << 2)
#define SCOUTFS_BLOCK_BAD_BLKNO	(1 << 3)
#define SCOUTFS_BLOCK_BAD_SEQ	(1 << 4)

/* Longest string scoutfs_block_problem_str() writes. */
#define SCOUTFS_BLOCK_PROBLEM_STR_LEN 32

u32 scoutfs_block_calc_crc(const void *blk);
void scoutfs_block_set_crc(void *blk);
void scoutfs_block_init_hdr(void *blk, u32 magic, u64 fsid, u64 seq,
			    u64 blkno);
int scoutfs_block_check(const void *blk, u32 magic, u64 fsid, u64 blkno,
			u64 seq);
void scoutfs_block_problem_str(char *buf, size_t size, int problems);

u32 scoutfs_data_super_calc_crc(const struct scoutfs_data_super *dsuper);

/*
 * The block access interface the btree and allocator are written against.
 * The module implements it with its block cache, userspace with pread/
 * pwrite (lib/txn.c).  Buffers are SCOUTFS_BLOCK_SIZE bytes, owned by the
 * implementation and valid until released.
 *
 * read: return the block that ref names.  A block already dirty in the
 *	current transaction is returned as is; any other is read and must
 *	pass scoutfs_block_check() for magic, fsid, ref->blkno and ref->seq,
 *	or the read fails with -EIO (after reporting which check failed).
 * new_dirty: return a zeroed dirty buffer for a blkno the caller has just
 *	allocated; it will be written at commit.
 * release: drop a buffer returned by read or new_dirty.
 * forget: blkno has been freed; drop any cached or dirty copy of it.
 */
struct scoutfs_block_ops {
	int (*read)(void *arg, const struct scoutfs_block_ref *ref, u32 magic,
		    void **buf);
	int (*new_dirty)(void *arg, u64 blkno, void **buf);
	void (*release)(void *arg, void *buf);
	void (*forget)(void *arg, u64 blkno);
};

#endif
