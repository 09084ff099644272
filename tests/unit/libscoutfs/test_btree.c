// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the shared COW btree (kmod/src/libscoutfs/btree.c) against
 * a reference model: a sorted array of the items the tree should hold.
 * Random inserts, updates, deletes, lookups, next/prev and iteration, with
 * several seeds; after every commit the committed image is checked block
 * by block and compared item by item, and every few commits the
 * transaction is dropped and reopened from the image.
 *
 * SCOUTFS_TEST_OPS sets the total number of operations (default 200000).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "helpers.h"

/* items mkfs leaves in fs_root: the root inode, its meta_seq and data_seq items */
#define MKFS_ITEMS 3
#include "libscoutfs/btree.h"
#include "libscoutfs/key.h"

#define TEST_ZONE 200
#define KEY_SPACE 6000
#define MAX_VAL 64
#define OPS_PER_COMMIT 2500
#define COMMITS_PER_REOPEN 4
#define NR_SEEDS 4

struct model_item {
	uint64_t k;
	int len;
	uint8_t val[MAX_VAL];
};

struct model {
	struct model_item *items;
	int nr;
};

static void make_key(struct scoutfs_key *key, uint64_t k)
{
	/* spread over first and second so both orderings are exercised */
	scoutfs_key_init(key, TEST_ZONE, k / 4, 1, k % 4, 0);
}

static uint64_t key_k(const struct scoutfs_key *key)
{
	return scoutfs_key_first(key) * 4 + scoutfs_key_second(key);
}

/* Index of the first model item >= k. */
static int model_pos(struct model *m, uint64_t k)
{
	int lo = 0, hi = m->nr, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->items[mid].k < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct cmp_state {
	struct model *m;
	int i;
};

static int compare_cb(void *arg, const struct scoutfs_key *key,
		      const void *val, int val_len)
{
	struct cmp_state *cs = arg;
	struct model_item *it;

	assert_true(cs->i < cs->m->nr);
	it = &cs->m->items[cs->i++];
	assert_int_equal(key_k(key), it->k);
	assert_int_equal(val_len, it->len);
	assert_memory_equal(val, it->val, val_len);
	return 0;
}

static void compare_all(struct test_fs *fs, struct model *m)
{
	struct scoutfs_key start, end;
	struct cmp_state cs = { .m = m };

	scoutfs_key_init(&start, TEST_ZONE, 0, 0, 0, 0);
	scoutfs_key_init(&end, TEST_ZONE, ~0ULL, 0xff, ~0ULL, ~0ULL);
	assert_int_equal(scoutfs_btree_iterate(&fs->txn->ctx,
					       &fs->txn->super->fs_root,
					       &start, &end, compare_cb, &cs), 0);
	assert_int_equal(cs.i, m->nr);
}

static void check_find(struct test_fs *fs, struct model *m, uint64_t k)
{
	struct scoutfs_btree_root *root = &fs->txn->super->fs_root;
	struct scoutfs_key key, found;
	uint8_t val[MAX_VAL];
	int pos = model_pos(m, k);
	bool exact = pos < m->nr && m->items[pos].k == k;
	int ret;

	make_key(&key, k);
	ret = scoutfs_btree_lookup(&fs->txn->ctx, root, &key, val, sizeof(val));
	if (exact) {
		assert_int_equal(ret, m->items[pos].len);
		assert_memory_equal(val, m->items[pos].val, ret);
	} else {
		assert_int_equal(ret, -ENOENT);
	}

	ret = scoutfs_btree_next(&fs->txn->ctx, root, &key, &found, val,
				 sizeof(val));
	if (pos < m->nr) {
		assert_int_equal(ret, m->items[pos].len);
		assert_int_equal(key_k(&found), m->items[pos].k);
	} else {
		/* the root inode and seq items sort before the test zone */
		assert_int_equal(ret, -ENOENT);
	}

	ret = scoutfs_btree_prev(&fs->txn->ctx, root, &key, &found, val,
				 sizeof(val));
	if (exact || pos > 0) {
		int p = exact ? pos : pos - 1;

		assert_int_equal(ret, m->items[p].len);
		assert_int_equal(key_k(&found), m->items[p].k);
	} else {
		assert_true(ret >= 0);	/* an item of a lower zone */
		assert_true(found.sk_zone < TEST_ZONE);
	}
}

static void random_op(struct test_fs *fs, struct model *m, uint64_t *rng)
{
	struct scoutfs_btree_root *root = &fs->txn->super->fs_root;
	struct scoutfs_btree_ctx *ctx = &fs->txn->ctx;
	uint64_t r = test_rand(rng);
	uint64_t k = (r >> 8) % KEY_SPACE;
	struct scoutfs_key key;
	struct model_item it;
	int pos = model_pos(m, k);
	bool exists = pos < m->nr && m->items[pos].k == k;
	int op = r % 10;
	int ret;

	make_key(&key, k);
	it.k = k;
	it.len = (r >> 40) % (MAX_VAL + 1);
	for (int i = 0; i < it.len; i++)
		it.val[i] = (uint8_t)(r >> (i % 56));

	if (op < 4) {			/* insert */
		ret = scoutfs_btree_insert(ctx, root, &key, it.val, it.len);
		if (exists) {
			assert_int_equal(ret, -EEXIST);
			return;
		}
		assert_int_equal(ret, 0);
		memmove(&m->items[pos + 1], &m->items[pos],
			(m->nr - pos) * sizeof(it));
		m->items[pos] = it;
		m->nr++;
	} else if (op < 5) {		/* update */
		ret = scoutfs_btree_update(ctx, root, &key, it.val, it.len);
		if (!exists) {
			assert_int_equal(ret, -ENOENT);
			return;
		}
		assert_int_equal(ret, 0);
		m->items[pos] = it;
	} else if (op < 8) {		/* delete */
		ret = scoutfs_btree_delete(ctx, root, &key);
		if (!exists) {
			assert_int_equal(ret, -ENOENT);
			return;
		}
		assert_int_equal(ret, 0);
		memmove(&m->items[pos], &m->items[pos + 1],
			(m->nr - pos - 1) * sizeof(it));
		m->nr--;
	} else {			/* lookup, next, prev */
		check_find(fs, m, k);
	}
}

static uint64_t total_ops(void)
{
	const char *env = getenv("SCOUTFS_TEST_OPS");

	return env ? strtoull(env, NULL, 0) : 200000;
}

static void btree_matches_model_through_commits_and_reopens(void **state)
{
	uint64_t per_seed = total_ops() / NR_SEEDS;

	(void)state;
	for (uint64_t seed = 1; seed <= NR_SEEDS; seed++) {
		struct test_fs fs;
		struct model m = { .items = calloc(KEY_SPACE,
						   sizeof(struct model_item)) };
		uint64_t rng = seed * 0x9E3779B97F4A7C15ULL;
		uint64_t commits = 0;

		assert_non_null(m.items);
		test_fs_create(&fs, 2048, 1024);
		for (uint64_t i = 1; i <= per_seed; i++) {
			random_op(&fs, &m, &rng);
			if (i % OPS_PER_COMMIT && i != per_seed)
				continue;
			assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
			/* the items mkfs makes: the root inode and its two seq index items */
			assert_int_equal(test_fs_check_committed(&fs),
					 m.nr + MKFS_ITEMS);
			if (++commits % COMMITS_PER_REOPEN == 0)
				test_fs_reopen(&fs);
			compare_all(&fs, &m);
		}
		/* drain: deleting everything collapses the tree */
		while (m.nr) {
			struct scoutfs_key key;

			make_key(&key, m.items[m.nr - 1].k);
			assert_int_equal(scoutfs_btree_delete(&fs.txn->ctx,
					&fs.txn->super->fs_root, &key), 0);
			m.nr--;
		}
		assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
		assert_int_equal(test_fs_check_committed(&fs), MKFS_ITEMS);
		assert_int_equal(fs.txn->super->fs_root.height, 1);
		test_fs_destroy(&fs);
		free(m.items);
	}
}

static void large_values_split_and_merge(void **state)
{
	static uint8_t val[SCOUTFS_MAX_VAL_SIZE];
	struct test_fs fs;
	struct scoutfs_key key;
	int i;

	(void)state;
	memset(val, 0xa5, sizeof(val));
	test_fs_create(&fs, 2048, 1024);
	for (i = 0; i < 300; i++) {
		make_key(&key, i);
		assert_int_equal(scoutfs_btree_insert(&fs.txn->ctx,
				&fs.txn->super->fs_root, &key, val,
				sizeof(val)), 0);
	}
	assert_true(fs.txn->super->fs_root.height >= 2);
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	assert_int_equal(test_fs_check_committed(&fs), 300 + MKFS_ITEMS);
	make_key(&key, 0);
	assert_int_equal(scoutfs_btree_insert(&fs.txn->ctx,
			&fs.txn->super->fs_root, &key, val,
			SCOUTFS_MAX_VAL_SIZE + 1), -EINVAL);
	for (i = 0; i < 300; i++) {
		make_key(&key, i);
		assert_int_equal(scoutfs_btree_delete(&fs.txn->ctx,
				&fs.txn->super->fs_root, &key), 0);
	}
	assert_int_equal(scoutfs_txn_commit(fs.txn), 0);
	assert_int_equal(test_fs_check_committed(&fs), MKFS_ITEMS);
	test_fs_destroy(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(btree_matches_model_through_commits_and_reopens),
		cmocka_unit_test(large_values_split_and_merge),
	};

	return cmocka_run_group_tests_name("btree", tests, NULL, NULL);
}
