/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stage_order.h: the order in which copies are read back to stage their
 * files, one definition for the stager's waiting readers (stager.c) and
 * for bulk prestage (`scoutfs-hsm stage --list`, cli/hsm_stage.c).
 *
 * Each file is placed by the copy the stager tries first (the lowest copy
 * number among its valid ones).  Files are ordered by that copy's
 * backend; on tape, then by volume and by position on it (segment, then
 * offset in the segment), so each volume is mounted once and read in one
 * forward pass, as SAM-QFS's stager and Lustre copytools sort recalls;
 * elsewhere by pack (the members of one S3 pack together) and location.
 * A file whose copy is not known sorts first; ties go by inode.
 */
#ifndef HSM_STAGE_ORDER_H
#define HSM_STAGE_ORDER_H

#include <stdint.h>

#include "catalog.h"
#include "tape_format.h"

struct hsm_stage_key {
	char backend[HSM_CATALOG_NAME_MAX];	/* "": no copy known */
	char label[TAPE_LABEL_MAX + 1];		/* "": not on tape */
	uint64_t segment, offset;		/* on tape */
	int64_t pack_id;			/* elsewhere */
	char location[HSM_LOCATION_MAX];
	uint64_t ino;
};

/* The key of ino read from copy cp (NULL: no copy known). */
void hsm_stage_key_set(struct hsm_stage_key *k, uint64_t ino,
		       const struct hsm_catalog_copy *cp);
/* <0, 0, >0 as a comes before, with or after b. */
int hsm_stage_key_cmp(const struct hsm_stage_key *a,
		      const struct hsm_stage_key *b);

#endif
