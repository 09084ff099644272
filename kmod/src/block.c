// SPDX-License-Identifier: GPL-2.0
/*
 * block.c: the metadata block cache, and the module's implementation of
 * the libscoutfs block interface (struct scoutfs_block_ops).
 *
 * Owns the 64 KiB buffers of metadata blocks, keyed by blkno in an
 * xarray.  A clean buffer was read from the metadata device and passed
 * scoutfs_block_check() (crc, magic, fsid, blkno, seq) once; a dirty buffer
 * belongs to the transaction being built (made by new_dirty for a block
 * just allocated) and is only written by scoutfs_block_write_dirty() at
 * commit.  Clean buffers that nobody references sit on an LRU and are
 * freed beyond SCOUTFS_BLOCK_CACHE_CLEAN_MAX, or by the shrinker under
 * memory pressure.
 *
 * Locking: every call into this file is made with sbi->meta_mutex held
 * (the btree and allocator code above it is not concurrent), so the cache
 * itself takes no lock.  The shrinker only trylocks meta_mutex, so memory
 * reclaim never waits on a metadata operation that is itself allocating.
 *
 * I/O is synchronous bios on the metadata device.  Writes at commit are
 * submitted together and waited for; the caller then writes the super
 * with REQ_PREFLUSH | REQ_FUA so the super is stable only after every
 * block it references.
 */
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <linux/list.h>
#include <linux/shrinker.h>

#include "super.h"
#include "block.h"
#include "trans.h"
#include "libscoutfs/block.h"

#define SCOUTFS_BLOCK_CACHE_CLEAN_MAX	1024	/* 64 MiB of clean blocks */
#define SCOUTFS_BLOCK_PAGES		(SCOUTFS_BLOCK_SIZE / PAGE_SIZE)

struct scoutfs_cached_block {
	struct list_head lru;		/* clean and unreferenced only */
	struct list_head dirty_entry;	/* dirty only */
	u64 blkno;
	int refs;
	bool is_dirty;
	void *data;
};

struct scoutfs_block_cache {
	struct super_block *sb;
	struct xarray by_blkno;
	struct xarray by_data;		/* data address >> PAGE_SHIFT */
	struct list_head lru;
	struct list_head dirty;
	unsigned long nr_lru;
	unsigned long nr_dirty;
	struct shrinker shrinker;
};

static struct scoutfs_cached_block *cb_alloc(u64 blkno)
{
	struct scoutfs_cached_block *cb;

	cb = kzalloc(sizeof(*cb), GFP_NOFS);
	if (!cb)
		return NULL;
	cb->data = kvmalloc(SCOUTFS_BLOCK_SIZE, GFP_NOFS);
	if (!cb->data) {
		kfree(cb);
		return NULL;
	}
	INIT_LIST_HEAD(&cb->lru);
	INIT_LIST_HEAD(&cb->dirty_entry);
	cb->blkno = blkno;
	return cb;
}

static void cb_remove(struct scoutfs_block_cache *bc,
		      struct scoutfs_cached_block *cb)
{
	xa_erase(&bc->by_blkno, cb->blkno);
	xa_erase(&bc->by_data, (unsigned long)cb->data >> PAGE_SHIFT);
	if (!list_empty(&cb->lru)) {
		list_del_init(&cb->lru);
		bc->nr_lru--;
	}
	if (cb->is_dirty) {
		list_del_init(&cb->dirty_entry);
		bc->nr_dirty--;
	}
	kvfree(cb->data);
	kfree(cb);
}

static int cb_insert(struct scoutfs_block_cache *bc,
		     struct scoutfs_cached_block *cb)
{
	int ret;

	ret = xa_err(xa_store(&bc->by_blkno, cb->blkno, cb, GFP_NOFS));
	if (ret)
		return ret;
	ret = xa_err(xa_store(&bc->by_data,
			      (unsigned long)cb->data >> PAGE_SHIFT, cb,
			      GFP_NOFS));
	if (ret)
		xa_erase(&bc->by_blkno, cb->blkno);
	return ret;
}

static void lru_trim(struct scoutfs_block_cache *bc, unsigned long keep)
{
	struct scoutfs_cached_block *cb;

	while (bc->nr_lru > keep) {
		cb = list_first_entry(&bc->lru, struct scoutfs_cached_block,
				      lru);
		cb_remove(bc, cb);
	}
}

static void cb_get(struct scoutfs_block_cache *bc,
		   struct scoutfs_cached_block *cb)
{
	if (cb->refs++ == 0 && !list_empty(&cb->lru)) {
		list_del_init(&cb->lru);
		bc->nr_lru--;
	}
}

static void cb_put(struct scoutfs_block_cache *bc,
		   struct scoutfs_cached_block *cb)
{
	if (WARN_ON_ONCE(cb->refs <= 0))
		return;
	if (--cb->refs == 0 && !cb->is_dirty) {
		list_add_tail(&cb->lru, &bc->lru);
		bc->nr_lru++;
		lru_trim(bc, SCOUTFS_BLOCK_CACHE_CLEAN_MAX);
	}
}

static struct page *data_page(void *data, unsigned int i)
{
	void *addr = data + i * PAGE_SIZE;

	return is_vmalloc_addr(addr) ? vmalloc_to_page(addr) :
				       virt_to_page(addr);
}

static struct bio *block_bio(struct block_device *bdev, blk_opf_t opf,
			     u64 blkno, void *data)
{
	struct bio *bio;
	unsigned int i;

	bio = bio_alloc(bdev, SCOUTFS_BLOCK_PAGES, opf, GFP_NOFS);
	bio->bi_iter.bi_sector = blkno << (SCOUTFS_BLOCK_SHIFT - SECTOR_SHIFT);
	for (i = 0; i < SCOUTFS_BLOCK_PAGES; i++)
		__bio_add_page(bio, data_page(data, i), PAGE_SIZE, 0);
	return bio;
}

/* Synchronous read or write of one whole metadata block. */
int scoutfs_block_io(struct super_block *sb, blk_opf_t opf, u64 blkno,
		     void *data)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct bio *bio;
	int ret;

	if (is_vmalloc_addr(data) && op_is_write(opf))
		flush_kernel_vmap_range(data, SCOUTFS_BLOCK_SIZE);
	bio = block_bio(sbi->meta_bdev, opf, blkno, data);
	ret = submit_bio_wait(bio);
	bio_put(bio);
	if (is_vmalloc_addr(data) && !op_is_write(opf))
		invalidate_kernel_vmap_range(data, SCOUTFS_BLOCK_SIZE);
	return ret;
}

static bool blkno_is_valid(struct scoutfs_sb_info *sbi, u64 blkno)
{
	return blkno >= SCOUTFS_META_FIRST_BLKNO &&
	       blkno < le64_to_cpu(sbi->super->total_meta_blocks);
}

static int scoutfs_block_read(void *arg, const struct scoutfs_block_ref *ref,
			      u32 magic, void **buf)
{
	struct super_block *sb = arg;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_block_cache *bc = sbi->bcache;
	u64 blkno = le64_to_cpu(ref->blkno);
	u64 seq = le64_to_cpu(ref->seq);
	char why[SCOUTFS_BLOCK_PROBLEM_STR_LEN];
	struct scoutfs_block_header *hdr;
	struct scoutfs_cached_block *cb;
	int problems;
	int ret;

	if (!blkno_is_valid(sbi, blkno)) {
		scoutfs_err(sb, "metadata block reference %llu is outside the metadata device",
			    blkno);
		return -EIO;
	}

	cb = xa_load(&bc->by_blkno, blkno);
	if (cb) {
		hdr = cb->data;
		if (le32_to_cpu(hdr->magic) != magic ||
		    le64_to_cpu(hdr->seq) != seq) {
			scoutfs_err(sb, "metadata block %llu: cached magic %08x seq %llu do not match reference (magic %08x seq %llu)",
				    blkno, le32_to_cpu(hdr->magic),
				    le64_to_cpu(hdr->seq), magic, seq);
			return -EIO;
		}
		cb_get(bc, cb);
		*buf = cb->data;
		return 0;
	}

	cb = cb_alloc(blkno);
	if (!cb)
		return -ENOMEM;
	ret = scoutfs_block_io(sb, REQ_OP_READ, blkno, cb->data);
	if (ret) {
		scoutfs_err(sb, "metadata block %llu: read error %d", blkno, ret);
		scoutfs_trans_read_only(sb, "a metadata read", ret);
		goto out_free;
	}
	problems = scoutfs_block_check(cb->data, magic, sbi->fsid, blkno, seq);
	if (problems) {
		scoutfs_block_problem_str(why, sizeof(why), problems);
		scoutfs_err(sb, "metadata block %llu (seq %llu) failed verification: %s",
			    blkno, seq, why);
		ret = -EIO;
		scoutfs_trans_read_only(sb, "metadata block verification", ret);
		goto out_free;
	}
	ret = cb_insert(bc, cb);
	if (ret)
		goto out_free;
	cb->refs = 1;
	*buf = cb->data;
	return 0;

out_free:
	kvfree(cb->data);
	kfree(cb);
	return ret;
}

static int scoutfs_block_new_dirty(void *arg, u64 blkno, void **buf)
{
	struct super_block *sb = arg;
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_block_cache *bc = sbi->bcache;
	struct scoutfs_cached_block *cb;
	int ret;

	if (!blkno_is_valid(sbi, blkno))
		return -EIO;

	cb = xa_load(&bc->by_blkno, blkno);
	if (cb) {
		/* a freed block reallocated while someone still uses it */
		if (WARN_ON_ONCE(cb->refs))
			return -EIO;
		cb_remove(bc, cb);
	}
	cb = cb_alloc(blkno);
	if (!cb)
		return -ENOMEM;
	ret = cb_insert(bc, cb);
	if (ret) {
		kvfree(cb->data);
		kfree(cb);
		return ret;
	}
	memset(cb->data, 0, SCOUTFS_BLOCK_SIZE);
	cb->is_dirty = true;
	list_add_tail(&cb->dirty_entry, &bc->dirty);
	bc->nr_dirty++;
	cb->refs = 1;
	*buf = cb->data;
	return 0;
}

static void scoutfs_block_release(void *arg, void *buf)
{
	struct super_block *sb = arg;
	struct scoutfs_block_cache *bc = SCOUTFS_SB(sb)->bcache;
	struct scoutfs_cached_block *cb;

	cb = xa_load(&bc->by_data, (unsigned long)buf >> PAGE_SHIFT);
	if (!WARN_ON_ONCE(!cb))
		cb_put(bc, cb);
}

static void scoutfs_block_forget(void *arg, u64 blkno)
{
	struct super_block *sb = arg;
	struct scoutfs_block_cache *bc = SCOUTFS_SB(sb)->bcache;
	struct scoutfs_cached_block *cb;

	cb = xa_load(&bc->by_blkno, blkno);
	if (!cb)
		return;
	if (cb->is_dirty) {
		list_del_init(&cb->dirty_entry);
		bc->nr_dirty--;
		cb->is_dirty = false;
	}
	if (cb->refs == 0)
		cb_remove(bc, cb);
}

const struct scoutfs_block_ops scoutfs_kernel_block_ops = {
	.read = scoutfs_block_read,
	.new_dirty = scoutfs_block_new_dirty,
	.release = scoutfs_block_release,
	.forget = scoutfs_block_forget,
};

unsigned long scoutfs_block_nr_dirty(struct super_block *sb)
{
	return SCOUTFS_SB(sb)->bcache->nr_dirty;
}

static void write_end_io(struct bio *bio)
{
	struct completion *done = bio->bi_private;
	atomic_t *errors = (atomic_t *)(done + 1);

	if (bio->bi_status)
		atomic_inc(errors);
	bio_put(bio);
	complete(done);
}

/*
 * Write every dirty block with its crc and wait for all of them.  On
 * success the blocks are clean (and part of the transaction being
 * committed); on failure they stay dirty and -EIO is returned.
 */
int scoutfs_block_write_dirty(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_block_cache *bc = sbi->bcache;
	struct scoutfs_cached_block *cb, *tmp;
	struct {
		struct completion done;
		atomic_t errors;
	} wait;
	unsigned long submitted = 0;
	struct blk_plug plug;
	struct bio *bio;

	init_completion(&wait.done);
	atomic_set(&wait.errors, 0);

	blk_start_plug(&plug);
	list_for_each_entry(cb, &bc->dirty, dirty_entry) {
		scoutfs_block_set_crc(cb->data);
		if (is_vmalloc_addr(cb->data))
			flush_kernel_vmap_range(cb->data, SCOUTFS_BLOCK_SIZE);
		bio = block_bio(sbi->meta_bdev, REQ_OP_WRITE, cb->blkno,
				cb->data);
		bio->bi_end_io = write_end_io;
		bio->bi_private = &wait.done;
		submit_bio(bio);
		submitted++;
	}
	blk_finish_plug(&plug);

	while (submitted--)
		wait_for_completion(&wait.done);

	if (atomic_read(&wait.errors)) {
		scoutfs_err(sb, "%d metadata block writes failed at commit",
			    atomic_read(&wait.errors));
		return -EIO;
	}

	list_for_each_entry_safe(cb, tmp, &bc->dirty, dirty_entry) {
		list_del_init(&cb->dirty_entry);
		cb->is_dirty = false;
		if (cb->refs == 0) {
			list_add_tail(&cb->lru, &bc->lru);
			bc->nr_lru++;
		}
	}
	bc->nr_dirty = 0;
	lru_trim(bc, SCOUTFS_BLOCK_CACHE_CLEAN_MAX);
	return 0;
}

static unsigned long block_shrink_count(struct shrinker *shrink,
					struct shrink_control *sc)
{
	struct scoutfs_block_cache *bc =
		container_of(shrink, struct scoutfs_block_cache, shrinker);

	return READ_ONCE(bc->nr_lru);
}

static unsigned long block_shrink_scan(struct shrinker *shrink,
				       struct shrink_control *sc)
{
	struct scoutfs_block_cache *bc =
		container_of(shrink, struct scoutfs_block_cache, shrinker);
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(bc->sb);
	unsigned long before;

	if (!mutex_trylock(&sbi->meta_mutex))
		return SHRINK_STOP;
	before = bc->nr_lru;
	lru_trim(bc, before > sc->nr_to_scan ? before - sc->nr_to_scan : 0);
	mutex_unlock(&sbi->meta_mutex);
	return before - bc->nr_lru;
}

int scoutfs_block_cache_setup(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_block_cache *bc;
	int ret;

	bc = kzalloc(sizeof(*bc), GFP_KERNEL);
	if (!bc)
		return -ENOMEM;
	bc->sb = sb;
	xa_init(&bc->by_blkno);
	xa_init(&bc->by_data);
	INIT_LIST_HEAD(&bc->lru);
	INIT_LIST_HEAD(&bc->dirty);
	bc->shrinker.count_objects = block_shrink_count;
	bc->shrinker.scan_objects = block_shrink_scan;
	bc->shrinker.seeks = DEFAULT_SEEKS;
	ret = register_shrinker(&bc->shrinker, "scoutfs-block:%s", sb->s_id);
	if (ret) {
		kfree(bc);
		return ret;
	}
	sbi->bcache = bc;
	return 0;
}

/* Drops every buffer; dirty ones are discarded (unmount after commit). */
void scoutfs_block_cache_destroy(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_block_cache *bc = sbi->bcache;
	struct scoutfs_cached_block *cb;
	unsigned long idx;

	if (!bc)
		return;
	unregister_shrinker(&bc->shrinker);
	xa_for_each(&bc->by_blkno, idx, cb) {
		WARN_ON_ONCE(cb->refs);
		cb_remove(bc, cb);
	}
	xa_destroy(&bc->by_blkno);
	xa_destroy(&bc->by_data);
	kfree(bc);
	sbi->bcache = NULL;
}
