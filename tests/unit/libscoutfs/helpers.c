// SPDX-License-Identifier: GPL-2.0
/* test_helpers.c: see helpers.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "mkfs_write.h"
#include "libscoutfs/block.h"
#include "libscoutfs/btree.h"
#include "libscoutfs/key.h"

uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void make_file(char *path, uint64_t bytes)
{
	int fd;

	strcpy(path, "/tmp/scoutfs-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, bytes), 0);
	close(fd);
}

void test_fs_create(struct test_fs *fs, uint64_t meta_blocks,
		    uint64_t data_blocks)
{
	struct scoutfs_mkfs_params params;
	char err[512];

	memset(fs, 0, sizeof(*fs));
	make_file(fs->meta_path, meta_blocks << SCOUTFS_BLOCK_SHIFT);
	make_file(fs->data_path, data_blocks << SCOUTFS_DATA_BLOCK_SHIFT);
	assert_int_equal(scoutfs_dev_open(&fs->meta, fs->meta_path, true), 0);
	assert_int_equal(scoutfs_dev_open(&fs->data, fs->data_path, true), 0);

	memset(&params, 0, sizeof(params));
	params.meta_blocks = meta_blocks;
	params.data_blocks = data_blocks;
	params.fsid = 0x1234abcd5678ef01ULL;
	params.now_sec = 1700000000;
	assert_int_equal(scoutfs_mkfs_write(&fs->meta, &fs->data, &params,
					    err, sizeof(err)), 0);
	assert_int_equal(scoutfs_txn_open(&fs->txn, &fs->meta), 0);
}

void test_fs_reopen(struct test_fs *fs)
{
	scoutfs_txn_free(fs->txn);
	fs->txn = NULL;
	assert_int_equal(scoutfs_txn_open(&fs->txn, &fs->meta), 0);
}

void test_fs_destroy(struct test_fs *fs)
{
	scoutfs_txn_free(fs->txn);
	scoutfs_dev_close(&fs->meta);
	scoutfs_dev_close(&fs->data);
	unlink(fs->meta_path);
	unlink(fs->data_path);
}

struct walk {
	struct scoutfs_dev *meta;
	uint8_t *seen;
	uint64_t total;
	uint64_t fsid;
	uint64_t items;
	uint64_t free_sum;
	void *buf;
};

static void mark(struct walk *w, uint64_t blkno, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		assert_true(blkno + i >= SCOUTFS_META_FIRST_BLKNO);
		assert_true(blkno + i < w->total);
		assert_int_equal(w->seen[blkno + i], 0);
		w->seen[blkno + i] = 1;
	}
}

static void walk_block(struct walk *w, const struct scoutfs_block_ref *ref,
		       int level, int is_free, int is_meta)
{
	struct scoutfs_btree_block *bt;
	struct scoutfs_block_ref child;
	uint64_t blkno = le64_to_cpu(ref->blkno);
	unsigned int i;

	mark(w, blkno, 1);
	bt = malloc(SCOUTFS_BLOCK_SIZE);
	assert_non_null(bt);
	assert_int_equal(scoutfs_dev_read(w->meta, blkno << SCOUTFS_BLOCK_SHIFT,
					  bt, SCOUTFS_BLOCK_SIZE), 0);
	assert_int_equal(scoutfs_block_check(bt, SCOUTFS_BLOCK_MAGIC_BTREE,
					     w->fsid, blkno,
					     le64_to_cpu(ref->seq)), 0);
	assert_int_equal(scoutfs_btree_block_check(bt, NULL), 0);
	assert_int_equal(bt->level, level);
	for (i = 0; i < le16_to_cpu(bt->nr_items); i++) {
		if (level) {
			memcpy(&child, scoutfs_btree_item_val(bt, i),
			       sizeof(child));
			walk_block(w, &child, level - 1, is_free, is_meta);
			continue;
		}
		w->items++;
		if (is_free) {
			struct scoutfs_free_extent fext;

			memcpy(&fext, scoutfs_btree_item_val(bt, i),
			       sizeof(fext));
			w->free_sum += le64_to_cpu(fext.len);
			if (is_meta)
				mark(w, scoutfs_key_first(&bt->items[i].key),
				     le64_to_cpu(fext.len));
		}
	}
	free(bt);
}

static uint64_t walk_root(struct walk *w, struct scoutfs_btree_root *root,
			  int is_free, int is_meta)
{
	w->items = 0;
	w->free_sum = 0;
	if (root->height)
		walk_block(w, &root->ref, root->height - 1, is_free, is_meta);
	return is_free ? w->free_sum : w->items;
}

uint64_t test_fs_check_committed(struct test_fs *fs)
{
	struct scoutfs_super_block super;
	struct walk w = { .meta = &fs->meta };
	uint64_t items;
	uint64_t i;

	assert_int_equal(scoutfs_super_read_current(&fs->meta, &super, NULL), 0);
	w.total = le64_to_cpu(super.total_meta_blocks);
	w.fsid = le64_to_cpu(super.hdr.fsid);
	w.seen = calloc(w.total, 1);
	assert_non_null(w.seen);

	items = walk_root(&w, &super.fs_root, 0, 0);
	assert_int_equal(walk_root(&w, &super.meta_free, 1, 1),
			 le64_to_cpu(super.free_meta_blocks));
	assert_int_equal(walk_root(&w, &super.data_free, 1, 0),
			 le64_to_cpu(super.free_data_blocks));
	walk_root(&w, &super.logs_root, 0, 0);
	for (i = 0; i < le64_to_cpu(super.alloc_reserve_nr); i++)
		mark(&w, le64_to_cpu(super.alloc_reserve[i]), 1);
	for (i = SCOUTFS_META_FIRST_BLKNO; i < w.total; i++)
		if (!w.seen[i])
			fail_msg("meta block %llu neither free nor referenced",
				 (unsigned long long)i);
	free(w.seen);
	return items;
}
