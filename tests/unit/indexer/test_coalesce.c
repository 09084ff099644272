// SPDX-License-Identifier: GPL-2.0
/*
 * test_coalesce.c: the window coalescer's merge rules (indexers/coalesce.h):
 * many updates of one inode drain as one upsert with the newest
 * attributes, an older observation never overwrites a newer one, a create
 * and a removal in one window cancel while the removal of a catalogued
 * inode drains as a delete, operations come out in inode order, and a
 * window of many thousands of inodes (table growth) loses none.  The
 * coalescer is pure logic, so these run it directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coalesce.h"

#define MAX_OPS 70000

struct drained {
	size_t nr;
	struct {
		enum idx_op_type type;
		uint64_t ino;
		uint64_t size;
		uint64_t meta_seq;
		char path[64];
	} ops[MAX_OPS];
	int fail_at;	/* return -EIO from this op (1-based), 0 never */
};

static int record(void *arg, const struct idx_op *op)
{
	struct drained *d = arg;

	assert_true(d->nr < MAX_OPS);
	d->ops[d->nr].type = op->type;
	d->ops[d->nr].ino = op->ino;
	if (op->type == IDX_OP_UPSERT) {
		assert_non_null(op->row);
		assert_int_equal(op->row->ino, op->ino);
		d->ops[d->nr].size = op->row->size;
		d->ops[d->nr].meta_seq = op->row->meta_seq;
		assert_true(strlen(op->row->path) < sizeof(d->ops[0].path));
		strcpy(d->ops[d->nr].path, op->row->path);
	} else {
		assert_null(op->row);
	}
	d->nr++;
	if (d->fail_at && (int)d->nr == d->fail_at)
		return -EIO;
	return 0;
}

static struct drained *new_drained(void)
{
	struct drained *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	return d;
}

static void add_update(struct idx_coalesce *co, uint64_t ino, uint64_t seq,
		       bool in_catalog, uint64_t size, const char *path)
{
	struct idx_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = IDX_EV_UPDATE;
	ev.ino = ino;
	ev.seq = seq;
	ev.in_catalog = in_catalog;
	ev.row.ino = ino;
	ev.row.size = size;
	ev.row.meta_seq = seq;
	snprintf(ev.row.path, sizeof(ev.row.path), "%s", path);
	assert_int_equal(idx_coalesce_add(co, &ev), 0);
}

static void add_remove(struct idx_coalesce *co, uint64_t ino, uint64_t seq,
		       bool in_catalog)
{
	struct idx_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = IDX_EV_REMOVE;
	ev.ino = ino;
	ev.seq = seq;
	ev.in_catalog = in_catalog;
	assert_int_equal(idx_coalesce_add(co, &ev), 0);
}

static void many_updates_become_one(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	struct drained *d = new_drained();
	struct idx_coalesce_stats st;
	char path[32];
	int i;

	(void)state;
	for (i = 1; i <= 10; i++) {
		snprintf(path, sizeof(path), "dir/name%d", i);
		add_update(co, 42, 100 + i, true, 1000 * i, path);
	}
	assert_int_equal(idx_coalesce_count(co), 1);
	assert_int_equal(idx_coalesce_drain(co, record, d), 0);
	assert_int_equal(d->nr, 1);
	assert_int_equal(d->ops[0].type, IDX_OP_UPSERT);
	assert_int_equal(d->ops[0].ino, 42);
	assert_int_equal(d->ops[0].size, 10000);
	assert_int_equal(d->ops[0].meta_seq, 110);
	assert_string_equal(d->ops[0].path, "dir/name10");
	idx_coalesce_stats(co, &st);
	assert_int_equal(st.events, 10);
	assert_int_equal(st.merged, 9);
	assert_int_equal(st.upserts, 1);
	assert_int_equal(st.deletes, 0);
	assert_int_equal(idx_coalesce_count(co), 0);
	free(d);
	idx_coalesce_destroy(co);
}

static void older_observation_loses(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	struct drained *d = new_drained();

	(void)state;
	add_update(co, 7, 50, true, 5, "new");
	add_update(co, 7, 40, true, 4, "old");	/* seen later, but older */
	/* equal seq: the later observation wins */
	add_update(co, 8, 60, true, 1, "first");
	add_update(co, 8, 60, true, 2, "second");
	assert_int_equal(idx_coalesce_drain(co, record, d), 0);
	assert_int_equal(d->nr, 2);
	assert_int_equal(d->ops[0].ino, 7);
	assert_int_equal(d->ops[0].size, 5);
	assert_string_equal(d->ops[0].path, "new");
	assert_int_equal(d->ops[1].ino, 8);
	assert_string_equal(d->ops[1].path, "second");
	free(d);
	idx_coalesce_destroy(co);
}

static void create_and_unlink_cancel(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	struct drained *d = new_drained();
	struct idx_coalesce_stats st;

	(void)state;
	/* created in the window (no row), then gone: nothing to do */
	add_update(co, 10, 5, false, 1, "tmp");
	add_update(co, 10, 6, false, 2, "tmp2");
	add_remove(co, 10, 7, false);
	/* catalogued, changed, then gone: one delete */
	add_update(co, 11, 5, true, 1, "kept");
	add_remove(co, 11, 9, true);
	/* a removal of a catalogued inode alone: a delete */
	add_remove(co, 12, 3, true);
	/* the removal seen first, then a newer update: it exists, upsert */
	add_remove(co, 13, 3, true);
	add_update(co, 13, 4, true, 9, "back");
	/* the first event decides in_catalog: a later claim cannot change it */
	add_update(co, 14, 1, false, 1, "x");
	add_remove(co, 14, 2, true);
	assert_int_equal(idx_coalesce_drain(co, record, d), 0);
	assert_int_equal(d->nr, 3);
	assert_int_equal(d->ops[0].ino, 11);
	assert_int_equal(d->ops[0].type, IDX_OP_DELETE);
	assert_int_equal(d->ops[1].ino, 12);
	assert_int_equal(d->ops[1].type, IDX_OP_DELETE);
	assert_int_equal(d->ops[2].ino, 13);
	assert_int_equal(d->ops[2].type, IDX_OP_UPSERT);
	assert_int_equal(d->ops[2].size, 9);
	idx_coalesce_stats(co, &st);
	assert_int_equal(st.cancelled, 2);
	assert_int_equal(st.deletes, 2);
	assert_int_equal(st.upserts, 1);
	free(d);
	idx_coalesce_destroy(co);
}

static void large_window_in_inode_order(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	struct drained *d = new_drained();
	const uint64_t n = 65536;
	uint64_t i, ino;
	char path[32];

	(void)state;
	/* a permutation of 1..n (odd multiplier mod 2^16), each twice */
	for (i = 0; i < 2 * n; i++) {
		ino = ((i % n) * 40503 % n) + 1;
		snprintf(path, sizeof(path), "f%llu", (unsigned long long)ino);
		add_update(co, ino, i, true, i, path);
	}
	assert_true(idx_coalesce_contains(co, 1));
	assert_true(idx_coalesce_contains(co, n));
	assert_false(idx_coalesce_contains(co, n + 1));
	assert_int_equal(idx_coalesce_count(co), n);
	assert_int_equal(idx_coalesce_drain(co, record, d), 0);
	assert_int_equal(d->nr, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(d->ops[i].ino, i + 1);
		/* the second round's (newer) attributes */
		assert_true(d->ops[i].size >= n);
	}
	free(d);
	idx_coalesce_destroy(co);
}

static void failing_callback_stops_and_empties(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	struct drained *d = new_drained();
	int i;

	(void)state;
	for (i = 1; i <= 5; i++)
		add_update(co, i, 1, true, 1, "p");
	d->fail_at = 2;
	assert_int_equal(idx_coalesce_drain(co, record, d), -EIO);
	assert_int_equal(d->nr, 2);
	assert_int_equal(idx_coalesce_count(co), 0);
	/* the table is usable afterwards */
	add_remove(co, 9, 1, true);
	d->nr = 0;
	d->fail_at = 0;
	assert_int_equal(idx_coalesce_drain(co, record, d), 0);
	assert_int_equal(d->nr, 1);
	assert_int_equal(d->ops[0].ino, 9);
	free(d);
	idx_coalesce_destroy(co);
}

static void bad_event_type_refused(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	struct idx_event ev;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.type = (enum idx_event_type)7;
	ev.ino = 1;
	assert_int_equal(idx_coalesce_add(co, &ev), -EINVAL);
	assert_int_equal(idx_coalesce_count(co), 0);
	idx_coalesce_destroy(co);
}

static int keep(void *arg, const struct idx_op *op)
{
	*(char **)arg = strdup(op->row->path);
	return 0;
}

static void long_path_kept_whole(void **state)
{
	struct idx_coalesce *co = idx_coalesce_create();
	static struct idx_event ev;
	char *seen = NULL;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.type = IDX_EV_UPDATE;
	ev.ino = 3;
	ev.seq = 1;
	memset(ev.row.path, 'a', sizeof(ev.row.path) - 1);
	assert_int_equal(idx_coalesce_add(co, &ev), 0);
	assert_int_equal(idx_coalesce_drain(co, keep, &seen), 0);
	assert_non_null(seen);
	assert_int_equal(strlen(seen), sizeof(ev.row.path) - 1);
	assert_memory_equal(seen, ev.row.path, sizeof(ev.row.path) - 1);
	free(seen);
	idx_coalesce_destroy(co);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_updates_become_one),
		cmocka_unit_test(older_observation_loses),
		cmocka_unit_test(create_and_unlink_cancel),
		cmocka_unit_test(large_window_in_inode_order),
		cmocka_unit_test(failing_callback_stops_and_empties),
		cmocka_unit_test(bad_event_type_refused),
		cmocka_unit_test(long_path_kept_whole),
	};

	return cmocka_run_group_tests_name("indexer_coalesce", tests, NULL, NULL);
}
