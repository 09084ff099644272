// SPDX-License-Identifier: GPL-2.0
/*
 * crc32c.c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of every metadata block.
 *
 * Written once for the module and the tools, so a block the module wrote
 * checks out in fsck bit for bit.  The slice-by-8 tables are computed on
 * first use; they are a pure function of the polynomial, so racing
 * initialisations write identical values and need no lock.  The standard
 * CRC-32C is returned: scoutfs_crc32c(0, "123456789", 9) == 0xE3069283.
 */
#include "scoutfs_os.h"
#include "crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82F63B78U

/*
 * Slice-by-8: table[0] is the byte-at-a-time table, table[k][i] the CRC
 * of byte i followed by k zero bytes, so eight bytes are folded in with
 * eight lookups instead of eight dependent steps.  Bytes are assembled
 * explicitly, so the result does not depend on the CPU's byte order.
 */
static u32 crc32c_table[8][256];
static bool crc32c_table_ready;

static void crc32c_init_table(void)
{
	u32 i, bit, crc, k;

	for (i = 0; i < 256; i++) {
		crc = i;
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ ((crc & 1) ? CRC32C_POLY_REFLECTED : 0);
		crc32c_table[0][i] = crc;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			crc32c_table[k][i] = (crc32c_table[k - 1][i] >> 8) ^
				crc32c_table[0][crc32c_table[k - 1][i] & 0xff];
	crc32c_table_ready = true;
}

static u32 le32_at(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

u32 scoutfs_crc32c(u32 crc, const void *buf, size_t len)
{
	const u32 (*t)[256] = crc32c_table;
	const u8 *p = buf;
	u32 lo, hi;

	if (!crc32c_table_ready)
		crc32c_init_table();

	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		lo = crc ^ le32_at(p);
		hi = le32_at(p + 4);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
