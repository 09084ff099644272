/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_dir.h: the directory backend, the embedded default archive tier.
 * backend_dir.c explains the on-disk layout and the crash rules.
 */
#ifndef SCOUTFS_HSM_BACKEND_DIR_H
#define SCOUTFS_HSM_BACKEND_DIR_H

#include <stddef.h>

#include "backend.h"

#define HSM_BACKEND_DIR_NAME "directory"

/*
 * Open a directory backend storing copies below root, which must be an
 * existing, writable directory.  Returns 0 and *out, or a negative errno
 * with the reason in err (which may be NULL).  Free with
 * hsm_backend_destroy().
 */
int hsm_backend_dir_open(const char *root, struct hsm_backend **out,
			 char *err, size_t errlen);

#endif
