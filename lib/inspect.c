// SPDX-License-Identifier: GPL-2.0
/*
 * inspect.c: the read-only walk of a filesystem image behind `scoutfs
 * print` and `scoutfs fsck` (and the image fuzzer).
 *
 * Nothing read from the device is trusted: every block is read through
 * scoutfs_dev_read (which refuses reads past the end of a truncated
 * image), checked with scoutfs_block_check (crc, magic, fsid, blkno, seq
 * from the parent's ref) and scoutfs_btree_block_check (every offset and
 * length inside the block) before any item in it is looked at; a block is
 * descended into only if its level is one below its parent's, which caps
 * recursion at SCOUTFS_BTREE_MAX_HEIGHT; and a block already seen is
 * reported as referenced twice and not entered again, which breaks cycles.
 *
 * fsck builds a map of the metadata device (each block referenced by a
 * tree, free, saved in the reserve, or nothing) and a bitmap of the data
 * device, then checks the items it collected from the fs tree against each
 * other: link counts against directory entries and backrefs, seq index
 * items against inode fields, orphans against nlink 0, extents inside the
 * device and not overlapping.  Each problem is one line naming what and
 * where.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"
#include "devio.h"
#include "txn.h"
#include "libscoutfs/block.h"
#include "libscoutfs/btree.h"
#include "libscoutfs/key.h"

enum { META_UNSEEN, META_TREE, META_FREE, META_RESERVE };

enum tree_kind { TREE_FS, TREE_META_FREE, TREE_DATA_FREE, TREE_LOGS };

struct ino_info {
	u64 ino;
	u32 nlink;
	u32 mode;
	u64 meta_seq;
	u64 data_seq;
	u64 dirents;
	u64 backrefs;
	u64 readdirs;
	u64 subdirs;		/* directory entries in it that are directories */
	u64 own_items;		/* its extent, xattr and symlink items */
	bool seen_meta_idx;
	bool seen_data_idx;
	bool orphan;
};

struct insp {
	FILE *out;
	FILE *err;
	bool print;
	bool fsck;
	struct scoutfs_dev meta;
	struct scoutfs_dev data;
	struct scoutfs_super_block *super;
	u64 fsid;
	u64 total_meta;
	u64 total_data;
	u8 *meta_map;
	u8 *data_map;		/* bitmap */
	long problems;
	u64 free_sum;
	struct ino_info *inos;
	size_t nr_inos;
	size_t cap_inos;
	struct scoutfs_key *idx;	/* seq index and orphan keys */
	size_t nr_idx;
	size_t cap_idx;
	u64 leaf_depth;
	bool leaf_depth_set;
};

static void problem(struct insp *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct insp *in, const char *fmt, ...)
{
	va_list ap;

	in->problems++;
	if (!in->err)
		return;
	va_start(ap, fmt);
	vfprintf(in->err, fmt, ap);
	va_end(ap);
	fputc('\n', in->err);
}

#define OUT(in, ...) do { if ((in)->print && (in)->out) fprintf((in)->out, __VA_ARGS__); } while (0)

static const char *tree_name(enum tree_kind kind)
{
	switch (kind) {
	case TREE_FS: return "fs_root";
	case TREE_META_FREE: return "meta_free";
	case TREE_DATA_FREE: return "data_free";
	case TREE_LOGS: return "logs_root";
	}
	return "?";
}

static struct ino_info *get_ino(struct insp *in, u64 ino, bool create)
{
	size_t lo = 0, hi = in->nr_inos, mid;
	struct ino_info *tmp;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (in->inos[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < in->nr_inos && in->inos[lo].ino == ino)
		return &in->inos[lo];
	if (!create)
		return NULL;
	if (in->nr_inos == in->cap_inos) {
		in->cap_inos = in->cap_inos ? in->cap_inos * 2 : 64;
		tmp = realloc(in->inos, in->cap_inos * sizeof(*tmp));
		if (!tmp)
			return NULL;
		in->inos = tmp;
	}
	memmove(&in->inos[lo + 1], &in->inos[lo],
		(in->nr_inos - lo) * sizeof(*in->inos));
	memset(&in->inos[lo], 0, sizeof(*in->inos));
	in->inos[lo].ino = ino;
	in->nr_inos++;
	return &in->inos[lo];
}

static void add_idx(struct insp *in, const struct scoutfs_key *key)
{
	struct scoutfs_key *tmp;

	if (in->nr_idx == in->cap_idx) {
		in->cap_idx = in->cap_idx ? in->cap_idx * 2 : 64;
		tmp = realloc(in->idx, in->cap_idx * sizeof(*tmp));
		if (!tmp)
			return;
		in->idx = tmp;
	}
	in->idx[in->nr_idx++] = *key;
}

static void mark_data(struct insp *in, u64 start, u64 len, const char *what,
		      u64 ino)
{
	u64 b;

	if (start < SCOUTFS_DATA_FIRST_BLKNO || start >= in->total_data ||
	    len > in->total_data - start || len == 0) {
		problem(in, "%s extent %llu len %llu (ino %llu) is outside the data device (%llu blocks)",
			what, (unsigned long long)start,
			(unsigned long long)len, (unsigned long long)ino,
			(unsigned long long)in->total_data);
		return;
	}
	for (b = start; b < start + len; b++) {
		if (in->data_map[b / 8] & (1 << (b % 8))) {
			problem(in, "data block %llu of %s extent %llu len %llu (ino %llu) is also free or in another extent",
				(unsigned long long)b, what,
				(unsigned long long)start,
				(unsigned long long)len, (unsigned long long)ino);
			return;
		}
		in->data_map[b / 8] |= 1 << (b % 8);
	}
}

static void mark_meta(struct insp *in, u64 start, u64 len, u8 as,
		      const char *what)
{
	u64 b;

	if (start < SCOUTFS_META_FIRST_BLKNO || start >= in->total_meta ||
	    len > in->total_meta - start || len == 0) {
		problem(in, "%s meta extent %llu len %llu is outside the metadata device (%llu blocks)",
			what, (unsigned long long)start,
			(unsigned long long)len,
			(unsigned long long)in->total_meta);
		return;
	}
	for (b = start; b < start + len; b++) {
		if (in->meta_map[b] != META_UNSEEN) {
			problem(in, "meta block %llu is %s and also %s",
				(unsigned long long)b, what,
				in->meta_map[b] == META_FREE ? "free" :
				in->meta_map[b] == META_RESERVE ?
				"in the saved reserve" : "referenced");
			return;
		}
		in->meta_map[b] = as;
	}
}

static void print_item(struct insp *in, const struct scoutfs_key *key,
		       const void *val, unsigned int len)
{
	char ks[SCOUTFS_KEY_STR_LEN];

	scoutfs_key_str(ks, sizeof(ks), key);
	OUT(in, "      %s", ks);
	if (key->sk_zone == SCOUTFS_FS_ZONE &&
	    key->sk_type == SCOUTFS_INODE_TYPE &&
	    len == sizeof(struct scoutfs_inode)) {
		const struct scoutfs_inode *inode = val;

		OUT(in, ": inode mode 0%o nlink %u uid %u gid %u size %llu meta_seq %llu data_seq %llu data_version %llu mtime %llu.%09u",
		    le32_to_cpu(inode->mode), le32_to_cpu(inode->nlink),
		    le32_to_cpu(inode->uid), le32_to_cpu(inode->gid),
		    (unsigned long long)le64_to_cpu(inode->size),
		    (unsigned long long)le64_to_cpu(inode->meta_seq),
		    (unsigned long long)le64_to_cpu(inode->data_seq),
		    (unsigned long long)le64_to_cpu(inode->data_version),
		    (unsigned long long)le64_to_cpu(inode->mtime.sec),
		    le32_to_cpu(inode->mtime.nsec));
	} else if (key->sk_zone == SCOUTFS_FS_ZONE &&
		   (key->sk_type == SCOUTFS_DIRENT_TYPE ||
		    key->sk_type == SCOUTFS_READDIR_TYPE ||
		    key->sk_type == SCOUTFS_LINK_BACKREF_TYPE) &&
		   len >= sizeof(struct scoutfs_dirent)) {
		const struct scoutfs_dirent *d = val;
		int nlen = (int)(len - sizeof(*d));

		OUT(in, ": ino %llu pos %llu type %u name '%.*s'",
		    (unsigned long long)le64_to_cpu(d->ino),
		    (unsigned long long)le64_to_cpu(d->pos), d->type,
		    nlen, (const char *)d->name);
	} else if (key->sk_type == SCOUTFS_DATA_EXTENT_TYPE &&
		   key->sk_zone == SCOUTFS_FS_ZONE &&
		   len == sizeof(struct scoutfs_data_extent)) {
		const struct scoutfs_data_extent *e = val;

		OUT(in, ": len %llu blkno %llu flags 0x%x",
		    (unsigned long long)le64_to_cpu(e->len),
		    (unsigned long long)le64_to_cpu(e->blkno),
		    le32_to_cpu(e->flags));
	} else if (key->sk_zone == SCOUTFS_FREE_ZONE &&
		   len == sizeof(struct scoutfs_free_extent)) {
		const struct scoutfs_free_extent *f = val;

		OUT(in, ": len %llu", (unsigned long long)le64_to_cpu(f->len));
	} else if (len) {
		OUT(in, ": %u value bytes", len);
	}
	OUT(in, "\n");
}

/* An item that only its inode refers to: a deleted inode must leave none. */
static void count_own_item(struct insp *in, u64 ino)
{
	struct ino_info *ii = get_ino(in, ino, true);

	if (ii)
		ii->own_items++;
}

static void check_fs_item(struct insp *in, const struct scoutfs_key *key,
			  const void *val, unsigned int len)
{
	u64 first = scoutfs_key_first(key);
	char ks[SCOUTFS_KEY_STR_LEN];
	struct ino_info *ii;

	scoutfs_key_str(ks, sizeof(ks), key);
	switch (key->sk_zone) {
	case SCOUTFS_ORPHAN_ZONE:
	case SCOUTFS_META_SEQ_INDEX_ZONE:
	case SCOUTFS_DATA_SEQ_INDEX_ZONE:
		if (len)
			problem(in, "item %s has a %u byte value, expected none", ks, len);
		add_idx(in, key);
		return;
	case SCOUTFS_XATTR_SRCH_ZONE:
		return;
	case SCOUTFS_FS_ZONE:
		break;
	default:
		problem(in, "item %s is in an unknown zone", ks);
		return;
	}

	switch (key->sk_type) {
	case SCOUTFS_INODE_TYPE: {
		const struct scoutfs_inode *inode = val;

		if (len != sizeof(*inode)) {
			problem(in, "inode item %s has %u value bytes, expected %zu",
				ks, len, sizeof(*inode));
			return;
		}
		ii = get_ino(in, first, true);
		if (!ii)
			return;
		ii->nlink = le32_to_cpu(inode->nlink);
		ii->mode = le32_to_cpu(inode->mode);
		ii->meta_seq = le64_to_cpu(inode->meta_seq);
		ii->data_seq = le64_to_cpu(inode->data_seq);
		ii->mode |= 0x80000000u;	/* present */
		return;
	}
	case SCOUTFS_DIRENT_TYPE:
	case SCOUTFS_READDIR_TYPE:
	case SCOUTFS_LINK_BACKREF_TYPE: {
		const struct scoutfs_dirent *d = val;

		if (len < sizeof(*d) || len > sizeof(*d) + SCOUTFS_NAME_LEN) {
			problem(in, "directory entry item %s has %u value bytes", ks, len);
			return;
		}
		ii = get_ino(in, key->sk_type == SCOUTFS_LINK_BACKREF_TYPE ?
			     first : le64_to_cpu(d->ino), true);
		if (!ii)
			return;
		if (key->sk_type == SCOUTFS_DIRENT_TYPE) {
			struct ino_info *dir;

			ii->dirents++;
			/* DT_DIR: the entry is a subdirectory of first */
			if (d->type == 4) {
				dir = get_ino(in, first, true);
				if (dir)
					dir->subdirs++;
			}
		}
		else if (key->sk_type == SCOUTFS_READDIR_TYPE)
			ii->readdirs++;
		else
			ii->backrefs++;
		return;
	}
	case SCOUTFS_DATA_EXTENT_TYPE: {
		const struct scoutfs_data_extent *e = val;
		u32 flags;

		if (len != sizeof(*e)) {
			problem(in, "extent item %s has %u value bytes", ks, len);
			return;
		}
		flags = le32_to_cpu(e->flags);
		if (flags & ~SCOUTFS_EXTENT_FLAGS_ALL)
			problem(in, "extent item %s has unknown flags 0x%x", ks, flags);
		if (flags & SCOUTFS_EXTENT_FLAG_OFFLINE) {
			if (le64_to_cpu(e->blkno))
				problem(in, "offline extent item %s has blkno %llu, expected 0",
					ks, (unsigned long long)le64_to_cpu(e->blkno));
			return;
		}
		mark_data(in, le64_to_cpu(e->blkno), le64_to_cpu(e->len),
			  "file", first);
		count_own_item(in, first);
		return;
	}
	case SCOUTFS_XATTR_TYPE:
	case SCOUTFS_SYMLINK_TYPE:
		count_own_item(in, first);
		return;
	}
	problem(in, "item %s has an unknown type", ks);
}

static void walk_block(struct insp *in, enum tree_kind kind,
		       const struct scoutfs_block_ref *ref, int level,
		       int depth, const struct scoutfs_key *lo,
		       const struct scoutfs_key *hi, void *buf);

static void leaf_item(struct insp *in, enum tree_kind kind,
		      const struct scoutfs_key *key, const void *val,
		      unsigned int len)
{
	char ks[SCOUTFS_KEY_STR_LEN];

	if (in->print)
		print_item(in, key, val, len);
	if (!in->fsck)
		return;
	if (kind == TREE_META_FREE || kind == TREE_DATA_FREE) {
		const struct scoutfs_free_extent *f = val;

		scoutfs_key_str(ks, sizeof(ks), key);
		if (key->sk_zone != SCOUTFS_FREE_ZONE ||
		    len != sizeof(*f)) {
			problem(in, "%s item %s is not a free extent",
				tree_name(kind), ks);
			return;
		}
		in->free_sum += le64_to_cpu(f->len);
		if (kind == TREE_META_FREE)
			mark_meta(in, scoutfs_key_first(key),
				  le64_to_cpu(f->len), META_FREE, "free");
		else
			mark_data(in, scoutfs_key_first(key),
				  le64_to_cpu(f->len), "free", 0);
	} else if (kind == TREE_FS) {
		check_fs_item(in, key, val, len);
	}
}

static void walk_block(struct insp *in, enum tree_kind kind,
		       const struct scoutfs_block_ref *ref, int level,
		       int depth, const struct scoutfs_key *lo,
		       const struct scoutfs_key *hi, void *bufs)
{
	struct scoutfs_btree_block *bt;
	struct scoutfs_block_ref child;
	char why[SCOUTFS_BLOCK_PROBLEM_STR_LEN];
	char ks[SCOUTFS_KEY_STR_LEN];
	u64 blkno = le64_to_cpu(ref->blkno);
	const char *bad;
	unsigned int i;
	unsigned int nr;
	int problems;
	int ret;

	if (depth >= SCOUTFS_BTREE_MAX_HEIGHT || level < 0)
		return;
	if (blkno < SCOUTFS_META_FIRST_BLKNO || blkno >= in->total_meta) {
		problem(in, "%s: block ref %llu is outside the metadata device (%llu blocks)",
			tree_name(kind), (unsigned long long)blkno,
			(unsigned long long)in->total_meta);
		return;
	}
	if (in->meta_map[blkno] != META_UNSEEN) {
		problem(in, "%s: meta block %llu is referenced more than once",
			tree_name(kind), (unsigned long long)blkno);
		return;
	}
	in->meta_map[blkno] = META_TREE;

	bt = (void *)((u8 *)bufs + (size_t)depth * SCOUTFS_BLOCK_SIZE);
	ret = scoutfs_dev_read(&in->meta, blkno << SCOUTFS_BLOCK_SHIFT, bt,
			       SCOUTFS_BLOCK_SIZE);
	if (ret < 0) {
		problem(in, "%s: meta block %llu: cannot read: %s",
			tree_name(kind), (unsigned long long)blkno,
			ret == -ERANGE ? "beyond the end of the device (truncated?)" :
			strerror(-ret));
		return;
	}
	problems = scoutfs_block_check(bt, SCOUTFS_BLOCK_MAGIC_BTREE, in->fsid,
				       blkno, le64_to_cpu(ref->seq));
	if (problems) {
		scoutfs_block_problem_str(why, sizeof(why), problems);
		problem(in, "%s: meta block %llu: bad %s", tree_name(kind),
			(unsigned long long)blkno, why);
		return;
	}
	if (scoutfs_btree_block_check(bt, &bad) < 0) {
		problem(in, "%s: meta block %llu: %s", tree_name(kind),
			(unsigned long long)blkno, bad);
		return;
	}
	if (bt->level != level) {
		problem(in, "%s: meta block %llu: level %u, expected %d (unbalanced)",
			tree_name(kind), (unsigned long long)blkno, bt->level,
			level);
		return;
	}
	nr = le16_to_cpu(bt->nr_items);
	OUT(in, "    block %llu seq %llu level %u items %u\n",
	    (unsigned long long)blkno,
	    (unsigned long long)le64_to_cpu(bt->hdr.seq), level, nr);
	if (nr && lo && scoutfs_key_compare(&bt->items[0].key, lo) <= 0) {
		scoutfs_key_str(ks, sizeof(ks), &bt->items[0].key);
		problem(in, "%s: meta block %llu: first key %s is not after the previous child's",
			tree_name(kind), (unsigned long long)blkno, ks);
	}
	if (nr && hi && scoutfs_key_compare(&bt->items[nr - 1].key, hi) != 0) {
		scoutfs_key_str(ks, sizeof(ks), &bt->items[nr - 1].key);
		problem(in, "%s: meta block %llu: last key %s does not match its parent's key",
			tree_name(kind), (unsigned long long)blkno, ks);
	}
	if (nr == 0 && depth > 0)
		problem(in, "%s: meta block %llu: empty non-root block",
			tree_name(kind), (unsigned long long)blkno);

	for (i = 0; i < nr; i++) {
		if (level == 0) {
			leaf_item(in, kind, &bt->items[i].key,
				  scoutfs_btree_item_val(bt, i),
				  le16_to_cpu(bt->items[i].val_len));
			continue;
		}
		memcpy(&child, scoutfs_btree_item_val(bt, i), sizeof(child));
		walk_block(in, kind, &child, level - 1, depth + 1,
			   i ? &bt->items[i - 1].key : lo, &bt->items[i].key,
			   bufs);
	}
}

static void walk_root(struct insp *in, enum tree_kind kind,
		      struct scoutfs_btree_root *root, void *bufs)
{
	OUT(in, "  %s: height %u blkno %llu seq %llu\n", tree_name(kind),
	    root->height, (unsigned long long)le64_to_cpu(root->ref.blkno),
	    (unsigned long long)le64_to_cpu(root->ref.seq));
	if (root->height == 0)
		return;
	if (root->height > SCOUTFS_BTREE_MAX_HEIGHT) {
		problem(in, "%s: height %u is beyond the maximum %d",
			tree_name(kind), root->height, SCOUTFS_BTREE_MAX_HEIGHT);
		return;
	}
	walk_block(in, kind, &root->ref, root->height - 1, 0, NULL, NULL, bufs);
}

static void print_super(struct insp *in, int slot, void *blk, int problems,
			bool current)
{
	struct scoutfs_super_block *sb = blk;
	char why[SCOUTFS_BLOCK_PROBLEM_STR_LEN];
	int i;

	scoutfs_block_problem_str(why, sizeof(why), problems);
	OUT(in, "super slot %d (block %llu)%s: %s, seq %llu fsid %016llx\n",
	    slot, (unsigned long long)SCOUTFS_SUPER_BLKNO + slot,
	    current ? " [current]" : "", problems ? why : "valid",
	    (unsigned long long)le64_to_cpu(sb->seq),
	    (unsigned long long)le64_to_cpu(sb->hdr.fsid));
	if (!current)
		return;
	OUT(in, "  format_version %llu next_ino %llu inode_count %llu\n",
	    (unsigned long long)le64_to_cpu(sb->format_version),
	    (unsigned long long)le64_to_cpu(sb->next_ino),
	    (unsigned long long)le64_to_cpu(sb->inode_count));
	OUT(in, "  meta blocks %llu free %llu, data blocks %llu free %llu, saved reserve %llu\n",
	    (unsigned long long)le64_to_cpu(sb->total_meta_blocks),
	    (unsigned long long)le64_to_cpu(sb->free_meta_blocks),
	    (unsigned long long)le64_to_cpu(sb->total_data_blocks),
	    (unsigned long long)le64_to_cpu(sb->free_data_blocks),
	    (unsigned long long)le64_to_cpu(sb->alloc_reserve_nr));
	for (i = 0; i < SCOUTFS_QUORUM_MAX_SLOTS; i++) {
		struct scoutfs_quorum_slot *q = &sb->quorum_slots[i];

		if (q->addr_family == SCOUTFS_QUORUM_ADDR_IPV4)
			OUT(in, "  quorum slot %d: %u.%u.%u.%u port %u\n", i,
			    q->addr[0], q->addr[1], q->addr[2], q->addr[3],
			    le16_to_cpu(q->port));
		else if (q->addr_family == SCOUTFS_QUORUM_ADDR_IPV6)
			OUT(in, "  quorum slot %d: ipv6 port %u\n", i,
			    le16_to_cpu(q->port));
	}
}

/* Reads both super slots, reports them and keeps the current one. */
static int read_supers(struct insp *in)
{
	void *blk[SCOUTFS_SUPER_SLOTS] = { NULL };
	int problems[SCOUTFS_SUPER_SLOTS] = { 0 };
	int ok[SCOUTFS_SUPER_SLOTS] = { 0 };
	int cur = -1;
	int ret = 0;
	int i;

	for (i = 0; i < SCOUTFS_SUPER_SLOTS; i++) {
		blk[i] = calloc(1, SCOUTFS_BLOCK_SIZE);
		if (!blk[i]) {
			ret = -ENOMEM;
			goto out;
		}
		ok[i] = scoutfs_super_read_slot(&in->meta, i, blk[i],
						&problems[i]) == 0;
		if (ok[i] && !problems[i] &&
		    le64_to_cpu(((struct scoutfs_super_block *)blk[i])->format_version) ==
		    SCOUTFS_FORMAT_VERSION &&
		    (cur < 0 || le64_to_cpu(((struct scoutfs_super_block *)blk[i])->seq) >
		     le64_to_cpu(in->super->seq)))
			cur = i;
		if (cur == i)
			memcpy(in->super, blk[i], sizeof(*in->super));
	}
	for (i = 0; i < SCOUTFS_SUPER_SLOTS; i++) {
		if (!ok[i])
			OUT(in, "super slot %d: cannot read (truncated?)\n", i);
		else
			print_super(in, i, blk[i], problems[i], i == cur);
	}
	if (cur < 0) {
		problem(in, "%s: no valid super block in either slot (not scoutfs, or both corrupt)",
			in->meta.path);
		ret = -ENOENT;
	}
out:
	for (i = 0; i < SCOUTFS_SUPER_SLOTS; i++)
		free(blk[i]);
	return ret;
}

static void check_data_super(struct insp *in)
{
	struct scoutfs_data_super ds;
	int ret;

	ret = scoutfs_dev_read(&in->data, 0, &ds, sizeof(ds));
	if (ret < 0) {
		problem(in, "%s: cannot read the data super block", in->data.path);
		return;
	}
	if (le32_to_cpu(ds.magic) != SCOUTFS_DATA_SUPER_MAGIC) {
		problem(in, "%s: data super block has bad magic (not a scoutfs data device)",
			in->data.path);
		return;
	}
	if (le32_to_cpu(ds.crc) != scoutfs_data_super_calc_crc(&ds))
		problem(in, "%s: data super block has a bad crc", in->data.path);
	if (le64_to_cpu(ds.fsid) != in->fsid)
		problem(in, "%s: data super fsid %016llx does not match the metadata fsid %016llx",
			in->data.path, (unsigned long long)le64_to_cpu(ds.fsid),
			(unsigned long long)in->fsid);
	if (le64_to_cpu(ds.total_data_blocks) != in->total_data)
		problem(in, "%s: data super says %llu blocks, the super %llu",
			in->data.path,
			(unsigned long long)le64_to_cpu(ds.total_data_blocks),
			(unsigned long long)in->total_data);
	if (in->total_data > in->data.size >> SCOUTFS_DATA_BLOCK_SHIFT)
		problem(in, "%s: device has %llu blocks, the super says %llu (truncated?)",
			in->data.path,
			(unsigned long long)(in->data.size >> SCOUTFS_DATA_BLOCK_SHIFT),
			(unsigned long long)in->total_data);
}

static void check_inodes(struct insp *in)
{
	struct ino_info *ii;
	size_t i;
	u64 seq;
	u64 ino;
	u8 zone;

	for (i = 0; i < in->nr_idx; i++) {
		zone = in->idx[i].sk_zone;
		if (zone == SCOUTFS_ORPHAN_ZONE) {
			ino = scoutfs_key_first(&in->idx[i]);
			seq = 0;
		} else {
			ino = scoutfs_key_second(&in->idx[i]);
			seq = scoutfs_key_first(&in->idx[i]);
		}
		ii = get_ino(in, ino, false);
		if (!ii || !(ii->mode & 0x80000000u)) {
			problem(in, "%s item for ino %llu has no inode",
				scoutfs_key_zone_name(zone), (unsigned long long)ino);
			continue;
		}
		if (zone == SCOUTFS_ORPHAN_ZONE) {
			ii->orphan = true;
			if (ii->nlink)
				problem(in, "orphan item for ino %llu but its nlink is %u",
					(unsigned long long)ino, ii->nlink);
		} else if (zone == SCOUTFS_META_SEQ_INDEX_ZONE) {
			if (seq != ii->meta_seq)
				problem(in, "meta_seq index item %llu for ino %llu but the inode's meta_seq is %llu",
					(unsigned long long)seq, (unsigned long long)ino,
					(unsigned long long)ii->meta_seq);
			ii->seen_meta_idx = true;
		} else {
			if (seq != ii->data_seq)
				problem(in, "data_seq index item %llu for ino %llu but the inode's data_seq is %llu",
					(unsigned long long)seq, (unsigned long long)ino,
					(unsigned long long)ii->data_seq);
			ii->seen_data_idx = true;
		}
	}

	for (i = 0; i < in->nr_inos; i++) {
		u64 links;

		ii = &in->inos[i];
		if (!(ii->mode & 0x80000000u)) {
			if (ii->dirents || ii->readdirs || ii->backrefs)
				problem(in, "directory entries refer to ino %llu which has no inode",
					(unsigned long long)ii->ino);
			if (ii->own_items)
				problem(in, "%llu extent, xattr or symlink items of ino %llu which has no inode",
					(unsigned long long)ii->own_items,
					(unsigned long long)ii->ino);
			continue;
		}
		if (!ii->seen_meta_idx)
			problem(in, "ino %llu has no meta_seq index item",
				(unsigned long long)ii->ino);
		if (!ii->seen_data_idx)
			problem(in, "ino %llu has no data_seq index item",
				(unsigned long long)ii->ino);
		if (ii->dirents != ii->readdirs || ii->dirents != ii->backrefs)
			problem(in, "ino %llu has %llu dirent, %llu readdir and %llu backref items, expected equal counts",
				(unsigned long long)ii->ino,
				(unsigned long long)ii->dirents,
				(unsigned long long)ii->readdirs,
				(unsigned long long)ii->backrefs);
		if ((ii->mode & 0170000) == 0040000 && ii->nlink == 0 &&
		    ii->orphan) {
			/* removed while open: freed at last close or mount */
		} else if ((ii->mode & 0170000) == 0040000) {
			/* "." and its entry in the parent, and each ".." below */
			links = 2 + ii->subdirs;
			if (ii->nlink != links)
				problem(in, "directory ino %llu has nlink %u but %llu subdirectories (expected %llu)",
					(unsigned long long)ii->ino, ii->nlink,
					(unsigned long long)ii->subdirs,
					(unsigned long long)links);
			if (ii->dirents != (ii->ino == SCOUTFS_ROOT_INO ? 0 : 1))
				problem(in, "directory ino %llu has %llu entries naming it",
					(unsigned long long)ii->ino,
					(unsigned long long)ii->dirents);
		} else if (ii->nlink != ii->dirents) {
			problem(in, "ino %llu has nlink %u but %llu directory entries",
				(unsigned long long)ii->ino, ii->nlink,
				(unsigned long long)ii->dirents);
		}
		if (ii->nlink == 0 && !ii->orphan)
			problem(in, "ino %llu has nlink 0 and no orphan item",
				(unsigned long long)ii->ino);
	}
	if (!get_ino(in, SCOUTFS_ROOT_INO, false))
		problem(in, "the root directory inode %llu is missing",
			(unsigned long long)SCOUTFS_ROOT_INO);
}

static void check_accounting(struct insp *in)
{
	struct scoutfs_super_block *sb = in->super;
	u64 nr = le64_to_cpu(sb->alloc_reserve_nr);
	u64 b;
	u64 unseen = 0;
	u64 first_unseen = 0;

	if (nr > SCOUTFS_ALLOC_SAVED_MAX) {
		problem(in, "super: saved reserve count %llu is beyond %d",
			(unsigned long long)nr, SCOUTFS_ALLOC_SAVED_MAX);
		nr = 0;
	}
	for (b = 0; b < nr; b++)
		mark_meta(in, le64_to_cpu(sb->alloc_reserve[b]), 1,
			  META_RESERVE, "in the saved reserve");
	for (b = SCOUTFS_META_FIRST_BLKNO; b < in->total_meta; b++) {
		if (in->meta_map[b] == META_UNSEEN && !unseen++)
			first_unseen = b;
	}
	if (unseen)
		problem(in, "%llu meta blocks are neither free nor referenced (first: block %llu)",
			(unsigned long long)unseen,
			(unsigned long long)first_unseen);
	unseen = 0;
	for (b = SCOUTFS_DATA_FIRST_BLKNO; b < in->total_data; b++) {
		if (!(in->data_map[b / 8] & (1 << (b % 8))) && !unseen++)
			first_unseen = b;
	}
	if (unseen)
		problem(in, "%llu data blocks are neither free nor in a file extent (first: block %llu)",
			(unsigned long long)unseen,
			(unsigned long long)first_unseen);
}

static int inspect(const char *meta_path, const char *data_path, FILE *out,
		   FILE *err, bool print, bool fsck)
{
	struct insp in = { .out = out, .err = err, .print = print,
			   .fsck = fsck, .meta.fd = -1, .data.fd = -1 };
	void *bufs = NULL;
	u64 sum;
	int ret;

	ret = scoutfs_dev_open(&in.meta, meta_path, false);
	if (ret < 0) {
		if (err)
			fprintf(err, "cannot open metadata device %s: %s\n",
				meta_path, strerror(-ret));
		return ret;
	}
	if (data_path) {
		ret = scoutfs_dev_open(&in.data, data_path, false);
		if (ret < 0) {
			if (err)
				fprintf(err, "cannot open data device %s: %s\n",
					data_path, strerror(-ret));
			goto out;
		}
	}
	in.super = calloc(1, sizeof(*in.super));
	bufs = malloc((size_t)SCOUTFS_BTREE_MAX_HEIGHT * SCOUTFS_BLOCK_SIZE);
	if (!in.super || !bufs) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_supers(&in);
	if (ret < 0) {
		ret = in.problems ? in.problems : 1;
		goto out;
	}
	in.fsid = le64_to_cpu(in.super->hdr.fsid);
	in.total_meta = le64_to_cpu(in.super->total_meta_blocks);
	in.total_data = le64_to_cpu(in.super->total_data_blocks);
	if (in.total_meta > in.meta.size >> SCOUTFS_BLOCK_SHIFT) {
		problem(&in, "%s: device has %llu blocks, the super says %llu (truncated?)",
			meta_path,
			(unsigned long long)(in.meta.size >> SCOUTFS_BLOCK_SHIFT),
			(unsigned long long)in.total_meta);
		in.total_meta = in.meta.size >> SCOUTFS_BLOCK_SHIFT;
		fsck = in.fsck = false;	/* accounting would only repeat it */
	}
	if (in.total_data > (1ULL << 40)) {
		problem(&in, "super: %llu data blocks is not believable",
			(unsigned long long)in.total_data);
		in.total_data = 0;
	}
	in.meta_map = calloc(in.total_meta ? in.total_meta : 1, 1);
	in.data_map = calloc(in.total_data / 8 + 1, 1);
	if (!in.meta_map || !in.data_map) {
		ret = -ENOMEM;
		goto out;
	}
	if (fsck && data_path)
		check_data_super(&in);

	OUT(&in, "trees:\n");
	walk_root(&in, TREE_FS, &in.super->fs_root, bufs);
	in.free_sum = 0;
	walk_root(&in, TREE_META_FREE, &in.super->meta_free, bufs);
	sum = in.free_sum;
	if (fsck && sum != le64_to_cpu(in.super->free_meta_blocks))
		problem(&in, "super: free_meta_blocks %llu but the meta free tree holds %llu",
			(unsigned long long)le64_to_cpu(in.super->free_meta_blocks),
			(unsigned long long)sum);
	in.free_sum = 0;
	walk_root(&in, TREE_DATA_FREE, &in.super->data_free, bufs);
	if (fsck && in.free_sum != le64_to_cpu(in.super->free_data_blocks))
		problem(&in, "super: free_data_blocks %llu but the data free tree holds %llu",
			(unsigned long long)le64_to_cpu(in.super->free_data_blocks),
			(unsigned long long)in.free_sum);
	walk_root(&in, TREE_LOGS, &in.super->logs_root, bufs);

	if (fsck) {
		check_inodes(&in);
		check_accounting(&in);
	}
	ret = in.problems > 0x7fffffff ? 0x7fffffff : (int)in.problems;
out:
	scoutfs_dev_close(&in.meta);
	scoutfs_dev_close(&in.data);
	free(in.super);
	free(bufs);
	free(in.meta_map);
	free(in.data_map);
	free(in.inos);
	free(in.idx);
	return ret;
}

int scoutfs_print_image(const char *meta_path, FILE *out, FILE *err)
{
	return inspect(meta_path, NULL, out, err, true, false);
}

int scoutfs_fsck_image(const char *meta_path, const char *data_path,
		       FILE *out, FILE *err)
{
	return inspect(meta_path, data_path, out, err, false, true);
}
