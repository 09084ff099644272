// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI (kmod/src/ioctl.h) must match upstream scoutfs byte for
 * byte so existing tools work: numbers, struct sizes and field offsets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ioctl.h"

#define assert_offset(type, field, off) \
	assert_int_equal(offsetof(struct type, field), (off))

static void ioctl_numbers_match_upstream(void **state)
{
	(void)state;
	assert_int_equal(_IOC_TYPE(SCOUTFS_IOC_WALK_INODES), 0xE8);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_WALK_INODES), 1);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_INO_PATH), 2);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_RELEASE), 3);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_STAGE), 4);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_STAT_MORE), 5);
	assert_int_equal(_IOC_DIR(SCOUTFS_IOC_STAT_MORE), _IOC_READ);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_DATA_WAITING), 6);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_SETATTR_MORE), 7);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_LISTXATTR_HIDDEN), 8);
	assert_int_equal(_IOC_DIR(SCOUTFS_IOC_LISTXATTR_HIDDEN),
			 _IOC_READ | _IOC_WRITE);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_SEARCH_XATTRS), 9);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_STATFS_MORE), 10);
	assert_int_equal(_IOC_NR(SCOUTFS_IOC_DATA_WAIT_ERR), 11);
}

static void ioctl_struct_layouts_match_upstream(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct scoutfs_ioctl_walk_inodes_entry), 24);
	assert_int_equal(sizeof(struct scoutfs_ioctl_walk_inodes), 72);
	assert_offset(scoutfs_ioctl_walk_inodes, entries_ptr, 48);
	assert_offset(scoutfs_ioctl_walk_inodes, index, 60);
	assert_int_equal(sizeof(struct scoutfs_ioctl_ino_path), 40);
	assert_int_equal(sizeof(struct scoutfs_ioctl_ino_path_result), 24);
	assert_int_equal(sizeof(struct scoutfs_ioctl_release), 24);
	assert_int_equal(sizeof(struct scoutfs_ioctl_stage), 32);
	assert_int_equal(sizeof(struct scoutfs_ioctl_stat_more), 56);
	assert_int_equal(sizeof(struct scoutfs_ioctl_data_waiting_entry), 24);
	assert_int_equal(sizeof(struct scoutfs_ioctl_data_waiting), 40);
	assert_int_equal(sizeof(struct scoutfs_ioctl_setattr_more), 48);
	assert_offset(scoutfs_ioctl_setattr_more, crtime_sec, 40);
	assert_int_equal(sizeof(struct scoutfs_ioctl_listxattr_hidden), 24);
	assert_int_equal(sizeof(struct scoutfs_ioctl_search_xattrs), 56);
	assert_int_equal(sizeof(struct scoutfs_ioctl_statfs_more), 48);
	assert_int_equal(sizeof(struct scoutfs_ioctl_data_wait_err), 48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ioctl_numbers_match_upstream),
		cmocka_unit_test(ioctl_struct_layouts_match_upstream),
	};

	return cmocka_run_group_tests_name("ioctl_abi", tests, NULL, NULL);
}
