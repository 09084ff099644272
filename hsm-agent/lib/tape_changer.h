/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tape_changer.h: loading tape volumes with a media changer through
 * mtx(1).  See tape_changer.c.
 */
#ifndef SCOUTFS_HSM_TAPE_CHANGER_H
#define SCOUTFS_HSM_TAPE_CHANGER_H

#include <limits.h>

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

#endif
