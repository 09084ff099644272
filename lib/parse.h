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
 * An index position: "N", "major.minor", "major.minor.ino" (values left
 * out are 0, as upstream's) or "-1" (the last position); -1 on garbage.
 */
/*
 * A time as upstream's commands take it: "SECS" or "SECS.NSECS" with
 * NSECS a count of nanoseconds below 10^9 (so "5.25" is 5 s and 25 ns,
 * the form get-attr-x prints); -1 on garbage.
 */
int scoutfs_parse_time(const char *str, uint64_t *sec, uint32_t *nsec);
int scoutfs_parse_walk_pos(const char *str, uint64_t *major, uint32_t *minor,
			   uint64_t *ino);

#endif
