/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_CLI_RANGE_OPTS_H
#define SCOUTFS_CLI_RANGE_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The -V VERSION [-o OFFSET] [-l LENGTH] options of release, stage and
 * punch-offline.
 */
struct range_opts {
	uint64_t data_version;
	uint64_t offset;
	uint64_t length;
	bool have_offset;	/* else: 0 */
	bool have_length;	/* else: to the end of the file */
};

/*
 * Parse the options and leave optind at the first positional argument.
 * Returns -1 to go on, or the exit status to return (help printed, or a
 * usage error reported through usage(stderr)).
 */
int cli_parse_range_opts(int argc, char **argv, const char *prog,
			 void (*usage)(FILE *f), struct range_opts *ro);

#endif
