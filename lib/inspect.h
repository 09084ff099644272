/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_LIB_INSPECT_H
#define SCOUTFS_LIB_INSPECT_H

#include <stdio.h>

/*
 * print and fsck over possibly corrupt images.  Both return 0 when the
 * image is clean, a positive count of problems found (each printed on its
 * own line to err), or a negative errno when a device can't be opened.
 */
int scoutfs_print_image(const char *meta_path, FILE *out, FILE *err);
int scoutfs_fsck_image(const char *meta_path, const char *data_path,
		       FILE *out, FILE *err);

#endif
