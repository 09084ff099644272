/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_CRC32C_H_
#define _SCOUTFS_CRC32C_H_

#include "scoutfs_os.h"

/*
 * CRC-32C (Castagnoli) as stored in every metadata block header.  crc is
 * the running value: start with SCOUTFS_CRC32C_SEED and feed buffers in
 * order; the result is stored as is (no final inversion beyond the
 * standard one done here).
 */
#define SCOUTFS_CRC32C_SEED 0U

u32 scoutfs_crc32c(u32 crc, const void *buf, size_t len);

#endif
