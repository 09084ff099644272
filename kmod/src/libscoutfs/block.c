// SPDX-License-Identifier: GPL-2.0
/*
 * block.c: metadata block header checksums and verification.
 *
 * Every metadata block starts with struct scoutfs_block_header (format.h).
 * The crc covers the whole 64 KiB block after the crc field, so any torn
 * or corrupted byte is caught; the other header fields catch what a crc
 * cannot: a block of another type (magic), of another filesystem (fsid), a
 * write that landed in the wrong place (blkno) and a write that never
 * landed so an older block is read (seq: the referencing parent records
 * the seq it expects).
 *
 * scoutfs_block_check() returns a bitmask of every check that failed
 * rather than the first, so print and fsck can name all of them.  A zero
 * expected fsid or seq means "not known to the caller, don't check" (a
 * super block is found by position before its fsid is known).
 */
#include "scoutfs_os.h"
#include "block.h"
#include "crc32c.h"

#define CRC_SKIP sizeof(((struct scoutfs_block_header *)0)->crc)

u32 scoutfs_block_calc_crc(const void *blk)
{
	return scoutfs_crc32c(SCOUTFS_CRC32C_SEED, (const u8 *)blk + CRC_SKIP,
			      SCOUTFS_BLOCK_SIZE - CRC_SKIP);
}

void scoutfs_block_set_crc(void *blk)
{
	struct scoutfs_block_header *hdr = blk;

	hdr->crc = cpu_to_le32(scoutfs_block_calc_crc(blk));
}

void scoutfs_block_init_hdr(void *blk, u32 magic, u64 fsid, u64 seq,
			    u64 blkno)
{
	struct scoutfs_block_header *hdr = blk;

	hdr->crc = 0;
	hdr->magic = cpu_to_le32(magic);
	hdr->fsid = cpu_to_le64(fsid);
	hdr->seq = cpu_to_le64(seq);
	hdr->blkno = cpu_to_le64(blkno);
}

int scoutfs_block_check(const void *blk, u32 magic, u64 fsid, u64 blkno,
			u64 seq)
{
	const struct scoutfs_block_header *hdr = blk;
	int problems = 0;

	if (le32_to_cpu(hdr->crc) != scoutfs_block_calc_crc(blk))
		problems |= SCOUTFS_BLOCK_BAD_CRC;
	if (le32_to_cpu(hdr->magic) != magic)
		problems |= SCOUTFS_BLOCK_BAD_MAGIC;
	if (fsid && le64_to_cpu(hdr->fsid) != fsid)
		problems |= SCOUTFS_BLOCK_BAD_FSID;
	if (le64_to_cpu(hdr->blkno) != blkno)
		problems |= SCOUTFS_BLOCK_BAD_BLKNO;
	if (seq && le64_to_cpu(hdr->seq) != seq)
		problems |= SCOUTFS_BLOCK_BAD_SEQ;
	return problems;
}

/* "crc,magic,..." naming each problem bit, or "ok". */
void scoutfs_block_problem_str(char *buf, size_t size, int problems)
{
	static const char *const names[] = {
		"crc", "magic", "fsid", "blkno", "seq",
	};
	size_t len = 0;
	size_t i;
	size_t n;

	if (!size)
		return;
	buf[0] = '\0';
	if (!problems) {
		n = min_t(size_t, size - 1, 2);
		memcpy(buf, "ok", n);
		buf[n] = '\0';
		return;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(problems & (1 << i)))
			continue;
		if (len && len + 1 < size)
			buf[len++] = ',';
		n = min_t(size_t, size - 1 - len, strlen(names[i]));
		memcpy(buf + len, names[i], n);
		len += n;
		buf[len] = '\0';
	}
}

u32 scoutfs_data_super_calc_crc(const struct scoutfs_data_super *dsuper)
{
	return scoutfs_crc32c(SCOUTFS_CRC32C_SEED,
			      (const u8 *)dsuper + sizeof(dsuper->crc),
			      sizeof(*dsuper) - sizeof(dsuper->crc));
}
