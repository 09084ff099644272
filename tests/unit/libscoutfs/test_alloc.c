// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the allocator (libscoutfs/alloc.c): exhaustion, blocks
 * freed in a transaction not reused before its commit, reuse after it,
 * contiguous data allocation, double frees refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "helpers.h"
#include "libscoutfs/alloc.h"

#define META_BLOCKS (SCOUTFS_META_MIN_BLOCKS * 2)
#define DATA_BLOCKS 1024

static void data_allocates_until_enospc_and_reuses_only_after_commit(void **state)
{
	struct test_fs fs;
	uint8_t *used = calloc(DATA_BLOCKS, 1);
	uint64_t start, len, total = 0, free_before;

	(void)state;
	test_fs_create(&fs, META_BLOCKS, DATA_BLOCKS);
	free_before = le64_to_cpu(fs.txn->super->free_data_blocks);
	assert_int_equal(free_before, DATA_BLOCKS - SCOUTFS_DATA_FIRST_BLKNO);
	for (;;) {
		int ret = scoutfs_alloc_data(&fs.txn->alloc, 7, &start, &len);

		if (ret == -ENOSPC)
			break;
		assert_int_equal(ret, 0);
		assert_true(len >= 1 && len <= 7);
		for (uint64_t i = start; i < start + len; i++) {
			assert_true(i >= SCOUTFS_DATA_FIRST_BLKNO && i < DATA_BLOCKS);
			assert_int_equal(used[i], 0);
			used[i] = 1;
		}
		total += len;
	}
	assert_int_equal(total, free_before);
	assert_int_equal(le64_to_cpu(fs.txn->super->free_data_blocks), 0);

	/* freed now, but the committed super may still reference them */
	assert_int_equal(scoutfs_alloc_free_data(&fs.txn->alloc,
			 SCOUTFS_DATA_FIRST_BLKNO, free_before), 0);
	assert_int_equal(scoutfs_alloc_data(&fs.txn->alloc, 1, &start, &len),
			 -ENOSPC);
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	test_fs_check_committed(&fs);
	assert_int_equal(le64_to_cpu(fs.txn->super->free_data_blocks),
			 free_before);
	assert_int_equal(scoutfs_alloc_data(&fs.txn->alloc, 1, &start, &len), 0);
	assert_int_equal(len, 1);
	test_fs_destroy(&fs);
	free(used);
}

/* One writer's successive allocations follow each other on the device. */
static void successive_data_allocations_are_contiguous(void **state)
{
	struct test_fs fs;
	uint64_t start, len, next = 0;

	(void)state;
	test_fs_create(&fs, META_BLOCKS, DATA_BLOCKS);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(scoutfs_alloc_data(&fs.txn->alloc, 3, &start,
						    &len), 0);
		assert_int_equal(len, 3);
		if (i > 0)
			assert_int_equal(start, next);
		next = start + len;
	}
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	test_fs_check_committed(&fs);
	test_fs_destroy(&fs);
}

static void meta_allocates_until_enospc_without_reusing_freed(void **state)
{
	struct test_fs fs;
	uint64_t *got = calloc(META_BLOCKS, sizeof(uint64_t));
	uint8_t *seen = calloc(META_BLOCKS, 1);
	uint64_t blkno;
	int nr = 0, i, ret;

	(void)state;
	test_fs_create(&fs, META_BLOCKS, DATA_BLOCKS);
	while ((ret = scoutfs_alloc_meta(&fs.txn->alloc, &blkno)) == 0) {
		assert_true(blkno >= SCOUTFS_META_FIRST_BLKNO && blkno < META_BLOCKS);
		assert_int_equal(seen[blkno], 0);
		seen[blkno] = 1;
		got[nr++] = blkno;
		/* free every other block right away: it must not come back */
		if (nr % 2 == 0)
			assert_int_equal(scoutfs_alloc_free_meta(&fs.txn->alloc,
								 blkno), 0);
	}
	assert_int_equal(ret, -ENOSPC);
	assert_true(nr > (int)(META_BLOCKS / 2));

	/* return the rest and commit: then they are allocatable again */
	for (i = 0; i < nr; i += 2)
		assert_int_equal(scoutfs_alloc_free_meta(&fs.txn->alloc, got[i]), 0);
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	test_fs_check_committed(&fs);
	for (i = 0; i < nr / 2; i++)
		assert_int_equal(scoutfs_alloc_meta(&fs.txn->alloc, &blkno), 0);
	test_fs_destroy(&fs);
	free(got);
	free(seen);
}

static void a_double_free_is_refused_at_commit(void **state)
{
	struct test_fs fs;
	uint64_t start, len;

	(void)state;
	test_fs_create(&fs, META_BLOCKS, DATA_BLOCKS);
	assert_int_equal(scoutfs_alloc_data(&fs.txn->alloc, 4, &start, &len), 0);
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	assert_int_equal(scoutfs_alloc_free_data(&fs.txn->alloc, start, len), 0);
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	/* already free in the tree: inserting it again overlaps */
	assert_int_equal(scoutfs_alloc_insert_free(&fs.txn->alloc, false,
						   start, 1), -EIO);
	test_fs_destroy(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_allocates_until_enospc_and_reuses_only_after_commit),
		cmocka_unit_test(successive_data_allocations_are_contiguous),
		cmocka_unit_test(meta_allocates_until_enospc_without_reusing_freed),
		cmocka_unit_test(a_double_free_is_refused_at_commit),
	};

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
