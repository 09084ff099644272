// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c: the number forms every command accepts, in one place, so
 * "-V", "-o", "-l" and positions parse the same everywhere (upstream's
 * forms: sizes with K/M/G/T/P suffixes, index positions as N or
 * major.minor.ino, -1 for the end).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int scoutfs_parse_u64(const char *str, uint64_t *val)
{
	unsigned long long v;
	char *end;

	if (!str || !*str || *str == '-' || *str == '+')
		return -1;
	errno = 0;
	v = strtoull(str, &end, 0);
	if (errno || *end)
		return -1;
	*val = v;
	return 0;
}

int scoutfs_parse_size(const char *str, uint64_t *bytes)
{
	unsigned long long v;
	int shift = 0;
	char *end;

	if (!str || !*str || *str == '-' || *str == '+')
		return -1;
	/* base 0, as upstream's parse_human(): 0x1000 and 4K both work */
	errno = 0;
	v = strtoull(str, &end, 0);
	if (errno || end == str)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case 'p': case 'P': shift = 50; end++; break;
	}
	if (*end || (shift && v > (~0ULL >> shift)))
		return -1;
	*bytes = (uint64_t)v << shift;
	return 0;
}

int scoutfs_parse_walk_pos(const char *str, uint64_t *major, uint32_t *minor,
			   uint64_t *ino)
{
	char buf[96];
	char *dot1, *dot2;
	uint64_t min;

	if (!strcmp(str, "-1")) {
		*major = UINT64_MAX;
		*minor = UINT32_MAX;
		*ino = UINT64_MAX;
		return 0;
	}
	if (strlen(str) >= sizeof(buf))
		return -1;
	strcpy(buf, str);
	dot1 = strchr(buf, '.');
	if (!dot1) {
		*minor = 0;
		*ino = 0;
		return scoutfs_parse_u64(buf, major);
	}
	*dot1++ = '\0';
	/* upstream's rule: the values not given are 0 */
	dot2 = strchr(dot1, '.');
	if (dot2)
		*dot2++ = '\0';
	*ino = 0;
	if (scoutfs_parse_u64(buf, major) || scoutfs_parse_u64(dot1, &min) ||
	    min > UINT32_MAX || (dot2 && scoutfs_parse_u64(dot2, ino)))
		return -1;
	*minor = (uint32_t)min;
	return 0;
}

int scoutfs_parse_time(const char *str, uint64_t *sec, uint32_t *nsec)
{
	char buf[64];
	char *dot;
	uint64_t ns = 0;

	if (strlen(str) >= sizeof(buf))
		return -1;
	strcpy(buf, str);
	dot = strchr(buf, '.');
	if (dot) {
		*dot++ = '\0';
		if (scoutfs_parse_u64(dot, &ns) || ns >= 1000000000ULL)
			return -1;
	}
	*nsec = (uint32_t)ns;
	return scoutfs_parse_u64(buf, sec);
}
