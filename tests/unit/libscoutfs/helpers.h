/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_TEST_HELPERS_H
#define SCOUTFS_TEST_HELPERS_H
/*
 * helpers.h: shared setup for the libscoutfs unit tests: a fresh
 * filesystem in sparse temporary files, opened through the userspace
 * transaction code, and a check that every metadata block is accounted
 * for exactly once.
 */
#include <stdint.h>

#include "txn.h"

struct test_fs {
	char meta_path[64];
	char data_path[64];
	struct scoutfs_dev meta;
	struct scoutfs_dev data;
	struct scoutfs_txn *txn;
};

/* mkfs onto new temp files of meta_blocks/data_blocks and open a txn. */
void test_fs_create(struct test_fs *fs, uint64_t meta_blocks,
		    uint64_t data_blocks);
/* Drop the txn and every cached block, reopen from the image. */
void test_fs_reopen(struct test_fs *fs);
void test_fs_destroy(struct test_fs *fs);
/*
 * Reads the committed image: every meta block after the fixed ones is in
 * exactly one of a free extent, a tree block or the saved reserve, free
 * counts match the trees, and returns the number of leaf items in fs_root.
 */
uint64_t test_fs_check_committed(struct test_fs *fs);
/* A PRNG for reproducible tests (xorshift64*). */
uint64_t test_rand(uint64_t *state);

#endif
