// SPDX-License-Identifier: GPL-2.0
/* Unit tests of key order, stepping and printing (libscoutfs/key.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "libscoutfs/key.h"

static void keys_sort_by_zone_first_type_second_third(void **state)
{
	struct scoutfs_key keys[7];
	int i;

	(void)state;
	/* in ascending order; each differs in exactly one place */
	scoutfs_key_init(&keys[0], 1, 9, 9, 9, 9);
	scoutfs_key_init(&keys[1], 2, 0, 0, 0, 0);
	scoutfs_key_init(&keys[2], 2, 1, 0, 0, 0);
	scoutfs_key_init(&keys[3], 2, 1, 1, 0, 0);
	scoutfs_key_init(&keys[4], 2, 1, 1, 1, 0);
	scoutfs_key_init(&keys[5], 2, 1, 1, 1, 1);
	scoutfs_key_init(&keys[6], 2, 1, 1, 1, ~0ULL);
	for (i = 0; i < 6; i++) {
		assert_true(scoutfs_key_compare(&keys[i], &keys[i + 1]) < 0);
		assert_true(scoutfs_key_compare(&keys[i + 1], &keys[i]) > 0);
		assert_int_equal(scoutfs_key_compare(&keys[i], &keys[i]), 0);
	}
}

static void first_sorts_before_type(void **state)
{
	struct scoutfs_key inode2, dirent1;

	(void)state;
	/* all items of inode 1 come before any of inode 2 */
	scoutfs_key_init_inode(&inode2, 2);
	scoutfs_key_init_dirent(&dirent1, 1, ~0ULL, ~0ULL);
	assert_true(scoutfs_key_compare(&dirent1, &inode2) < 0);
}

static void numbers_compare_unsigned_not_bytewise(void **state)
{
	struct scoutfs_key a, b;

	(void)state;
	/* little-endian bytes would order 256 before 1 */
	scoutfs_key_init(&a, 16, 1, 1, 0, 0);
	scoutfs_key_init(&b, 16, 256, 1, 0, 0);
	assert_true(scoutfs_key_compare(&a, &b) < 0);
	scoutfs_key_init(&b, 16, 1ULL << 63, 1, 0, 0);
	assert_true(scoutfs_key_compare(&a, &b) < 0);
}

static void inc_and_dec_step_to_adjacent_keys(void **state)
{
	struct scoutfs_key key, orig, ones, zeros;

	(void)state;
	scoutfs_key_init(&key, 3, 5, 7, ~0ULL, ~0ULL);
	orig = key;
	scoutfs_key_inc(&key);
	assert_true(scoutfs_key_compare(&orig, &key) < 0);
	assert_int_equal(key.sk_type, 8);
	assert_int_equal(scoutfs_key_second(&key), 0);
	assert_int_equal(scoutfs_key_third(&key), 0);
	scoutfs_key_dec(&key);
	assert_int_equal(scoutfs_key_compare(&orig, &key), 0);

	scoutfs_key_set_ones(&ones);
	scoutfs_key_set_zeros(&zeros);
	key = ones;
	scoutfs_key_inc(&key);
	assert_int_equal(scoutfs_key_compare(&key, &zeros), 0);
	scoutfs_key_dec(&key);
	assert_int_equal(scoutfs_key_compare(&key, &ones), 0);
}

static void keys_print_with_names_and_numbers(void **state)
{
	struct scoutfs_key key;
	char buf[SCOUTFS_KEY_STR_LEN];
	char tiny[6];

	(void)state;
	scoutfs_key_init_inode(&key, 1);
	scoutfs_key_str(buf, sizeof(buf), &key);
	assert_string_equal(buf, "fs.inode 1.0.0");
	scoutfs_key_init_meta_seq(&key, 7, 1);
	scoutfs_key_str(buf, sizeof(buf), &key);
	assert_string_equal(buf, "meta_seq.seq 7.1.0");
	scoutfs_key_init(&key, 99, 1, 42, 2, 3);
	scoutfs_key_str(buf, sizeof(buf), &key);
	assert_string_equal(buf, "99.42 1.2.3");
	scoutfs_key_set_ones(&key);
	assert_true(scoutfs_key_str(buf, sizeof(buf), &key) < SCOUTFS_KEY_STR_LEN);
	assert_int_equal(scoutfs_key_str(tiny, sizeof(tiny), &key) > 5, 1);
	assert_int_equal(strlen(tiny), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_sort_by_zone_first_type_second_third),
		cmocka_unit_test(first_sorts_before_type),
		cmocka_unit_test(numbers_compare_unsigned_not_bytewise),
		cmocka_unit_test(inc_and_dec_step_to_adjacent_keys),
		cmocka_unit_test(keys_print_with_names_and_numbers),
	};

	return cmocka_run_group_tests_name("key", tests, NULL, NULL);
}
