// SPDX-License-Identifier: GPL-2.0
/*
 * name_hash.c: the 64-bit hash of a name that orders directory entries
 * (DIRENT items) and xattrs.  Two crc32c's with different seeds make the
 * halves, so it costs two passes of the same table and is the same in the
 * module and in fsck.  Collisions are allowed: lookups compare the name
 * stored in each item of the hash.
 */
#include "scoutfs_os.h"
#include "crc32c.h"
#include "name_hash.h"

#define NAME_HASH_SEED_HI 0x9a5c3e1fU
#define NAME_HASH_SEED_LO 0x2b7d4c6aU

u64 scoutfs_name_hash(const char *name, unsigned int len)
{
	u64 hi = scoutfs_crc32c(NAME_HASH_SEED_HI, name, len);
	u64 lo = scoutfs_crc32c(NAME_HASH_SEED_LO, name, len);

	return hi << 32 | lo;
}
