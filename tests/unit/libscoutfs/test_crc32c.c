// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the shared CRC-32C (kmod/src/libscoutfs/crc32c.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"

static void crc32c_matches_the_standard_check_value(void **state)
{
	(void)state;
	/* the published CRC-32C check value of "123456789" */
	assert_int_equal(scoutfs_crc32c(SCOUTFS_CRC32C_SEED, "123456789", 9),
			 0xE3069283U);
}

static void crc32c_of_nothing_is_the_seed(void **state)
{
	(void)state;
	assert_int_equal(scoutfs_crc32c(0, "", 0), 0);
}

static void crc32c_can_be_fed_in_pieces(void **state)
{
	const char *msg = "the quick brown fox jumps over the lazy dog";
	uint32_t whole = scoutfs_crc32c(0, msg, strlen(msg));
	uint32_t part = scoutfs_crc32c(0, msg, 10);

	(void)state;
	part = scoutfs_crc32c(part, msg + 10, strlen(msg) - 10);
	assert_int_equal(whole, part);
}

static void crc32c_detects_every_single_bit_flip(void **state)
{
	unsigned char block[512];
	uint32_t good;
	size_t bit;

	(void)state;
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (unsigned char)(i * 31 + 7);
	good = scoutfs_crc32c(0, block, sizeof(block));
	for (bit = 0; bit < sizeof(block) * 8; bit++) {
		block[bit / 8] ^= 1u << (bit % 8);
		assert_int_not_equal(scoutfs_crc32c(0, block, sizeof(block)), good);
		block[bit / 8] ^= 1u << (bit % 8);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_matches_the_standard_check_value),
		cmocka_unit_test(crc32c_of_nothing_is_the_seed),
		cmocka_unit_test(crc32c_can_be_fed_in_pieces),
		cmocka_unit_test(crc32c_detects_every_single_bit_flip),
	};

	return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
