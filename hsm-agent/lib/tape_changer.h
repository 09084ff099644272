/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tape_changer.h: loading tape volumes with a media changer through
 * mtx(1).  See tape_changer.c.
 */
#ifndef SCOUTFS_HSM_TAPE_CHANGER_H
#define SCOUTFS_HSM_TAPE_CHANGER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

struct hsm_tape_changer_config {
	const char *mtx_path;	/* mtx(1), a path or a name in $PATH */
	const char *device;	/* changer's SCSI generic node, /dev/sg3 */
	unsigned int drive;	/* data transfer element of our drive */
};

enum hsm_tape_changer_op {
	HSM_TAPE_CHANGER_LOAD,		/* slot -> drive */
	HSM_TAPE_CHANGER_UNLOAD,	/* drive -> slot */
};

/* program, -f, device, op, slot, drive, NULL */
#define HSM_TAPE_CHANGER_ARGV_MAX 7
/* decimal unsigned int plus NUL */
#define HSM_TAPE_CHANGER_NUMBER_MAX 11

/* One mtx invocation, self-contained: argv points into the struct. */
struct hsm_tape_changer_cmd {
	char *argv[HSM_TAPE_CHANGER_ARGV_MAX];
	char program[PATH_MAX];
	char device[PATH_MAX];
	char op[8];
	char slot[HSM_TAPE_CHANGER_NUMBER_MAX];
	char drive[HSM_TAPE_CHANGER_NUMBER_MAX];
};

/*
 * Build "mtx -f DEVICE load|unload SLOT DRIVE".  0, or -EINVAL when the
 * configuration is incomplete, -ENAMETOOLONG for overlong paths.
 */
int hsm_tape_changer_build(const struct hsm_tape_changer_config *cfg,
			   enum hsm_tape_changer_op op, unsigned int slot,
			   struct hsm_tape_changer_cmd *cmd);

/*
 * Run it (fork + exec, wait) and return 0 when it exits 0; otherwise
 * -EIO (or the fork/wait errno) with the reason in be's error buffer.
 */
int hsm_tape_changer_run(struct hsm_backend *be,
			 const struct hsm_tape_changer_cmd *cmd);

/* ---- inventory: `mtx -f DEVICE status` ---- */

/* mtx prints volume tags of up to 36 characters */
#define HSM_TAPE_BARCODE_MAX 36

struct hsm_tape_element {
	unsigned int number;	/* element number as mtx numbers it */
	bool is_full;
	bool is_import_export;	/* a mail slot: never used as storage */
	char barcode[HSM_TAPE_BARCODE_MAX + 1];	/* "" when none was read */
	unsigned int source_slot;	/* drives: slot loaded from, 0 unknown */
};

struct hsm_tape_inventory {
	struct hsm_tape_element *drives;
	size_t nr_drives;
	struct hsm_tape_element *slots;
	size_t nr_slots;
};

/*
 * Parse `mtx status` output.  0, -ENOMEM, or -EINVAL when it holds no
 * drive or no slot line at all.  Free with hsm_tape_inventory_free().
 */
int hsm_tape_inventory_parse(const char *text,
			     struct hsm_tape_inventory *inv);
void hsm_tape_inventory_free(struct hsm_tape_inventory *inv);

/*
 * Is this the barcode of the volume labelled label?  The barcode is the
 * label itself, or the label followed by a two-character LTO media id
 * ("VOL001" in "VOL001L8", "VOL001LW" for WORM, "VOL001M8").
 */
bool hsm_tape_barcode_matches(const char *barcode, const char *label);

/* Run `mtx -f DEVICE status` and parse it. */
int hsm_tape_changer_status(struct hsm_backend *be,
			    const struct hsm_tape_changer_config *cfg,
			    struct hsm_tape_inventory *inv);

/*
 * Get the volume labelled label into our drive (cfg->drive), found by
 * barcode (or, when no barcode matches, in fallback_slot if not 0):
 * nothing when it is already there; otherwise the volume in our drive
 * goes back to the slot it came from (or the first empty storage slot)
 * and the wanted one is loaded.  Right before a tape is unloaded,
 * before_unload(arg) (may be NULL) runs: the caller rewinds and ejects it
 * there (tape_volume_eject()); its error stops the move.  -EBUSY when the volume is in
 * another drive, -ENOENT when the library does not hold it, -ENOSPC when
 * no slot is free for the unload.  *was_loaded (may be NULL) tells
 * whether anything moved.
 */
int hsm_tape_changer_load_label(struct hsm_backend *be,
				const struct hsm_tape_changer_config *cfg,
				const char *label, unsigned int fallback_slot,
				int (*before_unload)(void *arg), void *arg,
				bool *was_loaded);
/* Empty our drive into its source slot (or the first free one). */
int hsm_tape_changer_unload_drive(struct hsm_backend *be,
				  const struct hsm_tape_changer_config *cfg,
				  int (*before_unload)(void *arg), void *arg);

#endif
