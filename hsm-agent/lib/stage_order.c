// SPDX-License-Identifier: GPL-2.0
/*
 * stage_order.c: the read order of staged copies (stage_order.h).
 */
#include <stdio.h>
#include <string.h>

#include "stage_order.h"

void hsm_stage_key_set(struct hsm_stage_key *k, uint64_t ino,
		       const struct hsm_catalog_copy *cp)
{
	struct tape_location loc;

	memset(k, 0, sizeof(*k));
	k->ino = ino;
	if (!cp)
		return;
	snprintf(k->backend, sizeof(k->backend), "%s", cp->backend);
	snprintf(k->location, sizeof(k->location), "%s", cp->location);
	k->pack_id = cp->pack_id;
	if (!tape_location_parse(cp->location, &loc)) {
		snprintf(k->label, sizeof(k->label), "%s", loc.label);
		k->segment = loc.segment;
		k->offset = loc.offset;
	}
}

#define CMP(a, b) do { if ((a) != (b)) return (a) < (b) ? -1 : 1; } while (0)

int hsm_stage_key_cmp(const struct hsm_stage_key *a,
		      const struct hsm_stage_key *b)
{
	int c = strcmp(a->backend, b->backend);

	if (c)
		return c;
	c = strcmp(a->label, b->label);
	if (c)
		return c;
	if (a->label[0]) {
		CMP(a->segment, b->segment);
		CMP(a->offset, b->offset);
	} else {
		CMP(a->pack_id, b->pack_id);
		c = strcmp(a->location, b->location);
		if (c)
			return c;
	}
	CMP(a->ino, b->ino);
	return 0;
}
