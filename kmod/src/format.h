/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_FORMAT_H_
#define _SCOUTFS_FORMAT_H_
/*
 * format.h: the single definition of everything scoutfs writes to disk.
 * Placeholder until the on-disk format lands.
 */
#define SCOUTFS_FS_TYPE_NAME "scoutfs"

#endif
