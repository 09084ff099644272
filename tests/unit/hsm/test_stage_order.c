// SPDX-License-Identifier: GPL-2.0
/*
 * test_stage_order.c: the read order of staged copies (stage_order.h):
 * by backend, then on tape by volume, segment and offset (numerically,
 * whatever the order the files asked in), elsewhere by pack and location;
 * a file with no known copy first; ties by inode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "stage_order.h"

/* one copy: on tape (label set) or elsewhere, or none (backend NULL) */
struct where {
	const char *name;
	const char *backend;
	const char *label;
	uint64_t segment, offset;
	int64_t pack_id;
	const char *location;
};

struct keyed {
	struct hsm_stage_key key;
	const char *name;
};

static int cmp_keyed(const void *a, const void *b)
{
	return hsm_stage_key_cmp(&((const struct keyed *)a)->key,
				 &((const struct keyed *)b)->key);
}

static void key_of(const struct where *w, uint64_t ino, struct keyed *k)
{
	struct hsm_catalog_copy cp;
	struct tape_location loc;

	k->name = w->name;
	if (!w->backend) {
		hsm_stage_key_set(&k->key, ino, NULL);
		return;
	}
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.backend, sizeof(cp.backend), "%s", w->backend);
	cp.pack_id = w->pack_id;
	if (w->label) {
		memset(&loc, 0, sizeof(loc));
		snprintf(loc.label, sizeof(loc.label), "%s", w->label);
		loc.segment = w->segment;
		loc.offset = w->offset;
		loc.length = 4096;
		assert_int_equal(tape_location_format(&loc, cp.location,
						      sizeof(cp.location)), 0);
	} else {
		snprintf(cp.location, sizeof(cp.location), "%s", w->location);
	}
	hsm_stage_key_set(&k->key, ino, &cp);
}

static void sorted_by_backend_volume_and_position(void **state)
{
	/* in an order readers might ask in: anything but the read order */
	static const struct where asked[] = {
		{ "t2-s0-o0", "tape", "TAPE02", 0, 0, 0, NULL },
		{ "t1-s10-o100", "tape", "TAPE01", 10, 100, 0, NULL },
		{ "s3-pack2", "s3", NULL, 0, 0, 2, "a" },
		{ "t1-s2-o9", "tape", "TAPE01", 2, 9, 0, NULL },
		{ "none", NULL, NULL, 0, 0, 0, NULL },
		{ "disk-b", "disk", NULL, 0, 0, 0, "bb/x" },
		{ "t1-s10-o1", "tape", "TAPE01", 10, 1, 0, NULL },
		{ "s3-pack1", "s3", NULL, 0, 0, 1, "z" },
		{ "disk-a", "disk", NULL, 0, 0, 0, "aa/x" },
	};
	static const char *const want[] = { "none", "disk-a", "disk-b",
		"s3-pack1", "s3-pack2", "t1-s2-o9", "t1-s10-o1", "t1-s10-o100",
		"t2-s0-o0" };
	const size_t nr = sizeof(asked) / sizeof(asked[0]);
	struct keyed k[sizeof(asked) / sizeof(asked[0])];
	size_t i;

	(void)state;
	for (i = 0; i < nr; i++)
		key_of(&asked[i], 10 + i, &k[i]);
	qsort(k, nr, sizeof(k[0]), cmp_keyed);
	for (i = 0; i < nr; i++)
		assert_string_equal(k[i].name, want[i]);
}

static void ties_go_by_inode(void **state)
{
	static const struct where w = { "t", "tape", "TAPE01", 3, 3, 0, NULL };
	struct keyed a, b;

	(void)state;
	key_of(&w, 7, &a);
	key_of(&w, 8, &b);
	assert_true(hsm_stage_key_cmp(&a.key, &b.key) < 0);
	assert_true(hsm_stage_key_cmp(&b.key, &a.key) > 0);
	assert_int_equal(hsm_stage_key_cmp(&a.key, &a.key), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sorted_by_backend_volume_and_position),
		cmocka_unit_test(ties_go_by_inode),
	};

	return cmocka_run_group_tests_name("stage_order", tests, NULL, NULL);
}
