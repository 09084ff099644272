// SPDX-License-Identifier: GPL-2.0
/*
 * txn.c: the userspace implementation of the libscoutfs block interface,
 * and commit, for mkfs and the tests.
 *
 * Owns a cache of 64 KiB block buffers keyed by blkno.  Clean buffers were
 * read and verified (crc, magic, fsid, blkno, seq) once; dirty buffers
 * were made by new_dirty for blocks allocated in this transaction and are
 * written only at commit.  A buffer is never evicted while referenced or
 * dirty; clean unreferenced buffers are dropped when the cache grows past
 * CACHE_MAX_CLEAN.
 *
 * Commit follows format.h: record the freed lists (scoutfs_alloc_commit),
 * write every dirty block with its crc, fsync, then write the super for
 * seq into slot seq % 2 and fsync again.  Until the second fsync the
 * previous super and everything it references are untouched, so a crash
 * at any point leaves one of the two committed states.
 */
#include <stdio.h>
#include <stdlib.h>

#include "txn.h"
#include "libscoutfs/block.h"

#define CACHE_BUCKETS 4096
#define CACHE_MAX_CLEAN 2048
#define FREED_CAP (1U << 16)

struct txn_ent {
	struct txn_ent *next;
	u64 blkno;
	int refs;
	bool dirty;
	u8 data[] __attribute__((aligned(64)));
};

struct txn_cache {
	struct txn_ent *buckets[CACHE_BUCKETS];
	u32 nr;
};

static struct txn_ent **bucket(struct txn_cache *cache, u64 blkno)
{
	return &cache->buckets[blkno % CACHE_BUCKETS];
}

static struct txn_ent *cache_find(struct txn_cache *cache, u64 blkno)
{
	struct txn_ent *ent;

	for (ent = *bucket(cache, blkno); ent; ent = ent->next)
		if (ent->blkno == blkno)
			return ent;
	return NULL;
}

static void cache_remove(struct txn_cache *cache, struct txn_ent *ent)
{
	struct txn_ent **pp = bucket(cache, ent->blkno);

	while (*pp != ent)
		pp = &(*pp)->next;
	*pp = ent->next;
	cache->nr--;
	free(ent);
}

static void cache_shrink(struct txn_cache *cache)
{
	struct txn_ent *ent;
	struct txn_ent *next;
	u32 i;

	if (cache->nr < CACHE_MAX_CLEAN)
		return;
	for (i = 0; i < CACHE_BUCKETS; i++) {
		for (ent = cache->buckets[i]; ent; ent = next) {
			next = ent->next;
			if (!ent->dirty && ent->refs == 0)
				cache_remove(cache, ent);
		}
	}
}

static struct txn_ent *cache_add(struct txn_cache *cache, u64 blkno)
{
	struct txn_ent *ent;

	cache_shrink(cache);
	ent = calloc(1, sizeof(*ent) + SCOUTFS_BLOCK_SIZE);
	if (!ent)
		return NULL;
	ent->blkno = blkno;
	ent->next = *bucket(cache, blkno);
	*bucket(cache, blkno) = ent;
	cache->nr++;
	return ent;
}

static struct txn_ent *buf_ent(void *buf)
{
	return (struct txn_ent *)((u8 *)buf - offsetof(struct txn_ent, data));
}

static int txn_read(void *arg, const struct scoutfs_block_ref *ref,
		    u32 magic, void **buf)
{
	struct scoutfs_txn *txn = arg;
	u64 blkno = le64_to_cpu(ref->blkno);
	u64 seq = le64_to_cpu(ref->seq);
	u64 fsid = le64_to_cpu(txn->super->hdr.fsid);
	char why[SCOUTFS_BLOCK_PROBLEM_STR_LEN];
	struct scoutfs_block_header *hdr;
	struct txn_ent *ent;
	int problems;
	int ret;

	if (blkno < SCOUTFS_META_FIRST_BLKNO ||
	    blkno >= txn->meta->size >> SCOUTFS_BLOCK_SHIFT) {
		snprintf(txn->err, sizeof(txn->err),
			 "%s: block ref %llu outside the metadata device",
			 txn->meta->path, (unsigned long long)blkno);
		return -EIO;
	}
	ent = cache_find(txn->cache, blkno);
	if (ent) {
		hdr = (void *)ent->data;
		if (le32_to_cpu(hdr->magic) != magic ||
		    le64_to_cpu(hdr->seq) != seq) {
			snprintf(txn->err, sizeof(txn->err),
				 "%s: block %llu: cached magic or seq does not match its ref",
				 txn->meta->path, (unsigned long long)blkno);
			return -EIO;
		}
		ent->refs++;
		*buf = ent->data;
		return 0;
	}
	ent = cache_add(txn->cache, blkno);
	if (!ent)
		return -ENOMEM;
	ret = scoutfs_dev_read(txn->meta, blkno << SCOUTFS_BLOCK_SHIFT,
			       ent->data, SCOUTFS_BLOCK_SIZE);
	problems = ret ? 0 : scoutfs_block_check(ent->data, magic, fsid,
						   blkno, seq);
	if (ret || problems) {
		scoutfs_block_problem_str(why, sizeof(why), problems);
		snprintf(txn->err, sizeof(txn->err),
			 "%s: block %llu: %s", txn->meta->path,
			 (unsigned long long)blkno,
			 ret ? "read failed" : why);
		cache_remove(txn->cache, ent);
		return ret ? ret : -EIO;
	}
	ent->refs = 1;
	*buf = ent->data;
	return 0;
}

static int txn_new_dirty(void *arg, u64 blkno, void **buf)
{
	struct scoutfs_txn *txn = arg;
	struct txn_ent *ent = cache_find(txn->cache, blkno);

	if (blkno < SCOUTFS_META_FIRST_BLKNO ||
	    blkno >= txn->meta->size >> SCOUTFS_BLOCK_SHIFT)
		return -EIO;
	if (ent && ent->refs)
		return -EIO;	/* allocated while still in use: a bug */
	if (!ent)
		ent = cache_add(txn->cache, blkno);
	if (!ent)
		return -ENOMEM;
	memset(ent->data, 0, SCOUTFS_BLOCK_SIZE);
	ent->dirty = true;
	ent->refs = 1;
	*buf = ent->data;
	return 0;
}

static void txn_release(void *arg, void *buf)
{
	(void)arg;
	buf_ent(buf)->refs--;
}

static void txn_forget(void *arg, u64 blkno)
{
	struct scoutfs_txn *txn = arg;
	struct txn_ent *ent = cache_find(txn->cache, blkno);

	if (!ent)
		return;
	ent->dirty = false;
	if (ent->refs == 0)
		cache_remove(txn->cache, ent);
}

const struct scoutfs_block_ops scoutfs_txn_block_ops = {
	.read = txn_read,
	.new_dirty = txn_new_dirty,
	.release = txn_release,
	.forget = txn_forget,
};

/*
 * Reads super slot (0 or 1) into blk (SCOUTFS_BLOCK_SIZE bytes); *problems
 * gets the scoutfs_block_check() mask plus SCOUTFS_BLOCK_BAD_SEQ if the
 * super's seq disagrees with its header.  Returns 0 or -errno from I/O.
 */
int scoutfs_super_read_slot(struct scoutfs_dev *meta, int slot, void *blk,
			    int *problems)
{
	struct scoutfs_super_block *super = blk;
	u64 blkno = SCOUTFS_SUPER_BLKNO + slot;
	int ret;

	ret = scoutfs_dev_read(meta, blkno << SCOUTFS_BLOCK_SHIFT, blk,
			       SCOUTFS_BLOCK_SIZE);
	if (ret < 0)
		return ret;
	*problems = scoutfs_block_check(blk, SCOUTFS_BLOCK_MAGIC_SUPER, 0,
					blkno, 0);
	if (le64_to_cpu(super->seq) != le64_to_cpu(super->hdr.seq))
		*problems |= SCOUTFS_BLOCK_BAD_SEQ;
	return 0;
}

/* The valid super with the greatest seq; -ENOENT if neither is valid. */
int scoutfs_super_read_current(struct scoutfs_dev *meta,
			       struct scoutfs_super_block *super, int *slot)
{
	void *blk = malloc(SCOUTFS_BLOCK_SIZE);
	struct scoutfs_super_block *sb = blk;
	u64 best_seq = 0;
	int problems;
	int found = -1;
	int ret = 0;
	int i;

	if (!blk)
		return -ENOMEM;
	for (i = 0; i < SCOUTFS_SUPER_SLOTS; i++) {
		ret = scoutfs_super_read_slot(meta, i, blk, &problems);
		if (ret < 0)
			break;
		if (problems || le64_to_cpu(sb->format_version) !=
				SCOUTFS_FORMAT_VERSION)
			continue;
		if (found < 0 || le64_to_cpu(sb->seq) > best_seq) {
			best_seq = le64_to_cpu(sb->seq);
			memcpy(super, sb, sizeof(*super));
			found = i;
		}
	}
	free(blk);
	if (ret < 0)
		return ret;
	if (found < 0)
		return -ENOENT;
	if (slot)
		*slot = found;
	return 0;
}

static int txn_start(struct scoutfs_txn *txn)
{
	int ret;

	ret = scoutfs_alloc_init(&txn->alloc, txn->super,
				 &scoutfs_txn_block_ops, txn, txn->seq,
				 txn->freed_meta, FREED_CAP, txn->freed_data,
				 FREED_CAP);
	if (ret < 0) {
		snprintf(txn->err, sizeof(txn->err),
			 "%s: super block's saved allocator reserve is invalid",
			 txn->meta->path);
		return ret;
	}
	scoutfs_alloc_btree_ctx(&txn->alloc, &txn->ctx);
	return 0;
}

static struct scoutfs_txn *txn_alloc(struct scoutfs_dev *meta)
{
	struct scoutfs_txn *txn = calloc(1, sizeof(*txn));

	if (!txn)
		return NULL;
	txn->meta = meta;
	txn->super = calloc(1, SCOUTFS_BLOCK_SIZE);
	txn->cache = calloc(1, sizeof(*txn->cache));
	txn->freed_meta = calloc(FREED_CAP, sizeof(struct scoutfs_extent));
	txn->freed_data = calloc(FREED_CAP, sizeof(struct scoutfs_extent));
	if (!txn->super || !txn->cache || !txn->freed_meta ||
	    !txn->freed_data) {
		scoutfs_txn_free(txn);
		return NULL;
	}
	return txn;
}

static int txn_init(struct scoutfs_txn **txn_ret, struct scoutfs_dev *meta,
		    const struct scoutfs_super_block *super)
{
	struct scoutfs_txn *txn;
	int ret;

	*txn_ret = NULL;
	txn = txn_alloc(meta);
	if (!txn)
		return -ENOMEM;
	memcpy(txn->super, super, sizeof(*super));
	txn->seq = le64_to_cpu(super->seq) + 1;
	ret = txn_start(txn);
	if (ret < 0) {
		scoutfs_txn_free(txn);
		return ret;
	}
	*txn_ret = txn;
	return 0;
}

/* Starts a transaction after the current committed super of meta. */
int scoutfs_txn_open(struct scoutfs_txn **txn_ret, struct scoutfs_dev *meta)
{
	struct scoutfs_super_block super;
	int ret;

	*txn_ret = NULL;
	ret = scoutfs_super_read_current(meta, &super, NULL);
	if (ret < 0)
		return ret;
	return txn_init(txn_ret, meta, &super);
}

/* Starts a transaction from a super built in memory (mkfs: seq 0). */
int scoutfs_txn_create(struct scoutfs_txn **txn_ret, struct scoutfs_dev *meta,
		       const struct scoutfs_super_block *super)
{
	return txn_init(txn_ret, meta, super);
}

int scoutfs_txn_commit(struct scoutfs_txn *txn)
{
	struct scoutfs_super_block *super = txn->super;
	struct txn_ent *ent;
	u64 fsid = le64_to_cpu(super->hdr.fsid);
	u64 blkno;
	u32 i;
	int ret;

	ret = scoutfs_alloc_commit(&txn->alloc);
	if (ret < 0) {
		snprintf(txn->err, sizeof(txn->err),
			 "%s: recording freed blocks at commit failed",
			 txn->meta->path);
		return ret;
	}

	for (i = 0; i < CACHE_BUCKETS; i++) {
		for (ent = txn->cache->buckets[i]; ent; ent = ent->next) {
			if (!ent->dirty)
				continue;
			scoutfs_block_set_crc(ent->data);
			ret = scoutfs_dev_write(txn->meta,
					ent->blkno << SCOUTFS_BLOCK_SHIFT,
					ent->data, SCOUTFS_BLOCK_SIZE);
			if (ret < 0)
				goto io_err;
		}
	}
	ret = scoutfs_dev_sync(txn->meta);
	if (ret < 0)
		goto io_err;

	blkno = SCOUTFS_SUPER_BLKNO + (txn->seq % SCOUTFS_SUPER_SLOTS);
	super->seq = cpu_to_le64(txn->seq);
	scoutfs_block_init_hdr(super, SCOUTFS_BLOCK_MAGIC_SUPER, fsid,
			       txn->seq, blkno);
	scoutfs_block_set_crc(super);
	ret = scoutfs_dev_write(txn->meta, blkno << SCOUTFS_BLOCK_SHIFT, super,
				SCOUTFS_BLOCK_SIZE);
	if (ret == 0)
		ret = scoutfs_dev_sync(txn->meta);
	if (ret < 0)
		goto io_err;

	for (i = 0; i < CACHE_BUCKETS; i++)
		for (ent = txn->cache->buckets[i]; ent; ent = ent->next)
			ent->dirty = false;
	txn->seq++;
	return txn_start(txn);

io_err:
	snprintf(txn->err, sizeof(txn->err), "%s: write at commit failed",
		 txn->meta->path);
	return ret;
}

void scoutfs_txn_free(struct scoutfs_txn *txn)
{
	struct txn_ent *ent;
	struct txn_ent *next;
	u32 i;

	if (!txn)
		return;
	if (txn->cache) {
		for (i = 0; i < CACHE_BUCKETS; i++) {
			for (ent = txn->cache->buckets[i]; ent; ent = next) {
				next = ent->next;
				free(ent);
			}
		}
	}
	free(txn->cache);
	free(txn->super);
	free(txn->freed_meta);
	free(txn->freed_data);
	free(txn);
}
