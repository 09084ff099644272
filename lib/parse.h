/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_LIB_PARSE_H
#define SCOUTFS_LIB_PARSE_H

#include <stdint.h>

/*
 * "123", "0x1000", "4K", "10M", "2G", "1T", "1P" -> bytes; -1 on garbage.
 * Numbers are read as C reads them (strtoull base 0), as upstream does.
 */
int scoutfs_parse_size(const char *str, uint64_t *bytes);
/* a plain unsigned decimal (or 0x hex) number; -1 on garbage */
int scoutfs_parse_u64(const char *str, uint64_t *val);
/*
 * An index position: "N", "major.minor.ino" or "-1" (the last
 * position); -1 on garbage.
 */
int scoutfs_parse_walk_pos(const char *str, uint64_t *major, uint32_t *minor,
			   uint64_t *ino);

#endif
