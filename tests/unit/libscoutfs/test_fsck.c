// SPDX-License-Identifier: GPL-2.0
/*
 * fsck (lib/inspect.c) finds namespace problems in otherwise valid
 * images: each test builds a filesystem with mkfs, makes one consistent
 * change through the userspace transaction code that leaves the
 * namespace wrong, commits, and expects fsck to name the problem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include "inspect.h"
#include "libscoutfs/btree.h"
#include "libscoutfs/key.h"

/* Run fsck; return its problem count and its report in report. */
static int run_fsck(struct test_fs *fs, char *report, size_t size)
{
	FILE *err = fmemopen(report, size, "w");
	FILE *out = fopen("/dev/null", "w");
	int ret;

	assert_non_null(err);
	assert_non_null(out);
	ret = scoutfs_fsck_image(fs->meta_path, fs->data_path, out, err);
	fclose(err);
	fclose(out);
	return ret;
}

static void set_root_nlink(struct test_fs *fs, uint32_t nlink)
{
	struct scoutfs_txn *txn = fs->txn;
	struct scoutfs_inode inode;
	struct scoutfs_key key;

	scoutfs_key_init_inode(&key, SCOUTFS_ROOT_INO);
	assert_int_equal(scoutfs_btree_lookup(&txn->ctx, &txn->super->fs_root,
					      &key, &inode, sizeof(inode)),
			 sizeof(inode));
	inode.nlink = cpu_to_le32(nlink);
	assert_int_equal(scoutfs_btree_update(&txn->ctx, &txn->super->fs_root,
					      &key, &inode, sizeof(inode)), 0);
	assert_int_equal(scoutfs_txn_commit(txn), 0);
}

static void fsck_is_clean_on_a_new_filesystem(void **state)
{
	struct test_fs fs;
	char report[4096] = "";

	(void)state;
	test_fs_create(&fs, 256, 4096);
	assert_int_equal(run_fsck(&fs, report, sizeof(report)), 0);
	test_fs_destroy(&fs);
}

static void fsck_names_a_directory_with_a_wrong_link_count(void **state)
{
	struct test_fs fs;
	char report[4096] = "";

	(void)state;
	test_fs_create(&fs, 256, 4096);
	set_root_nlink(&fs, 5);
	assert_true(run_fsck(&fs, report, sizeof(report)) > 0);
	assert_non_null(strstr(report, "directory ino 1 has nlink 5 but 0 subdirectories"));
	test_fs_destroy(&fs);
}

static void fsck_names_a_missing_orphan_for_nlink_zero(void **state)
{
	struct test_fs fs;
	char report[4096] = "";

	(void)state;
	test_fs_create(&fs, 256, 4096);
	set_root_nlink(&fs, 0);
	assert_true(run_fsck(&fs, report, sizeof(report)) > 0);
	assert_non_null(strstr(report, "ino 1 has nlink 0 and no orphan item"));
	test_fs_destroy(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fsck_is_clean_on_a_new_filesystem),
		cmocka_unit_test(fsck_names_a_directory_with_a_wrong_link_count),
		cmocka_unit_test(fsck_names_a_missing_orphan_for_nlink_zero),
	};

	return cmocka_run_group_tests_name("fsck", tests, NULL, NULL);
}
