// SPDX-License-Identifier: GPL-2.0
/*
 * btree.c: copy-on-write btrees of items in 64 KiB blocks.
 *
 * Owns the layout of struct scoutfs_btree_block and every change to it.
 * The layout (format.h): item headers sorted by key from the front, values
 * packed from the end in item order with no holes, so the values of items
 * [a, b) are one contiguous byte range.  Inserting, deleting and moving a
 * range of items between blocks are each a couple of memmoves.
 *
 * Invariants kept by every operation:
 *  - keys strictly increase within a block and across a level;
 *  - a parent item's key is the greatest key in its child's subtree, so a
 *    search descends into the first child whose key is >= the search key;
 *  - every leaf is at the same depth (root height - 1 parent levels);
 *  - a block is changed only if its hdr.seq is the current transaction's:
 *    an older block is first copied to a newly allocated block and the old
 *    blkno is handed to ctx->free_blkno (the allocator keeps it unusable
 *    until commit).  So changing an item copies the whole path from the
 *    root, and the last committed tree is never touched.
 *
 * Balance is kept top-down in one pass: while descending to change an
 * item, a child that might not have room for the change is split before we
 * enter it (so its parent, already checked, always has room for the new
 * parent item), and when deleting, a child under a quarter full is merged
 * with or refilled from a sibling.  The root grows by one level when it is
 * full and shrinks when it has a single child.  Nothing recurses deeper
 * than SCOUTFS_BTREE_MAX_HEIGHT, and every block read is checked with
 * scoutfs_btree_block_check() and for the level its parent implies before
 * any offset in it is trusted, so a corrupt block is -EIO, never a wild
 * access.
 */
#include "scoutfs_os.h"
#include "btree.h"
#include "key.h"

#define HDR_SIZE SCOUTFS_BTREE_HDR_SIZE
#define ITEM_SIZE SCOUTFS_BTREE_ITEM_SIZE
#define USABLE SCOUTFS_BTREE_USABLE
#define REF_SIZE sizeof(struct scoutfs_block_ref)

enum {
	BT_INSERT,
	BT_UPDATE,
	BT_FORCE,
	BT_DELETE,
};

static unsigned int nr_items(const struct scoutfs_btree_block *bt)
{
	return le16_to_cpu(bt->nr_items);
}

static unsigned int val_bytes(const struct scoutfs_btree_block *bt)
{
	return le16_to_cpu(bt->val_bytes);
}

static unsigned int val_len(const struct scoutfs_btree_block *bt,
			    unsigned int i)
{
	return le16_to_cpu(bt->items[i].val_len);
}

static unsigned int val_start(const struct scoutfs_btree_block *bt,
			      unsigned int i)
{
	return scoutfs_btree_val_start(bt, i);
}

static void set_val_start(struct scoutfs_btree_block *bt, unsigned int i,
			  unsigned int off)
{
	bt->items[i].val_off = cpu_to_le16(off == SCOUTFS_BLOCK_SIZE ? 0 : off);
}

/* Where the value of item i ends: the start of item i-1's value. */
static unsigned int val_end_at(const struct scoutfs_btree_block *bt,
			       unsigned int i)
{
	return i == 0 ? SCOUTFS_BLOCK_SIZE : val_start(bt, i - 1);
}

static unsigned int used_bytes(const struct scoutfs_btree_block *bt)
{
	return nr_items(bt) * ITEM_SIZE + val_bytes(bt);
}

static unsigned int free_bytes(const struct scoutfs_btree_block *bt)
{
	return USABLE - used_bytes(bt);
}

static u8 *blk_bytes(struct scoutfs_btree_block *bt)
{
	return (u8 *)bt;
}

static struct scoutfs_key *last_key(struct scoutfs_btree_block *bt)
{
	return &bt->items[nr_items(bt) - 1].key;
}

/* Index of the first item whose key is >= key (nr_items if none). */
static unsigned int find_pos(const struct scoutfs_btree_block *bt,
			     const struct scoutfs_key *key)
{
	unsigned int lo = 0;
	unsigned int hi = nr_items(bt);
	unsigned int mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (scoutfs_key_compare(&bt->items[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int scoutfs_btree_block_check(const struct scoutfs_btree_block *bt,
			      const char **why)
{
	unsigned int nr = nr_items(bt);
	unsigned int vb = val_bytes(bt);
	unsigned int end = SCOUTFS_BLOCK_SIZE;
	unsigned int i;
	unsigned int len;
	unsigned int start;
	const char *dummy;

	if (!why)
		why = &dummy;
	if (bt->level >= SCOUTFS_BTREE_MAX_HEIGHT) {
		*why = "level beyond the maximum height";
		return -EIO;
	}
	if (vb > USABLE || nr > (USABLE - vb) / ITEM_SIZE) {
		*why = "items and values overflow the block";
		return -EIO;
	}
	if (bt->level && nr == 0) {
		*why = "parent block with no items";
		return -EIO;
	}
	for (i = 0; i < nr; i++) {
		len = val_len(bt, i);
		start = val_start(bt, i);
		if (len > SCOUTFS_MAX_VAL_SIZE) {
			*why = "value longer than the maximum";
			return -EIO;
		}
		if (bt->level && len != REF_SIZE) {
			*why = "parent item value is not a block ref";
			return -EIO;
		}
		if (len > end - (SCOUTFS_BLOCK_SIZE - vb) ||
		    start != end - len) {
			*why = "value not packed in item order";
			return -EIO;
		}
		end = start;
		if (i && scoutfs_key_compare(&bt->items[i - 1].key,
					     &bt->items[i].key) >= 0) {
			*why = "keys out of order";
			return -EIO;
		}
	}
	if (end != SCOUTFS_BLOCK_SIZE - vb) {
		*why = "value bytes do not match the values";
		return -EIO;
	}
	*why = NULL;
	return 0;
}

/* Makes room for and writes one item at pos.  Caller checked free space. */
static void insert_item(struct scoutfs_btree_block *bt, unsigned int pos,
			const struct scoutfs_key *key, const void *val,
			unsigned int len)
{
	unsigned int nr = nr_items(bt);
	unsigned int low = SCOUTFS_BLOCK_SIZE - val_bytes(bt);
	unsigned int end = val_end_at(bt, pos);
	unsigned int i;
	u8 *b = blk_bytes(bt);

	if (len) {
		memmove(b + low - len, b + low, end - low);
		for (i = pos; i < nr; i++)
			set_val_start(bt, i, val_start(bt, i) - len);
	}
	memmove(&bt->items[pos + 1], &bt->items[pos], (nr - pos) * ITEM_SIZE);
	memset(&bt->items[pos], 0, ITEM_SIZE);
	bt->items[pos].key = *key;
	bt->items[pos].val_len = cpu_to_le16(len);
	set_val_start(bt, pos, end - len);
	if (len)
		memcpy(b + end - len, val, len);
	bt->nr_items = cpu_to_le16(nr + 1);
	bt->val_bytes = cpu_to_le16(val_bytes(bt) + len);
}

/* Removes items [pos, pos + count) and their values. */
static void delete_items(struct scoutfs_btree_block *bt, unsigned int pos,
			 unsigned int count)
{
	unsigned int nr = nr_items(bt);
	unsigned int low = SCOUTFS_BLOCK_SIZE - val_bytes(bt);
	unsigned int end = val_end_at(bt, pos);
	unsigned int start = val_start(bt, pos + count - 1);
	unsigned int len = end - start;
	unsigned int i;
	u8 *b = blk_bytes(bt);

	if (len) {
		memmove(b + low + len, b + low, start - low);
		for (i = pos + count; i < nr; i++)
			set_val_start(bt, i, val_start(bt, i) + len);
	}
	memmove(&bt->items[pos], &bt->items[pos + count],
		(nr - pos - count) * ITEM_SIZE);
	memset(&bt->items[nr - count], 0, count * ITEM_SIZE);
	bt->nr_items = cpu_to_le16(nr - count);
	bt->val_bytes = cpu_to_le16(val_bytes(bt) - len);
}

/*
 * Moves items [spos, spos + count) of src to dst at dpos, which is 0 or
 * dst's end (moving between siblings keeps both sorted).
 */
static void move_items(struct scoutfs_btree_block *dst, unsigned int dpos,
		       struct scoutfs_btree_block *src, unsigned int spos,
		       unsigned int count)
{
	unsigned int dnr = nr_items(dst);
	unsigned int dlow = SCOUTFS_BLOCK_SIZE - val_bytes(dst);
	unsigned int dend = val_end_at(dst, dpos);
	unsigned int send = val_end_at(src, spos);
	unsigned int sstart = val_start(src, spos + count - 1);
	unsigned int len = send - sstart;
	unsigned int i;
	u8 *d = blk_bytes(dst);

	if (len) {
		memmove(d + dlow - len, d + dlow, dend - dlow);
		for (i = dpos; i < dnr; i++)
			set_val_start(dst, i, val_start(dst, i) - len);
	}
	memmove(&dst->items[dpos + count], &dst->items[dpos],
		(dnr - dpos) * ITEM_SIZE);
	memcpy(&dst->items[dpos], &src->items[spos], count * ITEM_SIZE);
	for (i = 0; i < count; i++)
		set_val_start(dst, dpos + i,
			      val_start(src, spos + i) - send + dend);
	if (len)
		memcpy(d + dend - len, blk_bytes(src) + sstart, len);
	dst->nr_items = cpu_to_le16(dnr + count);
	dst->val_bytes = cpu_to_le16(val_bytes(dst) + len);

	delete_items(src, spos, count);
}

static void get_ref(struct scoutfs_btree_block *bt, unsigned int i,
		    struct scoutfs_block_ref *ref)
{
	memcpy(ref, scoutfs_btree_item_val(bt, i), REF_SIZE);
}

static void put_ref(struct scoutfs_btree_block *bt, unsigned int i,
		    const struct scoutfs_block_ref *ref)
{
	memcpy(blk_bytes(bt) + val_start(bt, i), ref, REF_SIZE);
}

static void release(struct scoutfs_btree_ctx *ctx, void *buf)
{
	if (buf)
		ctx->ops->release(ctx->ops_arg, buf);
}

static int free_block(struct scoutfs_btree_ctx *ctx, u64 blkno, bool dirty)
{
	ctx->ops->forget(ctx->ops_arg, blkno);
	if (dirty)
		return ctx->free_dirty_blkno(ctx->alloc_arg, blkno);
	return ctx->free_blkno(ctx->alloc_arg, blkno);
}

/* Frees a held block; the caller still releases it. */
static int free_bt(struct scoutfs_btree_ctx *ctx,
		   struct scoutfs_btree_block *bt)
{
	return free_block(ctx, le64_to_cpu(bt->hdr.blkno),
			  le64_to_cpu(bt->hdr.seq) == ctx->seq);
}

/* Reads and checks the block ref names, which must be at level. */
static int read_block(struct scoutfs_btree_ctx *ctx,
		      const struct scoutfs_block_ref *ref, int level,
		      struct scoutfs_btree_block **bt_ret)
{
	struct scoutfs_btree_block *bt;
	void *buf;
	int ret;

	*bt_ret = NULL;
	ret = ctx->ops->read(ctx->ops_arg, ref, SCOUTFS_BLOCK_MAGIC_BTREE,
			     &buf);
	if (ret < 0)
		return ret;
	bt = buf;
	if (scoutfs_btree_block_check(bt, NULL) < 0 || bt->level != level) {
		release(ctx, buf);
		return -EIO;
	}
	*bt_ret = bt;
	return 0;
}

static int new_block(struct scoutfs_btree_ctx *ctx, int level,
		     struct scoutfs_btree_block **bt_ret,
		     struct scoutfs_block_ref *ref)
{
	struct scoutfs_btree_block *bt;
	void *buf;
	u64 blkno;
	int ret;

	*bt_ret = NULL;
	ret = ctx->alloc_blkno(ctx->alloc_arg, &blkno);
	if (ret < 0)
		return ret;
	ret = ctx->ops->new_dirty(ctx->ops_arg, blkno, &buf);
	if (ret < 0)
		return ret;
	bt = buf;
	memset(bt, 0, SCOUTFS_BLOCK_SIZE);
	scoutfs_block_init_hdr(bt, SCOUTFS_BLOCK_MAGIC_BTREE, ctx->fsid,
			       ctx->seq, blkno);
	bt->level = level;
	ref->blkno = cpu_to_le64(blkno);
	ref->seq = cpu_to_le64(ctx->seq);
	*bt_ret = bt;
	return 0;
}

/*
 * Returns a dirty version of the block that *ref names, copying it to a
 * new block and updating *ref if it was written by an older transaction.
 */
static int cow_block(struct scoutfs_btree_ctx *ctx,
		     struct scoutfs_block_ref *ref, int level,
		     struct scoutfs_btree_block **bt_ret)
{
	struct scoutfs_btree_block *bt;
	struct scoutfs_btree_block *copy;
	struct scoutfs_block_ref new_ref;
	u64 old_blkno = le64_to_cpu(ref->blkno);
	u64 seq;
	int ret;

	*bt_ret = NULL;
	ret = read_block(ctx, ref, level, &bt);
	if (ret < 0)
		return ret;
	seq = le64_to_cpu(bt->hdr.seq);
	if (seq == ctx->seq) {
		*bt_ret = bt;
		return 0;
	}
	if (seq > ctx->seq) {
		release(ctx, bt);
		return -EIO;
	}
	ret = new_block(ctx, level, &copy, &new_ref);
	if (ret < 0) {
		release(ctx, bt);
		return ret;
	}
	memcpy((u8 *)copy + sizeof(copy->hdr), (u8 *)bt + sizeof(bt->hdr),
	       SCOUTFS_BLOCK_SIZE - sizeof(bt->hdr));
	release(ctx, bt);
	ret = free_block(ctx, old_blkno, false);
	if (ret < 0) {
		release(ctx, copy);
		return ret;
	}
	*ref = new_ref;
	*bt_ret = copy;
	return 0;
}

/* cow_block() for the child at pos of a dirty parent. */
static int cow_child(struct scoutfs_btree_ctx *ctx,
		     struct scoutfs_btree_block *parent, unsigned int pos,
		     struct scoutfs_btree_block **child)
{
	struct scoutfs_block_ref ref;
	int ret;

	get_ref(parent, pos, &ref);
	ret = cow_block(ctx, &ref, parent->level - 1, child);
	if (ret == 0)
		put_ref(parent, pos, &ref);
	return ret;
}

/* Bytes a block at this level must have free before we descend into it. */
static unsigned int room_needed(const struct scoutfs_btree_block *bt, int op,
				unsigned int len)
{
	if (op == BT_DELETE)
		return 0;
	return ITEM_SIZE + (bt->level ? REF_SIZE : len);
}

/*
 * Splits the child at pos by moving its lower half to a new left sibling.
 * The child keeps its greatest key so only a new parent item is needed.
 */
static int split_child(struct scoutfs_btree_ctx *ctx,
		       struct scoutfs_btree_block *parent, unsigned int pos,
		       struct scoutfs_btree_block *child,
		       struct scoutfs_btree_block **left_ret)
{
	struct scoutfs_btree_block *left;
	struct scoutfs_block_ref ref;
	unsigned int half = used_bytes(child) / 2;
	unsigned int bytes = 0;
	unsigned int count = 0;
	int ret;

	ret = new_block(ctx, child->level, &left, &ref);
	if (ret < 0)
		return ret;
	while (count < nr_items(child) - 1 && bytes < half) {
		bytes += ITEM_SIZE + val_len(child, count);
		count++;
	}
	move_items(left, 0, child, 0, count);
	insert_item(parent, pos, last_key(left), &ref, REF_SIZE);
	*left_ret = left;
	return 0;
}

/*
 * The child at pos is under a quarter full: merge it with a sibling if the
 * two fit comfortably in one block, else move items across to even them.
 * On return *child is the (dirty) block that now covers the key.
 */
static int join_child(struct scoutfs_btree_ctx *ctx,
		      struct scoutfs_btree_block *parent, unsigned int pos,
		      struct scoutfs_btree_block **child,
		      const struct scoutfs_key *key)
{
	struct scoutfs_btree_block *sib;
	struct scoutfs_btree_block *left;
	struct scoutfs_btree_block *right;
	unsigned int sib_pos = pos > 0 ? pos - 1 : pos + 1;
	unsigned int lpos = pos > 0 ? pos - 1 : pos;
	unsigned int total;
	unsigned int bytes;
	unsigned int count;
	int ret;

	ret = cow_child(ctx, parent, sib_pos, &sib);
	if (ret < 0)
		return ret;
	left = pos > 0 ? sib : *child;
	right = pos > 0 ? *child : sib;
	total = used_bytes(left) + used_bytes(right);

	if (total <= USABLE * 3 / 4) {
		move_items(right, 0, left, 0, nr_items(left));
		delete_items(parent, lpos, 1);
		ret = free_bt(ctx, left);
		release(ctx, left);
		*child = right;
		return ret;
	}

	if (used_bytes(left) > used_bytes(right)) {
		bytes = 0;
		count = 0;
		while (count < nr_items(left) - 1 &&
		       used_bytes(left) - bytes > total / 2) {
			bytes += ITEM_SIZE +
				 val_len(left, nr_items(left) - 1 - count);
			count++;
		}
		if (count)
			move_items(right, 0, left, nr_items(left) - count,
				   count);
	} else {
		bytes = 0;
		count = 0;
		while (count < nr_items(right) - 1 &&
		       used_bytes(right) - bytes > total / 2) {
			bytes += ITEM_SIZE + val_len(right, count);
			count++;
		}
		if (count)
			move_items(left, nr_items(left), right, 0, count);
	}
	parent->items[lpos].key = *last_key(left);

	if (scoutfs_key_compare(key, last_key(left)) <= 0) {
		release(ctx, right);
		*child = left;
	} else {
		release(ctx, left);
		*child = right;
	}
	return 0;
}

/* Gives the tree a new root above the current one. */
static int grow_root(struct scoutfs_btree_ctx *ctx,
		     struct scoutfs_btree_root *root,
		     struct scoutfs_btree_block **bt)
{
	struct scoutfs_btree_block *parent;
	struct scoutfs_block_ref ref;
	int ret;

	if (root->height >= SCOUTFS_BTREE_MAX_HEIGHT)
		return -EFBIG;
	ret = new_block(ctx, root->height, &parent, &ref);
	if (ret < 0)
		return ret;
	insert_item(parent, 0, last_key(*bt), &root->ref, REF_SIZE);
	release(ctx, *bt);
	root->ref = ref;
	root->height++;
	*bt = parent;
	return 0;
}

/* Drops root levels with a single child, and an empty root leaf. */
static int shrink_root(struct scoutfs_btree_ctx *ctx,
		       struct scoutfs_btree_root *root,
		       struct scoutfs_btree_block *bt)
{
	struct scoutfs_block_ref child_ref;
	struct scoutfs_btree_block *child;
	int ret = 0;

	while (bt) {
		if (bt->level && nr_items(bt) == 1) {
			get_ref(bt, 0, &child_ref);
			ret = free_bt(ctx, bt);
			release(ctx, bt);
			bt = NULL;
			root->ref = child_ref;
			root->height--;
			if (ret < 0)
				break;
			ret = read_block(ctx, &root->ref, root->height - 1,
					 &child);
			if (ret < 0)
				break;
			bt = child;
		} else if (!bt->level && nr_items(bt) == 0) {
			ret = free_bt(ctx, bt);
			release(ctx, bt);
			bt = NULL;
			memset(root, 0, sizeof(*root));
		} else {
			break;
		}
	}
	release(ctx, bt);
	return ret;
}

static int btree_modify(struct scoutfs_btree_ctx *ctx,
			struct scoutfs_btree_root *root,
			const struct scoutfs_key *key, const void *val,
			int len, int op)
{
	struct scoutfs_btree_block *path[SCOUTFS_BTREE_MAX_HEIGHT];
	unsigned int path_pos[SCOUTFS_BTREE_MAX_HEIGHT];
	struct scoutfs_btree_block *bt = NULL;
	struct scoutfs_btree_block *child;
	struct scoutfs_btree_block *left;
	unsigned int depth = 0;
	unsigned int pos;
	bool exists;
	int ret;
	int d;

	if (len < 0 || len > SCOUTFS_MAX_VAL_SIZE)
		return -EINVAL;
	if (root->height > SCOUTFS_BTREE_MAX_HEIGHT)
		return -EIO;

	if (root->height == 0) {
		if (op == BT_UPDATE || op == BT_DELETE)
			return -ENOENT;
		ret = new_block(ctx, 0, &bt, &root->ref);
		if (ret < 0)
			return ret;
		insert_item(bt, 0, key, val, len);
		root->height = 1;
		release(ctx, bt);
		return 0;
	}

	ret = cow_block(ctx, &root->ref, root->height - 1, &bt);
	if (ret < 0)
		return ret;
	if (free_bytes(bt) < room_needed(bt, op, len)) {
		ret = grow_root(ctx, root, &bt);
		if (ret < 0)
			goto out;
	}

	while (bt->level > 0) {
		pos = find_pos(bt, key);
		if (pos == nr_items(bt))
			pos--;
		ret = cow_child(ctx, bt, pos, &child);
		if (ret < 0)
			goto out;

		if (op == BT_DELETE && used_bytes(child) < USABLE / 4 &&
		    nr_items(bt) > 1) {
			ret = join_child(ctx, bt, pos, &child, key);
			if (ret < 0) {
				release(ctx, child);
				goto out;
			}
		}
		if (free_bytes(child) < room_needed(child, op, len)) {
			ret = split_child(ctx, bt, pos, child, &left);
			if (ret < 0) {
				release(ctx, child);
				goto out;
			}
			if (scoutfs_key_compare(key, last_key(left)) <= 0) {
				release(ctx, child);
				child = left;
			} else {
				release(ctx, left);
			}
		}
		pos = find_pos(bt, key);
		if (pos == nr_items(bt))
			pos--;
		path[depth] = bt;
		path_pos[depth] = pos;
		depth++;
		bt = child;
	}

	pos = find_pos(bt, key);
	exists = pos < nr_items(bt) &&
		 scoutfs_key_compare(&bt->items[pos].key, key) == 0;
	if (op == BT_INSERT && exists) {
		ret = -EEXIST;
		goto out;
	}
	if ((op == BT_UPDATE || op == BT_DELETE) && !exists) {
		ret = -ENOENT;
		goto out;
	}
	if (exists)
		delete_items(bt, pos, 1);
	if (op != BT_DELETE)
		insert_item(bt, pos, key, val, len);

	/* parent keys follow their child's greatest key back up the path */
	for (d = depth - 1; d >= 0; d--) {
		child = d + 1 < (int)depth ? path[d + 1] : bt;
		if (nr_items(child) == 0 && nr_items(path[d]) > 1) {
			ret = free_bt(ctx, child);
			if (ret < 0)
				goto out;
			delete_items(path[d], path_pos[d], 1);
		} else if (nr_items(child)) {
			path[d]->items[path_pos[d]].key = *last_key(child);
		}
	}
	ret = 0;
out:
	if (depth) {
		release(ctx, bt);
		for (d = depth - 1; d > 0; d--)
			release(ctx, path[d]);
		bt = path[0];
	}
	if (ret == 0)
		return shrink_root(ctx, root, bt);
	release(ctx, bt);
	return ret;
}

int scoutfs_btree_insert(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key, const void *val,
			 int val_len)
{
	return btree_modify(ctx, root, key, val, val_len, BT_INSERT);
}

int scoutfs_btree_update(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key, const void *val,
			 int val_len)
{
	return btree_modify(ctx, root, key, val, val_len, BT_UPDATE);
}

int scoutfs_btree_force(struct scoutfs_btree_ctx *ctx,
			struct scoutfs_btree_root *root,
			const struct scoutfs_key *key, const void *val,
			int val_len)
{
	return btree_modify(ctx, root, key, val, val_len, BT_FORCE);
}

int scoutfs_btree_delete(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key)
{
	return btree_modify(ctx, root, key, NULL, 0, BT_DELETE);
}

enum {
	FIND_EXACT,
	FIND_NEXT,
	FIND_PREV,
};

/* Copies out the item at pos; returns its value length. */
static int copy_item(struct scoutfs_btree_block *bt, unsigned int pos,
		     struct scoutfs_key *found, void *val, int val_size)
{
	int len = val_len(bt, pos);

	if (found)
		*found = bt->items[pos].key;
	if (val && val_size > 0)
		memcpy(val, scoutfs_btree_item_val(bt, pos),
		       min_t(int, len, val_size));
	return len;
}

/*
 * Finds the item for mode in the subtree at ref.  Prev needs to back up:
 * if nothing <= key is in the child that covers key, the answer is the
 * greatest item of the child before it.  Recursion is bounded by the
 * checked levels (each call is one level lower).
 */
static int find_item(struct scoutfs_btree_ctx *ctx,
		     const struct scoutfs_block_ref *ref, int level,
		     const struct scoutfs_key *key, int mode,
		     struct scoutfs_key *found, void *val, int val_size)
{
	struct scoutfs_btree_block *bt;
	struct scoutfs_block_ref child;
	unsigned int nr;
	unsigned int pos;
	int ret;

	ret = read_block(ctx, ref, level, &bt);
	if (ret < 0)
		return ret;
	nr = nr_items(bt);
	pos = find_pos(bt, key);

	if (level == 0) {
		if (pos < nr && (mode == FIND_NEXT ||
				 scoutfs_key_compare(&bt->items[pos].key,
						     key) == 0))
			ret = copy_item(bt, pos, found, val, val_size);
		else if (mode == FIND_PREV && pos > 0)
			ret = copy_item(bt, pos - 1, found, val, val_size);
		else
			ret = -ENOENT;
		release(ctx, bt);
		return ret;
	}

	if (pos == nr) {
		if (mode != FIND_PREV) {
			release(ctx, bt);
			return -ENOENT;
		}
		pos = nr - 1;
	}
	get_ref(bt, pos, &child);
	ret = find_item(ctx, &child, level - 1, key, mode, found, val,
			val_size);
	if (ret == -ENOENT && mode == FIND_PREV && pos > 0) {
		get_ref(bt, pos - 1, &child);
		ret = find_item(ctx, &child, level - 1, key, mode, found, val,
				val_size);
	}
	release(ctx, bt);
	return ret;
}

static int find_root(struct scoutfs_btree_ctx *ctx,
		     struct scoutfs_btree_root *root,
		     const struct scoutfs_key *key, int mode,
		     struct scoutfs_key *found, void *val, int val_size)
{
	if (root->height == 0)
		return -ENOENT;
	if (root->height > SCOUTFS_BTREE_MAX_HEIGHT)
		return -EIO;
	return find_item(ctx, &root->ref, root->height - 1, key, mode, found,
			 val, val_size);
}

int scoutfs_btree_lookup(struct scoutfs_btree_ctx *ctx,
			 struct scoutfs_btree_root *root,
			 const struct scoutfs_key *key, void *val,
			 int val_size)
{
	return find_root(ctx, root, key, FIND_EXACT, NULL, val, val_size);
}

int scoutfs_btree_next(struct scoutfs_btree_ctx *ctx,
		       struct scoutfs_btree_root *root,
		       const struct scoutfs_key *key, struct scoutfs_key *found,
		       void *val, int val_size)
{
	return find_root(ctx, root, key, FIND_NEXT, found, val, val_size);
}

int scoutfs_btree_prev(struct scoutfs_btree_ctx *ctx,
		       struct scoutfs_btree_root *root,
		       const struct scoutfs_key *key, struct scoutfs_key *found,
		       void *val, int val_size)
{
	return find_root(ctx, root, key, FIND_PREV, found, val, val_size);
}

/* Hands each leaf item in [start, end] to cb while its block is held. */
static int iterate_block(struct scoutfs_btree_ctx *ctx,
			 const struct scoutfs_block_ref *ref, int level,
			 struct scoutfs_key *pos_key,
			 const struct scoutfs_key *end,
			 scoutfs_btree_iter_cb cb, void *arg, bool *done)
{
	struct scoutfs_btree_block *bt;
	struct scoutfs_block_ref child;
	unsigned int i;
	int ret;

	ret = read_block(ctx, ref, level, &bt);
	if (ret < 0)
		return ret;
	for (i = find_pos(bt, pos_key); i < nr_items(bt) && !*done; i++) {
		if (level) {
			get_ref(bt, i, &child);
			ret = iterate_block(ctx, &child, level - 1, pos_key,
					    end, cb, arg, done);
			if (ret)
				break;
			continue;
		}
		if (scoutfs_key_compare(&bt->items[i].key, end) > 0) {
			*done = true;
			break;
		}
		ret = cb(arg, &bt->items[i].key,
			 scoutfs_btree_item_val(bt, i), val_len(bt, i));
		if (ret)
			break;
		*pos_key = bt->items[i].key;
		scoutfs_key_inc(pos_key);
		if (scoutfs_key_compare(pos_key, &bt->items[i].key) < 0)
			*done = true;	/* wrapped past the greatest key */
	}
	release(ctx, bt);
	return ret;
}

int scoutfs_btree_iterate(struct scoutfs_btree_ctx *ctx,
			  struct scoutfs_btree_root *root,
			  const struct scoutfs_key *start,
			  const struct scoutfs_key *end,
			  scoutfs_btree_iter_cb cb, void *arg)
{
	struct scoutfs_key pos_key = *start;
	bool done = false;

	if (root->height == 0)
		return 0;
	if (root->height > SCOUTFS_BTREE_MAX_HEIGHT)
		return -EIO;
	return iterate_block(ctx, &root->ref, root->height - 1, &pos_key, end,
			     cb, arg, &done);
}
