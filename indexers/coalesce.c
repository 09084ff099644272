// SPDX-License-Identifier: GPL-2.0
/*
 * coalesce.c: the window's events, one slot per inode (see coalesce.h for
 * the merge rules).
 *
 * An open-addressing hash table keyed by inode number (linear probing,
 * kept at most half full, grown by doubling), each slot holding the
 * winning event's type and seq, whether the catalog had the row at
 * window start (from the inode's first event: later events cannot know
 * better), and for an update the row's attributes with the path copied
 * to the heap at its own length, so a window of thousands of inodes does
 * not cost PATH_MAX each; draining rebuilds each full row in one scratch
 * struct.
 * Draining copies the occupied slots into an array, sorts it by inode and
 * walks it; removal happens only by emptying the whole table, so probing
 * never needs tombstones.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "coalesce.h"

#define COALESCE_MIN_SLOTS 64

struct slot {
	uint64_t ino;
	uint64_t seq;
	bool used;
	bool in_catalog;
	enum idx_event_type type;
	struct idx_row_attrs *attrs;	/* IDX_EV_UPDATE's, else NULL */
};

/* a row without its PATH_MAX buffer */
struct idx_row_attrs {
	enum idx_kind kind;
	enum idx_state state;
	uint64_t data_version;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t meta_seq;
	uint64_t data_seq;
	char path[];
};

struct idx_coalesce {
	struct slot *slots;
	size_t nr_slots;	/* a power of two */
	size_t nr_used;
	struct idx_coalesce_stats stats;
	struct idx_row scratch;	/* the row an upsert's callback sees */
};

static size_t hash_ino(uint64_t ino, size_t nr_slots)
{
	/* 64-bit mix (splitmix64's finaliser): inode numbers are dense */
	ino ^= ino >> 30;
	ino *= 0xbf58476d1ce4e5b9ULL;
	ino ^= ino >> 27;
	ino *= 0x94d049bb133111ebULL;
	ino ^= ino >> 31;
	return (size_t)ino & (nr_slots - 1);
}

static struct slot *find_slot(struct slot *slots, size_t nr_slots,
			      uint64_t ino)
{
	size_t i = hash_ino(ino, nr_slots);

	while (slots[i].used && slots[i].ino != ino)
		i = (i + 1) & (nr_slots - 1);
	return &slots[i];
}

struct idx_coalesce *idx_coalesce_create(void)
{
	struct idx_coalesce *co = calloc(1, sizeof(*co));

	if (!co)
		return NULL;
	co->slots = calloc(COALESCE_MIN_SLOTS, sizeof(*co->slots));
	if (!co->slots) {
		free(co);
		return NULL;
	}
	co->nr_slots = COALESCE_MIN_SLOTS;
	return co;
}

void idx_coalesce_reset(struct idx_coalesce *co)
{
	size_t i;

	for (i = 0; i < co->nr_slots; i++) {
		if (co->slots[i].used)
			free(co->slots[i].attrs);
		memset(&co->slots[i], 0, sizeof(co->slots[i]));
	}
	co->nr_used = 0;
}

void idx_coalesce_destroy(struct idx_coalesce *co)
{
	if (!co)
		return;
	idx_coalesce_reset(co);
	free(co->slots);
	free(co);
}

static int grow(struct idx_coalesce *co)
{
	size_t nr = co->nr_slots * 2;
	struct slot *slots;
	size_t i;

	slots = calloc(nr, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < co->nr_slots; i++)
		if (co->slots[i].used)
			*find_slot(slots, nr, co->slots[i].ino) = co->slots[i];
	free(co->slots);
	co->slots = slots;
	co->nr_slots = nr;
	return 0;
}

static struct idx_row_attrs *copy_attrs(const struct idx_row *row)
{
	size_t len = strnlen(row->path, sizeof(row->path) - 1);
	struct idx_row_attrs *a;

	a = malloc(sizeof(*a) + len + 1);
	if (!a)
		return NULL;
	a->kind = row->kind;
	a->state = row->state;
	a->data_version = row->data_version;
	a->size = row->size;
	a->mtime_sec = row->mtime_sec;
	a->mtime_nsec = row->mtime_nsec;
	a->mode = row->mode;
	a->uid = row->uid;
	a->gid = row->gid;
	a->meta_seq = row->meta_seq;
	a->data_seq = row->data_seq;
	memcpy(a->path, row->path, len);
	a->path[len] = '\0';
	return a;
}

static void fill_row(struct idx_row *row, uint64_t ino,
		     const struct idx_row_attrs *a)
{
	row->ino = ino;
	row->kind = a->kind;
	row->state = a->state;
	row->data_version = a->data_version;
	row->size = a->size;
	row->mtime_sec = a->mtime_sec;
	row->mtime_nsec = a->mtime_nsec;
	row->mode = a->mode;
	row->uid = a->uid;
	row->gid = a->gid;
	row->meta_seq = a->meta_seq;
	row->data_seq = a->data_seq;
	strcpy(row->path, a->path);
}

int idx_coalesce_add(struct idx_coalesce *co, const struct idx_event *ev)
{
	struct idx_row_attrs *attrs = NULL;
	struct slot *s;
	int ret;

	if (ev->type != IDX_EV_UPDATE && ev->type != IDX_EV_REMOVE)
		return -EINVAL;
	if ((co->nr_used + 1) * 2 > co->nr_slots) {
		ret = grow(co);
		if (ret)
			return ret;
	}
	s = find_slot(co->slots, co->nr_slots, ev->ino);
	/* an older observation than the one held changes nothing */
	if (s->used && ev->seq < s->seq) {
		co->stats.events++;
		co->stats.merged++;
		return 0;
	}
	if (ev->type == IDX_EV_UPDATE) {
		attrs = copy_attrs(&ev->row);
		if (!attrs)
			return -ENOMEM;
	}
	co->stats.events++;
	if (s->used) {
		co->stats.merged++;
		free(s->attrs);
	} else {
		s->used = true;
		s->ino = ev->ino;
		s->in_catalog = ev->in_catalog;
		co->nr_used++;
	}
	s->seq = ev->seq;
	s->type = ev->type;
	s->attrs = attrs;
	return 0;
}

bool idx_coalesce_contains(const struct idx_coalesce *co, uint64_t ino)
{
	return find_slot(co->slots, co->nr_slots, ino)->used;
}

size_t idx_coalesce_count(const struct idx_coalesce *co)
{
	return co->nr_used;
}

static int cmp_slot_ptr(const void *a, const void *b)
{
	const struct slot *x = *(const struct slot *const *)a;
	const struct slot *y = *(const struct slot *const *)b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int idx_coalesce_drain(struct idx_coalesce *co, idx_coalesce_fn fn, void *arg)
{
	struct slot **order;
	struct idx_op op;
	size_t n = 0;
	size_t i;
	int ret = 0;

	order = malloc((co->nr_used ? co->nr_used : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < co->nr_slots; i++)
		if (co->slots[i].used)
			order[n++] = &co->slots[i];
	qsort(order, n, sizeof(*order), cmp_slot_ptr);

	for (i = 0; i < n && ret == 0; i++) {
		struct slot *s = order[i];

		if (s->type == IDX_EV_REMOVE && !s->in_catalog) {
			co->stats.cancelled++;
			continue;
		}
		memset(&op, 0, sizeof(op));
		op.ino = s->ino;
		if (s->type == IDX_EV_UPDATE) {
			op.type = IDX_OP_UPSERT;
			fill_row(&co->scratch, s->ino, s->attrs);
			op.row = &co->scratch;
			co->stats.upserts++;
		} else {
			op.type = IDX_OP_DELETE;
			co->stats.deletes++;
		}
		ret = fn(arg, &op);
	}
	free(order);
	idx_coalesce_reset(co);
	return ret;
}

void idx_coalesce_stats(const struct idx_coalesce *co,
			struct idx_coalesce_stats *out)
{
	*out = co->stats;
}
