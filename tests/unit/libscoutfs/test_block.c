// SPDX-License-Identifier: GPL-2.0
/* Unit tests of block header checksums and verification (block.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "libscoutfs/block.h"
#include "libscoutfs/btree.h"

#define FSID 0x1122334455667788ULL

static void *good_block(void)
{
	unsigned char *blk = calloc(1, SCOUTFS_BLOCK_SIZE);

	assert_non_null(blk);
	for (int i = 100; i < SCOUTFS_BLOCK_SIZE; i++)
		blk[i] = (unsigned char)(i * 7);
	scoutfs_block_init_hdr(blk, SCOUTFS_BLOCK_MAGIC_BTREE, FSID, 5, 40);
	scoutfs_block_set_crc(blk);
	return blk;
}

static int check(void *blk)
{
	return scoutfs_block_check(blk, SCOUTFS_BLOCK_MAGIC_BTREE, FSID, 40, 5);
}

static void a_good_block_passes(void **state)
{
	void *blk = good_block();

	(void)state;
	assert_int_equal(check(blk), 0);
	free(blk);
}

static void a_flipped_byte_anywhere_is_a_crc_failure(void **state)
{
	unsigned char *blk = good_block();

	(void)state;
	blk[SCOUTFS_BLOCK_SIZE - 1] ^= 1;
	assert_int_equal(check(blk), SCOUTFS_BLOCK_BAD_CRC);
	free(blk);
}

static void each_header_field_is_named(void **state)
{
	struct scoutfs_block_header *hdr;
	void *blk = good_block();

	(void)state;
	hdr = blk;
	hdr->magic = cpu_to_le32(SCOUTFS_BLOCK_MAGIC_SUPER);
	scoutfs_block_set_crc(blk);
	assert_int_equal(check(blk), SCOUTFS_BLOCK_BAD_MAGIC);
	free(blk);

	blk = good_block();
	hdr = blk;
	hdr->fsid = cpu_to_le64(FSID + 1);
	scoutfs_block_set_crc(blk);
	assert_int_equal(check(blk), SCOUTFS_BLOCK_BAD_FSID);
	free(blk);

	blk = good_block();
	hdr = blk;
	hdr->blkno = cpu_to_le64(41);	/* a misdirected write */
	scoutfs_block_set_crc(blk);
	assert_int_equal(check(blk), SCOUTFS_BLOCK_BAD_BLKNO);
	free(blk);

	blk = good_block();
	hdr = blk;
	hdr->seq = cpu_to_le64(4);	/* a lost write left an old block */
	scoutfs_block_set_crc(blk);
	assert_int_equal(check(blk), SCOUTFS_BLOCK_BAD_SEQ);
	free(blk);
}

static void several_problems_are_all_reported(void **state)
{
	struct scoutfs_block_header *hdr;
	char buf[SCOUTFS_BLOCK_PROBLEM_STR_LEN];
	void *blk = good_block();
	int problems;

	(void)state;
	hdr = blk;
	hdr->blkno = cpu_to_le64(41);
	hdr->seq = cpu_to_le64(9);	/* not re-checksummed: crc too */
	problems = check(blk);
	assert_int_equal(problems, SCOUTFS_BLOCK_BAD_CRC |
			 SCOUTFS_BLOCK_BAD_BLKNO | SCOUTFS_BLOCK_BAD_SEQ);
	scoutfs_block_problem_str(buf, sizeof(buf), problems);
	assert_string_equal(buf, "crc,blkno,seq");
	scoutfs_block_problem_str(buf, sizeof(buf), 0);
	assert_string_equal(buf, "ok");
	free(blk);
}

static void zero_fsid_and_seq_are_not_checked(void **state)
{
	void *blk = good_block();

	(void)state;
	assert_int_equal(scoutfs_block_check(blk, SCOUTFS_BLOCK_MAGIC_BTREE,
					     0, 40, 0), 0);
	free(blk);
}

static void btree_block_structure_is_checked(void **state)
{
	struct scoutfs_btree_block *bt = calloc(1, SCOUTFS_BLOCK_SIZE);
	const char *why;

	(void)state;
	assert_int_equal(scoutfs_btree_block_check(bt, &why), 0);
	bt->nr_items = cpu_to_le16(60000);
	assert_int_equal(scoutfs_btree_block_check(bt, &why), -EIO);
	assert_non_null(why);
	bt->nr_items = cpu_to_le16(1);
	bt->items[0].val_len = cpu_to_le16(8);
	bt->items[0].val_off = cpu_to_le16(100);	/* not packed at the end */
	bt->val_bytes = cpu_to_le16(8);
	assert_int_equal(scoutfs_btree_block_check(bt, &why), -EIO);
	bt->items[0].val_off = cpu_to_le16(SCOUTFS_BLOCK_SIZE - 8);
	assert_int_equal(scoutfs_btree_block_check(bt, &why), 0);
	bt->level = SCOUTFS_BTREE_MAX_HEIGHT;
	assert_int_equal(scoutfs_btree_block_check(bt, &why), -EIO);
	free(bt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_block_passes),
		cmocka_unit_test(a_flipped_byte_anywhere_is_a_crc_failure),
		cmocka_unit_test(each_header_field_is_named),
		cmocka_unit_test(several_problems_are_all_reported),
		cmocka_unit_test(zero_fsid_and_seq_are_not_checked),
		cmocka_unit_test(btree_block_structure_is_checked),
	};

	return cmocka_run_group_tests_name("block", tests, NULL, NULL);
}
