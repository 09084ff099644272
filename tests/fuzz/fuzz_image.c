// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_image.c: mutates valid filesystem images and runs them through the
 * print and fsck readers (lib/inspect.c), which must report problems and
 * never crash, hang or touch memory they shouldn't (run under ASan/UBSan
 * by `make check SANITIZE=1`).
 *
 * A plain seeded loop, one TAP case per mutation kind, each for
 * SCOUTFS_FUZZ_SECONDS seconds (default 2).  Mutations with "recrc" fix
 * the block's crc afterwards so the structural checks behind the crc are
 * exercised too, not only the checksum.
 *
 * usage: fuzz_image [SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devio.h"
#include "inspect.h"
#include "mkfs_write.h"
#include "txn.h"
#include "libscoutfs/block.h"
#include "libscoutfs/btree.h"
#include "libscoutfs/key.h"

#define META_BLOCKS 256
#define DATA_BLOCKS 512

static char meta_path[] = "/tmp/scoutfs-fuzz-meta-XXXXXX";
static char data_path[] = "/tmp/scoutfs-fuzz-data-XXXXXX";
static uint8_t *image;		/* the valid metadata image */
static uint64_t used_blocks[META_BLOCKS];
static int nr_used;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static int make_image(void)
{
	struct scoutfs_mkfs_params params = { 0 };
	struct scoutfs_dev meta, data;
	struct scoutfs_txn *txn;
	struct scoutfs_key key;
	char err[512];
	uint8_t val[200];
	int fd, i, ret;

	fd = mkstemp(meta_path);
	if (fd < 0 || ftruncate(fd, (off_t)META_BLOCKS << SCOUTFS_BLOCK_SHIFT))
		return -1;
	close(fd);
	fd = mkstemp(data_path);
	if (fd < 0 || ftruncate(fd, (off_t)DATA_BLOCKS << SCOUTFS_DATA_BLOCK_SHIFT))
		return -1;
	close(fd);
	if (scoutfs_dev_open(&meta, meta_path, true) ||
	    scoutfs_dev_open(&data, data_path, true))
		return -1;
	params.meta_blocks = META_BLOCKS;
	params.data_blocks = DATA_BLOCKS;
	params.fsid = 42;
	params.slots[0].addr_family = SCOUTFS_QUORUM_ADDR_IPV4;
	params.slots[0].port = cpu_to_le16(12345);
	ret = scoutfs_mkfs_write(&meta, &data, &params, err, sizeof(err));
	if (ret)
		return ret;
	/* grow the fs tree past one leaf so parents get fuzzed too */
	ret = scoutfs_txn_open(&txn, &meta);
	if (ret)
		return ret;
	memset(val, 0x5a, sizeof(val));
	for (i = 0; i < 600 && !ret; i++) {
		scoutfs_key_init_xattr(&key, SCOUTFS_ROOT_INO, i, 1, 0);
		ret = scoutfs_btree_insert(&txn->ctx, &txn->super->fs_root,
					   &key, val, sizeof(val));
	}
	if (!ret)
		ret = scoutfs_txn_commit(txn);
	scoutfs_txn_free(txn);
	scoutfs_dev_close(&meta);
	scoutfs_dev_close(&data);
	return ret;
}

static int load_image(void)
{
	FILE *f = fopen(meta_path, "rb");
	uint64_t b;
	size_t i;

	image = malloc((size_t)META_BLOCKS << SCOUTFS_BLOCK_SHIFT);
	if (!f || !image ||
	    fread(image, SCOUTFS_BLOCK_SIZE, META_BLOCKS, f) != META_BLOCKS)
		return -1;
	fclose(f);
	for (b = 1; b < META_BLOCKS; b++) {
		uint8_t *blk = image + (b << SCOUTFS_BLOCK_SHIFT);

		for (i = 0; i < 64; i++)
			if (blk[i])
				break;
		if (i < 64)
			used_blocks[nr_used++] = b;
	}
	return 0;
}

static int write_block(FILE *f, uint64_t b, const uint8_t *buf)
{
	return fseeko(f, (off_t)b << SCOUTFS_BLOCK_SHIFT, SEEK_SET) ||
	       fwrite(buf, SCOUTFS_BLOCK_SIZE, 1, f) != 1;
}

enum { M_BITFLIP, M_HEADER, M_RANDOM_BLOCK, M_TRUNCATE, M_BITFLIP_RECRC,
       M_ITEMS_RECRC, NR_MUTATIONS };

static const char *const names[] = {
	"bit flips", "random header bytes", "random blocks", "truncation",
	"bit flips with fixed crc", "item header bytes with fixed crc",
};

/* One iteration: mutate a copy of some blocks, run the readers, restore. */
static int one_case(int kind)
{
	uint8_t *buf = malloc(SCOUTFS_BLOCK_SIZE);
	uint64_t b = used_blocks[rnd() % nr_used];
	FILE *f = fopen(meta_path, "r+b");
	FILE *null = fopen("/dev/null", "w");
	int n, i;

	if (!buf || !f || !null)
		return -1;
	memcpy(buf, image + (b << SCOUTFS_BLOCK_SHIFT), SCOUTFS_BLOCK_SIZE);
	n = 1 + rnd() % 8;
	switch (kind) {
	case M_BITFLIP:
	case M_BITFLIP_RECRC:
		for (i = 0; i < n; i++) {
			uint64_t bit = rnd() % ((uint64_t)SCOUTFS_BLOCK_SIZE * 8);

			/* favour the front where headers and item headers are */
			if (rnd() % 2)
				bit %= 4096 * 8;
			buf[bit / 8] ^= 1 << (bit % 8);
		}
		break;
	case M_HEADER:
		for (i = 0; i < n; i++)
			buf[rnd() % 48] = (uint8_t)rnd();
		break;
	case M_ITEMS_RECRC:
		for (i = 0; i < n; i++)
			buf[32 + rnd() % 2048] = (uint8_t)rnd();
		break;
	case M_RANDOM_BLOCK:
		for (i = 0; i < SCOUTFS_BLOCK_SIZE; i++)
			buf[i] = (uint8_t)rnd();
		break;
	case M_TRUNCATE:
		break;
	}
	if (kind == M_BITFLIP_RECRC || kind == M_ITEMS_RECRC)
		scoutfs_block_set_crc(buf);

	if (kind == M_TRUNCATE) {
		fflush(f);
		if (ftruncate(fileno(f), rnd() % ((off_t)META_BLOCKS << SCOUTFS_BLOCK_SHIFT)))
			return -1;
	} else if (write_block(f, b, buf)) {
		return -1;
	}
	fflush(f);

	scoutfs_print_image(meta_path, null, null);
	scoutfs_fsck_image(meta_path, data_path, null, null);

	/* restore */
	if (kind == M_TRUNCATE) {
		if (ftruncate(fileno(f), (off_t)META_BLOCKS << SCOUTFS_BLOCK_SHIFT))
			return -1;
		for (i = 0; i < nr_used; i++)
			if (write_block(f, used_blocks[i], image +
					(used_blocks[i] << SCOUTFS_BLOCK_SHIFT)))
				return -1;
	} else if (write_block(f, b, image + (b << SCOUTFS_BLOCK_SHIFT))) {
		return -1;
	}
	fclose(f);
	fclose(null);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("SCOUTFS_FUZZ_SECONDS");
	double seconds = env ? atof(env) : 2;
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);
	int failed = 0;
	int kind;

	rng = seed | 1;
	printf("1..%d\n", NR_MUTATIONS + 1);
	printf("# seed %llu, %.1f seconds per mutation kind\n",
	       (unsigned long long)seed, seconds);
	if (make_image() || load_image()) {
		printf("not ok 1 - build a valid image\n");
		return 1;
	}
	if (scoutfs_fsck_image(meta_path, data_path, NULL, stderr) != 0) {
		printf("not ok 1 - the unmutated image is clean\n");
		failed = 1;
	} else {
		printf("ok 1 - the unmutated image is clean\n");
	}
	for (kind = 0; kind < NR_MUTATIONS; kind++) {
		struct timespec start, now;
		long iters = 0;

		clock_gettime(CLOCK_MONOTONIC, &start);
		do {
			if (one_case(kind)) {
				failed = 1;
				break;
			}
			iters++;
			clock_gettime(CLOCK_MONOTONIC, &now);
		} while ((now.tv_sec - start.tv_sec) +
			 (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
		printf("%s %d - fuzz %s: %ld images, no crash\n",
		       failed ? "not ok" : "ok", kind + 2, names[kind], iters);
	}
	unlink(meta_path);
	unlink(data_path);
	free(image);
	return failed;
}
