// SPDX-License-Identifier: GPL-2.0
/*
 * crc32c.c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of every metadata block.
 *
 * Written once for the module and the tools, so a block the module wrote
 * checks out in fsck bit for bit.  A slice-by-one table is computed on
 * first use; it is a pure function of the polynomial, so racing
 * initialisations write identical values and need no lock.  The standard
 * CRC-32C is returned: scoutfs_crc32c(0, "123456789", 9) == 0xE3069283.
 */
#include "scoutfs_os.h"
#include "crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82F63B78U

static u32 crc32c_table[256];
static bool crc32c_table_ready;

static void crc32c_init_table(void)
{
	u32 i, bit, crc;

	for (i = 0; i < 256; i++) {
		crc = i;
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ ((crc & 1) ? CRC32C_POLY_REFLECTED : 0);
		crc32c_table[i] = crc;
	}
	crc32c_table_ready = true;
}

u32 scoutfs_crc32c(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	if (!crc32c_table_ready)
		crc32c_init_table();

	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ *p++) & 0xff];
	return ~crc;
}
