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

/* The bit-at-a-time definition, to check the sliced tables against. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0U;

	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78U : 0);
	}
	return ~crc;
}

static void crc32c_matches_the_definition_at_every_length_and_alignment(void **state)
{
	uint8_t buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 7)
			assert_int_equal(scoutfs_crc32c(0, buf + off, len),
					 crc32c_bitwise(buf + off, len));
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
		cmocka_unit_test(crc32c_matches_the_definition_at_every_length_and_alignment),
	};

	return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
